"""Injected faults: transient failures at a seeded rate, one-shot queued faults,
latency through an injected ``sleep``.

A fault strikes either *before* the call is processed (the write never
happened) or *after* it (the write happened, the answer was lost).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

#: transport-level kinds; any other kind is a Moodle error envelope's errorcode
TRANSIENT_KINDS: tuple[str, ...] = ("http500", "http503", "http429", "connection", "timeout")
#: Moodle answers the call's success but keeps nothing of it (a write acknowledged, then
#: lost: a rolled-back transaction after the answer, a replica, a plugin that swallows it)
DROPPED = "dropped"


@dataclass
class Fault:
    kind: str
    #: "before": the call is not processed; "after": processed, answer lost
    when: str = "before"


@dataclass
class Faults:
    fail_rate: float = 0.0
    #: share of random faults that strike after the call was processed
    after_share: float = 0.3
    seed: int = 0
    latency_ms: float = 0.0
    sleep: Callable[[float], None] | None = None
    #: every fault that struck, as (function, kind, when), for tests
    history: list[tuple[str, str, str]] = field(default_factory=list)
    _queued: dict[str, deque[Fault]] = field(default_factory=dict)
    _rng: random.Random | None = None

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def queue(self, function: str, kind: str, count: int = 1, *, when: str = "before") -> None:
        """Fail the next ``count`` calls of ``function`` ("*" = any) with ``kind``."""
        if when not in ("before", "after"):
            raise ValueError("when must be 'before' or 'after'")
        bucket = self._queued.setdefault(function, deque())
        for _ in range(count):
            bucket.append(Fault(kind, when))

    def clear(self) -> None:
        self._queued.clear()
        self.fail_rate = 0.0

    def pending(self) -> int:
        return sum(len(q) for q in self._queued.values())

    def draw(self, function: str) -> Fault | None:
        """The fault for this call, if any (queued faults first, then the random rate)."""
        for key in (function, "*"):
            bucket = self._queued.get(key)
            if bucket:
                fault = bucket.popleft()
                self.history.append((function, fault.kind, fault.when))
                return fault
        if self.fail_rate <= 0:
            return None
        if self._rng is None:
            self._rng = random.Random(self.seed)
        if self._rng.random() >= self.fail_rate:
            return None
        kind = self._rng.choice(TRANSIENT_KINDS)
        when = "after" if self._rng.random() < self.after_share else "before"
        self.history.append((function, kind, when))
        return Fault(kind, when)

    def delay(self) -> None:
        if self.latency_ms > 0 and self.sleep is not None:
            self.sleep(self.latency_ms / 1000.0)
