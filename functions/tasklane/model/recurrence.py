"""When a recurring schedule fires: EventBridge Scheduler's cron and rate expressions, checked and
computed here, in the schedule's own time zone.

Scheduler itself is the clock that fires; tasklane validates what it is given (the local emulator
accepts invalid expressions and ignores time zones) and computes the next fire times it shows.

Accepted syntax, EventBridge's own:
- cron: six fields `minutes hours day-of-month month day-of-week year`, e.g. `0 9 ? * MON-FRI *`,
  written bare or as `cron(...)`. Exactly one of day-of-month and day-of-week is `?`. Day-of-week
  is 1-7 for SUN-SAT or the names; `L` and `#` as EventBridge allows; day-of-month `L` and `LW`
  (a `W` on a given day, e.g. `15W`, is not accepted). Years 1970-2199.
- rate: `N minute(s) | hour(s) | day(s)` (bare or as `rate(...)`), N >= 1: the first firing is one
  period after the schedule is created, as Scheduler counts.
Next fire times follow cron's rules for daylight saving time (via cronsim): a time skipped by the
clock change fires at the next valid minute, a repeated one fires once.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from tasklane.records import record

_RATE = re.compile(r"^(\d{1,6}) (minute|minutes|hour|hours|day|days)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_YEAR_TERM = re.compile(r"^(\*|\d{4}(-\d{4})?)(/\d{1,3})?$")
_FIRST_YEAR, _LAST_YEAR = 1970, 2199
# Next fire times searched: a cron matching only rarely (a leap day in some years) is still found.
_MAX_STEPS = 5000


def _unwrap(text: str, word: str) -> str:
    text = " ".join(text.strip().split())
    if text.startswith(f"{word}(") and text.endswith(")"):
        return text[len(word) + 1 : -1].strip()
    return text


def parse_rate(text: str) -> str:
    """`5 minutes` (or `rate(5 minutes)`), normalised to the bare form; ValueError says what is wrong."""
    bare = _unwrap(text, "rate")
    match = _RATE.match(bare)
    if not match:
        raise ValueError("must be like '5 minutes', '1 hour' or '2 days' (minute(s), hour(s) or day(s))")
    value, unit = int(match[1]), match[2]
    if value < 1:
        raise ValueError("the period must be at least 1")
    if (value == 1) != (not unit.endswith("s")):
        raise ValueError(f"write '1 {unit.rstrip('s')}' for one and '{value} {unit.rstrip('s')}s' for more")
    return bare


def rate_seconds(rate: str) -> int:
    value, unit = rate.split()
    return int(value) * _UNIT_SECONDS[unit.rstrip("s")]


def _weekdays(field: str) -> str:
    """EventBridge's day-of-week (1-7 = SUN-SAT, bare L = SAT) as cronsim's (0-6 = SUN-SAT)."""
    if field == "L":
        return "6"

    def shift(match: re.Match[str]) -> str:
        day = int(match[0])
        if not 1 <= day <= 7:
            raise ValueError("day-of-week numbers are 1-7 (SUN-SAT)")
        return str(day - 1)

    # Numbers that name a day, not the n of `#n` or a `/step`.
    return re.sub(r"(?<![#/\d])\d+", shift, field)


def _years(field: str) -> frozenset[int]:
    years: set[int] = set()
    for term in field.split(","):
        if not _YEAR_TERM.match(term):
            raise ValueError("the year field takes *, years, ranges, lists and steps (1970-2199)")
        span, _, step = term.partition("/")
        if span == "*":
            first, last = _FIRST_YEAR, _LAST_YEAR
        else:
            first_text, _, last_text = span.partition("-")
            first = int(first_text)
            last = int(last_text) if last_text else (_LAST_YEAR if step else first)
        if not _FIRST_YEAR <= first <= last <= _LAST_YEAR:
            raise ValueError("years must be 1970-2199, a range from low to high")
        years.update(range(first, last + 1, int(step) if step else 1))
    return frozenset(years)


@record
class Cron:
    """A checked EventBridge cron expression and its five-field cronsim form plus its years."""

    expression: str  # the six fields, as Scheduler takes them inside cron(...)
    unix: str
    years: frozenset[int]


def parse_cron(text: str) -> Cron:
    """Check an EventBridge cron expression (bare or as `cron(...)`); ValueError says what is wrong."""
    bare = _unwrap(text, "cron").upper()
    fields = bare.split(" ")
    if len(fields) != 6:
        raise ValueError("must have six fields: minutes hours day-of-month month day-of-week year")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
    if "W" in dom and dom != "LW":
        raise ValueError("day-of-month 'W' is accepted only as 'LW' (the last weekday of the month)")
    unix = " ".join([minutes, hours, "*" if dom == "?" else dom, month, "*" if dow == "?" else _weekdays(dow)])
    years = _years(year)
    try:
        CronSim(unix, datetime(2000, 1, 1, tzinfo=UTC))
    except (CronSimError, ValueError) as exc:
        raise ValueError(f"not a valid cron expression ({exc})") from None
    return Cron(bare, unix, years)


def parse_timezone(text: str) -> ZoneInfo:
    """An IANA time zone (`Europe/Paris`, `UTC`); ValueError when there is none of that name."""
    try:
        return ZoneInfo(text)
    # A folder of the zone database (`Europe`) or a name too long for a file is an OSError.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError("must be an IANA time zone name, e.g. 'UTC' or 'Europe/Paris'") from None


@record
class Recurrence:
    """When a schedule fires: a cron in its time zone, or a rate counted from its creation."""

    cron: str | None
    rate: str | None
    timezone: str
    created_at: datetime

    def expression(self) -> str:
        """What EventBridge Scheduler takes as ScheduleExpression."""
        return f"cron({self.cron})" if self.cron else f"rate({self.rate})"

    def next_fires(self, after: datetime, count: int = 5) -> list[datetime]:
        """The next `count` fire times strictly after `after` (UTC)."""
        if self.rate:
            period = timedelta(seconds=rate_seconds(self.rate))
            first = max(1, (after - self.created_at) // period + 1)
            times: list[datetime] = []
            for i in range(count):
                try:  # a long period runs past the last date Python holds: those times are left out
                    times.append(self.created_at + period * (first + i))
                except OverflowError:
                    break
            return times
        return self._cron_times(after, count, reverse=False)

    def last_fire(self, before: datetime) -> datetime | None:
        """The latest fire time at or before `before` (UTC), if any since the schedule was created."""
        if self.rate:
            period = timedelta(seconds=rate_seconds(self.rate))
            if before - self.created_at < period:
                return None
            return self.created_at + period * ((before - self.created_at) // period)
        found = self._cron_times(before + timedelta(seconds=1), 1, reverse=True)
        return found[0] if found and found[0] >= self.created_at else None

    def _cron_times(self, start: datetime, count: int, *, reverse: bool) -> list[datetime]:
        assert self.cron is not None
        cron = parse_cron(self.cron)
        zone = parse_timezone(self.timezone)
        times: list[datetime] = []
        moment = start.astimezone(zone)
        for _ in range(_MAX_STEPS):
            # Jump over the years the year field leaves out, instead of stepping through them.
            years = sorted(y for y in cron.years if (y <= moment.year if reverse else y >= moment.year))
            if not years:
                break
            year = years[-1] if reverse else years[0]
            if year != moment.year:
                edge = datetime(year + 1 if reverse else year, 1, 1, tzinfo=zone)
                moment = edge if reverse else edge - timedelta(seconds=1)
            try:
                moment = next(CronSim(cron.unix, moment, reverse=reverse))
            except StopIteration:  # no match within cronsim's 50-year search
                break
            if moment.year in cron.years:
                times.append(moment.astimezone(UTC))
                if len(times) == count:
                    break
        return times
