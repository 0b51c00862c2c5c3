"""Insights (SPEC §4.5, practices P4 and P6): figures per learner, team and programme.

Pure computations over the history points (:mod:`buyin.facts`) and the sign-off
records; rendering lives in :mod:`buyin.report_html` (HTML) and in the ``*_rows``/
``to_json`` helpers here (CSV, JSON). Reports are "as of" the programme's latest
sync (the time of its latest history point), so the same state gives the same
report whenever it is run.

Statistics (standard library only):

- medians with :func:`statistics.median`;
- a difference of two means (pilot − baseline): Welch's standard error
  ``sqrt(s1²/n1 + s2²/n2)``, Welch–Satterthwaite degrees of freedom and the
  Student t quantile (computed here from the regularised incomplete beta
  function, :func:`t_quantile`), 95% by default;
- a difference of two proportions: Newcombe's hybrid score interval (method 10,
  Newcombe 1998), built from the two Wilson score intervals.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

DAY = 86400
#: no progress for this many days: "stuck"
STUCK_DAYS = 14.0

Row = tuple[int, int, dict[str, Any]]  # (userid, at, point) as State.history returns them


class ReportUsageError(ValueError):
    """A report was asked for wrongly (a bad selection, an unknown manager): exit 2."""


# -- statistics ----------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """Student's t distribution function."""
    if math.isinf(df):
        return statistics.NormalDist().cdf(t)
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with ``df`` degrees of freedom (bisection on the cdf)."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1)")
    if math.isinf(df) or df > 1e7:
        return statistics.NormalDist().inv_cdf(p)
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return (lo + hi) / 2.0


@dataclass(frozen=True)
class Interval:
    """A difference (pilot − baseline) with its confidence interval."""

    difference: float
    low: float
    high: float
    method: str


def welch_interval(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> Interval | None:
    """Difference of means a − b: Welch's standard error, Welch–Satterthwaite df, t quantile."""
    n1, n2 = len(a), len(b)
    if n1 < 2 or n2 < 2:
        return None
    m1, m2 = statistics.fmean(a), statistics.fmean(b)
    v1, v2 = statistics.variance(a) / n1, statistics.variance(b) / n2
    diff = m1 - m2
    se = math.sqrt(v1 + v2)
    if se == 0:
        return Interval(diff, diff, diff, "Welch t (no variance)")
    df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    q = t_quantile(0.5 + level / 2.0, df)
    return Interval(diff, diff - q * se, diff + q * se, f"Welch t, df={df:.1f}")


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n."""
    if n == 0:
        return (0.0, 1.0)
    z = statistics.NormalDist().inv_cdf(0.5 + level / 2.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def newcombe_interval(k1: int, n1: int, k2: int, n2: int, level: float = 0.95) -> Interval | None:
    """Difference of proportions k1/n1 − k2/n2: Newcombe's hybrid score interval (method 10)."""
    if n1 == 0 or n2 == 0:
        return None
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, level)
    l2, u2 = wilson_interval(k2, n2, level)
    diff = p1 - p2
    low = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Interval(diff, low, high, "Newcombe hybrid score (Wilson)")


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


# -- per learner ---------------------------------------------------------------------


def _scores(value: Any) -> dict[str, float]:
    if isinstance(value, Mapping):
        return {str(k): float(v) for k, v in value.items() if isinstance(v, int | float)}
    if isinstance(value, int | float):
        return {"overall": float(value)}
    return {}


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
    def precheck_average(self) -> float | None:
        return _mean(list(self.precheck.values()))

    @property
    def post_average(self) -> float | None:
        return _mean(list(self.post.values()))

    @property
    def improvement_average(self) -> float | None:
        return _mean(list(self.improvement.values()))

    @property
    def standing_score(self) -> float | None:
        """What the percentile ranks: the post average where there is one, else the pre-check."""
        post = self.post_average
        return post if post is not None else self.precheck_average


def latest_points(rows: Iterable[Row]) -> dict[int, tuple[int, dict[str, Any]]]:
    latest: dict[int, tuple[int, dict[str, Any]]] = {}
    for uid, at, data in rows:
        if uid not in latest or at >= latest[uid][0]:
            latest[uid] = (at, data)
    return latest


def _progress_at(points: Sequence[tuple[int, dict[str, Any]]]) -> int:
    """When the learner last moved: Moodle's own times (activity completions, quiz
    attempts) or a change of activities_done seen between two points (at the later
    point); a learner who never moved counts from when they were first seen."""
    at_latest, latest = points[-1]
    moments = [int(latest[key]) for key in ("last_progress_at", "started_at") if latest.get(key)]
    previous: int | None = None
    for at, data in points:
        done = int(data.get("activities_done") or 0)
        if previous is not None and done != previous:
            moments.append(at)
        previous = done
    return max(moments) if moments else int(latest.get("first_seen") or at_latest)


