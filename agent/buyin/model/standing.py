"""Where a learner stands: shared by the insight rules and the reports (pure)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping

#: no progress for this many days: "stuck"
STUCK_DAYS = 14.0


def ahead_of(score: float, others: Iterable[float]) -> float | None:
    """The share of ``others`` strictly below ``score`` (None without others)."""
    pool = list(others)
    if not pool:
        return None
    return sum(1 for s in pool if s < score) / len(pool)


class Ranking:
    """Everyone's scores sorted once: each learner's share of the others strictly below
    them by a binary search (the same answer as :func:`ahead_of` over the others)."""

    def __init__(self, scores: Mapping[int, float]) -> None:
        self._scores = dict(scores)
        self._sorted = sorted(self._scores.values())

    def ahead_of(self, uid: int) -> float | None:
        """The share of the other learners whose score is strictly below ``uid``'s
        (None without others). ``uid`` must be ranked."""
        others = len(self._sorted) - 1
        if others <= 0:
            return None
        # the learner's own score is never strictly below itself: no need to remove it
        return bisect_left(self._sorted, self._scores[uid]) / others
