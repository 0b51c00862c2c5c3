"""Writes Moodle acknowledged, checked on the next run against what it holds.

Moodle's answer to a write says it was done; a rolled-back transaction after the
answer, a database replica or a plugin can still leave nothing behind. The run after
a write reads what it wrote back with everything else (the learners it wrote for are
read in full, the refresher's enrolments, local_buyin's requests) and checks each
acknowledged enrolment, override and sign-off request with the same test the
planner uses to skip what Moodle already holds. What Moodle does not hold is marked
failed in the ledger ("acknowledged but not held"), so the planner plans it again,
once, and the run reports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from buyin.actions import spec
from buyin.model.actions import Action, Kind, params_from_json
from buyin.model.clock import day_of
from buyin.model.ledger import Ledger, LedgerEntry, Status
from buyin.model.snapshot import Snapshot
from buyin.state import State

#: meta: when the programme's acknowledged writes were last checked (a run's time)
VERIFIED_AT = "verified:{}"

#: the writes whose effect a run can read back (messages are read back by the push)
CHECKED = frozenset({Kind.ENROL, Kind.OVERRIDE, Kind.SIGNOFF_REQUEST})


@dataclass(frozen=True)
class Unverified:
    """What the last run wrote and this run checks."""

    entries: tuple[LedgerEntry, ...]

    @property
    def learners(self) -> frozenset[int]:
        """Learners read in full this run (their activity states)."""
        return frozenset(e.userid for e in self.entries if e.kind == Kind.OVERRIDE)

    @property
    def enrolled(self) -> frozenset[int]:
        """Users whose refresher enrolment is read again this run."""
        return frozenset(e.userid for e in self.entries if e.kind == Kind.ENROL)


def unverified(state: State, ledger: Ledger, program: str) -> Unverified:
    """The writes to check this run: applied since the programme's last check."""
    verified_at = state.get_meta(VERIFIED_AT.format(program))
    return to_verify(ledger, None if verified_at is None else int(verified_at))


def settle(state: State, writes: Unverified, snapshot: Snapshot, now: int) -> list[LedgerEntry]:
    """Check ``writes`` against the snapshot: those Moodle does not hold are failed in
    the ledger (so the planner plans them again, once: the next run checks them
    again), and returned for the run's report."""
    gone = dropped(writes, snapshot)
    for entry in gone:
        state.mark(
            entry.key,
            Status.FAILED,
            now,
            error="Moodle acknowledged it but did not keep it",
            attempted=False,
        )
    state.set_meta(VERIFIED_AT.format(snapshot.programme.id), str(now))
    return gone


def to_verify(ledger: Ledger, since: int | None) -> Unverified:
    """Writes applied (by this agent: attempted) at or after ``since`` (None: all)."""
    return Unverified(
        tuple(
            e
            for e in ledger.values()
            if e.kind in CHECKED
            and e.status == Status.APPLIED
            and e.attempts > 0
            and e.applied_at is not None
            and (since is None or e.applied_at >= since)
        )
    )


def _knows(entry: LedgerEntry, snapshot: Snapshot) -> bool:
    """Whether the snapshot read what this write would have changed."""
    if entry.kind == Kind.OVERRIDE:
        return entry.userid in snapshot.learners
    if entry.kind == Kind.SIGNOFF_REQUEST:
        return snapshot.plugin_signoffs is not None
    courseid = int(entry.payload.get("courseid", 0))
    if snapshot.refresher is not None and courseid == snapshot.refresher.id:
        return snapshot.refresher_enrolled is not None
    return courseid == snapshot.course.id or (
        snapshot.poll is not None and courseid == snapshot.poll.courseid
    )


def dropped(unverified: Unverified, snapshot: Snapshot) -> list[LedgerEntry]:
    """The acknowledged writes Moodle does not hold (where the snapshot can tell)."""
    gone = []
    for entry in unverified.entries:
        if not _knows(entry, snapshot):
            continue
        action = Action(
            key=entry.key,
            kind=Kind(entry.kind),
            program=entry.program,
            userid=entry.userid,
            target=entry.target,
            params=params_from_json(entry.kind, entry.payload),
            reason=entry.reason,
        )
        if spec(action.kind).already_true(action, snapshot) is None:
            gone.append(entry)
    return gone


WHAT = {
    Kind.ENROL: "enrolment",
    Kind.OVERRIDE: "activity completion",
    Kind.SIGNOFF_REQUEST: "sign-off request",
}


def describe(entries: Iterable[LedgerEntry]) -> list[str]:
    """One line per dropped write, for the run's report."""
    return [
        f"Moodle acknowledged the {WHAT.get(Kind(e.kind), e.kind)} for {e.target} "
        f"on {day_of(e.applied_at or 0)} but does not hold it: planned again"
        for e in entries
    ]
