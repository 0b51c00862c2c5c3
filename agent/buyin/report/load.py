"""Loading the reports: the one place that opens the state and reads the mappings.
It never calls Moodle: ``cohort:ID`` selections are resolved by the callables the
caller gives (the command line asks Moodle, :mod:`buyin.cli.report`). Everything
else in :mod:`buyin.report` is pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from buyin.config import Settings
from buyin.errors import ConfigurationError
from buyin.mapping import load_programmes
from buyin.model.history import HistoryPoint
from buyin.model.ledger import ProgrammeState
from buyin.model.poll import PollState
from buyin.model.programme import Programme
from buyin.model.standing import STUCK_DAYS
from buyin.report.cohorts import Selector, parse_selector, selector_from_mapping
from buyin.report.figures import Row
from buyin.report.programme import ProgrammeReport, programme_report
from buyin.report.team import TeamProgramme, TeamReport, resolve_manager, team_programme
from buyin.state import State

#: ``cohort_members(ids) -> {id: frozenset(userids)}``
CohortMembers = Callable[[list[int]], Mapping[int, frozenset[int]]]
#: ``cohort_names(ids) -> {id: name}`` (best effort: a missing name shows the id)
CohortNames = Callable[[list[int]], Mapping[int, str]]


class ReportUsageError(ValueError):
    """A report was asked for wrongly (a bad selection, an unknown manager): exit 2."""


def _read(
    settings: Settings, programmes: Iterable[Programme]
) -> dict[str, tuple[list[Row], list[dict[str, Any]], ProgrammeState, PollState | None]]:
    """Per programme id: its history (typed points), its sign-off records, what the
    state keeps of it (the course, whether the plugin's channel is used) and the
    manager poll as the latest sync read it."""
    if not settings.state_path.exists():
        raise ConfigurationError(
            f"no state database at {settings.state_path}", hint="Run `buyin sync` first."
        )
    state = State(settings.state_path)
    try:
        return {
            p.id: (
                [(uid, at, HistoryPoint.from_json(data)) for uid, at, data in state.history(p.id)],
                state.signoffs(p.id),
                state.programme(p.id),
                state.poll(p.id) if p.poll is not None else None,
            )
            for p in programmes
        }
    finally:
        state.close()


def _topics(programme: Programme) -> list[str]:
    return [t.name for t in programme.precheck.topics] if programme.precheck else []


def build_programme_report(
    settings: Settings,
    program: str,
    *,
    pilot: str | None = None,
    baseline: str | None = None,
    stuck_days: float = STUCK_DAYS,
    cohort_members: CohortMembers | None = None,
    cohort_names: CohortNames | None = None,
) -> ProgrammeReport:
    """The `buyin report program` figures: history from the state, settings from the
    mapping, pilot/baseline from the flags (else the mapping's ``insights.pilot``).

    ``cohort_members`` resolves ``cohort:ID`` (the command line's asks Moodle's
    ``core_cohort_get_cohort_members``), ``cohort_names`` names them (best effort)."""
    programme = load_programmes(settings.mapping_dir, program)[0]
    rows, _, _, poll = _read(settings, [programme])[programme.id]
    if not rows:
        raise ConfigurationError(
            f"no history for programme {program!r} yet", hint="Run `buyin sync` first."
        )
    selectors = _selectors(programme, pilot, baseline)
    if selectors is not None:
        selectors = _resolve_cohorts(selectors, cohort_members, cohort_names)
    return programme_report(
        program,
        rows,
        name=programme.name,
        topics=_topics(programme),
        escalate_after_days=programme.signoff.escalate_after_days if programme.signoff else None,
        champions_opt_in=bool(programme.insights.get("champions", False)),
        pilot=selectors[0] if selectors else None,
        baseline=selectors[1] if selectors else None,
        stuck_days=stuck_days,
        minutes_per_activity=programme.precheck.minutes_per_activity
        if programme.precheck
        else None,
        poll=poll,
    )


def _selectors(
    programme: Programme, pilot: str | None, baseline: str | None
) -> tuple[Selector, Selector] | None:
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
                selector_from_mapping(configured["pilot"], "[insights.pilot.pilot]"),
                selector_from_mapping(configured["baseline"], "[insights.pilot.baseline]"),
            )
        except ValueError as exc:
            raise ConfigurationError(f"{programme.source}: insights.pilot: {exc}") from None
    return None


def _no_names(ids: list[int]) -> dict[int, str]:
    return {}


def _resolve_cohorts(
    selectors: tuple[Selector, Selector],
    cohort_members: CohortMembers | None,
    cohort_names: CohortNames | None = None,
) -> tuple[Selector, Selector]:
    ids = sorted({s.cohort for s in selectors if s.cohort is not None})
    if not ids:
        return selectors
    if cohort_members is None:
        raise ReportUsageError("cohort:ID needs the site to ask for the cohort's members")
    members = cohort_members(ids)
    names = (cohort_names or _no_names)(ids)
    a, b = (
        replace(s, members=members.get(s.cohort, frozenset()), cohort_name=names.get(s.cohort))
        if s.cohort is not None
        else s
        for s in selectors
    )
    return a, b


def build_team_report(
    settings: Settings, manager: str, *, program: str | None = None, stuck_days: float = STUCK_DAYS
) -> TeamReport:
    """The `buyin report team` figures for every programme (or one) the manager has
    direct reports in."""
    programmes = load_programmes(settings.mapping_dir, program)
    data = _read(settings, programmes)
    found = resolve_manager(manager, (r for rows, *_ in data.values() for r in rows))
    if found is None:
        raise ReportUsageError(f"no learner has {manager!r} as their manager (user id or username)")
    mid, mname = found
    parts = []
    for programme in programmes:
        rows, signoffs, kept, poll = data[programme.id]
        if not rows:
            continue
        team = team_programme(
            programme.id,
            rows,
            mid,
            signoffs,
            name=programme.name,
            topics=_topics(programme),
            stuck_days=stuck_days,
            manager_name=mname,
            poll=poll,
        )
        team = replace(team, signoff_url=signoff_url(settings.url, kept, team))
        if team.members or team.pending:
            parts.append(team)
    return TeamReport(manager=mid, manager_name=mname, programmes=tuple(parts))


def signoff_url(site: str, kept: ProgrammeState, team: TeamProgramme) -> str | None:
    """Where the manager signs off: the plugin's page where its channel is used, else the
    course completion report filtered to the manager's team group (where there is one)."""
    base = site.rstrip("/")
    if kept.plugin is not None:
        return f"{base}/local/buyin/index.php"
    course = ((kept.structure or {}).get("course") or {}).get("id")
    if course is None:
        return None
    url = f"{base}/report/completion/index.php?course={int(course)}"
    return url + (f"&group={team.team_group}" if team.team_group is not None else "")
