"""What the state stores: the action ledger and its records, as values.

Every action goes through the ledger: recorded :attr:`Status.PLANNED` before it is
pushed, :attr:`Status.APPLIED`/:attr:`Status.FAILED`/:attr:`Status.SKIPPED` after.
:class:`Ledger` is one programme's ledger as read at one moment, with the questions
sync, the rules and the history points ask of it, asked in one place. Standard
library only: the state (:mod:`buyin.state`) reads and writes these records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import Any


class Status(StrEnum):
    """An action's status in the ledger (the strings are what the database holds)."""

    PLANNED = "planned"
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"


#: done: applied, or skipped because Moodle already held it
DONE = frozenset({Status.APPLIED, Status.SKIPPED})
#: not settled yet: left planned by a killed run, or failed (tried again)
UNSETTLED = frozenset({Status.PLANNED, Status.FAILED})


class ScheduleStatus(StrEnum):
    """A scheduled (future) action's status."""

    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    program: str
    kind: str
    userid: int
    target: str
    payload: dict[str, Any]
    reason: dict[str, Any]
    status: Status
    attempts: int
    last_error: str | None
    created_at: int
    updated_at: int
    applied_at: int | None

    @property
    def held_before_us(self) -> bool:
        """Moodle held it before the agent ever tried (skipped with no attempt): someone
        else did it. A write of ours whose answer was lost is skipped after an attempt."""
        return self.status == Status.SKIPPED and self.attempts == 0


@dataclass(frozen=True)
class ScheduledItem:
    key: str
    program: str
    kind: str
    userid: int
    due_at: int
    payload: dict[str, Any]
    status: ScheduleStatus


@dataclass(frozen=True)
class CachedLearner:
    program: str
    userid: int
    signature: str
    data: dict[str, Any]
    first_seen: int
    fetched_at: int
    undecided: str | None


@dataclass(frozen=True)
class RunRecord:
    id: int
    started_at: int
    ended_at: int | None
    mode: str
    #: "running", "ok" or "exit N" (the run's exit code)
    outcome: str
    counts: dict[str, Any]
    metrics: str


@dataclass(frozen=True)
class ProgrammeState:
    """What the agent keeps of one programme between runs."""

    program: str
    #: when the programme was first synced (its learners then were already there)
    mapped_at: int | None = None
    #: the last full reconciliation with Moodle
    reconciled_at: int | None = None
    #: refresher retention scores known so far (learner id -> fraction)
    retention: dict[int, float] = field(default_factory=dict)
    #: the course structure, the people directory and the plugin's answer, as pulled last
    structure: dict[str, Any] | None = None
    directory: dict[str, Any] | None = None
    plugin: dict[str, Any] | None = None


def parts_of(entry: LedgerEntry) -> list[LedgerEntry]:
    """The messages a merged message carried (``reason.parts``: each part's key and
    reason), each as an entry with the merged message's status and times."""
    return [
        replace(entry, key=str(part["key"]), reason=dict(part.get("reason", {})))
        for part in entry.reason.get("parts", ())
    ]