def learner_figures(
    rows: Iterable[Row], *, as_of: int | None = None, stuck_days: float = STUCK_DAYS
) -> dict[int, LearnerFigures]:
    """Every learner's latest figures (and what their history says about progress)."""
    per: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for uid, at, data in rows:
        per.setdefault(uid, []).append((at, data))
    if not per:
        return {}
    for points in per.values():
        points.sort(key=lambda p: p[0])
    last_sync = max(points[-1][0] for points in per.values())
    now = last_sync if as_of is None else as_of
    out: dict[int, LearnerFigures] = {}
    for uid, points in sorted(per.items()):
        at, p = points[-1]
        enrolled = at == last_sync and bool(p.get("enrolled", True))
        pre, post = _scores(p.get("precheck")), _scores(p.get("post"))
        improvement = {t: round(post[t] - pre[t], 4) for t in post if t in pre}
        started = p.get("started_at")
        completed = p.get("completed_at")
        awaiting = p.get("awaiting_since")
        signed = p.get("signed_at")
        latency = p.get("signoff_latency_seconds")
        begin = started or p.get("first_seen")
        days_to_complete = None
        if completed and begin and completed >= begin:
            days_to_complete = (completed - begin) / DAY
        if not enrolled:
            status = "left"
        elif completed:
            status = "complete"
        elif awaiting and not signed:
            status = "awaiting sign-off"
        elif started or int(p.get("activities_done") or 0):
            status = "in progress"
        else:
            status = "not started"
        progress = _progress_at(points)
        idle = max(0.0, (now - progress) / DAY)
        out[uid] = LearnerFigures(
            userid=uid,
            username=str(p.get("username") or ""),
            fullname=str(p.get("fullname") or ""),
            enrolled=enrolled,
            status=status,
            groups=tuple(str(g) for g in p.get("groups") or ()),
            group_ids=tuple(int(g) for g in p.get("group_ids") or ()),
            first_seen=int(p.get("first_seen") or at),
            line_manager=p.get("line_manager"),
            line_manager_name=str(p.get("line_manager_name") or ""),
            approver=p.get("manager"),
            approver_name=str(p.get("manager_name") or ""),
            activities_done=int(p.get("activities_done") or 0),
            activities_total=int(p.get("activities_total") or 0),
            started_at=started,
            completed_at=completed,
            awaiting_since=awaiting,
            signed_at=signed,
            days_to_complete=days_to_complete,
            signoff_latency_days=None if latency is None else latency / DAY,
            precheck=pre,
            post=post,
            improvement=improvement,
            retention=_scores(p.get("retention")),
            tested_out=len(p.get("tested_out") or ()),
            minutes_saved=float(p.get("minutes_saved") or 0.0),
            percentile=None,
            last_progress_at=progress,
            days_without_progress=round(idle, 2),
            stuck=status in ("in progress", "not started") and idle >= stuck_days,
        )
    return _with_percentiles(out)


def ahead_of(score: float, others: Iterable[float]) -> float | None:
    """The share of ``others`` strictly below ``score`` (None without others)."""
    pool = list(others)
    if not pool:
        return None
    return sum(1 for s in pool if s < score) / len(pool)


def _with_percentiles(figures: dict[int, LearnerFigures]) -> dict[int, LearnerFigures]:
    from dataclasses import replace

    scored = {
        uid: s for uid, f in figures.items() if f.enrolled and (s := f.standing_score) is not None
    }
    out = {}
    for uid, f in figures.items():
        if uid in scored:
            others = [s for other, s in scored.items() if other != uid]
            f = replace(f, percentile=ahead_of(scored[uid], others))
        out[uid] = f
    return out


# -- cohorts -------------------------------------------------------------------------


def _day_start(text: str) -> int:
    return int(datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC).timestamp())


@dataclass(frozen=True)
class Selector:
    """A cohort of learners: all the given conditions hold (course group, first-seen window,
    Moodle cohort)."""

    label: str
    group: str | int | None = None
    enrolled_from: int | None = None
    #: exclusive end (the day after the window's last day, 00:00 UTC)
    enrolled_until: int | None = None
    cohort: int | None = None
    members: frozenset[int] | None = None

    def matches(self, f: LearnerFigures) -> bool:
        if self.group is not None:
            if isinstance(self.group, int):
                if self.group not in f.group_ids:
                    return False
            elif self.group.casefold() not in {g.casefold() for g in f.groups}:
                return False
        if self.enrolled_from is not None and f.first_seen < self.enrolled_from:
            return False
        if self.enrolled_until is not None and f.first_seen >= self.enrolled_until:
            return False
        if self.cohort is not None:
            if self.members is None:
                raise ValueError(f"cohort {self.cohort}: members not resolved")
            if f.userid not in self.members:
                return False
        return True


