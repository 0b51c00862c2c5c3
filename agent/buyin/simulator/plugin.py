"""The local_buyin plugin, as the simulated site serves it once installed.

Mirrors plugin_contract/moodle/local_buyin/classes/signoff_manager.php: requests
are upserted per (course, learner) and keep their first request time; a decision
by the learner's manager marks the course's "Manual completion by others"
criterion (the course completes at the next completion cron) and records who
decided and when. Leases mirror classes/lease_manager.php: one per programme, taken,
renewed, or taken over once expired. Answers have the shapes of
plugin_contract/local_buyin.signatures.json.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .notifications import Notification

PLUGIN_VERSION = "2026120402"
PLUGIN_FUNCTIONS = (
    "local_buyin_request_signoffs",
    "local_buyin_get_signoffs",
    "local_buyin_record_signoff",
    "local_buyin_get_progress",
    "local_buyin_complete_activities",
    "local_buyin_save_figures",
    "local_buyin_acquire_lease",
    "local_buyin_release_lease",
    "local_buyin_get_non_respondents",
)
#: local_buyin 0.4.0's notifications (install_plugin(notifications=True))
NOTIFY_FUNCTION = "local_buyin_send_notifications"
#: lease_manager::MIN_SECONDS, MAX_SECONDS
LEASE_BOUNDS = (60, 2592000)


@dataclass
class Lease:
    programme: str
    holder: str
    timeacquired: int
    timeexpires: int
    #: the fencing token of the holder's latest run ("": taken by an agent before 0.4.0)
    token: str = ""


def _fits(lease: Lease, holder: str, token: str, expected: str) -> bool:
    """A running lease is the caller's: by token where both have one, else by name."""
    if not token or not lease.token:
        return lease.holder == holder
    return lease.token == expected


@dataclass
class SignoffRequest:
    id: int
    courseid: int
    userid: int
    managerid: int
    status: str  # requested | signed | rejected | cancelled
    timerequested: int
    timedecided: int = 0
    decidedby: int = 0
    comment: str = ""
    timemodified: int = 0

    def brief(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "courseid": self.courseid,
            "userid": self.userid,
            "managerid": self.managerid,
            "status": self.status,
            "timerequested": self.timerequested,
        }

    def full(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SavedFigures:
    """One row of local_buyin_figures (classes/figures_manager.php)."""

    courseid: int
    userid: int
    role: str  # learner | manager
    managerid: int
    figures: dict[str, Any]
    timemodified: int


class PluginState:
    def __init__(self) -> None:
        self.requests: dict[tuple[int, int], SignoffRequest] = {}
        #: (courseid, userid, role) -> the figures the agent pushed
        self.figures: dict[tuple[int, int, str], SavedFigures] = {}
        #: programme key -> its lease
        self.leases: dict[str, Lease] = {}
        #: the notifications sent, in order; their idempotency keys
        self.notifications: list[Notification] = []
        self.notification_keys: dict[str, Notification] = {}
        #: lang strings the site customised (the language customisation page)
        self.custom_strings: dict[str, str] = {}
        self._next = 1

    def save_figures(
        self,
        courseid: int,
        userid: int,
        role: str,
        managerid: int,
        figures: dict[str, Any],
        now: int,
    ) -> None:
        self.figures[(courseid, userid, role)] = SavedFigures(
            courseid, userid, role, managerid, figures, now
        )

    def team(self, managerid: int) -> list[SavedFigures]:
        """What the My team page shows a manager: the learner rows naming them, by course
        and learner (figures_manager::get_team)."""
        return sorted(
            (f for f in self.figures.values() if f.role == "learner" and f.managerid == managerid),
            key=lambda f: (f.courseid, f.userid),
        )

    def acquire_lease(
        self,
        programme: str,
        holder: str,
        seconds: int,
        now: int,
        token: str = "",
        expected: str = "",
    ) -> tuple[Lease, bool]:
        """(the lease as stored, whether ``holder`` has it): lease_manager::acquire."""
        seconds = max(LEASE_BOUNDS[0], min(LEASE_BOUNDS[1], seconds))
        lease = self.leases.get(programme)
        if lease is None:
            lease = self.leases[programme] = Lease(programme, holder, now, now + seconds, token)
            return lease, True
        running = lease.timeexpires > now
        if running and not _fits(lease, holder, token, expected):
            return lease, False
        if lease.holder != holder or not running:
            lease.holder, lease.timeacquired = holder, now
        if token:
            lease.token = token
        lease.timeexpires = now + seconds
        return lease, True

    def release_lease(self, programme: str, holder: str, force: bool = False) -> bool:
        lease = self.leases.get(programme)
        if lease is None or (lease.holder != holder and not force):
            return False
        del self.leases[programme]
        return True

    def upsert(self, courseid: int, userid: int, managerid: int, now: int) -> SignoffRequest:
        key = (courseid, userid)
        existing = self.requests.get(key)
        if existing is None:
            existing = SignoffRequest(
                self._next, courseid, userid, managerid, "requested", now, timemodified=now
            )
            self._next += 1
            self.requests[key] = existing
        elif existing.status == "cancelled":
            existing.status, existing.managerid, existing.timemodified = "requested", managerid, now
        elif existing.status == "requested" and existing.managerid != managerid:
            existing.managerid, existing.timemodified = managerid, now
        return existing

    def changes(
        self, since: int, courseid: int, limitfrom: int, limitnumber: int, afterid: int = 0
    ) -> tuple[list[SignoffRequest], bool]:
        """After (since, afterid) in (timemodified, id) order (afterid 0: at or after since)."""
        position = (since, max(0, afterid))
        rows = sorted(
            (
                r
                for r in self.requests.values()
                if (r.timemodified, r.id) > position and (not courseid or r.courseid == courseid)
            ),
            key=lambda r: (r.timemodified, r.id),
        )
        page = rows[limitfrom : limitfrom + limitnumber] if limitnumber else rows[limitfrom:]
        return page, limitfrom + len(page) < len(rows)
