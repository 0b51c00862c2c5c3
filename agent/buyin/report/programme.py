"""The programme report (SPEC §4.5): the funnel, completion and sign-off times,
hours saved, figures per topic, retention, pilot against baseline and, where the
mapping opts in, champions. Pure.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from buyin.model.clock import DAY
from buyin.model.names import plural
from buyin.model.poll import PollState
from buyin.model.standing import STUCK_DAYS
from buyin.report.cohorts import CohortComparison, Selector, compare_cohorts
from buyin.report.figures import LearnerFigures, Row, latest_sync, learner_figures
from buyin.report.poll import PollSection, poll_section
from buyin.report.stats import mean, median


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
    #: the manager rejected the request (local_buyin) and it stands
    rejected: int = 0

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
class Week:
    """One calendar week (Monday, UTC): learners who started, finished every activity and
    were signed off (final completion) in it."""

    start: int
    started: int
    finished: int
    signed_off: int


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
    #: every sign-off's latency; a sign-off before the last activity counts as 0 days
    signoff_latencies_days: tuple[float, ...]
    #: how many of those were signed off before the learner's last activity
    signoffs_before_last_activity: int
    #: days each learner still awaiting sign-off has waited so far
    awaiting_days: tuple[float, ...]
    overdue_signoffs: int
    escalate_after_days: float | None
    hours_saved: float
    #: the mapping's assumption behind hours saved (precheck.minutes_per_activity)
    minutes_per_activity: float | None
    activities_tested_out: int
    topics: tuple[TopicFigures, ...]
    retention_overall: float | None
    retention_n: int
    stuck: int
    stuck_days: float
    weeks: tuple[Week, ...]
    comparison: CohortComparison | None
    champions: Champions | None
    learners: tuple[LearnerFigures, ...] = field(repr=False)
    #: "What managers asked for", where the programme maps a poll and a sync read it
    poll: PollSection | None = None


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
                pre_mean=mean(pre),
                pre_n=len(pre),
                post_mean=mean(post),
                post_n=len(post),
                improvement_mean=mean(imp),
                improvement_n=len(imp),
                retention_mean=mean(ret),
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
                f"median {statistics.median(days):.1f} days over {plural(len(days), 'sign-off')}",
            )
            for uid, days in fastest[:top]
        ),
    )


def week_start(at: int) -> int:
    """The Monday 00:00 UTC of the week holding ``at``."""
    day = at - at % DAY
    return day - ((day // DAY + 3) % 7) * DAY  # 1970-01-01 was a Thursday


def weekly(figures: Sequence[LearnerFigures], as_of: int) -> list[Week]:
    """Started, finished every activity and signed off, per week, from the first week
    anything happened to the week of ``as_of`` (weeks with nothing show as zeros)."""
    events: dict[str, list[int]] = {"started": [], "finished": [], "signed_off": []}
    for f in figures:
        if f.started_at:
            events["started"].append(f.started_at)
        finished = f.awaiting_since or f.completed_at
        if finished:
            events["finished"].append(finished)
        if f.signed_at:
            events["signed_off"].append(f.signed_at)
    moments = [t for times in events.values() for t in times]
    if not moments or not as_of:
        return []
    first, last = week_start(min(moments)), week_start(max(as_of, max(moments)))
    counts = {kind: {w: 0 for w in range(first, last + 1, 7 * DAY)} for kind in events}
    for kind, times in events.items():
        for t in times:
            counts[kind][week_start(t)] += 1
    return [
        Week(w, counts["started"][w], counts["finished"][w], counts["signed_off"][w])
        for w in range(first, last + 1, 7 * DAY)
    ]


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
    minutes_per_activity: float | None = None,
    poll: PollState | None = None,
) -> ProgrammeReport:
    figures = learner_figures(rows, stuck_days=stuck_days)
    as_of = latest_sync(rows)
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
    raw_latencies = [f.signoff_latency_days for f in current if f.signoff_latency_days is not None]
    latencies = tuple(round(max(0.0, d), 4) for d in raw_latencies)
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
            rejected=sum(1 for f in current if f.status == "sign-off rejected"),
        ),
        median_days_to_complete=median(done),
        n_days_to_complete=len(done),
        median_signoff_latency_days=median(latencies),
        signoff_latencies_days=latencies,
        signoffs_before_last_activity=sum(1 for d in raw_latencies if d < 0),
        awaiting_days=awaiting_days,
        overdue_signoffs=overdue,
        escalate_after_days=escalate_after_days,
        hours_saved=round(sum(f.minutes_saved for f in current) / 60.0, 4),
        minutes_per_activity=minutes_per_activity,
        activities_tested_out=sum(f.tested_out for f in current),
        topics=tuple(topic_figures(current, topic_names(current, topics))),
        retention_overall=mean(retention),
        retention_n=len(retention),
        stuck=sum(1 for f in current if f.stuck),
        stuck_days=stuck_days,
        weeks=tuple(weekly(current, as_of)),
        comparison=comparison,
        champions=champions(current) if champions_opt_in else None,
        learners=tuple(sorted(figures.values(), key=lambda f: f.userid)),
        poll=None if poll is None else poll_section(poll, current, topic_names(current, topics)),
    )