def parse_selector(text: str) -> Selector:
    """``group:NAME``, ``enrolled:YYYY-MM-DD..YYYY-MM-DD`` (either end may be empty) or
    ``cohort:ID``. Raises ValueError with what is wrong."""
    kind, sep, value = text.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if not sep or not value:
        raise ValueError(
            f"{text!r}: expected group:NAME, enrolled:YYYY-MM-DD..YYYY-MM-DD or cohort:ID"
        )
    if kind == "group":
        return Selector(label=text, group=value)
    if kind == "cohort":
        if not value.isdigit():
            raise ValueError(f"{text!r}: a cohort is selected by its numeric id")
        return Selector(label=text, cohort=int(value))
    if kind == "enrolled":
        start, dots, end = value.partition("..")
        if not dots:
            raise ValueError(f"{text!r}: expected enrolled:YYYY-MM-DD..YYYY-MM-DD")
        try:
            lo = _day_start(start) if start.strip() else None
            hi = _day_start(end) + DAY if end.strip() else None
        except ValueError:
            raise ValueError(f"{text!r}: dates must be YYYY-MM-DD") from None
        return Selector(label=text, enrolled_from=lo, enrolled_until=hi)
    raise ValueError(f"{text!r}: unknown selection {kind!r} (group, enrolled or cohort)")


def selector_from_mapping(raw: Mapping[str, Any], label: str) -> Selector:
    """The mapping's ``[insights.pilot.pilot]``/``[insights.pilot.baseline]`` tables."""
    cohort = raw.get("cohort")
    if cohort is not None and not isinstance(cohort, int):
        raise ValueError(f"{label}: a cohort is selected by its numeric id, not {cohort!r}")
    start, end = raw.get("enrolled_from"), raw.get("enrolled_until")
    return Selector(
        label=label,
        group=raw.get("group"),
        enrolled_from=_day_start(start) if start else None,
        enrolled_until=_day_start(end) + DAY if end else None,
        cohort=cohort,
    )


@dataclass(frozen=True)
class Difference:
    metric: str
    label: str
    kind: str  # proportion | mean
    unit: str  # "%" (a fraction shown as a percentage) | "days" | "minutes" | ""
    pilot: float | None
    baseline: float | None
    n_pilot: int
    n_baseline: int
    difference: float | None
    low: float | None
    high: float | None
    method: str


@dataclass(frozen=True)
class CohortComparison:
    pilot: str
    baseline: str
    n_pilot: int
    n_baseline: int
    level: float
    differences: tuple[Difference, ...]

    def get(self, metric: str) -> Difference:
        return next(d for d in self.differences if d.metric == metric)


def _proportion(
    metric: str, label: str, pilot: Sequence[bool], baseline: Sequence[bool], level: float
) -> Difference:
    k1, n1, k2, n2 = sum(pilot), len(pilot), sum(baseline), len(baseline)
    ci = newcombe_interval(k1, n1, k2, n2, level)
    return Difference(
        metric=metric,
        label=label,
        kind="proportion",
        unit="%",
        pilot=k1 / n1 if n1 else None,
        baseline=k2 / n2 if n2 else None,
        n_pilot=n1,
        n_baseline=n2,
        difference=ci.difference if ci else None,
        low=ci.low if ci else None,
        high=ci.high if ci else None,
        method=ci.method if ci else "not enough learners",
    )


def _means(
    metric: str,
    label: str,
    unit: str,
    pilot: Sequence[float],
    baseline: Sequence[float],
    level: float,
) -> Difference:
    ci = welch_interval(pilot, baseline, level)
    return Difference(
        metric=metric,
        label=label,
        kind="mean",
        unit=unit,
        pilot=_mean(pilot),
        baseline=_mean(baseline),
        n_pilot=len(pilot),
        n_baseline=len(baseline),
        difference=ci.difference if ci else None,
        low=ci.low if ci else None,
        high=ci.high if ci else None,
        method=ci.method if ci else "not enough learners (2 per cohort needed)",
    )


