"""When a follow-up is due: snooze presets, free input, business days, "the morning after".

Pure functions of a time zone-aware ``now`` (the caller's clock in the user's zone), so the UI,
the CLI and the engine agree and tests can set the clock to any day.

Free input, as typed into the snooze prompt (case and surrounding blanks do not matter):

- a duration: ``2h``, ``45m`` (from now); ``3d``, ``2w``, ``1mo`` (that day, in the morning)
- a day: ``today``, ``tomorrow``, ``monday`` / ``mon`` (the next one), ``dec 14`` / ``14 dec``
  (the next one), ``2026-12-14``; each optionally followed by a time (``17:00``, ``9am``, ``5pm``)
- a time alone: ``17:30`` (today, or tomorrow when it has passed)
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, tzinfo

MORNING = time(9, 0)
"""When a snooze "for days" and a follow-up come back: the start of a working day."""
LATER_TODAY_HOURS = 3
MAX_AHEAD_DAYS = 2 * 366

PRESETS: tuple[tuple[str, str], ...] = (
    ("later", "Later today"),
    ("tomorrow", "Tomorrow morning"),
    ("monday", "Next Monday"),
    ("week", "In a week"),
    ("month", "In a month"),
)
"""(input, label) of the snooze picker's choices; each input is valid free input too."""

HINT = "try 3d, 2w, tomorrow 14:00, dec 14 or 2026-12-14 09:00"

_WEEKDAYS = {name: i for i, names in enumerate((
    "monday mon", "tuesday tue tues", "wednesday wed", "thursday thu thur thurs",
    "friday fri", "saturday sat", "sunday sun")) for name in names.split()}
_MONTHS = {name: i for i in range(1, 13)
           for name in (calendar.month_name[i].lower(), calendar.month_abbr[i].lower())}
_MONTHS["sept"] = 9

_DURATION = re.compile(r"(\d{1,4})\s?(mo|months?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)")
_TIME = re.compile(r"(\d{1,2})(?::(\d{2}))?\s?(am|pm)?")
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_WORD = re.compile(r"[a-z]{1,12}")
_DAY_NUMBER = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?")


class WhenError(ValueError):
    """Input that names no time in the future; the message is one line for the prompt."""


def local_now(clock: float, tz: tzinfo | None) -> datetime:
    """``clock`` (seconds since the epoch) in the user's zone (the system's when ``tz`` is None)."""
    return datetime.fromtimestamp(clock, tz) if tz is not None else datetime.fromtimestamp(clock).astimezone()


def at_morning(day: date, now: datetime) -> datetime:
    return datetime.combine(day, MORNING, tzinfo=now.tzinfo)


def preset(name: str, now: datetime) -> datetime:
    """The time a snooze picker preset stands for."""
    if name == "later":
        later = now + timedelta(hours=LATER_TODAY_HOURS)
        return later.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return parse_when(name, now)


def parse_when(text: str, now: datetime) -> datetime:
    """The time ``text`` names, after ``now``; raises WhenError with a one-line reason."""
    raw = " ".join(text.strip().lower().split())[:60]
    if not raw:
        raise WhenError(f"say when: {HINT}")
    if raw in ("later", "later today"):
        return preset("later", now)
    if raw in ("week", "a week", "next week"):
        raw = "1w"
    elif raw in ("month", "a month", "next month"):
        raw = "1mo"
    elif raw.startswith("in "):
        raw = raw[3:]
    found = _duration(raw, now)
    if found is None:
        day, rest = _day(raw, now)
        clock_time = _clock(rest) if rest else None
        if day is None and clock_time is None:
            raise WhenError(f"can't read {text.strip()[:30]!r}: {HINT}")
        if rest and clock_time is None:
            raise WhenError(f"can't read the time {rest[:12]!r}: {HINT}")
        if day is None:
            assert clock_time is not None
            found = datetime.combine(now.date(), clock_time, tzinfo=now.tzinfo)
            if found <= now:
                found += timedelta(days=1)
        else:
            found = datetime.combine(day, clock_time or MORNING, tzinfo=now.tzinfo)
    if found <= now:
        raise WhenError(f"{found:%a %d %b %H:%M} has passed: {HINT}")
    if found - now > timedelta(days=MAX_AHEAD_DAYS):
        raise WhenError("that is more than two years ahead")
    return found


