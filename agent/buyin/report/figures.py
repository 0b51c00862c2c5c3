"""Per-learner figures from the history points (SPEC §4.5), pure.

A report is "as of" the programme's latest sync (the time of its latest history
point), so the same state gives the same report whenever it is run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from buyin.model.clock import DAY
from buyin.model.history import HistoryPoint
from buyin.model.standing import STUCK_DAYS, Ranking
from buyin.report.stats import mean

#: (userid, at, point): one learner's point at one sync
Row = tuple[int, int, HistoryPoint]


@dataclass(frozen=True)
class LearnerFigures:
    userid: int
    username: str
    fullname: str
    #: enrolled at the programme's latest sync
    enrolled: bool
    status: str  # not started | in progress | awaiting sign-off | complete | left
    groups: tuple[str, ...]
    group_ids: tuple[int, ...]
    first_seen: int
    #: the enrolment's start in Moodle where the history has it (else None)
    enrolled_at: int | None
    line_manager: int | None
    line_manager_name: str
    approver: int | None
    approver_name: str
    activities_done: int
    activities_total: int
    started_at: int | None
    completed_at: int | None
    awaiting_since: int | None
    signed_at: int | None
    days_to_complete: float | None
    signoff_latency_days: float | None
    precheck: dict[str, float]
    post: dict[str, float]
    improvement: dict[str, float]
    retention: dict[str, float]
    tested_out: int
    minutes_saved: float
    #: share of the other learners (with a score) whose average is below this learner's
    percentile: float | None
    last_progress_at: int
    days_without_progress: float
    stuck: bool

    @property
    def name(self) -> str:
        return self.fullname or self.username or f"user {self.userid}"

    @property
    def cohort_date(self) -> int:
        """What an ``enrolled:`` window reads: Moodle's enrolment start, else first seen."""
        return self.enrolled_at if self.enrolled_at is not None else self.first_seen

    @property
    def precheck_average(self) -> float | None:
        return mean(list(self.precheck.values()))

    @property
    def post_average(self) -> float | None:
        return mean(list(self.post.values()))

    @property
    def improvement_average(self) -> float | None:
        return mean(list(self.improvement.values()))

    @property
    def standing_score(self) -> float | None:
        """What the percentile ranks: the post average where there is one, else the pre-check."""
        post = self.post_average
        return post if post is not None else self.precheck_average


def latest_sync(rows: Iterable[Row]) -> int:
    """The time of the latest sync in ``rows`` (0 without any)."""
    return max((at for _, at, _ in rows), default=0)


def _progress_at(points: Sequence[tuple[int, HistoryPoint]]) -> int:
    """When the learner last moved: Moodle's own times (activity completions, quiz
    attempts) or a change of activities_done seen between two points (at the later
    point); a learner who never moved counts from when they were first seen."""
    at_latest, latest = points[-1]
    moments = [t for t in (latest.last_progress_at, latest.started_at) if t]
    previous: int | None = None
    for at, point in points:
        if previous is not None and point.activities_done != previous:
            moments.append(at)
        previous = point.activities_done
    return max(moments) if moments else latest.first_seen or at_latest


def _status(p: HistoryPoint, enrolled: bool) -> str:
    if not enrolled:
        return "left"
    if p.completed_at:
        return "complete"
    if p.rejected_at and not p.signed_at:
        return "sign-off rejected"
    if p.awaiting_since and not p.signed_at:
        return "awaiting sign-off"
    if p.started_at or p.activities_done:
        return "in progress"
    return "not started"


def _figures(
    uid: int,
    points: Sequence[tuple[int, HistoryPoint]],
    last_sync: int,
    now: int,
    stuck_days: float,
) -> LearnerFigures:
    at, p = points[-1]
    enrolled = at == last_sync and p.enrolled
    pre, post = dict(p.precheck), dict(p.post)
    improvement = {t: round(post[t] - pre[t], 4) for t in post if t in pre}
    begin = p.started_at or p.first_seen
    days_to_complete = None
    if p.completed_at and begin and p.completed_at >= begin:
        days_to_complete = (p.completed_at - begin) / DAY
    status = _status(p, enrolled)
    progress = _progress_at(points)
    idle = max(0.0, (now - progress) / DAY)
    latency = p.signoff_latency_seconds
    return LearnerFigures(
        userid=uid,
        username=p.username,
        fullname=p.fullname,
        enrolled=enrolled,
        status=status,
        groups=p.groups,
        group_ids=p.group_ids,
        first_seen=p.first_seen or at,
        enrolled_at=p.enrolled_at,
        line_manager=p.line_manager,
        line_manager_name=p.line_manager_name or "",
        approver=p.manager,
        approver_name=p.manager_name or "",
        activities_done=p.activities_done,
        activities_total=p.activities_total,
        started_at=p.started_at,
        completed_at=p.completed_at,
        awaiting_since=p.awaiting_since,
        signed_at=p.signed_at,
        days_to_complete=days_to_complete,
        signoff_latency_days=None if latency is None else latency / DAY,
        precheck=pre,
        post=post,
        improvement=improvement,
        retention=dict(p.retention),
        tested_out=len(p.tested_out),
        minutes_saved=p.minutes_saved,
        percentile=None,
        last_progress_at=progress,
        days_without_progress=round(idle, 2),
        stuck=status in ("in progress", "not started") and idle >= stuck_days,
    )


def learner_figures(
    rows: Iterable[Row], *, as_of: int | None = None, stuck_days: float = STUCK_DAYS
) -> dict[int, LearnerFigures]:
    """Every learner's latest figures (and what their history says about progress)."""
    per: dict[int, list[tuple[int, HistoryPoint]]] = {}
    for uid, at, point in rows:
        per.setdefault(uid, []).append((at, point))
    if not per:
        return {}
    for points in per.values():
        points.sort(key=lambda p: p[0])
    last_sync = max(points[-1][0] for points in per.values())
    now = last_sync if as_of is None else as_of
    out = {
        uid: _figures(uid, points, last_sync, now, stuck_days)
        for uid, points in sorted(per.items())
    }
    return _with_percentiles(out)


def _with_percentiles(figures: dict[int, LearnerFigures]) -> dict[int, LearnerFigures]:
    scored = {
        uid: s for uid, f in figures.items() if f.enrolled and (s := f.standing_score) is not None
    }
    ranking = Ranking(scored)
    out = {}
    for uid, f in figures.items():
        if uid in scored:
            f = replace(f, percentile=ranking.ahead_of(uid))
        out[uid] = f
    return out