def compare_cohorts(
    figures: Iterable[LearnerFigures], pilot: Selector, baseline: Selector, level: float = 0.95
) -> CohortComparison:
    """Pilot against baseline; each difference is pilot − baseline."""
    # every learner the history knows, also those who left since (a baseline is often past)
    everyone = list(figures)
    a = [f for f in everyone if pilot.matches(f)]
    b = [f for f in everyone if baseline.matches(f)]

    def vals(group: list[LearnerFigures], attr: str) -> list[float]:
        out = []
        for f in group:
            v = getattr(f, attr)
            if v is not None:
                out.append(float(v))
        return out

    diffs = (
        _proportion(
            "started_rate",
            "Started",
            [f.started_at is not None for f in a],
            [f.started_at is not None for f in b],
            level,
        ),
        _proportion(
            "completion_rate",
            "Completed",
            [f.completed_at is not None for f in a],
            [f.completed_at is not None for f in b],
            level,
        ),
        _means(
            "precheck_average",
            "Pre-check score",
            "%",
            vals(a, "precheck_average"),
            vals(b, "precheck_average"),
            level,
        ),
        _means(
            "post_average",
            "Post score",
            "%",
            vals(a, "post_average"),
            vals(b, "post_average"),
            level,
        ),
        _means(
            "improvement",
            "Improvement (post − pre)",
            "%",
            vals(a, "improvement_average"),
            vals(b, "improvement_average"),
            level,
        ),
        _means(
            "days_to_complete",
            "Days to complete",
            "days",
            vals(a, "days_to_complete"),
            vals(b, "days_to_complete"),
            level,
        ),
        _means(
            "signoff_latency_days",
            "Sign-off latency",
            "days",
            vals(a, "signoff_latency_days"),
            vals(b, "signoff_latency_days"),
            level,
        ),
        _means(
            "minutes_saved",
            "Minutes saved by testing out",
            "minutes",
            vals(a, "minutes_saved"),
            vals(b, "minutes_saved"),
            level,
        ),
    )
    return CohortComparison(
        pilot=pilot.label,
        baseline=baseline.label,
        n_pilot=len(a),
        n_baseline=len(b),
        level=level,
        differences=diffs,
    )


# -- per programme -------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    enrolled: int
    started: int
    #: every criterion met but, where the programme has one, the manager's sign-off
    finished_activities: int
    awaiting_signoff: int
    #: final completion (signed off, where sign-off is required)
    completed: int
    signed_off: int

    def stages(self) -> list[tuple[str, int]]:
        return [
            ("Enrolled", self.enrolled),
            ("Started", self.started),
            ("Finished the activities", self.finished_activities),
            ("Completed", self.completed),
        ]


@dataclass(frozen=True)
class TopicFigures:
    topic: str
    pre_mean: float | None
    pre_n: int
    post_mean: float | None
    post_n: int
    improvement_mean: float | None
    improvement_n: int
    retention_mean: float | None
    retention_n: int


@dataclass(frozen=True)
class Champion:
    name: str
    value: float
    detail: str


@dataclass(frozen=True)
class Champions:
    #: learners with the largest improvement (post − pre, mean over topics)
    improvements: tuple[Champion, ...]
    #: approvers with the shortest median sign-off latency
    fastest_signoffs: tuple[Champion, ...]


@dataclass(frozen=True)
class ProgrammeReport:
    program: str
    name: str
    as_of: int
    funnel: Funnel
    median_days_to_complete: float | None
    n_days_to_complete: int
    median_signoff_latency_days: float | None
    signoff_latencies_days: tuple[float, ...]
    #: days each learner still awaiting sign-off has waited so far
    awaiting_days: tuple[float, ...]
    overdue_signoffs: int
    escalate_after_days: float | None
    hours_saved: float
    activities_tested_out: int
    topics: tuple[TopicFigures, ...]
    retention_overall: float | None
    retention_n: int
    stuck: int
    stuck_days: float
    comparison: CohortComparison | None
    champions: Champions | None
    learners: tuple[LearnerFigures, ...] = field(repr=False)


def topic_names(figures: Iterable[LearnerFigures], configured: Sequence[str] = ()) -> list[str]:
    names = list(configured)
    for f in figures:
        for t in (*f.precheck, *f.post, *(k for k in f.retention if k != "overall")):
            if t not in names:
                names.append(t)
    return names


def topic_figures(figures: Sequence[LearnerFigures], topics: Sequence[str]) -> list[TopicFigures]:
    out = []
    for topic in topics:
        pre = [f.precheck[topic] for f in figures if topic in f.precheck]
        post = [f.post[topic] for f in figures if topic in f.post]
        imp = [f.improvement[topic] for f in figures if topic in f.improvement]
        ret = [f.retention[topic] for f in figures if topic in f.retention]
        out.append(
            TopicFigures(
                topic=topic,
                pre_mean=_mean(pre),
                pre_n=len(pre),
                post_mean=_mean(post),
                post_n=len(post),
                improvement_mean=_mean(imp),
                improvement_n=len(imp),
                retention_mean=_mean(ret),
                retention_n=len(ret),
            )
        )
    return out


def champions(figures: Sequence[LearnerFigures], top: int = 3) -> Champions:
    improved = sorted(
        (f for f in figures if (imp := f.improvement_average) is not None and imp > 0),
        key=lambda f: (-(f.improvement_average or 0.0), f.name),
    )[:top]
    by_approver: dict[int, list[float]] = {}
    names: dict[int, str] = {}
    for f in figures:
        if f.approver is not None and f.signoff_latency_days is not None:
            by_approver.setdefault(f.approver, []).append(f.signoff_latency_days)
            names[f.approver] = f.approver_name or names.get(f.approver, "") or f"user {f.approver}"
    fastest = sorted(by_approver.items(), key=lambda kv: (statistics.median(kv[1]), names[kv[0]]))
    return Champions(
        improvements=tuple(
            Champion(
                f.name,
                round(f.improvement_average or 0.0, 4),
                f"+{round((f.improvement_average or 0.0) * 100)} points on average",
            )
            for f in improved
        ),
        fastest_signoffs=tuple(
            Champion(
                names[uid],
                round(statistics.median(days), 2),
                f"median {statistics.median(days):.1f} days over {len(days)} sign-off(s)",
            )
            for uid, days in fastest[:top]
        ),
    )


