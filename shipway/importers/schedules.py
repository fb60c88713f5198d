"""Schedules and durations from another platform, in EventBridge's ``cron(...)``/``rate(...)`` syntax.

Copilot's Scheduled Job takes ``@daily``-style shortcuts, ``@every <duration>``, ``rate(...)``, a standard
five-field cron line, or an EventBridge ``cron(...)``. EventBridge's cron has six fields (a year), counts days of
the week from 1 (Sunday) instead of 0, and needs ``?`` in one of the two day fields, so a standard line whose
day-of-month and day-of-week are both restricted (cron's "either" rule) has no EventBridge equivalent.
"""

from __future__ import annotations

import re

from ..spec.vocabulary import schedule_error

SHORTCUTS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_DURATION = re.compile(r"^(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m(?!s))?(?:(?P<s>[0-9]+)s)?$")


class ScheduleError(ValueError):
    """The expression has no EventBridge equivalent; the message says why."""


def seconds(duration: str | int) -> int:
    """A Go-style duration (``90s``, ``1h30m``, ``2m``) in seconds; a bare number is seconds."""
    text = str(duration).strip()
    if text.isdigit():
        return int(text)
    match = _DURATION.match(text)
    if not text or not match or not any(match.groups()):
        raise ScheduleError(f"{duration!r} is not a duration such as 30s, 5m or 1h30m")
    return int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)


def rate(total_seconds: int) -> str:
    """EventBridge's rate for a period: whole minutes only."""
    if total_seconds < 60 or total_seconds % 60:
        raise ScheduleError(f"EventBridge runs schedules in whole minutes, not every {total_seconds} s")
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if total_seconds % size == 0:
            value = total_seconds // size
            return f"rate({value} {unit}{'' if value == 1 else 's'})"
    raise AssertionError("unreachable: every whole minute divides by 60")


def eventbridge(expression: str) -> str:
    """``expression`` (Copilot's or standard cron syntax) as an EventBridge schedule expression."""
    text = " ".join(str(expression).split())
    if text.startswith("@every "):
        converted = rate(seconds(text.removeprefix("@every ")))
    elif text.lower() in SHORTCUTS:
        converted = _from_standard(SHORTCUTS[text.lower()])
    elif text.startswith(("rate(", "cron(")):
        converted = text
    elif len(text.split()) == 5:
        converted = _from_standard(text)
    else:
        raise ScheduleError("use @hourly/@daily/@weekly/@monthly/@yearly, @every <duration>, rate(...), cron(...) "
                            "or a five-field cron line")
    problem = schedule_error(converted)
    if problem:
        raise ScheduleError(f"{converted}: {problem}")
    return converted


def _from_standard(line: str) -> str:
    minute, hour, day_of_month, month, day_of_week = line.split()
    if day_of_month != "*" and day_of_week != "*":
        raise ScheduleError("cron runs when either the day of month or the day of week matches; EventBridge "
                            "restricts one of them only: split it into two jobs")
    if day_of_week == "*":
        day_of_week = "?"
    else:
        day_of_month = "?"
        day_of_week = _weekdays(day_of_week)
    return f"cron({minute} {hour} {day_of_month} {month} {day_of_week} *)"


def _weekdays(field: str) -> str:
    """Standard cron numbers Sunday 0 (or 7) .. Saturday 6; EventBridge numbers Sunday 1 .. Saturday 7."""
    def day(token: str) -> str:
        if token.isdigit():
            number = int(token)
            if number > 7:
                raise ScheduleError(f"day of week {token} is not 0-7")
            return str(number % 7 + 1)
        return token.upper()

    items = []
    for item in field.split(","):
        if "/" in item:
            raise ScheduleError(f"a stepped day of week ({field}) has no EventBridge equivalent")
        low, _, high = item.partition("-")
        if high and low.isdigit() and high.isdigit() and int(high) == 7:
            high = "6"  # Sunday as 7 closes a range: 5-7 is Fri-Sun, EventBridge 6-7,1
            items.append(f"{day(low)}-{day(high)}" if int(low) <= 6 else "")
            items.append("1")
            continue
        items.append(f"{day(low)}-{day(high)}" if high else day(low))
    return ",".join(i for i in items if i)
