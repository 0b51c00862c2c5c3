"""The manager poll as read from Moodle (SPEC §4.6): who may answer, who answered
what (mapped to the programme's topics), who has not. Standard library only.

Stored by the sync after each run (:meth:`PollState.to_json`) so the reports can
show what managers asked for without asking Moodle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PollAnswer:
    """One manager's answer: the topics their options map to, the impact they expect
    (the rating, 1-5), and their free text as they typed it (unescaped)."""

    userid: int
    fullname: str
    timemodified: int
    topics: tuple[str, ...] = ()
    impact: int | None = None
    comment: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "userid": self.userid,
            "fullname": self.fullname,
            "timemodified": self.timemodified,
            "topics": list(self.topics),
            "impact": self.impact,
            "comment": self.comment,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PollAnswer:
        impact = data.get("impact")
        return cls(
            userid=int(data["userid"]),
            fullname=str(data.get("fullname") or ""),
            timemodified=int(data.get("timemodified") or 0),
            topics=tuple(str(t) for t in data.get("topics") or ()),
            impact=None if impact is None else int(impact),
            comment=str(data.get("comment") or ""),
        )


@dataclass(frozen=True)
class PollState:
    """The poll at one sync."""

    feedbackid: int
    cmid: int
    courseid: int
    name: str
    #: the page a manager answers on
    url: str
    #: an anonymous Feedback gives aggregate counts only: no answers by user
    anonymous: bool
    #: the role id a manager is enrolled with to answer
    roleid: int = 0
    #: per manager who answered (empty when anonymous)
    answers: Mapping[int, PollAnswer] = field(default_factory=dict)
    #: who may answer and has not (mod_feedback_get_non_respondents)
    non_respondents: frozenset[int] = frozenset()
    #: enrolled in the poll's course, and with which roles
    enrolled: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    #: how many answers named each topic (from the answers, or the aggregate analysis)
    topic_counts: Mapping[str, int] = field(default_factory=dict)
    #: how many answered in all
    responses: int = 0

    def can_answer(self, userid: int) -> bool:
        return self.roleid in self.enrolled.get(userid, ())

    def to_json(self) -> dict[str, Any]:
        return {
            "feedbackid": self.feedbackid,
            "cmid": self.cmid,
            "courseid": self.courseid,
            "name": self.name,
            "url": self.url,
            "anonymous": self.anonymous,
            "roleid": self.roleid,
            "answers": [a.to_json() for _, a in sorted(self.answers.items())],
            "non_respondents": sorted(self.non_respondents),
            "enrolled": {str(k): list(v) for k, v in sorted(self.enrolled.items())},
            "topic_counts": dict(self.topic_counts),
            "responses": self.responses,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PollState:
        answers = [PollAnswer.from_json(a) for a in data.get("answers") or ()]
        return cls(
            feedbackid=int(data["feedbackid"]),
            cmid=int(data["cmid"]),
            courseid=int(data["courseid"]),
            name=str(data.get("name") or ""),
            url=str(data.get("url") or ""),
            anonymous=bool(data.get("anonymous")),
            roleid=int(data.get("roleid") or 0),
            answers={a.userid: a for a in answers},
            non_respondents=frozenset(int(u) for u in data.get("non_respondents") or ()),
            enrolled={
                int(k): tuple(int(r) for r in v) for k, v in (data.get("enrolled") or {}).items()
            },
            topic_counts={str(k): int(v) for k, v in (data.get("topic_counts") or {}).items()},
            responses=int(data.get("responses") or 0),
        )


def percent(value: float) -> str:
    """A score as people read it: ``0.375`` -> ``38 %``."""
    return f"{round(value * 100)} %"


def asked_line(topic: str, pre: float | None, post: float | None) -> str:
    """What moved on a topic a manager asked about, for that manager:
    ``you asked about Closing; your team's Closing score went from 38 % to 81 %``."""
    head = f"you asked about {topic}; "
    if pre is not None and post is not None:
        return head + f"your team's {topic} score went from {percent(pre)} to {percent(post)}"
    if pre is not None:
        return head + f"your team's {topic} score at the pre-check: {percent(pre)}"
    return head + f"no {topic} scores from your team yet"