def programme_report(
    program: str,
    rows: Sequence[Row],
    *,
    name: str = "",
    topics: Sequence[str] = (),
    escalate_after_days: float | None = None,
    champions_opt_in: bool = False,
    pilot: Selector | None = None,
    baseline: Selector | None = None,
    stuck_days: float = STUCK_DAYS,
    level: float = 0.95,
) -> ProgrammeReport:
    figures = learner_figures(rows, stuck_days=stuck_days)
    as_of = max((at for _, at, _ in rows), default=0)
    current = [f for f in figures.values() if f.enrolled]
    finished = [f for f in current if f.completed_at or f.awaiting_since]
    awaiting = [f for f in current if f.status == "awaiting sign-off"]
    awaiting_days = tuple(
        round((as_of - f.awaiting_since) / DAY, 2) for f in awaiting if f.awaiting_since
    )
    overdue = (
        sum(1 for d in awaiting_days if d > escalate_after_days)
        if escalate_after_days is not None
        else 0
    )
    done = [f.days_to_complete for f in current if f.days_to_complete is not None]
    latencies = tuple(
        round(f.signoff_latency_days, 4) for f in current if f.signoff_latency_days is not None
    )
    retention = [f.retention["overall"] for f in current if "overall" in f.retention]
    comparison = None
    if pilot is not None and baseline is not None:
        comparison = compare_cohorts(figures.values(), pilot, baseline, level)
    return ProgrammeReport(
        program=program,
        name=name or program,
        as_of=as_of,
        funnel=Funnel(
            enrolled=len(current),
            started=sum(1 for f in current if f.started_at is not None or f.activities_done),
            finished_activities=len(finished),
            awaiting_signoff=len(awaiting),
            completed=sum(1 for f in current if f.completed_at),
            signed_off=sum(1 for f in current if f.signed_at),
        ),
        median_days_to_complete=_median(done),
        n_days_to_complete=len(done),
        median_signoff_latency_days=_median(latencies),
        signoff_latencies_days=latencies,
        awaiting_days=awaiting_days,
        overdue_signoffs=overdue,
        escalate_after_days=escalate_after_days,
        hours_saved=round(sum(f.minutes_saved for f in current) / 60.0, 4),
        activities_tested_out=sum(f.tested_out for f in current),
        topics=tuple(topic_figures(current, topic_names(current, topics))),
        retention_overall=_mean(retention),
        retention_n=len(retention),
        stuck=sum(1 for f in current if f.stuck),
        stuck_days=stuck_days,
        comparison=comparison,
        champions=champions(current) if champions_opt_in else None,
        learners=tuple(sorted(figures.values(), key=lambda f: f.userid)),
    )


# -- per manager ---------------------------------------------------------------------


@dataclass(frozen=True)
class ScorePoint:
    at: int
    precheck: dict[str, float]
    post: dict[str, float]
    retention: dict[str, float]


@dataclass(frozen=True)
class TeamMember:
    figures: LearnerFigures
    #: the learner's scores each time they changed (history)
    scores: tuple[ScorePoint, ...]


@dataclass(frozen=True)
class PendingSignoff:
    userid: int
    name: str
    status: str
    awaiting_since: int | None
    days_waiting: float | None
    #: escalated to this manager (the learner's own manager has not signed)
    escalated: bool


@dataclass(frozen=True)
class TeamProgramme:
    program: str
    name: str
    as_of: int
    topics: tuple[str, ...]
    members: tuple[TeamMember, ...]
    pending: tuple[PendingSignoff, ...]
    stuck: tuple[str, ...]
    stuck_days: float
    #: the team's mean score per topic at each sync day where any score changed
    average_over_time: tuple[tuple[int, dict[str, float]], ...]


@dataclass(frozen=True)
class TeamReport:
    manager: int
    manager_name: str
    programmes: tuple[TeamProgramme, ...]


def resolve_manager(ref: str, rows: Iterable[Row]) -> tuple[int, str] | None:
    """A manager by user id or username, as the history points name them."""
    ref = ref.strip()
    wanted_id = int(ref) if ref.isdigit() else None
    for _, _, p in rows:
        mid = p.get("line_manager")
        if mid is None:
            continue
        username = str(p.get("line_manager_username") or "")
        if mid == wanted_id or (username and username.casefold() == ref.casefold()):
            return int(mid), str(p.get("line_manager_name") or username or mid)
    return (wanted_id, ref) if wanted_id is not None else None


