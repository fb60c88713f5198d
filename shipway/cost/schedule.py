"""How often an EventBridge schedule fires in a month, for the cost of cron jobs.

An estimate, not a calendar: a month is 30 days and 4.35 weeks. ``cron(...)`` fields are counted as
EventBridge reads them (lists, ranges, steps, names, ``*`` and ``?``); ``L`` and ``W`` count as one day,
``6#3`` (the third Friday) as one a month.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

DAYS = Decimal(30)
WEEKS = Decimal("4.35")
_RATE = re.compile(r"^rate\((\d+) (minute|hour|day)s?\)$")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
# minute, hour, day of month, month, day of week: their ranges
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (1, 7))
_NAMES = {name: number for names in ("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC", "SUN MON TUE WED THU FRI SAT")
          for number, name in enumerate(names.split(), start=1)}


def runs_per_month(expression: str) -> Decimal:
    """Runs in a month of ``expression`` (a schedule the spec has already validated)."""
    rate = _RATE.match(expression)
    if rate:
        return DAYS * 1440 / (int(rate.group(1)) * _UNIT_MINUTES[rate.group(2)])
    fields = expression.removeprefix("cron(").removesuffix(")").split()
    minutes, hours, days_of_month, months, days_of_week = (
        _count(value, *bounds) for value, bounds in zip(fields, _RANGES, strict=False)
    )
    if fields[2] not in ("*", "?"):
        days = Decimal(days_of_month)
    elif "#" in fields[4]:  # the nth weekday: once a month per value
        days = Decimal(fields[4].count(",") + 1)
    elif fields[4] not in ("*", "?"):
        days = days_of_week * WEEKS
    else:
        days = DAYS
    return minutes * hours * days * months / 12


def _count(field: str, low: int, high: int) -> int:
    """Values a cron field selects; L, W and # forms count one each."""
    total = 0
    for item in field.upper().split(","):
        named, _, step = item.partition("/")
        part = re.sub(r"[A-Z]{3}", lambda name: str(_NAMES.get(name.group(), name.group())), named)
        if part in ("*", "?"):
            first, last = low, high
        elif re.fullmatch(r"\d+-\d+", part):
            first, last = (int(n) for n in part.split("-"))
        elif part.isdigit():
            first, last = int(part), high if step else int(part)
        else:
            total += 1
            continue
        total += math.ceil((last - first + 1) / int(step or 1))
    return total
