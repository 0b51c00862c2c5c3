"""The simulated site's data model: everything a Moodle site holds that the
agent reads or writes, as plain typed dataclasses.

One :class:`Scenario` is the whole state of one site. Keys of the
``(userid, courseid)`` / ``(userid, cmid)`` maps are tuples; :func:`canonical`
turns the state into a JSON-able structure for digests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Moodle's constants ---------------------------------------------------------------

COMPLETION_INCOMPLETE = 0
COMPLETION_COMPLETE = 1
COMPLETION_COMPLETE_PASS = 2
COMPLETION_COMPLETE_FAIL = 3

TRACKING_NONE = 0
TRACKING_MANUAL = 1
TRACKING_AUTOMATIC = 2

AGGREGATION_ALL = 1
AGGREGATION_ANY = 2

ENROL_ACTIVE = 0
ENROL_SUSPENDED = 1

GRADEMETHOD_HIGHEST = 1
GRADEMETHOD_AVERAGE = 2
GRADEMETHOD_FIRST = 3
GRADEMETHOD_LAST = 4

ROLE_MANAGER = 1
ROLE_STUDENT = 5
ROLE_SIGNOFF = 10


@dataclass
class ProfileField:
    id: int
    shortname: str
    name: str
    datatype: str = "text"


@dataclass
class User:
    id: int
    username: str
    firstname: str
    lastname: str
    email: str
    idnumber: str = ""
    suspended: bool = False
    department: str = ""
    institution: str = ""
    city: str = ""
    country: str = ""
    auth: str = "manual"
    firstaccess: int = 0
    lastaccess: int = 0
    lang: str = "en"
    #: a zone name, or "99": the site's default
    timezone: str = "99"
    #: custom profile fields by shortname (only non-empty values are stored)
    profile: dict[str, str] = field(default_factory=dict)

    @property
    def fullname(self) -> str:
        return f"{self.firstname} {self.lastname}"


@dataclass
class Role:
    id: int
    shortname: str
    #: the role's custom name; "" for Moodle's standard roles, as the web services answer
    name: str


@dataclass
class Category:
    id: int
    name: str


@dataclass
class Section:
    id: int
    course: int
    section: int
    name: str
    summary: str = ""


@dataclass
class Activity:
    cmid: int
    course: int
    modname: str
    instance: int
    section: int
    name: str
    #: completion tracking: 0 none, 1 manual, 2 automatic
    completion: int
    contextid: int
    #: mod_url only: the external address
    externalurl: str = ""


@dataclass
class QuizSlot:
    slot: int
    #: 1-based page as Moodle stores it (web services answer 0-based)
    page: int
    maxmark: float
    qtype: str
    questionid: int
    name: str
    #: the quiz section heading the slot sits under ("" when the quiz has none)
    heading: str = ""


@dataclass
class QuizGradeItem:
    id: int
    name: str
    slots: list[int]


@dataclass
class Quiz:
    id: int
    cmid: int
    course: int
    name: str
    intro: str
    grade: float
    sumgrades: float
    gradepass: float
    attempts: int
    grademethod: int
    questionsperpage: int
    slots: list[QuizSlot]
    grade_items: list[QuizGradeItem] = field(default_factory=list)
    #: (minimum grade out of quiz.grade, feedback html), highest band first
    feedback: list[tuple[float, str]] = field(default_factory=list)
    #: review option bitmasks, as mod_quiz_get_quizzes_by_courses reports them
    reviewattempt: int = 69904
    reviewcorrectness: int = 69904
    reviewmaxmarks: int = 69904
    reviewmarks: int = 69904
    reviewspecificfeedback: int = 69904
    reviewgeneralfeedback: int = 69904
    reviewrightanswer: int = 69904
    reviewoverallfeedback: int = 4368
    decimalpoints: int = 2
    idnumber: str = ""
    #: the gradebook item id of this quiz
    gradeitemid: int = 0
    #: per-user override of the number of attempts allowed
    user_attempt_overrides: dict[int, int] = field(default_factory=dict)

    @property
    def layout(self) -> str:
        pages: dict[int, list[int]] = {}
        for slot in self.slots:
            pages.setdefault(slot.page, []).append(slot.slot)
        return ",".join(",".join(str(s) for s in pages[p]) + ",0" for p in sorted(pages))


@dataclass
class Attempt:
    id: int
    quiz: int
    userid: int
    attempt: int
    uniqueid: int
    #: "inprogress", "overdue", "finished", "abandoned"
    state: str
    timestart: int
    timefinish: int
    timemodified: int
    #: per-slot marks (for an unfinished attempt: the answers saved so far)
    marks: dict[int, float]
    gradednotificationsenttime: int | None = None

    @property
    def finished(self) -> bool:
        return self.state == "finished"

    @property
    def sumgrades(self) -> float | None:
        return sum(self.marks.values()) if self.finished else None


@dataclass
class ActivityCriterion:
    id: int
    cmid: int


@dataclass
class RoleCriterion:
    id: int
    roleid: int


@dataclass
class CompletionCriteria:
    aggregation: int = AGGREGATION_ALL
    activities: list[ActivityCriterion] = field(default_factory=list)
    role: RoleCriterion | None = None


@dataclass
class Course:
    id: int
    shortname: str
    fullname: str
    idnumber: str
    category: int
    summary: str
    sortorder: int
    startdate: int
    contextid: int
    timecreated: int
    cacherev: int
    enablecompletion: int = 1
    groupmode: int = 0
    #: id of the course's top grade category (the course total's iteminstance)
    gradecategoryid: int = 0
    #: gradebook item id of the course total
    courseitemid: int = 0
    completion: CompletionCriteria = field(default_factory=CompletionCriteria)


@dataclass
class Enrolment:
    userid: int
    courseid: int
    roleids: list[int]
    timestart: int = 0
    timeend: int = 0
    #: 0 active, 1 suspended
    status: int = ENROL_ACTIVE
    timecreated: int = 0


@dataclass
class ActivityCompletion:
    state: int
    timecompleted: int
    overrideby: int | None = None


@dataclass
class Signoff:
    """The "Manual completion by others" criterion, marked by a role holder."""

    by: int
    time: int


@dataclass
class Message:
    id: int
    useridfrom: int
    useridto: int
    text: str
    textformat: int
    timecreated: int
    conversationid: int
    clientmsgid: str | None = None
    timeread: int | None = None


@dataclass
class Group:
    id: int
    courseid: int
    name: str
    description: str = ""
    descriptionformat: int = 1
    idnumber: str = ""
    enrolmentkey: str | None = None
    visibility: int = 0
    participation: bool = True
    members: list[int] = field(default_factory=list)


@dataclass
class Cohort:
    id: int
    idnumber: str
    name: str
    members: list[int] = field(default_factory=list)


@dataclass
class FeedbackItem:
    """One question of a Feedback activity, as mod_feedback stores it."""

    id: int
    typ: str
    position: int
    label: str
    name: str
    presentation: str
    required: bool
    options: str = ""


@dataclass
class FeedbackCompleted:
    """One submitted answer set; ``values`` are Moodle's stored values by item id."""

    id: int
    userid: int
    timemodified: int
    values: dict[int, str]