def team_programme(
    program: str,
    rows: Sequence[Row],
    manager: int,
    signoffs: Sequence[Mapping[str, Any]] = (),
    *,
    name: str = "",
    topics: Sequence[str] = (),
    stuck_days: float = STUCK_DAYS,
) -> TeamProgramme:
    figures = learner_figures(rows, stuck_days=stuck_days)
    as_of = max((at for _, at, _ in rows), default=0)

    def reports_to(f: LearnerFigures) -> bool:
        return (f.line_manager if f.line_manager is not None else f.approver) == manager

    team = [f for f in figures.values() if f.enrolled and reports_to(f)]
    uids = {f.userid for f in team}
    history: dict[int, list[ScorePoint]] = {uid: [] for uid in uids}
    for uid, at, p in sorted(rows, key=lambda r: r[1]):
        if uid not in uids:
            continue
        point = ScorePoint(
            at, _scores(p.get("precheck")), _scores(p.get("post")), _scores(p.get("retention"))
        )
        mine = history[uid]
        if not mine or (mine[-1].precheck, mine[-1].post, mine[-1].retention) != (
            point.precheck,
            point.post,
            point.retention,
        ):
            mine.append(point)
    pending = []
    for row in signoffs:
        if row.get("status") in ("signed", "cancelled", None):
            continue
        escalated = row.get("escalated_to") == manager
        if row.get("approver") != manager and not escalated:
            continue
        uid = int(row["userid"])
        since = row.get("awaiting_since")
        f = figures.get(uid)
        pending.append(
            PendingSignoff(
                userid=uid,
                name=f.name if f else f"user {uid}",
                status=str(row.get("status")),
                awaiting_since=since,
                days_waiting=round((as_of - since) / DAY, 2) if since else None,
                escalated=escalated and row.get("approver") != manager,
            )
        )
    names = topic_names(team, topics)
    return TeamProgramme(
        program=program,
        name=name or program,
        as_of=as_of,
        topics=tuple(names),
        members=tuple(
            TeamMember(f, tuple(history[f.userid])) for f in sorted(team, key=lambda f: f.name)
        ),
        pending=tuple(sorted(pending, key=lambda p: (-(p.days_waiting or 0), p.name))),
        stuck=tuple(f.name for f in sorted(team, key=lambda f: f.name) if f.stuck),
        stuck_days=stuck_days,
        average_over_time=tuple(_team_average(rows, uids, names)),
    )


def _team_average(
    rows: Sequence[Row], uids: set[int], topics: Sequence[str]
) -> list[tuple[int, dict[str, float]]]:
    """The team's mean score per topic (post where there is one, else pre-check) per sync
    day, carrying each learner's latest score forward; only days where it changed."""
    by_day: dict[str, list[Row]] = {}
    for row in sorted(rows, key=lambda r: r[1]):
        if row[0] in uids:
            day = datetime.fromtimestamp(row[1], UTC).strftime("%Y-%m-%d")
            by_day.setdefault(day, []).append(row)
    current: dict[int, dict[str, float]] = {}
    out: list[tuple[int, dict[str, float]]] = []
    for _, day_rows in sorted(by_day.items()):
        for uid, _, p in day_rows:
            current[uid] = {**_scores(p.get("precheck")), **_scores(p.get("post"))}
        means = {}
        for t in topics:
            vals = [s[t] for s in current.values() if t in s]
            if vals:
                means[t] = round(statistics.fmean(vals), 4)
        if means and (not out or out[-1][1] != means):
            out.append((day_rows[-1][1], means))
    return out


# -- CSV and JSON --------------------------------------------------------------------


def iso(ts: int | None) -> str:
    return "" if not ts else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def learner_rows(figures: Sequence[LearnerFigures], topics: Sequence[str]) -> list[dict[str, Any]]:
    """One row per learner with their latest figures (CSV ``--table learners``)."""
    rows = []
    for f in figures:
        row: dict[str, Any] = {
            "userid": f.userid,
            "username": f.username,
            "fullname": f.fullname,
            "status": f.status,
            "groups": ";".join(f.groups),
            "line_manager": f.line_manager_name,
            "first_seen": iso(f.first_seen),
            "started_at": iso(f.started_at),
            "completed_at": iso(f.completed_at),
            "awaiting_since": iso(f.awaiting_since),
            "signed_at": iso(f.signed_at),
            "days_to_complete": _r(f.days_to_complete, 2),
            "signoff_latency_days": _r(f.signoff_latency_days, 2),
            "activities_done": f.activities_done,
            "activities_total": f.activities_total,
            "activities_tested_out": f.tested_out,
            "minutes_saved": f.minutes_saved,
            "precheck_average": _r(f.precheck_average),
            "post_average": _r(f.post_average),
            "improvement_average": _r(f.improvement_average),
            "percentile": _r(f.percentile),
            "days_without_progress": f.days_without_progress,
            "stuck": f.stuck,
        }
        for t in topics:
            row[f"precheck:{t}"] = f.precheck.get(t)
            row[f"post:{t}"] = f.post.get(t)
            row[f"improvement:{t}"] = f.improvement.get(t)
            row[f"retention:{t}"] = f.retention.get(t)
        row["retention:overall"] = f.retention.get("overall")
        rows.append(row)
    return rows