def _duration(raw: str, now: datetime) -> datetime | None:
    m = _DURATION.fullmatch(raw)
    if m is None:
        return None
    n, unit = int(m.group(1)), m.group(2)
    if n == 0:
        raise WhenError(f"a snooze of no time: {HINT}")
    if unit.startswith("mo"):
        month = now.month - 1 + n
        year, month = now.year + month // 12, month % 12 + 1
        if year - now.year > 2:
            raise WhenError("that is more than two years ahead")
        day = min(now.day, calendar.monthrange(year, month)[1])
        return at_morning(date(year, month, day), now)
    if unit.startswith("m"):
        return now + timedelta(minutes=n)
    if unit.startswith("h"):
        return now + timedelta(hours=n)
    days = n * (7 if unit.startswith("w") else 1)
    if days > MAX_AHEAD_DAYS:
        raise WhenError("that is more than two years ahead")
    return at_morning(now.date() + timedelta(days=days), now)


def _day(raw: str, now: datetime) -> tuple[date | None, str]:
    """A day at the start of ``raw``, and what follows it."""
    today = now.date()
    m = _ISO_DAY.match(raw)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))), raw[m.end():].strip()
        except ValueError:
            raise WhenError(f"there is no day {m.group(0)}") from None
    words = raw.split(" ", 2)
    first = words[0]
    if first == "today":
        return today, raw[len(first):].strip()
    if first == "tomorrow":
        return today + timedelta(days=1), raw[len(first):].strip()
    if first == "next" and len(words) > 1 and words[1] in _WEEKDAYS:
        first, raw = words[1], raw[5:]
    if first in _WEEKDAYS:
        ahead = (_WEEKDAYS[first] - today.weekday() - 1) % 7 + 1  # the next one, never today
        return today + timedelta(days=ahead), raw[len(first):].strip()
    # "dec 14", "december 14th", "14 dec", "14th of december"
    tokens = raw.replace(",", " ").replace(" of ", " ").split()
    if len(tokens) >= 2:
        month = day = None
        if _WORD.fullmatch(tokens[0]) and tokens[0] in _MONTHS and (number := _DAY_NUMBER.fullmatch(tokens[1])):
            month, day = _MONTHS[tokens[0]], int(number.group(1))
        elif (number := _DAY_NUMBER.fullmatch(tokens[0])) and tokens[1] in _MONTHS:
            month, day = _MONTHS[tokens[1]], int(number.group(1))
        if month is not None and day is not None:
            return _next_date(month, day, today), " ".join(tokens[2:])
    return None, raw


def _next_date(month: int, day: int, today: date) -> date:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate > today:
            return candidate
    raise WhenError(f"there is no day {day} in {calendar.month_name[month]}")


def _clock(text: str) -> time | None:
    m = _TIME.fullmatch(text.replace("at ", "", 1).strip())
    if m is None:
        return None
    hour, minute, half = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif m.group(2) is None:
        return None  # a bare number is not a time ("14" alone)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def add_business_days(start: datetime, days: int) -> datetime:
    """The morning ``days`` working days (Monday to Friday) after ``start``."""
    day = start.date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return at_morning(day, start)


def morning_after(day: date, days_after: int, now: datetime) -> datetime:
    """The morning ``days_after`` days after ``day`` (an out-of-office return date): never in
    the past, so a return date already gone comes back at the next morning."""
    wake = at_morning(day + timedelta(days=days_after), now)
    return wake if wake > now else at_morning(now.date() + timedelta(days=1), now)


def describe(when: datetime, now: datetime) -> str:
    """A short label for a wake time: "14:00", "tomorrow 09:00", "Mon 14 Dec 09:00"."""
    if when.date() == now.date():
        return f"{when:%H:%M}"
    if when.date() == now.date() + timedelta(days=1):
        return f"tomorrow {when:%H:%M}"
    if when.year != now.year:
        return f"{when:%d %b %Y %H:%M}"
    return f"{when:%a %d %b %H:%M}"
