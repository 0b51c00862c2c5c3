"""A programme: one Moodle course bound to its rules, as a mapping file declares it.

Parsed and validated by :mod:`buyin.mapping`; read by the rules. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from buyin.model.clock import WORKING_DAYS

Ref = int | str


@dataclass(frozen=True)
class Topic:
    name: str
    grade_item: str
    section: str
    slots: tuple[int, ...] = ()
    activities: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Precheck:
    quiz: Ref
    topics: tuple[Topic, ...]
    attempt: str = "first"
    pass_mark: float = 0.8
    minutes_per_activity: float = 15.0
    exclude: frozenset[int] = frozenset()
    messages: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Signoff:
    role: Ref = "signoff"
    manager_field: str = "manager"
    match_by: str = "username"
    fallback_approver: str | None = None
    remind_every_days: float = 3.0
    escalate_after_days: float = 7.0
    #: reminders per request (then one escalation, then only the weekly team digest)
    max_reminders: int = 2
    team_groups: bool = False
    channel: str = "auto"


@dataclass(frozen=True)
class Kickoff:
    enabled: bool = True
    learner_message: str | None = None
    manager_message: str | None = None
    support_tips: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobAid:
    url: str
    title: str = "Job aid"
    takeaway: str = ""


@dataclass(frozen=True)
class Refresher:
    course: Ref
    delay_days: float = 30.0
    duration_days: float | None = None
    role: Ref = "student"
    notify_when_open: bool = True
    quiz: Ref | None = None


@dataclass(frozen=True)
class Followup:
    job_aid: JobAid | None = None
    refresher: Refresher | None = None
    notify_manager: bool = True


@dataclass(frozen=True)
class Poll:
    """The manager poll (SPEC §4.6): a Feedback activity, which option of which question
    names which topic, and when to ask."""

    activity: Ref
    course: Ref
    #: option position (1-based) -> topic
    options: dict[int, str]
    question: str = "problems"
    impact: str = "impact"
    comments: str = "other"
    role: Ref = "student"
    #: start | every | cohort
    ask: str = "start"
    every_weeks: float | None = None
    #: ISO dates a new cohort starts (ask = "cohort")
    cohort_starts: tuple[str, ...] = ()
    days_before: float = 14.0
    remind_after_days: float = 3.0


@dataclass(frozen=True)
class Programme:
    id: str
    course: Ref
    source: Path
    name: str = ""
    enabled: bool = True
    learner_role: Ref = "student"
    mapped_since: str | None = None
    #: days messages may go out (lower-case English day names), in each recipient's zone
    working_days: tuple[str, ...] = WORKING_DAYS
    #: public holidays (ISO dates): no message goes out on them
    holidays: tuple[str, ...] = ()
    #: at most this many messages of the programme to one manager in any seven days
    manager_weekly_limit: int = 2
    #: username of the account messages are from (said in the text; Moodle sends them
    #: from the token's user), e.g. the programme owner; "" for none
    sender: str = ""
    sponsor: str = ""
    sponsor_message: str = ""
    precheck: Precheck | None = None
    signoff: Signoff | None = None
    kickoff: Kickoff | None = None
    followup: Followup | None = None
    poll: Poll | None = None
    insights: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