def summary_rows(report: ProgrammeReport) -> list[dict[str, Any]]:
    """The programme summary in long form (CSV ``--table summary``): figure, topic or
    cohort, value, n; a comparison adds low/high/method."""
    out: list[dict[str, Any]] = []

    def add(figure: str, value: Any, n: Any = "", topic: str = "", **extra: Any) -> None:
        out.append({"figure": figure, "topic": topic, "value": value, "n": n, **extra})

    fn = report.funnel
    for key in (
        "enrolled",
        "started",
        "finished_activities",
        "awaiting_signoff",
        "completed",
        "signed_off",
    ):
        add(key, getattr(fn, key))
    add("median_days_to_complete", _r(report.median_days_to_complete), report.n_days_to_complete)
    add(
        "median_signoff_latency_days",
        _r(report.median_signoff_latency_days),
        len(report.signoff_latencies_days),
    )
    add("overdue_signoffs", report.overdue_signoffs)
    add("hours_saved", report.hours_saved)
    add("activities_tested_out", report.activities_tested_out)
    add("stuck", report.stuck)
    add("retention_overall", _r(report.retention_overall), report.retention_n)
    for t in report.topics:
        add("precheck_mean", _r(t.pre_mean), t.pre_n, t.topic)
        add("post_mean", _r(t.post_mean), t.post_n, t.topic)
        add("improvement_mean", _r(t.improvement_mean), t.improvement_n, t.topic)
        add("retention_mean", _r(t.retention_mean), t.retention_n, t.topic)
    if report.comparison is not None:
        for d in report.comparison.differences:
            add(f"pilot:{d.metric}", _r(d.pilot), d.n_pilot)
            add(f"baseline:{d.metric}", _r(d.baseline), d.n_baseline)
            add(
                f"difference:{d.metric}",
                _r(d.difference),
                f"{d.n_pilot}/{d.n_baseline}",
                low=_r(d.low),
                high=_r(d.high),
                method=d.method,
            )
    if report.champions is not None:
        for c in report.champions.improvements:
            add("champion:improvement", c.value, topic=c.name)
        for c in report.champions.fastest_signoffs:
            add("champion:fastest_signoff_days", c.value, topic=c.name)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def programme_json(report: ProgrammeReport) -> dict[str, Any]:
    """Every programme figure as one object (learners are in ``--table learners``)."""
    from dataclasses import asdict

    data = asdict(report)
    data.pop("learners")
    data["as_of_iso"] = iso(report.as_of)
    data["funnel"]["stages"] = [{"stage": s, "learners": n} for s, n in report.funnel.stages()]
    data["statistics"] = {
        "median": "statistics.median",
        "difference_of_means": "Welch standard error, Welch–Satterthwaite df, Student t quantile",
        "difference_of_proportions": "Newcombe hybrid score interval from Wilson intervals",
        "difference": "pilot − baseline",
    }
    result: dict[str, Any] = _plain(data)
    return result


def learners_json(report: ProgrammeReport) -> dict[str, Any]:
    topics = [t.topic for t in report.topics]
    return {
        "program": report.program,
        "as_of": report.as_of,
        "learners": _plain(learner_rows(report.learners, topics)),
    }


def team_json(report: TeamReport) -> dict[str, Any]:
    from dataclasses import asdict

    result: dict[str, Any] = _plain(asdict(report))
    return result


def team_rows(report: TeamReport) -> list[dict[str, Any]]:
    """One row per direct report per programme (CSV)."""
    rows = []
    pending = {(p.program, s.userid): s for p in report.programmes for s in p.pending}
    for prog in report.programmes:
        for m in prog.members:
            f = m.figures
            s = pending.get((prog.program, f.userid))
            row: dict[str, Any] = {
                "program": prog.program,
                "userid": f.userid,
                "username": f.username,
                "fullname": f.fullname,
                "status": f.status,
                "activities_done": f.activities_done,
                "activities_total": f.activities_total,
                "pending_signoff": s is not None,
                "days_waiting": s.days_waiting if s else None,
                "days_without_progress": f.days_without_progress,
                "stuck": f.stuck,
            }
            for t in prog.topics:
                row[f"precheck:{t}"] = f.precheck.get(t)
                row[f"post:{t}"] = f.post.get(t)
            rows.append(row)
    return rows


# -- loading (the one place that reads the state, the mappings and, for cohorts, Moodle)


