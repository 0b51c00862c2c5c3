"""Where a learner stands: shared by the insight rules and the reports (pure)."""

from __future__ import annotations

from collections.abc import Iterable

#: no progress for this many days: "stuck"
STUCK_DAYS = 14.0


def ahead_of(score: float, others: Iterable[float]) -> float | None:
    """The share of ``others`` strictly below ``score`` (None without others)."""
    pool = list(others)
    if not pool:
        return None
    return sum(1 for s in pool if s < score) / len(pool)
