"""What an admin reads instead of ids: people, courses, roles and activities by name,
and dates as people write them ("24 Sep 2026"), never unix times."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 learner``, ``3 learners``: every count a person reads goes through this."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def human_day(ts: int | None) -> str:
    """``24 Sep 2026`` (UTC); ``-`` for none."""
    if not ts:
        return "-"
    stamp = datetime.fromtimestamp(ts, UTC)
    return f"{stamp.day} {stamp:%b %Y}"


def human_time(ts: int | None) -> str:
    """``24 Sep 2026 14:05 UTC``; ``-`` for none."""
    if not ts:
        return "-"
    return f"{human_day(ts)} {datetime.fromtimestamp(ts, UTC):%H:%M} UTC"


def _ints(data: Any) -> dict[int, str]:
    if not isinstance(data, Mapping):
        return {}
    out: dict[int, str] = {}
    for key, value in data.items():
        try:
            out[int(key)] = str(value)
        except (TypeError, ValueError):
            continue
    return out


@dataclass
class Names:
    """Ids to the names people know them by; an id not known reads as ``user 12``."""

    #: user id -> "learner01 (Aisha Bello)"
    people: dict[int, str] = field(default_factory=dict)
    #: course id -> shortname
    courses: dict[int, str] = field(default_factory=dict)
    #: role id -> role shortname
    roles: dict[int, str] = field(default_factory=dict)
    #: cmid -> activity name
    activities: dict[int, str] = field(default_factory=dict)

    def person(self, userid: int | None) -> str:
        if userid is None:
            return "(nobody)"
        return self.people.get(userid) or f"user {userid}"

    def course(self, courseid: int) -> str:
        return self.courses.get(courseid) or f"course {courseid}"

    def role(self, roleid: int) -> str:
        return self.roles.get(roleid) or f"role {roleid}"

    def activity(self, cmid: int) -> str:
        return self.activities.get(cmid) or f"activity {cmid}"

    def add_person(self, userid: int, username: str, fullname: str) -> None:
        name = username or f"user {userid}"
        if fullname and fullname != username:
            name = f"{name} ({fullname})"
        self.people[userid] = name

    def update(self, other: Names) -> None:
        self.people.update(other.people)
        self.courses.update(other.courses)
        self.roles.update(other.roles)
        self.activities.update(other.activities)

    def to_json(self) -> dict[str, Any]:
        return {
            "people": {str(k): v for k, v in self.people.items()},
            "courses": {str(k): v for k, v in self.courses.items()},
            "roles": {str(k): v for k, v in self.roles.items()},
            "activities": {str(k): v for k, v in self.activities.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> Names:
        if not isinstance(data, Mapping):
            return cls()
        return cls(
            people=_ints(data.get("people")),
            courses=_ints(data.get("courses")),
            roles=_ints(data.get("roles")),
            activities=_ints(data.get("activities")),
        )
