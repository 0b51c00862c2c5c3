"""Pushing a plan to Moodle, recording every outcome in the ledger.

Each action is recorded ``planned`` before its call and ``applied``/``failed``
after; every message is recorded (its text frozen, see :mod:`buyin.plan`) before
anything of the push is applied, so a run killed part-way leaves the next run the
very text composed before its own overrides and enrolments changed the learner. How each kind is applied and batched is in :mod:`buyin.actions`. Idempotent
writes (completion overrides, enrolments) are retried by the client; a message is
not idempotent, so after an ambiguous failure (or a ``planned`` row left by a
killed run) the recipient's messages are read back before anything is sent again.
A temporary failure that outlasts the client's one retry policy stops the push
(``stopped_by``): the run saves what it did and exits 75, the next run resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from buyin.actions import SPECS, Outcome
from buyin.actions.apply import ApplyContext
from buyin.errors import (
    BuyinError,
    ContractError,
    FunctionNotInServiceError,
    InvalidParameterError,
    InvalidTokenError,
    MissingPermissionError,
    RoleNotAssignableError,
    StateError,
    TransientError,
    UnknownFunctionError,
)
from buyin.model.actions import Action, Kind, params_to_json
from buyin.model.ledger import Status
from buyin.moodle.client import MoodleClient
from buyin.moodle.pool import run_concurrently
from buyin.plan import Plan
from buyin.state import State

log = logging.getLogger("buyin.push")


@dataclass
class PushResult:
    applied: list[Action] = field(default_factory=list)
    failed: list[tuple[Action, str]] = field(default_factory=list)
    skipped: list[tuple[Action, str]] = field(default_factory=list)
    #: users whose Moodle state this push changed (their cache must be refetched)
    touched: set[int] = field(default_factory=set)
    #: an error no action can get past (bad token, function missing, broken contract)
    #: stopped the push part-way
    stopped_by: BuyinError | None = None
    #: waiting for an action they require (e.g. a message for an enrolment that failed)
    deferred: list[Action] = field(default_factory=list)


class Pusher:
    def __init__(
        self,
        client: MoodleClient,
        state: State,
        run_id: int,
        now: int,
        *,
        agent_userid: int,
        concurrency: int = 4,
        previously_planned: Iterable[str] = (),
        plugin: bool = False,
    ) -> None:
        #: local_buyin's bulk functions are in the service (ActionSpec.applier)
        self.plugin = plugin
        self.state = state
        self.run_id = run_id
        self.now = now
        self.concurrency = concurrency
        doubtful = set(previously_planned)
        self.context = ApplyContext(
            client=client,
            agent_userid=agent_userid,
            previously_planned=doubtful,
            planned_texts={
                key: str(entry.payload["text"])
                for key in doubtful
                if (entry := state.entry(key)) is not None
                and entry.kind == Kind.MESSAGE
                and entry.payload.get("text")  # an empty text would match any empty message
            },
        )
        self.result = PushResult()

    # -- bookkeeping -------------------------------------------------------------

    def _planned(self, action: Action) -> None:
        self.state.record_planned(
            key=action.key,
            run_id=self.run_id,
            program=action.program,
            kind=action.kind,
            userid=action.userid,
            target=action.target,
            payload=params_to_json(action.params),
            reason=dict(action.reason),
            now=self.now,
        )

    def _applied(self, action: Action, *, attempted: bool = True) -> None:
        self.state.mark(action.key, Status.APPLIED, self.now, attempted=attempted)
        self.result.applied.append(action)
        if SPECS[action.kind].changes_learner:
            self.result.touched.add(action.userid)

    def _refused(self, action: Action, exc: BuyinError) -> None:
        """Moodle refused this action alone: its own error, and what to do about it."""
        self._failed(action, f"{exc} Fix: {exc.hint}" if exc.hint else str(exc))

    def _failed(self, action: Action, error: str) -> None:
        self.state.mark(action.key, Status.FAILED, self.now, error=error)
        self.result.failed.append((action, error))
        log.warning("%s failed: %s", action.key, error)

    def _record(self, outcome: Outcome) -> None:
        if outcome.error is None:
            self._applied(outcome.action, attempted=outcome.attempted)
        else:
            self._failed(outcome.action, outcome.error)

    # -- the push ----------------------------------------------------------------

    def push(self, plan: Plan) -> PushResult:
        # what needs no call, in one transaction (one commit, not two per action)
        with self.state.transaction():
            for action, why in plan.satisfied:
                self._planned(action)
                self.state.mark(action.key, Status.SKIPPED, self.now, error=why, attempted=False)
                self.result.skipped.append((action, why))
            for action in plan.verified:
                self._applied(action, attempted=False)
            for action, why in plan.stale:
                self.state.mark(action.key, Status.SKIPPED, self.now, error=why, attempted=False)
                self.result.skipped.append((action, why))
        by_kind: dict[Kind, list[Action]] = {}
        for action in plan.actions:
            by_kind.setdefault(action.kind, []).append(action)
        with self.state.transaction():
            for action in by_kind.get(Kind.MESSAGE, []):
                self._planned(action)  # composed once: frozen before any write of this run
        try:
            for kind, spec in SPECS.items():  # the registry's order
                actions = by_kind.get(kind, [])
                if any(a.requires for a in actions):
                    actions = self._ready(actions)
                apply, size = spec.applier(self.plugin)
                if size == 1:
                    self._each(actions, apply)
                else:
                    self._batched(actions, size, apply)
        except StateError:
            raise  # an unusable state: nothing more may be pushed, nor saved
        except BuyinError as exc:
            # the client's retries spent on a temporary failure (exit 75: the next run
            # resumes, a message in doubt read back first), or an error no action can get past
            self.result.stopped_by = exc
        return self.result

    def _ready(self, actions: list[Action]) -> list[Action]:
        """Actions whose prerequisites are done; the others wait (unrecorded) for a later run.

        Done is decided by :meth:`_done`. A refused prerequisite holds back only what
        requires it."""
        ready = []
        for action in actions:
            if all(self._done(key) for key in action.requires):
                ready.append(action)
                continue
            self.result.deferred.append(action)
            if action.key not in self.context.previously_planned:
                # recorded (frozen) at the start of this push: it waits unrecorded, as
                # if never planned; one an earlier run left in the ledger keeps its text
                self.state.forget_planned(action.key)
        return ready

    def _done(self, key: str) -> bool:
        """Applied by us; or found true in Moodle where that makes what waits for it
        true: an activity complete (the message says it is), or a write of ours whose
        answer was lost (we tried it before, and Moodle holds it). An enrolment found
        on first sight was not ours to announce."""
        entry = self.state.entry(key)
        if entry is None:
            return False
        if entry.status == Status.APPLIED:
            return True
        return entry.status == Status.SKIPPED and (
            entry.kind == Kind.OVERRIDE or not entry.held_before_us
        )

    def _each(
        self,
        actions: Sequence[Action],
        apply: Callable[[ApplyContext, list[Action]], list[Outcome]],
    ) -> None:
        """One call per action, concurrently across learners; one learner's calls one
        after the other (two writes for one learner at once collide inside Moodle:
        dmlwriteexception, NOTES.md)."""
        by_learner: dict[int, list[Action]] = {}
        with self.state.transaction():  # every row before any call, one commit
            for action in actions:
                self._planned(action)
                by_learner.setdefault(action.userid, []).append(action)
        jobs: dict[int, Callable[[], Any]] = {
            userid: partial(self._guard, mine, apply) for userid, mine in by_learner.items()
        }
        run_concurrently(jobs, self.concurrency)

    def _guard(
        self,
        actions: list[Action],
        apply: Callable[[ApplyContext, list[Action]], list[Outcome]],
    ) -> None:
        for action in actions:
            try:
                for outcome in apply(self.context, [action]):
                    self._record(outcome)
            except BuyinError as exc:
                if _stops_push(exc):
                    # its own outcome first: a halted run's counts agree with its calls
                    self._failed(action, str(exc))
                    raise
                self._refused(action, exc)

    def _batched(
        self,
        actions: Sequence[Action],
        size: int,
        apply: Callable[[ApplyContext, list[Action]], list[Outcome]],
    ) -> None:
        """Batches of one function; a batch Moodle refuses is split in halves until
        each refused action stands alone, and the rest is applied in this run."""
        for start in range(0, len(actions), size):
            batch = list(actions[start : start + size])
            with self.state.transaction():  # the batch's rows before its call, one commit
                for action in batch:
                    if action.kind != Kind.MESSAGE:  # messages were recorded in push()
                        self._planned(action)
            self._apply_or_split(batch, apply)

    def _apply_or_split(
        self,
        batch: list[Action],
        apply: Callable[[ApplyContext, list[Action]], list[Outcome]],
    ) -> None:
        try:
            outcomes = apply(self.context, batch)
        except BuyinError as exc:
            if _stops_push(exc):
                for action in batch:
                    self._failed(action, str(exc))
                raise
            if len(batch) == 1 or not _item_refusal(exc):
                for action in batch:
                    self._refused(action, exc)
                return
            middle = len(batch) // 2
            self._apply_or_split(batch[:middle], apply)
            self._apply_or_split(batch[middle:], apply)
        else:
            with self.state.transaction():  # the batch's outcomes after its call, one commit
                for outcome in outcomes:
                    self._record(outcome)


def _stops_push(exc: BuyinError) -> bool:
    """No action can get past it: the site unreachable once the client's retries are
    spent, the token, the service, the site's functions or the contract (and the
    state unusable)."""
    if isinstance(exc, InvalidParameterError):
        return False
    return isinstance(
        exc,
        TransientError
        | StateError
        | InvalidTokenError
        | FunctionNotInServiceError
        | UnknownFunctionError
        | ContractError,
    )


def _item_refusal(exc: BuyinError) -> bool:
    """Moodle may have refused one item of the batch (then splitting it finds it); a
    missing capability refuses every item alike."""
    return not isinstance(exc, MissingPermissionError) or isinstance(exc, RoleNotAssignableError)