class Ledger(Mapping[str, LedgerEntry]):
    """The ledger by idempotency key, and the named questions asked of it.

    A merged message (one a day per person: see :mod:`buyin.rules.inbox`) answers
    for each message it carried: the questions below see its parts by their own
    keys and reasons; the mapping itself holds only what was stored.

    A ledger is read once per run and never changes: every question below is answered
    from an index built the first time it is needed (per kind, per learner, per merged
    part), so a question asked for each learner costs constant time, not a scan.
    """

    def __init__(self, entries: Mapping[str, LedgerEntry] | None = None) -> None:
        self._entries: dict[str, LedgerEntry] = dict(entries or {})

    @cached_property
    def _parts(self) -> dict[str, LedgerEntry]:
        """The parts of merged messages by their own keys (built when first asked)."""
        parts: dict[str, LedgerEntry] = {}
        for entry in self._entries.values():
            if entry.reason.get("parts"):
                for part in parts_of(entry):
                    if part.key not in self._entries:
                        parts[part.key] = part
        return parts

    def _all(self) -> Iterable[LedgerEntry]:
        """Every entry, the parts of merged messages in place of their merged entry."""
        for entry in self._entries.values():
            if not entry.reason.get("parts"):
                yield entry
        yield from self._parts.values()

    @classmethod
    def of(cls, entries: Mapping[str, LedgerEntry]) -> Ledger:
        """``entries`` as a :class:`Ledger` (itself when it is one)."""
        return entries if isinstance(entries, Ledger) else cls(entries)

    def __getitem__(self, key: str) -> LedgerEntry:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Ledger({self._entries!r})"

    # -- one action --------------------------------------------------------------

    def status(self, key: str) -> Status | None:
        entry = self._entries.get(key) or self._parts.get(key)
        return None if entry is None else entry.status

    def entry(self, key: str) -> LedgerEntry | None:
        """The entry of ``key``: its own, or as a part of a merged message."""
        return self._entries.get(key) or self._parts.get(key)

    def part(self, key: str) -> LedgerEntry | None:
        """The message ``key`` as a part of the merged message that carried it (with
        that message's status), if one did."""
        return self._parts.get(key)

    @cached_property
    def _carriers(self) -> dict[str, LedgerEntry]:
        """Each part's key -> the merged message that carried it (the first one stored)."""
        out: dict[str, LedgerEntry] = {}
        for e in self._entries.values():
            for p in e.reason.get("parts", ()):
                out.setdefault(str(p.get("key")), e)
        return out

    def merged_into(self, key: str) -> LedgerEntry | None:
        """The merged message's own entry that carried the message ``key``."""
        return self._carriers.get(key)

    @cached_property
    def _delivered_messages(self) -> dict[int, list[LedgerEntry]]:
        """Applied messages per recipient."""
        out: dict[int, list[LedgerEntry]] = {}
        for e in self._entries.values():
            if e.kind == "message" and e.status == Status.APPLIED and e.applied_at is not None:
                out.setdefault(e.userid, []).append(e)
        return out

    def messages_on(self, userid: int, day: str, day_of: Callable[[int], str]) -> list[str]:
        """Keys of messages delivered to ``userid`` on ``day``."""
        return [
            e.key
            for e in self._delivered_messages.get(userid, ())
            if e.applied_at is not None and day_of(e.applied_at) == day
        ]

    def done(self, key: str) -> bool:
        """Applied, or skipped because Moodle already held it."""
        return self.status(key) in DONE

    # -- across the ledger -------------------------------------------------------

    def delivered(self, rule: str) -> list[LedgerEntry]:
        """Applied actions of one rule (by ``reason.rule``), oldest first."""
        return sorted(
            (e for e in self._all() if e.status == Status.APPLIED and e.reason.get("rule") == rule),
            key=lambda e: (e.applied_at or 0, e.key),
        )

    @cached_property
    def _applied(self) -> dict[str, dict[int, tuple[LedgerEntry, ...]]]:
        """Applied actions per kind, per learner (built once: one pass)."""
        lists: dict[str, dict[int, list[LedgerEntry]]] = {}
        for entry in self._entries.values():
            if entry.status == Status.APPLIED:
                lists.setdefault(entry.kind, {}).setdefault(entry.userid, []).append(entry)
        return {
            kind: {uid: tuple(entries) for uid, entries in per.items()}
            for kind, per in lists.items()
        }

    def applied(self, kind: str) -> Mapping[int, Sequence[LedgerEntry]]:
        """Applied actions of one kind, per learner (the same index every call)."""
        return self._applied.get(kind, {})

    def settled_learners(self, kind: str, rule: str) -> frozenset[int]:
        """Learners whose action of this kind and rule is done (applied or skipped)."""
        return frozenset(
            e.userid
            for e in self._all()
            if e.kind == kind and e.reason.get("rule") == rule and e.status in DONE
        )

    def started_enrolments(self, rule: str, now: int) -> set[int]:
        """Learners whose applied enrolment of this rule has started by ``now``."""
        return {
            e.userid
            for e in self._entries.values()
            if e.kind == "enrol"
            and e.reason.get("rule") == rule
            and e.status == Status.APPLIED
            and int(e.payload.get("timestart", 0)) <= now
        }

    def unsettled_learners(self) -> set[int]:
        """Learners with an action left planned or failed (figures for the plugin's pages
        excepted: they say nothing about the learner's state in Moodle)."""
        return {
            e.userid
            for e in self._entries.values()
            if e.status in UNSETTLED and e.kind != "figures"  # Kind.FIGURES
        }

    def in_doubt(self) -> set[str]:
        """Keys Moodle may hold although the ledger does not say applied: actions a
        killed run left planned, and messages whose failure may have hidden a delivery."""
        return {
            k
            for k, e in self._entries.items()
            if e.status == Status.PLANNED or (e.kind == "message" and e.status == Status.FAILED)
        }