def _programme_settings(programme: Any) -> tuple[list[str], float | None]:
    topics = [t.name for t in programme.precheck.topics] if programme.precheck else []
    escalate = programme.signoff.escalate_after_days if programme.signoff else None
    return topics, escalate


def build_programme_report(
    settings: Any,
    program: str,
    *,
    pilot: str | None = None,
    baseline: str | None = None,
    stuck_days: float = STUCK_DAYS,
    cohort_members: Any = None,
) -> ProgrammeReport:
    """The `buyin report program` figures: history from the state, settings from the
    mapping, pilot/baseline from the flags (else the mapping's ``insights.pilot``).

    ``cohort_members(ids) -> {id: frozenset(userids)}`` resolves ``cohort:ID``
    (by default through ``core_cohort_get_cohort_members``)."""
    from buyin.errors import ConfigurationError
    from buyin.mapping import load_programmes
    from buyin.state import State

    programme = load_programmes(settings.mapping_dir, program)[0]
    if not settings.state_path.exists():
        raise ConfigurationError(
            f"no state database at {settings.state_path}", hint="Run `buyin sync` first."
        )
    state = State(settings.state_path)
    try:
        rows = state.history(program)
    finally:
        state.close()
    if not rows:
        raise ConfigurationError(
            f"no history for programme {program!r} yet", hint="Run `buyin sync` first."
        )
    selectors = _selectors(programme, pilot, baseline)
    if selectors is not None:
        selectors = _resolve_cohorts(settings, selectors, cohort_members)
    topics, escalate = _programme_settings(programme)
    return programme_report(
        program,
        rows,
        name=programme.name,
        topics=topics,
        escalate_after_days=escalate,
        champions_opt_in=bool(programme.insights.get("champions", False)),
        pilot=selectors[0] if selectors else None,
        baseline=selectors[1] if selectors else None,
        stuck_days=stuck_days,
    )


def _selectors(
    programme: Any, pilot: str | None, baseline: str | None
) -> tuple[Selector, Selector] | None:
    from buyin.errors import ConfigurationError

    if (pilot is None) != (baseline is None):
        raise ReportUsageError("--pilot and --baseline go together")
    if pilot is not None and baseline is not None:
        try:
            return parse_selector(pilot), parse_selector(baseline)
        except ValueError as exc:
            raise ReportUsageError(str(exc)) from None
    configured = programme.insights.get("pilot") or {}
    if "pilot" in configured and "baseline" in configured:
        try:
            return (
                selector_from_mapping(configured["pilot"], "pilot (mapping)"),
                selector_from_mapping(configured["baseline"], "baseline (mapping)"),
            )
        except ValueError as exc:
            raise ConfigurationError(f"{programme.source}: insights.pilot: {exc}") from None
    return None


def _resolve_cohorts(
    settings: Any, selectors: tuple[Selector, Selector], cohort_members: Any
) -> tuple[Selector, Selector]:
    from dataclasses import replace

    ids = sorted({s.cohort for s in selectors if s.cohort is not None})
    if not ids:
        return selectors
    if cohort_members is None:

        def cohort_members(wanted: list[int]) -> dict[int, frozenset[int]]:
            from buyin.sync import make_client

            answer = make_client(settings).call("core_cohort_get_cohort_members", cohortids=wanted)
            return {int(c["cohortid"]): frozenset(int(u) for u in c["userids"]) for c in answer}

    members = cohort_members(ids)
    a, b = (
        replace(s, members=members.get(s.cohort, frozenset())) if s.cohort is not None else s
        for s in selectors
    )
    return a, b


def build_team_report(
    settings: Any, manager: str, *, program: str | None = None, stuck_days: float = STUCK_DAYS
) -> TeamReport:
    """The `buyin report team` figures for every programme (or one) the manager has
    direct reports in."""
    from buyin.errors import ConfigurationError
    from buyin.mapping import load_programmes
    from buyin.state import State

    programmes = load_programmes(settings.mapping_dir, program)
    if not settings.state_path.exists():
        raise ConfigurationError(
            f"no state database at {settings.state_path}", hint="Run `buyin sync` first."
        )
    state = State(settings.state_path)
    try:
        data = {p.id: (p, state.history(p.id), state.signoffs(p.id)) for p in programmes}
    finally:
        state.close()
    found = resolve_manager(manager, (r for _, rows, _ in data.values() for r in rows))
    if found is None:
        raise ReportUsageError(f"no learner has {manager!r} as their manager (user id or username)")
    mid, mname = found
    parts = []
    for pid, (programme, rows, signoffs) in data.items():
        if not rows:
            continue
        topics, _ = _programme_settings(programme)
        team = team_programme(
            pid,
            rows,
            mid,
            signoffs,
            name=programme.name,
            topics=topics,
            stuck_days=stuck_days,
        )
        if team.members or team.pending:
            parts.append(team)
    return TeamReport(manager=mid, manager_name=mname, programmes=tuple(parts))
