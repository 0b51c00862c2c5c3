"""Builders of model objects for table tests (import as ``from builders import ...``).

Every builder's defaults make a valid minimal object; a test overrides, by keyword,
only what it is about. The standard course: two topics, "Listening" (activities 1
and 2) and "Questions" (activities 3 and 4), and the pre-check quiz (activity 9).
The standard people: learners from id 20 up, whose manager is ``mgr`` (id 5),
whose own manager is ``boss`` (id 4); ``lead`` (id 6) is the fallback approver.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from buyin.model.actions import Kind, MessageParams
from buyin.model.clock import DAY, HOUR, day_of, parse_day
from buyin.model.ledger import Ledger, LedgerEntry, Status
from buyin.model.programme import (
    Followup,
    JobAid,
    Kickoff,
    Precheck,
    Programme,
    Refresher,
    Signoff,
    Topic,
)
from buyin.model.snapshot import (
    AGGREGATION_ALL,
    CRITERIA_ACTIVITY,
    CRITERIA_ROLE,
    Activity,
    ActivityState,
    Attempt,
    Course,
    CourseCompletion,
    Criterion,
    Learner,
    LearnerData,
    Mark,
    Person,
    Quiz,
    SignoffRow,
    Snapshot,
)

#: a Wednesday, 09:00 UTC
NOW = parse_day("2026-11-18") + 9 * HOUR
SITE = "https://moodle.example.test"
COURSE_ID = 2
QUIZ_CMID = 9
STUDENT, SIGNOFF_ROLE = 5, 10
ROLES = {"student": STUDENT, "signoff": SIGNOFF_ROLE}
#: topic name -> (section, activity cmids)
TOPICS = {"Listening": ("Listening", (1, 2)), "Questions": ("Questions", (3, 4))}

__all__ = ["DAY", "HOUR", "NOW"]


# -- the programme ----------------------------------------------------------------


def topics() -> tuple[Topic, ...]:
    return tuple(Topic(name=n, grade_item=n, section=s) for n, (s, _) in TOPICS.items())


def precheck(
    *, attempt: str = "first", pass_mark: float = 0.8, exclude: Iterable[int] = ()
) -> Precheck:
    return Precheck(
        quiz=QUIZ_CMID,
        topics=topics(),
        attempt=attempt,
        pass_mark=pass_mark,
        exclude=frozenset(exclude),
    )


def signoff(**overrides: Any) -> Signoff:
    """Sign-off with the fallback approver ``lead``; ``fallback_approver=None`` for none."""
    return Signoff(**{"fallback_approver": "lead", **overrides})


def followup(
    *,
    job_aid: bool = True,
    refresher: bool = True,
    delay_days: float = 30.0,
    duration_days: float | None = None,
    notify_manager: bool = False,
) -> Followup:
    return Followup(
        job_aid=JobAid(url="https://example.com/aid.pdf", title="Aid") if job_aid else None,
        refresher=Refresher(course=3, delay_days=delay_days, duration_days=duration_days)
        if refresher
        else None,
        notify_manager=notify_manager,
    )


def programme(
    *,
    precheck: Precheck | None = None,
    signoff: Signoff | None = None,
    kickoff: Kickoff | None = None,
    followup: Followup | None = None,
    mapped_since: str | None = None,
    insights: Mapping[str, Any] | None = None,
) -> Programme:
    """A programme with only the rules a test passes mapped."""
    return Programme(
        id="cc101",
        course=COURSE_ID,
        source=Path("cc101.toml"),
        name="Customer conversations",
        mapped_since=mapped_since,
        precheck=precheck,
        signoff=signoff,
        kickoff=kickoff,
        followup=followup,
        insights=dict(insights or {}),
    )


# -- the course -----------------------------------------------------------------


def course(id: int = COURSE_ID, shortname: str = "CC101") -> Course:
    return Course(
        id=id,
        shortname=shortname,
        fullname=f"{shortname} course",
        enablecompletion=True,
        url=f"{SITE}/course/view.php?id={id}",
    )


def activity(cmid: int, *, section: str = "Listening", completion: int = 2) -> Activity:
    return Activity(
        cmid=cmid,
        name=f"Activity {cmid}",
        modname="page",
        instance=cmid,
        section=1,
        section_name=section,
        completion=completion,
        url=f"{SITE}/mod/page/view.php?id={cmid}",
    )


def activities() -> tuple[Activity, ...]:
    """The standard course's activities: each topic's, then the pre-check quiz."""
    out = [activity(c, section=s) for s, cmids in TOPICS.values() for c in cmids]
    return (*out, activity(QUIZ_CMID, section="Pre-check"))


def quiz() -> Quiz:
    return Quiz(id=1, cmid=QUIZ_CMID, name="Pre-check", grade=10.0, sumgrades=20.0, url="")


# -- a learner's progress -----------------------------------------------------------


def attempt(
    id: int = 1,
    *,
    number: int | None = None,
    state: str = "finished",
    marks: Mapping[str, float] | None = None,
    hidden: bool = False,
    at: int = NOW - DAY,
) -> Attempt:
    """An attempt with a mark out of 10 per topic (grade items); ``hidden``: marks blanked."""
    given = {"Listening": 10.0, "Questions": 10.0} if marks is None else marks
    items = {t: Mark(grade=g, maxgrade=10.0) for t, g in given.items()}
    return Attempt(
        id=id,
        number=id if number is None else number,
        state=state,
        timestart=at,
        timefinish=at + 600 if state == "finished" else 0,
        sumgrades=None if hidden or state != "finished" else sum(given.values()),
        item_marks=items,
    )


def done(at: int = NOW - DAY) -> ActivityState:
    return ActivityState(state=1, timecompleted=at, overrideby=None, tracking=2)


def completion(
    *, activities_met: bool = True, signed: bool | None = None, at: int = NOW - DAY
) -> CourseCompletion:
    """Course completion: an activity criterion, and the role criterion unless
    ``signed`` is None (True: signed one hour after ``at``)."""
    criteria = [
        Criterion(CRITERIA_ACTIVITY, "Activity 1", activities_met, at if activities_met else None)
    ]
    if signed is not None:
        criteria.append(Criterion(CRITERIA_ROLE, "Sign-off", signed, at + HOUR if signed else None))
    met = all(c.complete for c in criteria)
    return CourseCompletion(completed=met, aggregation=AGGREGATION_ALL, criteria=tuple(criteria))


def person(
    id: int,
    username: str | None = None,
    *,
    manager: str | None = None,
    roles: tuple[int, ...] = (),
    suspended: bool = False,
    active: bool = True,
    groups: tuple[tuple[int, str], ...] = (),
) -> Person:
    name = username or f"learner{id}"
    return Person(
        id=id,
        username=name,
        fullname=f"{name.capitalize()} Person",
        firstname=name.capitalize(),
        email=f"{name}@example.com",
        idnumber=name.upper(),
        roles=roles,
        groups=groups,
        custom={"manager": manager} if manager is not None else {},
        suspended=suspended,
        active=active,
    )


def learner(
    id: int = 20,
    *,
    manager: str | None = "mgr",
    activities: Mapping[int, ActivityState] | None = None,
    attempts: Iterable[Attempt] = (),
    completion: CourseCompletion | None = None,
    first_seen: int = NOW - 30 * DAY,
    suspended: bool = False,
    active: bool = True,
) -> Learner:
    return Learner(
        person=person(id, manager=manager, roles=(STUDENT,), suspended=suspended, active=active),
        data=LearnerData(
            activities=dict(activities or {}), attempts=tuple(attempts), completion=completion
        ),
        first_seen=first_seen,
        fetched_at=NOW,
        fresh=True,
    )


def managers(*, mgr_suspended: bool = False, signoff_role: bool = False) -> list[Person]:
    """``mgr`` (id 5, managed by ``boss``), ``boss`` (id 4) and the fallback ``lead`` (id 6)."""
    roles = (SIGNOFF_ROLE,) if signoff_role else ()
    return [
        person(5, "mgr", manager="boss", roles=roles, suspended=mgr_suspended),
        person(4, "boss", roles=roles),
        person(6, "lead", roles=roles),
    ]


def snapshot(
    *learners: Learner,
    programme: Programme | None = None,
    people: Iterable[Person] | None = None,
    directory: Iterable[Person] = (),
    activities: tuple[Activity, ...] | None = None,
    quiz: Quiz | None = None,
    refresher: Course | None = None,
    refresher_enrolled: Iterable[int] | None = None,
    plugin_signoffs: Mapping[int, SignoffRow] | None = None,
    taken_at: int = NOW,
) -> Snapshot:
    """The standard course with these learners; ``people`` (enrolled non-learners)
    defaults to :func:`managers` without the sign-off role; ``directory`` holds people
    found by profile-field reference who are not enrolled in the course."""
    others = managers() if people is None else list(people)
    enrolled = {x.id: x.person for x in learners} | {p.id: p for p in others}
    return Snapshot(
        programme=programme or _programme(),
        site_url=SITE,
        agent_userid=3,
        taken_at=taken_at,
        course=course(),
        activities=_activities() if activities is None else activities,
        quiz=_quiz() if quiz is None else quiz,
        learners={x.id: x for x in learners},
        people=enrolled,
        roles=dict(ROLES),
        directory={p.id: p for p in directory},
        refresher=refresher,
        refresher_enrolled=None if refresher_enrolled is None else frozenset(refresher_enrolled),
        plugin_signoffs=None if plugin_signoffs is None else dict(plugin_signoffs),
    )


#: the builders under names the keyword arguments above do not shadow
_programme, _activities, _quiz = programme, activities, quiz


def signoff_row(
    userid: int, *, managerid: int = 5, status: str = "requested", decided: int | None = None
) -> SignoffRow:
    return SignoffRow(
        id=userid,
        courseid=COURSE_ID,
        userid=userid,
        managerid=managerid,
        status=status,
        timerequested=NOW - 2 * DAY,
        timemodified=decided or NOW - 2 * DAY,
        timedecided=decided,
        decidedby=managerid if status == "signed" else None,
    )


# -- the ledger -------------------------------------------------------------------


def entry(
    key: str,
    *,
    kind: Kind = Kind.MESSAGE,
    status: Status = Status.APPLIED,
    userid: int = 20,
    payload: Mapping[str, Any] | None = None,
    reason: Mapping[str, Any] | None = None,
    attempts: int = 1,
    at: int = NOW - DAY,
) -> LedgerEntry:
    """One ledger row; ``at`` is when it was created (and applied, if applied)."""
    return LedgerEntry(
        key=key,
        program="cc101",
        kind=kind.value,
        userid=userid,
        target=f"learner{userid}",
        payload=dict(payload or {}),
        reason=dict(reason or {}),
        status=status,
        attempts=attempts,
        last_error="boom" if status == Status.FAILED else None,
        created_at=at,
        updated_at=at,
        applied_at=at if status == Status.APPLIED else None,
    )


def ledger(*entries: LedgerEntry) -> Ledger:
    return Ledger({e.key: e for e in entries})


def digest_entry(
    recipient: int, learners: Mapping[int, str], *, at: int, course: int = COURSE_ID
) -> LedgerEntry:
    """A delivered sign-off digest listing ``learners`` (uid -> "direct" | "escalated")."""
    return entry(
        f"message:signoff-request:u{recipient}:c{course}:{day_of(at)}",
        userid=recipient,
        reason={
            "rule": "signoff-digest",
            "course": course,
            "learners": {str(k): v for k, v in learners.items()},
        },
        at=at,
    )


def messages(
    result: Any, *, only_messages: bool = False, to_subject: bool = False
) -> list[tuple[str, int]]:
    """The messages a rule's result asks for, as (key, recipient). ``only_messages``:
    the rule asks for nothing else; ``to_subject``: each goes to the learner it is about."""
    out = []
    for action in result.actions:
        if only_messages:
            assert action.kind == Kind.MESSAGE
        if action.kind == Kind.MESSAGE:
            assert isinstance(action.params, MessageParams)
            if to_subject:
                assert action.userid == action.params.touserid
            out.append((action.key, action.params.touserid))
    return out
