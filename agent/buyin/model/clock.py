"""Time as the agent counts it: unix seconds, UTC calendar days, ISO dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

#: seconds in a day
DAY = 86400
HOUR = 3600


def parse_day(text: str) -> int:
    """A ``YYYY-MM-DD`` date as the unix time of its start (UTC).

    Raises :class:`ValueError` for anything else.
    """
    return int(datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC).timestamp())


def parse_day_or_none(text: str | None) -> int | None:
    """:func:`parse_day`, with ``None`` or ``""`` for no date."""
    return parse_day(text) if text else None


def day_of(ts: int) -> str:
    """The UTC calendar day of a unix time, as ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def iso(ts: int | None) -> str:
    """A unix time as ISO 8601 UTC (``2026-11-22T09:00:00Z``); ``""`` for none."""
    return "" if not ts else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: the days of the week, as the mapping names them (Monday first, like ``weekday()``)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: working days when the mapping names none
WORKING_DAYS = WEEKDAYS[:5]


def working_day(ts: int, days: tuple[str, ...] = WORKING_DAYS) -> bool:
    """Whether ``ts`` falls on one of ``days`` (UTC)."""
    return WEEKDAYS[datetime.fromtimestamp(ts, UTC).weekday()] in days
