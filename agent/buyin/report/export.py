"""The reports as CSV rows and JSON objects (SPEC §4.5). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from buyin.model.clock import iso
from buyin.report.figures import LearnerFigures
from buyin.report.programme import ProgrammeReport
from buyin.report.team import TeamReport


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
    add("signoffs_before_last_activity", report.signoffs_before_last_activity)
    add("overdue_signoffs", report.overdue_signoffs)
    add("hours_saved", report.hours_saved)
    add("minutes_per_activity", report.minutes_per_activity)
    add("activities_tested_out", report.activities_tested_out)
    add("stuck", report.stuck)
    add("retention_overall", _r(report.retention_overall), report.retention_n)
    for t in report.topics:
        add("precheck_mean", _r(t.pre_mean), t.pre_n, t.topic)
        add("post_mean", _r(t.post_mean), t.post_n, t.topic)
        add("improvement_mean", _r(t.improvement_mean), t.improvement_n, t.topic)
        add("retention_mean", _r(t.retention_mean), t.retention_n, t.topic)
    for w in report.weeks:
        week = iso(w.start)[:10]
        add("week_started", w.started, topic=week)
        add("week_finished", w.finished, topic=week)
        add("week_signed_off", w.signed_off, topic=week)
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
