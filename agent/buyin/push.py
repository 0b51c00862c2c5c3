"""Pushing a plan to Moodle, recording every outcome in the ledger.

Each action is recorded ``planned`` before its call and ``applied``/``failed``
after. How each kind is applied and batched is in :mod:`buyin.actions`. Idempotent
writes (completion overrides, enrolments) are retried by the client; a message is
not idempotent, so after an ambiguous failure (or a ``planned`` row left by a
killed run) the recipient's messages are read back before anything is sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from buyin.actions import SPECS, Outcome
from buyin.actions.apply import ApplyContext
from buyin.errors import BuyinError, ConfigurationError, StateError, TransientError
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
    #: a configuration or contract error stopped the push part-way
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
        self.context = ApplyContext(
            client=client, agent_userid=agent_userid, previously_planned=set(previously_planned)
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
        except BuyinError as exc:
            # unreachable: the next run resumes; an unusable state: nothing more may be pushed
            if isinstance(exc, TransientError | StateError):
                raise
            self.result.stopped_by = exc
        return self.result

    def _ready(self, actions: list[Action]) -> list[Action]:
        """Actions whose prerequisites are done; the others wait (unrecorded) for a later run.

        Done = applied; an override skipped because the activity was already complete
        counts too (what the message says is true). An enrolment skipped because the
        learner was already enrolled does not: we did not enrol them."""
        ready = []
        for action in actions:
            if all(self._done(key) for key in action.requires):
                ready.append(action)
            else:
                self.result.deferred.append(action)
        return ready

    def _done(self, key: str) -> bool:
        entry = self.state.entry(key)
        if entry is None:
            return False
        return entry.status == Status.APPLIED or (
            entry.status == Status.SKIPPED and entry.kind == Kind.OVERRIDE
        )

    def _each(
        self,
        actions: Sequence[Action],
        apply: Callable[[ApplyContext, list[Action]], list[Outcome]],
    ) -> None:
        for action in actions:
            self._planned(action)
        jobs: dict[int, Callable[[], Any]] = {
            i: partial(self._guard, a, apply) for i, a in enumerate(actions)
        }
        run_concurrently(jobs, self.concurrency)

    def _guard(
        self, action: Action, apply: Callable[[ApplyContext, list[Action]], list[Outcome]]
    ) -> None:
        try:
            for outcome in apply(self.context, [action]):
                self._record(outcome)
        except ConfigurationError:
            raise
        except BuyinError as exc:
            self._failed(action, str(exc))

    def _batched(
        self,
        actions: Sequence[Action],
        size: int,
        apply: Callable[[ApplyContext, list[Action]], list[Outcome]],
    ) -> None:
        for start in range(0, len(actions), size):
            batch = list(actions[start : start + size])
            for action in batch:
                self._planned(action)
            try:
                outcomes = apply(self.context, batch)
            except ConfigurationError as exc:
                for action in batch:
                    self._failed(action, str(exc))
                raise
            except BuyinError as exc:
                for action in batch:
                    self._failed(action, str(exc))
            else:
                for outcome in outcomes:
                    self._record(outcome)
