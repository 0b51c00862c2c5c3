"""The buy-in rules: pure functions of (snapshot, history, now) → desired actions.

No I/O and no clock reads here: ``now`` is passed in. Each rule returns a
:class:`RuleResult`; :func:`evaluate` runs every rule a programme maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from buyin.model.actions import Action, MessageParams
from buyin.model.clock import parse_day_or_none
from buyin.model.ledger import Ledger, LedgerEntry, Status
from buyin.model.snapshot import Snapshot

#: what ``buyin backfill`` sends without a kind flag: the follow-up of completions
BACKFILL_DEFAULT = frozenset({"followup", "insights"})
#: every kind ``buyin backfill`` can send
BACKFILL_KINDS = ("precheck", "followup", "insights", "kickoff")


@dataclass(frozen=True)
class History:
    """What earlier runs did, as the rules may read it."""

    #: a plain mapping is taken too (and made a :class:`Ledger`)
    ledger: Ledger = field(default_factory=Ledger)
    #: when this programme was first synced (its learners then were already there)
    mapped_at: int | None = None
    #: backfill: reprocess events inside this window (of the kinds in ``kinds``)
    window: tuple[int, int] | None = None
    #: backfill --kickoff: also welcome learners who started inside the window
    retro_kickoff: bool = False
    #: what a backfill sends about the window: "precheck", "followup", "insights",
    #: "kickoff" (``retro_kickoff`` adds "kickoff")
    kinds: frozenset[str] = BACKFILL_DEFAULT

    def __post_init__(self) -> None:
        given: Mapping[str, LedgerEntry] = self.ledger
        object.__setattr__(self, "ledger", Ledger.of(given))
        if self.retro_kickoff:
            object.__setattr__(self, "kinds", self.kinds | {"kickoff"})

    def start_line(self, snapshot: Snapshot) -> int | None:
        """Where news starts: the mapping's ``mapped_since``, else the programme's first
        sync. Events before it are history: nobody hears of them unless a backfill says so."""
        return parse_day_or_none(snapshot.programme.mapped_since) or self.mapped_at

    def in_scope(self, kind: str, at: int, snapshot: Snapshot) -> bool:
        """Whether an event of ``kind`` (a pre-check, a completion) at ``at`` is news:
        inside a backfill's window for the kinds it sends, else from the start line on."""
        if self.window is not None and kind in self.kinds:
            since, until = self.window
            return since <= at <= until
        start = self.start_line(snapshot)
        return start is None or at >= start

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
    #: news left to ``buyin backfill``: per kind, learner -> when it happened (before
    #: the start line)
    held: dict[str, dict[int, int]] = field(default_factory=dict)

    def hold(self, kind: str, uid: int, at: int) -> None:
        self.held.setdefault(kind, {})[uid] = at

    def merge(self, other: RuleResult) -> None:
        self.actions.extend(other.actions)
        for uid, why in other.undecided.items():
            self.undecided[uid] = f"{self.undecided[uid]}; {why}" if uid in self.undecided else why
        for uid, facts in other.facts.items():
            self.facts.setdefault(uid, {}).update(facts)
        self.schedule.update(other.schedule)
        for kind, who in other.held.items():
            self.held.setdefault(kind, {}).update(who)


def evaluate(snapshot: Snapshot, history: History, now: int) -> RuleResult:
    from buyin.rules import followup, inbox, insights, kickoff, poll, precheck, signoff

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
    sender = snapshot.programme.sender
    if sender:  # named in every message: Moodle sends them from the token's user
        who = snapshot.find("username", sender)
        sender = who.fullname if who is not None else sender
    programme = snapshot.programme
    pacing = inbox.Pacing(
        working_days=programme.working_days,
        holidays=programme.holidays,
        manager_weekly_limit=programme.manager_weekly_limit,
    )
    result.actions = inbox.gather(result.actions, history, now, sender=sender, pacing=pacing)
    if snapshot.programme.sender:  # local_buyin sends its notifications from them
        result.actions = [_from(a, snapshot.programme.sender) for a in result.actions]
    return result


def _from(action: Action, username: str) -> Action:
    """A message with its sender's username (local_buyin sends it as them)."""
    params = action.params
    if not isinstance(params, MessageParams) or not params.data.get("sender"):
        return action
    data = {**params.data, "sender_username": username}
    return replace(action, params=replace(params, data=data))
