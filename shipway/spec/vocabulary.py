"""The fixed vocabularies of the spec: sizes, Fargate's CPU/memory table, schedule expressions, names.

Everything here is data or a pure check; the model in ``model.py`` wires it to fields.
"""

from __future__ import annotations

import re

# The sizes a process names: name -> (cpu units, memory MiB); docs/architecture.md's table is drawn from it.
SIZES: dict[str, tuple[int, int]] = {
    "1x": (256, 512),
    "2x": (512, 1024),
    "4x": (1024, 2048),
    "8x": (2048, 4096),
    "16x": (4096, 8192),
}


def _mib(first_gb: int, last_gb: int, step_gb: int = 1) -> tuple[int, ...]:
    return tuple(gb * 1024 for gb in range(first_gb, last_gb + 1, step_gb))


# Fargate's valid task-level CPU/memory pairs (Linux), from the ECS developer guide.
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _mib(1, 4),
    1024: _mib(2, 8),
    2048: _mib(4, 16),
    4096: _mib(8, 30),
    8192: _mib(16, 60, 4),
    16384: _mib(32, 120, 8),
}


def fargate_pair_error(cpu: int, memory: int) -> str | None:
    """Why ``cpu``/``memory`` is not a Fargate task size, or None when it is one."""
    if cpu not in FARGATE_MEMORY:
        allowed = ", ".join(str(c) for c in FARGATE_MEMORY)
        return f"cpu {cpu} is not a Fargate CPU value; allowed: {allowed}"
    choices = FARGATE_MEMORY[cpu]
    if memory not in choices:
        return (
            f"memory {memory} MiB does not go with cpu {cpu} on Fargate; "
            f"allowed: {_ranges(choices)} MiB"
        )
    return None


def _ranges(values: tuple[int, ...]) -> str:
    if len(values) <= 3:
        return ", ".join(str(v) for v in values)
    return f"{values[0]} to {values[-1]} in steps of {values[1] - values[0]}"


# --- EventBridge schedule expressions ------------------------------------------------------------

_RATE = re.compile(r"^rate\((?P<value>[1-9][0-9]*) (?P<unit>minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((?P<body>[^()]*)\)$")

_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"


def _field(atom: str, extra: str = "") -> re.Pattern[str]:
    # One cron field: '*', or a comma list of values/ranges, each optionally '/step'.
    item = rf"(?:{atom})(?:-(?:{atom}))?"
    return re.compile(rf"^(?:\*|{item}(?:,{item})*)(?:/[0-9]+)?$|^\*/[0-9]+${extra}")


_CRON_FIELDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("minutes", _field(r"[0-5]?[0-9]")),
    ("hours", _field(r"[01]?[0-9]|2[0-3]")),
    ("day-of-month", _field(r"[1-9]|[12][0-9]|3[01]", r"|^\?$|^L$|^LW$|^(?:[1-9]|[12][0-9]|3[01])W$")),
    ("month", _field(rf"[1-9]|1[0-2]|{_MONTHS}")),
    ("day-of-week", _field(rf"[1-7]|{_DAYS}", r"|^\?$|^(?:[1-7]|" + _DAYS + r")L$|^(?:[1-7]|" + _DAYS + r")#[1-5]$")),
    ("year", _field(r"19[7-9][0-9]|2[01][0-9][0-9]")),
)


def schedule_error(expression: str) -> str | None:
    """Why ``expression`` is not an EventBridge ``cron(...)``/``rate(...)`` expression, or None."""
    if expression.startswith("rate("):
        match = _RATE.match(expression)
        if not match:
            return "a rate expression is 'rate(<positive integer> <minute(s)|hour(s)|day(s)>)'"
        singular = not match["unit"].endswith("s")
        if (match["value"] == "1") != singular:
            return "use the singular unit with 1 and the plural otherwise, e.g. rate(1 hour), rate(5 minutes)"
        return None
    match = _CRON.match(expression)
    if not match:
        return "a schedule is 'cron(minutes hours day-of-month month day-of-week year)' or 'rate(value unit)'"
    fields = match["body"].split()
    if len(fields) != 6:
        return f"a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not {len(fields)}"
    for (name, pattern), value in zip(_CRON_FIELDS, fields, strict=True):
        if not pattern.match(value.upper()):
            return f"the {name} field {value!r} is not valid"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    return None


# --- names ---------------------------------------------------------------------------------------

# Lower-case DNS-label-like names; they become parts of stack names, ECR repositories, log groups,
# capacity providers and Cloud Map names, and every one of those accepts this alphabet.
NAME = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"
NAME_HELP = "lower-case letters, digits and single hyphens, starting with a letter"

DB_IDENTIFIER = r"^[a-z_][a-z0-9_]*$"

HOSTNAME = re.compile(r"^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ENV_VAR = r"^[A-Za-z_][A-Za-z0-9_]*$"

# ECS instance attributes (cloud-init writes them into ECS_INSTANCE_ATTRIBUTES).
ATTRIBUTE_NAME = r"^[A-Za-z0-9_./-]{1,128}$"
ATTRIBUTE_VALUE = r"^[A-Za-z0-9_.@/: -]{1,128}$"

INSTANCE_TYPE = r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"
DB_INSTANCE_TYPE = r"^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$"

_PARTITION = r"aws(?:-cn|-us-gov)?"
_REGION = r"[a-z]{2}(?:-gov)?-[a-z]+-[0-9]"
REGION = rf"^{_REGION}$"
ACCOUNT = r"^[0-9]{12}$"
CERTIFICATE_ARN = rf"^arn:{_PARTITION}:acm:{_REGION}:[0-9]{{12}}:certificate/[0-9a-f-]{{36}}$"
CONNECTION_ARN = (
    rf"^arn:{_PARTITION}:(?:codeconnections|codestar-connections):{_REGION}:[0-9]{{12}}:connection/[0-9a-f-]{{36}}$"
)
SECRET_ARN = (
    rf"^arn:{_PARTITION}:(?:secretsmanager:{_REGION}:[0-9]{{12}}:secret:[A-Za-z0-9/_+=.@-]+"
    rf"|ssm:{_REGION}:[0-9]{{12}}:parameter/[A-Za-z0-9/_.-]+)$"
)
CODECOMMIT_REPOSITORY = r"^[A-Za-z0-9_.-]{1,100}$"
THIRD_PARTY_REPOSITORY = r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+$"
RUN_TIME = r"^(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?$"


def run_time_seconds(run_time: str) -> int:
    """Locust's ``-t`` syntax (``3m``, ``1h30m``, ``90s``) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"([0-9]+)([hms])", run_time))