@dataclass
class Feedback:
    id: int
    cmid: int
    course: int
    name: str
    intro: str
    #: 1 anonymous, 2 not anonymous (responses carry the user)
    anonymous: int
    multiple_submit: bool
    page_after_submit: str
    timemodified: int
    items: list[FeedbackItem]
    completed: list[FeedbackCompleted] = field(default_factory=list)
    timeopen: int = 0
    timeclose: int = 0
    idnumber: str = ""


class Attempts(dict[int, Attempt]):
    """Quiz attempts by id, with each (quiz, user)'s attempt ids kept as they are added
    and removed, so one person's attempts are found without a scan of everyone's."""

    def __init__(self, items: Mapping[int, Attempt] | None = None) -> None:
        super().__init__()
        self._of: dict[tuple[int, int], dict[int, None]] = {}
        for key, attempt in (items or {}).items():
            self[key] = attempt

    def __setitem__(self, key: int, attempt: Attempt) -> None:
        old = self.get(key)
        if old is not None:
            self._of.get((old.quiz, old.userid), {}).pop(key, None)
        super().__setitem__(key, attempt)
        # idempotent: a deep copy sets the index and then every item again
        self._of.setdefault((attempt.quiz, attempt.userid), {})[key] = None

    def __delitem__(self, key: int) -> None:
        old = self[key]
        super().__delitem__(key)
        self._of.get((old.quiz, old.userid), {}).pop(key, None)

    def of(self, quiz: int, userid: int) -> list[Attempt]:
        """The attempts of ``userid`` at ``quiz``, in the order they were added."""
        return [self[k] for k in self._of.get((quiz, userid), ()) if k in self]


@dataclass
class Scenario:
    """A whole simulated site. ``now`` is the moment the data was generated at."""

    now: int
    site_name: str
    release: str
    version: str
    agent_userid: int
    users: dict[int, User]
    roles: dict[int, Role]
    profile_fields: list[ProfileField]
    categories: dict[int, Category]
    courses: dict[int, Course]
    sections: list[Section]
    activities: dict[int, Activity]
    quizzes: dict[int, Quiz]
    attempts: Attempts
    enrolments: dict[tuple[int, int], Enrolment]
    activity_completions: dict[tuple[int, int], ActivityCompletion]
    signoffs: dict[tuple[int, int], Signoff]
    #: (userid, courseid) -> time the course was completed (Moodle's course_completions.timecompleted)
    course_completions: dict[tuple[int, int], int]
    #: (userid, courseid) -> the learner's last access to the course
    lastcourseaccess: dict[tuple[int, int], int]
    #: (userid, courseid) -> when the course total grade was last computed
    course_grade_times: dict[tuple[int, int], int]
    groups: dict[int, Group]
    cohorts: dict[int, Cohort]
    feedbacks: dict[int, Feedback] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    #: (lower userid, higher userid) -> conversation id
    conversations: dict[tuple[int, int], int] = field(default_factory=dict)
    next_ids: dict[str, int] = field(default_factory=dict)

    def new_id(self, kind: str) -> int:
        value = self.next_ids.get(kind, 1)
        self.next_ids[kind] = value + 1
        return value


def canonical(value: Any) -> Any:
    """A JSON-able, order-independent rendering of the state (for digests)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        items = [
            (":".join(str(p) for p in k) if isinstance(k, tuple) else str(k), canonical(v))
            for k, v in value.items()
        ]
        return dict(sorted(items))
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value
