"""The snapshot: a typed, read-only picture of one programme as Moodle holds it.

Built by :mod:`buyin.moodle.pull`, read by the rules, the planner and the history.
Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from buyin.model.poll import PollState
from buyin.model.programme import Programme

# course completion criteria types (completion/criteria/*.php)
CRITERIA_ACTIVITY = 4
CRITERIA_ROLE = 7
AGGREGATION_ALL = 1


@dataclass(frozen=True)
class Course:
    id: int
    shortname: str
    fullname: str
    enablecompletion: bool
    url: str
    groupmode: int = 0


@dataclass(frozen=True)
class Activity:
    cmid: int
    name: str
    modname: str
    instance: int
    section: int
    section_name: str
    completion: int  # 0 none, 1 manual, 2 automatic
    url: str


@dataclass(frozen=True)
class Quiz:
    id: int
    cmid: int
    name: str
    grade: float
    sumgrades: float
    url: str


@dataclass(frozen=True, slots=True)
class Mark:
    grade: float
    maxgrade: float


@dataclass(frozen=True, slots=True)
class Attempt:
    id: int
    number: int
    state: str
    timestart: int
    timefinish: int
    sumgrades: float | None
    #: per grade item (Moodle 4.4+), None where the quiz has no grade items
    item_marks: dict[str, Mark] | None = None
    #: per slot, from the attempt review (only fetched where item_marks is None)
    slot_marks: dict[int, Mark] | None = None

    @property
    def finished(self) -> bool:
        return self.state == "finished"


@dataclass(frozen=True, slots=True)
class ActivityState:
    state: int  # 0 incomplete, 1 complete, 2 complete-pass, 3 complete-fail
    timecompleted: int
    overrideby: int | None
    tracking: int

    @property
    def complete(self) -> bool:
        return self.state in (1, 2)


@dataclass(frozen=True, slots=True)
class Criterion:
    type: int
    title: str
    complete: bool
    timecompleted: int | None
    kind: str = ""


@dataclass(frozen=True, slots=True)
class CourseCompletion:
    completed: bool
    aggregation: int
    criteria: tuple[Criterion, ...]
    #: when Moodle marked the course complete (its completion cron), where it says
    #: (local_buyin); core's web services do not
    timecompleted: int | None = None

    @property
    def role_criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.type == CRITERIA_ROLE)

    @property
    def awaiting_signoff(self) -> bool:
        """Every criterion met but the role criterion (aggregation ALL)."""
        roles = self.role_criteria
        others = [c for c in self.criteria if c.type != CRITERIA_ROLE]
        return (
            self.aggregation == AGGREGATION_ALL
            and bool(roles)
            and all(c.complete for c in others)
            and not all(c.complete for c in roles)
        )

    @property
    def all_met(self) -> bool:
        if not self.criteria:
            return self.completed
        if self.aggregation == AGGREGATION_ALL:
            return all(c.complete for c in self.criteria)
        return any(c.complete for c in self.criteria)

    @property
    def completion_time(self) -> int | None:
        """Moodle has no course-level time here: the latest criterion time, once all are met."""
        if not self.all_met:
            return None
        times = [c.timecompleted for c in self.criteria if c.timecompleted]
        return max(times) if times else None

    @property
    def completed_at(self) -> int | None:
        """When Moodle says the course is complete: None until its completion cron has
        marked it (every criterion met is not enough), then its own time where it gives
        one, else the latest criterion time."""
        if not self.completed:
            return None
        return self.timecompleted or self.completion_time


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    fullname: str
    firstname: str
    email: str
    idnumber: str
    roles: tuple[int, ...] = ()
    groups: tuple[tuple[int, str], ...] = ()
    custom: dict[str, str] = field(default_factory=dict)
    lastcourseaccess: int = 0
    suspended: bool = False
    #: enrolment active (started, not ended, not suspended) and account not suspended
    active: bool = True
    #: their language and time zone (Moodle's user fields ``lang`` and ``timezone``, "99"
    #: for the site's default), where Moodle told them (``core_user_get_users_by_field``)
    lang: str = ""
    timezone: str = ""
    #: when their enrolment in the course began, where Moodle told us (local_buyin)
    enrolled_at: int | None = None


def _mark_json(m: Mark) -> dict[str, float]:
    return {"grade": m.grade, "maxgrade": m.maxgrade}


def _attempt_json(a: Attempt) -> dict[str, Any]:
    return {
        "id": a.id,
        "number": a.number,
        "state": a.state,
        "timestart": a.timestart,
        "timefinish": a.timefinish,
        "sumgrades": a.sumgrades,
        "item_marks": None
        if a.item_marks is None
        else {k: _mark_json(m) for k, m in a.item_marks.items()},
        "slot_marks": None
        if a.slot_marks is None
        else {str(k): _mark_json(m) for k, m in a.slot_marks.items()},
    }


def _attempt_from(a: Mapping[str, Any]) -> Attempt:
    return Attempt(
        **{k: v for k, v in a.items() if k not in ("item_marks", "slot_marks")},
        item_marks=None
        if a.get("item_marks") is None
        else {k: Mark(**m) for k, m in a["item_marks"].items()},
        slot_marks=None
        if a.get("slot_marks") is None
        else {int(k): Mark(**m) for k, m in a["slot_marks"].items()},
    )


@dataclass(frozen=True, slots=True)
class LearnerData:
    """What we know of one learner's progress; cached between runs."""

    activities: dict[int, ActivityState] = field(default_factory=dict)
    attempts: tuple[Attempt, ...] = ()
    completion: CourseCompletion | None = None
    #: attempts at the programme's post-assessment quiz (insights), where one is mapped
    post_attempts: tuple[Attempt, ...] = ()

    def to_json(self) -> dict[str, Any]:
        # by hand rather than dataclasses.asdict: this runs for every learner every run
        return {
            "activities": {
                str(k): {
                    "state": v.state,
                    "timecompleted": v.timecompleted,
                    "overrideby": v.overrideby,
                    "tracking": v.tracking,
                }
                for k, v in self.activities.items()
            },
            "attempts": [_attempt_json(a) for a in self.attempts],
            "post_attempts": [_attempt_json(a) for a in self.post_attempts],
            "completion": None
            if self.completion is None
            else {
                "completed": self.completion.completed,
                "timecompleted": self.completion.timecompleted,
                "aggregation": self.completion.aggregation,
                "criteria": [
                    {
                        "type": c.type,
                        "title": c.title,
                        "complete": c.complete,
                        "timecompleted": c.timecompleted,
                        "kind": c.kind,
                    }
                    for c in self.completion.criteria
                ],
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LearnerData:
        completion = data.get("completion")
        return cls(
            activities={int(k): ActivityState(**v) for k, v in data.get("activities", {}).items()},
            attempts=tuple(_attempt_from(a) for a in data.get("attempts", [])),
            post_attempts=tuple(_attempt_from(a) for a in data.get("post_attempts", [])),
            completion=None
            if completion is None
            else CourseCompletion(
                completed=completion["completed"],
                aggregation=completion["aggregation"],
                criteria=tuple(Criterion(**c) for c in completion["criteria"]),
                timecompleted=completion.get("timecompleted"),
            ),
        )


@dataclass(frozen=True, slots=True)
class Learner:
    person: Person
    data: LearnerData
    first_seen: int
    fetched_at: int
    #: fetched in this run (not from the cache)
    fresh: bool

    @property
    def id(self) -> int:
        return self.person.id


@dataclass(frozen=True)
class Snapshot:
    programme: Programme
    site_url: str
    agent_userid: int
    taken_at: int
    course: Course
    activities: tuple[Activity, ...]
    quiz: Quiz | None
    learners: dict[int, Learner]
    #: everyone enrolled in the course (learners, managers, teachers)
    people: dict[int, Person]
    roles: dict[str, int] = field(default_factory=dict)
    #: people looked up by profile-field reference (managers), with their suspension
    directory: dict[int, Person] = field(default_factory=dict)
    #: the follow-up's refresher course, and who is enrolled there (None: not fetched)
    refresher: Course | None = None
    refresher_enrolled: frozenset[int] | None = None
    #: per learner, the refresher quiz result as a fraction (retention), where fetched
    retention: dict[int, float] = field(default_factory=dict)
    #: the post-assessment quiz (insights.post_quiz), where mapped
    post_quiz: Quiz | None = None
    #: the local_buyin plugin's sign-off requests by learner (None: the plugin is not used)
    plugin_signoffs: dict[int, SignoffRow] | None = None
    #: the manager poll as Moodle holds it, where mapped
    poll: PollState | None = None

    def find(self, match_by: str, value: str) -> Person | None:
        """A person by username/email/idnumber: the directory first (it knows suspension)."""
        key = value.strip().casefold()
        return self._index.get((match_by, key)) if key else None

    @cached_property
    def _index(self) -> dict[tuple[str, str], Person]:
        index: dict[tuple[str, str], Person] = {}
        for pool in (self.people, self.directory):  # the directory wins
            for person in pool.values():
                for field_name in ("username", "email", "idnumber"):
                    value = str(getattr(person, field_name)).strip().casefold()
                    if value:
                        index[(field_name, value)] = person
        return index

    def line_manager(self, person: Person) -> Person | None:
        """The person's own manager from the profile field (the sign-off settings' field
        and matching where the programme has sign-off; ``manager`` by username otherwise)."""
        cfg = self.programme.signoff
        field_name = cfg.manager_field if cfg else "manager"
        match_by = cfg.match_by if cfg else "username"
        ref = person.custom.get(field_name, "").strip()
        boss = self.find(match_by, ref) if ref else None
        return boss if boss is not None and boss.id != person.id else None

    def person(self, userid: int) -> Person | None:
        return self.directory.get(userid) or self.people.get(userid)

    def activity(self, cmid: int) -> Activity | None:
        return next((a for a in self.activities if a.cmid == cmid), None)

    def section_activities(self, name: str) -> tuple[Activity, ...]:
        return self._sections.get(name.strip().casefold(), ())

    @cached_property
    def _sections(self) -> dict[str, tuple[Activity, ...]]:
        """The activities by section name (casefolded), in course order: built once."""
        found: dict[str, list[Activity]] = {}
        for a in self.activities:
            found.setdefault(a.section_name.strip().casefold(), []).append(a)
        return {name: tuple(acts) for name, acts in found.items()}


# -- parsing Moodle's answers ---------------------------------------------------
def person_to_json(person: Person) -> dict[str, Any]:
    # by hand rather than dataclasses.asdict (a deep copy): every person, every run
    data = {name: getattr(person, name) for name in _PERSON_FIELDS}
    data["roles"] = list(person.roles)
    data["groups"] = [list(g) for g in person.groups]
    data["custom"] = dict(person.custom)
    return data


_PERSON_FIELDS = tuple(f.name for f in fields(Person))


def person_from_json(data: Mapping[str, Any]) -> Person:
    return Person(
        **{
            **data,
            "roles": tuple(data.get("roles", ())),
            "groups": tuple((int(g[0]), str(g[1])) for g in data.get("groups", ())),
        }
    )


@dataclass
class Directory:
    """People looked up by profile-field reference, and every value already asked for
    (so an unknown manager costs one call per reconciliation, not one per run)."""

    people: dict[int, Person] = field(default_factory=dict)
    asked: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {
            "people": [person_to_json(p) for p in self.people.values()],
            "asked": sorted(self.asked),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Directory:
        if not data:
            return cls()
        people = [person_from_json(p) for p in data.get("people", [])]
        return cls({p.id: p for p in people}, set(data.get("asked", [])))


@dataclass(frozen=True, slots=True)
class SignoffRow:
    """One sign-off request as local_buyin holds it (``local_buyin_get_signoffs``)."""

    id: int
    courseid: int
    userid: int
    #: who may sign off (0: none)
    managerid: int
    #: requested, signed, rejected or cancelled
    status: str
    timerequested: int
    timemodified: int
    timedecided: int | None = None
    decidedby: int | None = None
    comment: str | None = None

    @property
    def signed(self) -> bool:
        return self.status == "signed"

    def to_json(self) -> dict[str, Any]:
        # scalars only: no deep copy needed (dataclasses.asdict makes one)
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SignoffRow:
        return cls(
            id=int(data["id"]),
            courseid=int(data["courseid"]),
            userid=int(data["userid"]),
            managerid=int(data.get("managerid") or 0),
            status=str(data["status"]),
            timerequested=int(data.get("timerequested") or 0),
            timemodified=int(data.get("timemodified") or 0),
            timedecided=None if data.get("timedecided") is None else int(data["timedecided"]),
            decidedby=None if data.get("decidedby") is None else int(data["decidedby"]),
            comment=None if data.get("comment") is None else str(data["comment"]),
        )
