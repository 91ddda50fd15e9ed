"""The training schedule: EventBridge ``cron(...)`` (how every schedule in config is written)
to the five-field Unix cron that Auto Scaling scheduled actions take, and the backstop time
a run must have ended by.

The two dialects differ in more than the brackets: EventBridge has six fields (the last is
the year), needs ``?`` in one of day-of-month and day-of-week, and numbers days of the week
1-7 from Sunday, where Unix cron numbers them 0-6 from Sunday. Both are UTC here.
"""

from __future__ import annotations

import re

from stacks.config import ConfigError

DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_CRON = re.compile(r"^cron\((?P<body>[^()]+)\)$")
_UNSUPPORTED = re.compile(r"[LW#]")  # last day, nearest weekday, nth weekday: Unix cron has none


def _fields(expression: str) -> list[str]:
    match = _CRON.match(expression.strip())
    if not match or len(fields := match["body"].split()) != 6:
        raise ConfigError(
            f"training_schedule {expression!r} is not an EventBridge cron expression "
            "'cron(minutes hours day-of-month month day-of-week year)'"
        )
    return fields


def _day_number(token: str, expression: str) -> int:
    """An EventBridge day of the week (SUN-SAT or 1-7) as Unix cron's 0-6."""
    if token.upper() in DAYS:
        return DAYS.index(token.upper())
    if token.isdigit() and 1 <= int(token) <= 7:
        return int(token) - 1
    raise ConfigError(f"training_schedule {expression!r}: {token!r} is not a day of the week")


def _days(field: str, expression: str) -> list[int]:
    """The days a day-of-week field names (lists, ranges and steps), as Unix day numbers."""
    if field in ("*", "?"):
        return list(range(7))
    days: set[int] = set()
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            start, end = base.split("-", 1)
            first, last = _day_number(start, expression), _day_number(end, expression)
        else:
            first = last = _day_number(base, expression)
        if last < first:
            raise ConfigError(f"training_schedule {expression!r}: day range {base!r} runs backwards")
        days.update(range(first, last + 1, int(step) if step else 1))
    return sorted(days)


def _unix_days(days: list[int]) -> str:
    return "*" if days == list(range(7)) else ",".join(DAYS[d] for d in days)


def to_unix_cron(expression: str) -> str:
    """``cron(0 5 ? * SUN *)`` -> ``0 5 * * SUN``, as ``AWS::AutoScaling::ScheduledAction``
    wants its ``Recurrence``."""
    minute, hour, dom, month, dow, year = _fields(expression)
    if _UNSUPPORTED.search(f"{dom} {dow}"):
        raise ConfigError(f"training_schedule {expression!r}: L, W and # have no Unix cron equivalent")
    if year != "*":
        raise ConfigError(f"training_schedule {expression!r}: a year other than * cannot recur")
    if (dom == "?") == (dow == "?"):
        raise ConfigError(f"training_schedule {expression!r}: exactly one of the day fields must be ?")
    unix_dow = "*" if dow == "?" else _unix_days(_days(dow, expression))
    return " ".join((minute, hour, "*" if dom == "?" else dom, month, unix_dow))


def backstop_cron(expression: str, after_hours: int) -> str:
    """The Unix cron ``after_hours`` after each start of ``expression``: when the group is
    set back to zero whatever the run is doing. Needs one start time a day (fixed minute and
    hour); a backstop that falls on the next day moves the days of the week along, which a
    day-of-month schedule cannot do safely (months differ in length), so that is refused."""
    if not 1 <= after_hours <= 23:
        raise ConfigError("the training run's time limit must be between 1 and 23 hours")
    minute, hour, dom, month, dow, _ = _fields(expression)
    to_unix_cron(expression)  # the same validation
    if not (minute.isdigit() and hour.isdigit()):
        raise ConfigError(
            f"training_schedule {expression!r}: give one start time (a fixed minute and hour) "
            "so the backstop that stops a hung run can follow it"
        )
    end = int(hour) + after_hours
    if end < 24:
        return to_unix_cron(f"cron({minute} {end} {dom} {month} {dow} *)")
    if (dow == "?" and dom != "*") or month != "*":
        raise ConfigError(
            f"training_schedule {expression!r}: the run's time limit ends on the next day of a "
            "day-of-month or month schedule; start earlier in the day or shorten "
            "training_max_runtime_hours"
        )
    days = [(d + 1) % 7 for d in _days(dow, expression)]
    return " ".join((minute, str(end - 24), "*", month, _unix_days(sorted(days))))
