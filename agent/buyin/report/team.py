"""The team report (SPEC §4.5): per manager, each direct report's scores per topic
over time, pending sign-offs and who is stuck. Pure.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from buyin.model.clock import DAY, day_of
from buyin.model.history import HistoryPoint
from buyin.model.poll import PollState
from buyin.model.standing import STUCK_DAYS
from buyin.report.figures import LearnerFigures, Row, latest_sync, learner_figures
from buyin.report.poll import ManagerAsk, manager_ask
from buyin.report.programme import topic_names


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


#: the kinds of score the team report keeps apart
KINDS: tuple[str, ...] = ("precheck", "post", "retention")
KIND_LABELS = {"precheck": "Pre-check", "post": "Post", "retention": "Retention"}


@dataclass(frozen=True)
class TeamMoment:
    """The team's scores as of one sync: per kind, the mean per topic (retention: the
    refresher quiz overall) and how many learners have one."""

    at: int
    means: dict[str, dict[str, float]]
    counts: dict[str, int]

    def overall(self, kind: str) -> float | None:
        """The kind's mean over the learners' topic averages (None: nobody has one)."""
        values = self.means.get(kind, {})
        return round(statistics.fmean(values.values()), 4) if values else None


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
    #: the team's scores at each sync day where any changed, pre-check, post and
    #: retention apart (a post score never stands in for a pre-check)
    over_time: tuple[TeamMoment, ...]
    #: the course group "Team <manager>" the agent keeps, where the history shows it
    team_group: int | None = None
    #: where the manager signs off (set by the loader, which knows the site)
    signoff_url: str | None = None
    #: the manager's own answer to the poll, beside their team's scores on those topics
    ask: ManagerAsk | None = None


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
        mid = p.line_manager
        if mid is None:
            continue
        username = p.line_manager_username or ""
        if mid == wanted_id or (username and username.casefold() == ref.casefold()):
            return mid, p.line_manager_name or username or str(mid)
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
    manager_name: str = "",
    poll: PollState | None = None,
) -> TeamProgramme:
    figures = learner_figures(rows, stuck_days=stuck_days)
    as_of = latest_sync(rows)

    def reports_to(f: LearnerFigures) -> bool:
        return (f.line_manager if f.line_manager is not None else f.approver) == manager

    team = [f for f in figures.values() if f.enrolled and reports_to(f)]
    uids = {f.userid for f in team}
    history = score_history(rows, uids)
    pending = _pending(signoffs, manager, figures, as_of)
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
        over_time=tuple(_team_over_time(rows, uids)),
        team_group=team_group(team, manager_name) if manager_name else None,
        ask=manager_ask(poll.answers[manager], figures.values())
        if poll is not None and manager in poll.answers
        else None,
    )


def score_history(rows: Sequence[Row], uids: Iterable[int]) -> dict[int, list[ScorePoint]]:
    """Each learner's scores each time they changed, oldest first."""
    history: dict[int, list[ScorePoint]] = {uid: [] for uid in uids}
    for uid, at, p in sorted(rows, key=lambda r: r[1]):
        if uid not in history:
            continue
        point = ScorePoint(at, dict(p.precheck), dict(p.post), dict(p.retention))
        mine = history[uid]
        if not mine or (mine[-1].precheck, mine[-1].post, mine[-1].retention) != (
            point.precheck,
            point.post,
            point.retention,
        ):
            mine.append(point)
    return history


def _pending(
    signoffs: Iterable[Mapping[str, Any]],
    manager: int,
    figures: Mapping[int, LearnerFigures],
    as_of: int,
) -> list[PendingSignoff]:
    """The sign-off requests waiting for the manager (theirs, or escalated to them)."""
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
    return pending


def _scores(p: HistoryPoint, kind: str) -> dict[str, float]:
    return dict(p.precheck if kind == "precheck" else p.post if kind == "post" else p.retention)


def _team_over_time(rows: Sequence[Row], uids: set[int]) -> list[TeamMoment]:
    """Per sync day, each kind's mean per topic over the team, carrying each learner's
    latest scores forward; only days where something changed."""
    by_day: dict[str, list[Row]] = {}
    for row in sorted(rows, key=lambda r: r[1]):
        if row[0] in uids:
            by_day.setdefault(day_of(row[1]), []).append(row)
    current: dict[int, HistoryPoint] = {}
    out: list[TeamMoment] = []
    for _, day_rows in sorted(by_day.items()):
        for uid, _, p in day_rows:
            current[uid] = p
        means: dict[str, dict[str, float]] = {}
        counts: dict[str, int] = {}
        for kind in KINDS:
            per_topic: dict[str, list[float]] = {}
            for p in current.values():
                for topic, value in _scores(p, kind).items():
                    per_topic.setdefault(topic, []).append(value)
            means[kind] = {t: round(statistics.fmean(v), 4) for t, v in per_topic.items()}
            counts[kind] = sum(1 for p in current.values() if _scores(p, kind))
        if any(means.values()) and (not out or (out[-1].means, out[-1].counts) != (means, counts)):
            out.append(TeamMoment(day_rows[-1][1], means, counts))
    return out


def team_group(team: Iterable[LearnerFigures], manager_name: str) -> int | None:
    """The id of the course group "Team <manager>" among the team's groups."""
    wanted = f"Team {manager_name}".casefold()
    for f in team:
        for name, gid in zip(f.groups, f.group_ids, strict=False):
            if name.casefold() == wanted:
                return gid
    return None
