"""What managers asked for (SPEC §4.6): the manager poll's answers beside their teams'
scores on exactly those topics, and later what moved. Pure.

A manager's team: the learners whose own manager (the profile field) they are, else
the learners they approve. The programme report names nobody: counts, scores and the
free text; each manager's own answer and what moved for their team are in their team
report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from buyin.model.poll import PollAnswer, PollState, asked_line
from buyin.report.figures import LearnerFigures
from buyin.report.stats import mean


@dataclass(frozen=True)
class TopicMove:
    """One topic a manager named, and their team's scores on it."""

    topic: str
    pre: float | None
    pre_n: int
    post: float | None
    post_n: int

    def line(self) -> str:
        """``you asked about Closing; your team's Closing score went from 38 % to 81 %``."""
        return asked_line(self.topic, self.pre, self.post)


@dataclass(frozen=True)
class ManagerAsk:
    userid: int
    name: str
    topics: tuple[str, ...]
    impact: int | None
    #: as the manager typed it (unescaped): render it escaped
    comment: str
    team_size: int
    moves: tuple[TopicMove, ...]


@dataclass(frozen=True)
class TopicAsk:
    """One topic: how many managers named it, and their teams' scores on it."""

    topic: str
    managers: int
    pre: float | None
    pre_n: int
    post: float | None
    post_n: int

    @property
    def improvement(self) -> float | None:
        return None if self.pre is None or self.post is None else self.post - self.pre


@dataclass(frozen=True)
class PollSection:
    name: str
    url: str
    anonymous: bool
    responses: int
    #: managers who may answer and have not
    waiting: int
    topics: tuple[TopicAsk, ...]
    impact_mean: float | None
    impact_n: int
    #: the managers' free text, unnamed (the programme report names nobody)
    comments: tuple[str, ...]


def team_of(userid: int, figures: Iterable[LearnerFigures]) -> list[LearnerFigures]:
    """The manager's current learners: their direct reports, else those they approve."""
    current = [f for f in figures if f.enrolled]
    direct = [f for f in current if f.line_manager == userid]
    return direct or [f for f in current if f.approver == userid]


def _scores(team: Sequence[LearnerFigures], topic: str) -> tuple[list[float], list[float]]:
    pre = [f.precheck[topic] for f in team if topic in f.precheck]
    post = [f.post[topic] for f in team if topic in f.post]
    return pre, post


def topic_move(team: Sequence[LearnerFigures], topic: str) -> TopicMove:
    """The team's mean pre-check and post score on ``topic``."""
    pre, post = _scores(team, topic)
    return TopicMove(topic, mean(pre), len(pre), mean(post), len(post))


def manager_ask(answer: PollAnswer, figures: Iterable[LearnerFigures]) -> ManagerAsk:
    team = team_of(answer.userid, figures)
    return ManagerAsk(
        userid=answer.userid,
        name=answer.fullname or f"user {answer.userid}",
        topics=answer.topics,
        impact=answer.impact,
        comment=answer.comment,
        team_size=len(team),
        moves=tuple(topic_move(team, t) for t in answer.topics),
    )


def poll_section(
    poll: PollState, figures: Sequence[LearnerFigures], topics: Sequence[str]
) -> PollSection:
    """The programme report's "What managers asked for"."""
    asks = tuple(manager_ask(a, figures) for _, a in sorted(poll.answers.items()))
    rows = []
    for topic in [*topics, *(t for t in poll.topic_counts if t not in topics)]:
        askers = [a.userid for a in asks if topic in a.topics]
        team = [f for uid in askers for f in team_of(uid, figures)]
        pre, post = _scores(team, topic)
        rows.append(
            TopicAsk(
                topic=topic,
                managers=int(poll.topic_counts.get(topic, len(askers))),
                pre=mean(pre),
                pre_n=len(pre),
                post=mean(post),
                post_n=len(post),
            )
        )
    impacts = [float(a.impact) for a in asks if a.impact is not None]
    return PollSection(
        name=poll.name,
        url=poll.url,
        anonymous=poll.anonymous,
        responses=poll.responses,
        waiting=len(poll.non_respondents),
        topics=tuple(rows),
        impact_mean=mean(impacts),
        impact_n=len(impacts),
        comments=tuple(a.comment for a in asks if a.comment),
    )
