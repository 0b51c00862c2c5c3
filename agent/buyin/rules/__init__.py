"""The buy-in rules: pure functions of (snapshot, history, now) → desired actions.

No I/O and no clock reads here: ``now`` is passed in. Each rule returns a
:class:`RuleResult`; :func:`evaluate` runs every rule a programme maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from buyin.model.actions import Action
from buyin.model.ledger import Ledger, LedgerEntry, Status
from buyin.model.snapshot import Snapshot


@dataclass(frozen=True)
class History:
    """What earlier runs did, as the rules may read it."""

    #: a plain mapping is taken too (and made a :class:`Ledger`)
    ledger: Ledger = field(default_factory=Ledger)
    #: when this programme was first synced (its learners then were already there)
    mapped_at: int | None = None
    #: backfill: reprocess completions inside this window
    window: tuple[int, int] | None = None
    #: backfill --kickoff: also welcome learners who started inside the window
    retro_kickoff: bool = False

    def __post_init__(self) -> None:
        given: Mapping[str, LedgerEntry] = self.ledger
        object.__setattr__(self, "ledger", Ledger.of(given))

    def applied(self, key: str) -> bool:
        """Applied, or skipped because Moodle already held it."""
        return self.ledger.done(key)

    def status(self, key: str) -> Status | None:
        return self.ledger.status(key)

    def delivered(self, rule: str) -> list[LedgerEntry]:
        """Applied actions of one rule (by ``reason.rule``), oldest first."""
        return self.ledger.delivered(rule)


@dataclass
class RuleResult:
    actions: list[Action] = field(default_factory=list)
    #: learners the rules could not decide for, and why (shown by `buyin status`)
    undecided: dict[int, str] = field(default_factory=dict)
    #: per learner, figures for the insight history
    facts: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: future actions to list in the schedule (key -> (userid, due_at, payload))
    schedule: dict[str, tuple[int, int, dict[str, Any]]] = field(default_factory=dict)

    def merge(self, other: RuleResult) -> None:
        self.actions.extend(other.actions)
        for uid, why in other.undecided.items():
            self.undecided[uid] = f"{self.undecided[uid]}; {why}" if uid in self.undecided else why
        for uid, facts in other.facts.items():
            self.facts.setdefault(uid, {}).update(facts)
        self.schedule.update(other.schedule)


def evaluate(snapshot: Snapshot, history: History, now: int) -> RuleResult:
    from buyin.rules import followup, insights, kickoff, poll, precheck, signoff

    result = RuleResult()
    if snapshot.programme.kickoff is not None and snapshot.programme.kickoff.enabled:
        result.merge(kickoff.evaluate(snapshot, history, now))
    if snapshot.programme.precheck is not None:
        result.merge(precheck.evaluate(snapshot, history, now))
    if snapshot.programme.signoff is not None:
        result.merge(signoff.evaluate(snapshot, history, now))
    if snapshot.programme.followup is not None:
        result.merge(followup.evaluate(snapshot, history, now))
    if snapshot.programme.poll is not None:
        result.merge(poll.evaluate(snapshot, history, now))
    result.merge(insights.evaluate(snapshot, history, now))
    return result
