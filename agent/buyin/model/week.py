"""A recipient's week: their calendar day, working day and holidays, in their time zone.

Moodle names each user's time zone (``timezone``; "99" is the site's default, which
its web services do not give: UTC here). Standard library only.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from buyin.model.clock import WEEKDAYS, WORKING_DAYS


def zone(name: str | None) -> tzinfo:
    """The time zone Moodle names (UTC for none, "99" or an unknown name)."""
    if not name or name == "99":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_day(ts: int, where: tzinfo) -> str:
    """The recipient's calendar day of ``ts``, as ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(ts, where).strftime("%Y-%m-%d")


def is_working_day(
    ts: int,
    where: tzinfo,
    days: tuple[str, ...] = WORKING_DAYS,
    holidays: tuple[str, ...] = (),
) -> bool:
    """Whether ``ts`` is a working day where the recipient is: one of ``days`` (their
    weekday) and not one of ``holidays`` (their date)."""
    moment = datetime.fromtimestamp(ts, where)
    return WEEKDAYS[moment.weekday()] in days and moment.strftime("%Y-%m-%d") not in holidays
