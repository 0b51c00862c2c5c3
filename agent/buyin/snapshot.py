"""The snapshot: a typed, read-only picture of one programme, pulled from Moodle.

Cost model (web-service round trips are what a run pays for):

- per programme, every run: the course (1), its contents (1), its quizzes (1),
  the enrolled users with ``lastcourseaccess`` and profile fields (1 per page),
  the course's grade report for all users (1);
- per learner who *moved* (new, opened the course, submitted a quiz, has a
  planned action to verify) or on a full reconciliation: activity completion
  (1), course completion (1), quiz attempts (1), and a review per new finished
  attempt only where the quiz has no grade items;
- per learner whose course completion others can change without the learner
  moving (awaiting sign-off): course completion (1).

Everything else comes from the learner cache in the state database, so the rules
always see every learner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property, partial
from typing import Any

from buyin.client import MoodleClient
from buyin.errors import ConfigurationError, ContractError
from buyin.mapping import Programme, Ref
from buyin.state import CachedLearner

log = logging.getLogger("buyin.snapshot")

USER_FIELDS = "id,username,firstname,lastname,fullname,email,idnumber,lastcourseaccess,customfields,groups,roles"

#: the local_buyin plugin's functions the sign-off channel uses
PLUGIN_FUNCTIONS = ("local_buyin_request_signoffs", "local_buyin_get_signoffs")

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


@dataclass(frozen=True)
class Mark:
    grade: float
    maxgrade: float


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class ActivityState:
    state: int  # 0 incomplete, 1 complete, 2 complete-pass, 3 complete-fail
    timecompleted: int
    overrideby: int | None
    tracking: int

    @property
    def complete(self) -> bool:
        return self.state in (1, 2)


@dataclass(frozen=True)
class Criterion:
    type: int
    title: str
    complete: bool
    timecompleted: int | None
    kind: str = ""


@dataclass(frozen=True)
class CourseCompletion:
    completed: bool
    aggregation: int
    criteria: tuple[Criterion, ...]

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


@dataclass(frozen=True)
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
            ),
        )


@dataclass(frozen=True)
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
    plugin_signoffs: dict[int, dict[str, Any]] | None = None

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

    def person(self, userid: int) -> Person | None:
        return self.directory.get(userid) or self.people.get(userid)

    def activity(self, cmid: int) -> Activity | None:
        return next((a for a in self.activities if a.cmid == cmid), None)

    def section_activities(self, name: str) -> tuple[Activity, ...]:
        key = name.strip().casefold()
        return tuple(a for a in self.activities if a.section_name.strip().casefold() == key)


# -- parsing Moodle's answers ---------------------------------------------------


def parse_person(user: Mapping[str, Any]) -> Person:
    custom = {
        str(f.get("shortname")): str(f.get("value") or "")
        for f in user.get("customfields") or []
        if f.get("shortname")
    }
    return Person(
        id=int(user["id"]),
        username=str(user.get("username") or ""),
        fullname=str(user.get("fullname") or ""),
        firstname=str(user.get("firstname") or user.get("fullname") or "").split(" ")[0]
        if not user.get("firstname")
        else str(user["firstname"]),
        email=str(user.get("email") or ""),
        idnumber=str(user.get("idnumber") or ""),
        roles=tuple(int(r["roleid"]) for r in user.get("roles") or []),
        groups=tuple((int(g["id"]), str(g["name"])) for g in user.get("groups") or []),
        custom=custom,
        lastcourseaccess=int(user.get("lastcourseaccess") or 0),
        suspended=bool(user.get("suspended", False)),
    )


def parse_attempt(raw: Mapping[str, Any]) -> Attempt:
    marks = raw.get("gradeitemmarks")
    sumgrades = raw.get("sumgrades")
    return Attempt(
        id=int(raw["id"]),
        number=int(raw.get("attempt") or 0),
        state=str(raw.get("state") or ""),
        timestart=int(raw.get("timestart") or 0),
        timefinish=int(raw.get("timefinish") or 0),
        sumgrades=None if sumgrades is None else float(sumgrades),
        item_marks=None
        if not marks
        else {
            str(m["name"]): Mark(float(m["grade"]), float(m["maxgrade"]))
            for m in marks
            if m.get("grade") is not None and m.get("maxgrade") is not None
        },
    )


def parse_slot_marks(function: str, review: Mapping[str, Any]) -> dict[int, Mark] | None:
    """Per-slot marks from an attempt review; None where the marks are hidden.

    Moodle leaves ``mark`` out where the review options hide it, and answers ``""``
    for a question without a mark (given up, not answered): that one scores 0.
    """
    marks: dict[int, Mark] = {}
    for i, q in enumerate(review.get("questions") or []):
        mark = q.get("mark")
        maxmark = q.get("maxmark")
        if mark is None or maxmark is None:
            return None
        if mark == "":
            mark = 0
        try:
            marks[int(q["slot"])] = Mark(float(mark), float(maxmark))
        except (TypeError, ValueError):
            raise ContractError(
                function, f"$.questions[{i}].mark", f"not a number: {mark!r}"
            ) from None
    return marks


def parse_activity_states(raw: Mapping[str, Any]) -> dict[int, ActivityState]:
    return {
        int(s["cmid"]): ActivityState(
            state=int(s.get("state") or 0),
            timecompleted=int(s.get("timecompleted") or 0),
            overrideby=None if s.get("overrideby") is None else int(s["overrideby"]),
            tracking=int(s.get("tracking") or 0),
        )
        for s in raw.get("statuses") or []
        if s.get("istrackeduser", True)
    }


def parse_course_completion(raw: Mapping[str, Any]) -> CourseCompletion:
    status = raw["completionstatus"]
    return CourseCompletion(
        completed=bool(status.get("completed")),
        aggregation=int(status.get("aggregation") or AGGREGATION_ALL),
        criteria=tuple(
            Criterion(
                type=int(c["type"]),
                title=str(c.get("title") or ""),
                complete=bool(c.get("complete")),
                timecompleted=None if not c.get("timecompleted") else int(c["timecompleted"]),
                kind=str((c.get("details") or {}).get("type") or ""),
            )
            for c in status.get("completions") or []
        ),
    )


def grade_signature(report: Mapping[str, Any]) -> dict[int, str]:
    """Per user, a string that changes when any of their activity grades changes: a quiz
    submitted, or an assignment graded by a teacher (which may complete an activity
    without the learner opening the course). The course total is left out: Moodle
    recomputes it without anything having happened."""
    result: dict[int, str] = {}
    for usergrade in report.get("usergrades") or []:
        parts = []
        for item in usergrade.get("gradeitems") or []:
            if item.get("itemtype") == "mod":
                parts.append(
                    f"{item.get('id')}:{item.get('graderaw')}:{item.get('gradedatesubmitted')}"
                    f":{item.get('gradedategraded')}"
                )
        result[int(usergrade["userid"])] = ",".join(sorted(parts))
    return result


# -- fetching -------------------------------------------------------------------


@dataclass
class SiteInfo:
    url: str
    userid: int
    release: str
    version: str
    functions: frozenset[str]
    #: function name -> the version of the component that provides it
    versions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def fetch(cls, client: MoodleClient) -> SiteInfo:
        info = client.call("core_webservice_get_site_info")
        versions = {
            str(f["name"]): str(f.get("version") or "") for f in info.get("functions") or []
        }
        client.known_functions = set(versions)
        return cls(
            url=client.url,
            userid=int(info["userid"]),
            release=str(info.get("release") or ""),
            version=str(info.get("version") or ""),
            functions=frozenset(versions),
            versions=versions,
        )

    @property
    def plugin_version(self) -> str | None:
        """local_buyin's version where its sign-off functions are in the service."""
        if all(f in self.functions for f in PLUGIN_FUNCTIONS):
            return self.versions.get(PLUGIN_FUNCTIONS[0]) or "?"
        return None

    @property
    def attempts_function(self) -> str:
        if "mod_quiz_get_user_quiz_attempts" in self.functions:
            return "mod_quiz_get_user_quiz_attempts"
        return "mod_quiz_get_user_attempts"


def resolve_course(client: MoodleClient, ref: Ref, where: str) -> Course:
    field_name, value = ("id", str(ref)) if isinstance(ref, int) else ("shortname", ref)
    answer = client.call("core_course_get_courses_by_field", field=field_name, value=value)
    courses = answer.get("courses") or []
    if not courses:
        raise ConfigurationError(
            f"{where}: course {ref!r} does not exist on the site (or is hidden from the agent)",
            hint="Fix the course id or shortname in the mapping; `buyin doctor` checks all of them.",
        )
    c = courses[0]
    return Course(
        id=int(c["id"]),
        shortname=str(c.get("shortname") or ""),
        fullname=str(c.get("fullname") or ""),
        enablecompletion=bool(c.get("enablecompletion")),
        url=f"{client.url}/course/view.php?id={int(c['id'])}",
        groupmode=int(c.get("groupmode") or 0),
    )


def fetch_activities(client: MoodleClient, course: Course) -> tuple[Activity, ...]:
    sections = client.call(
        "core_course_get_contents",
        courseid=course.id,
        options=[{"name": "excludecontents", "value": True}],
    )
    activities = []
    for section in sections:
        for module in section.get("modules") or []:
            activities.append(
                Activity(
                    cmid=int(module["id"]),
                    name=str(module.get("name") or ""),
                    modname=str(module.get("modname") or ""),
                    instance=int(module.get("instance") or 0),
                    section=int(section.get("section") or 0),
                    section_name=str(section.get("name") or ""),
                    completion=int(module.get("completion") or 0),
                    url=str(module.get("url") or f"{client.url}/mod/view.php?id={module['id']}"),
                )
            )
    return tuple(activities)


def fetch_quiz(
    client: MoodleClient, course: Course, activities: Iterable[Activity], ref: Ref, where: str
) -> Quiz:
    answer = client.call("mod_quiz_get_quizzes_by_courses", courseids=[course.id])
    quizzes = answer.get("quizzes") or []
    for q in quizzes:
        if ref in (int(q["coursemodule"]), str(q.get("name"))) or (
            isinstance(ref, str) and ref.casefold() == str(q.get("name", "")).casefold()
        ):
            return Quiz(
                id=int(q["id"]),
                cmid=int(q["coursemodule"]),
                name=str(q.get("name") or ""),
                grade=float(q.get("grade") or 0),
                sumgrades=float(q.get("sumgrades") or 0),
                url=f"{client.url}/mod/quiz/view.php?id={int(q['coursemodule'])}",
            )
    names = ", ".join(f"{q['coursemodule']} ({q.get('name')})" for q in quizzes) or "none"
    raise ConfigurationError(
        f"{where}: quiz {ref!r} is not a quiz of course {course.shortname} (id {course.id})",
        hint=f"Use the quiz's course module id or name; the course's quizzes: {names}.",
    )


def enrolled_pages(
    client: MoodleClient, courseid: int, page_size: int, options: list[dict[str, Any]]
) -> Iterator[list[dict[str, Any]]]:
    """core_enrol_get_enrolled_users page by page (limitfrom/limitnumber)."""
    offset = 0
    while True:
        page = client.call(
            "core_enrol_get_enrolled_users",
            courseid=courseid,
            options=[
                *options,
                {"name": "limitfrom", "value": offset},
                {"name": "limitnumber", "value": page_size},
            ],
        )
        yield page
        if len(page) < page_size:
            return
        offset += page_size


def fetch_enrolled(
    client: MoodleClient, courseid: int, page_size: int, roles: dict[str, int] | None = None
) -> list[Person]:
    """Everyone enrolled, paged; ``roles`` collects role shortname -> id as seen."""
    people: list[Person] = []
    options = [{"name": "userfields", "value": USER_FIELDS}, {"name": "sortby", "value": "id"}]
    for page in enrolled_pages(client, courseid, page_size, options):
        people.extend(parse_person(u) for u in page)
        if roles is not None:
            for user in page:
                for role in user.get("roles") or []:
                    if role.get("shortname"):
                        roles[str(role["shortname"])] = int(role["roleid"])
    return people


@dataclass
class FetchPlan:
    """Which learners to fetch what for, decided before any per-learner call."""

    full: set[int] = field(default_factory=set)
    completion_only: set[int] = field(default_factory=set)


def decide_fetches(
    learners: list[Person],
    signatures: Mapping[int, str],
    cache: Mapping[int, CachedLearner],
    *,
    reconcile: bool,
    force_full: Iterable[int] = (),
    poll_completion: Iterable[int] = (),
) -> FetchPlan:
    """Pure: who moved (or is new, or must be verified) gets a full fetch."""
    plan = FetchPlan()
    forced = set(force_full)
    for person in learners:
        cached = cache.get(person.id)
        if (
            reconcile
            or cached is None
            or person.id in forced
            or cached.signature != signatures.get(person.id, "")
        ):
            plan.full.add(person.id)
    ids = {p.id for p in learners}
    plan.completion_only = (set(poll_completion) & ids) - plan.full
    return plan


def learner_signature(person: Person, grades: Mapping[int, str]) -> str:
    return f"{person.lastcourseaccess}|{grades.get(person.id, '')}"


def fetch_attempts(
    client: MoodleClient,
    site: SiteInfo,
    quiz: Quiz,
    userid: int,
    previous: tuple[Attempt, ...],
) -> tuple[Attempt, ...]:
    """A learner's attempts; per-slot marks reviewed only where the quiz has no grade
    items, and only for finished attempts not reviewed before."""
    raw = client.call(site.attempts_function, quizid=quiz.id, userid=userid, status="all")
    known = {a.id: a for a in previous}
    parsed = []
    for item in raw.get("attempts") or []:
        attempt = parse_attempt(item)
        if attempt.finished and attempt.item_marks is None and attempt.sumgrades is not None:
            cached = known.get(attempt.id)
            if cached is not None and cached.slot_marks is not None:
                slot_marks: dict[int, Mark] | None = cached.slot_marks
            else:
                review = client.call("mod_quiz_get_attempt_review", attemptid=attempt.id)
                slot_marks = parse_slot_marks("mod_quiz_get_attempt_review", review)
            attempt = replace(attempt, slot_marks=slot_marks)
        parsed.append(attempt)
    return tuple(sorted(parsed, key=lambda a: (a.number, a.id)))


def fetch_learner(
    client: MoodleClient,
    site: SiteInfo,
    course: Course,
    quiz: Quiz | None,
    userid: int,
    previous: LearnerData | None,
    post_quiz: Quiz | None = None,
) -> LearnerData:
    """The full per-learner fetch: activity completion, course completion, attempts."""
    activities = parse_activity_states(
        client.call(
            "core_completion_get_activities_completion_status", courseid=course.id, userid=userid
        )
    )
    completion = parse_course_completion(
        client.call(
            "core_completion_get_course_completion_status", courseid=course.id, userid=userid
        )
    )
    before = previous or LearnerData()
    attempts = () if quiz is None else fetch_attempts(client, site, quiz, userid, before.attempts)
    post = (
        ()
        if post_quiz is None
        else fetch_attempts(client, site, post_quiz, userid, before.post_attempts)
    )
    return LearnerData(
        activities=activities, attempts=attempts, completion=completion, post_attempts=post
    )


def fetch_completion(client: MoodleClient, course: Course, userid: int) -> CourseCompletion:
    return parse_course_completion(
        client.call(
            "core_completion_get_course_completion_status", courseid=course.id, userid=userid
        )
    )


def run_concurrently(
    jobs: Mapping[int, Callable[[], Any]],
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, Any]:
    """Run independent calls with at most ``workers`` in flight; the first error is raised.

    ``progress(done, total)`` is called as jobs finish (for a progress bar)."""
    if not jobs:
        return {}
    total = len(jobs)
    if workers <= 1 or total == 1:
        results = {}
        for done, (key, job) in enumerate(jobs.items(), start=1):
            results[key] = job()
            if progress:
                progress(done, total)
        return results
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="buyin") as pool:
        futures = {pool.submit(job): key for key, job in jobs.items()}
        results = {}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress:
                progress(done, total)
        return results


def resolve_role(ref: Ref, roles: Mapping[str, int], where: str) -> int:
    if isinstance(ref, int):
        return ref
    if ref in roles:
        return roles[ref]
    raise ConfigurationError(
        f"{where}: role {ref!r} is not held by anyone enrolled in the course",
        hint="Use the role's numeric id in the mapping (Site administration > Users > "
        "Permissions > Define roles shows it), or check the shortname.",
    )


def fetch_active_ids(client: MoodleClient, courseid: int, page_size: int) -> set[int]:
    """Users whose enrolment is active now and whose account is not suspended."""
    options: list[dict[str, Any]] = [
        {"name": "onlyactive", "value": 1},
        {"name": "userfields", "value": "id"},
    ]
    return {
        int(u["id"]) for page in enrolled_pages(client, courseid, page_size, options) for u in page
    }


def fetch_people(client: MoodleClient, match_by: str, values: Iterable[str]) -> list[Person]:
    """People by username/email/idnumber (managers who may not be enrolled), with suspension."""
    wanted = sorted({v.strip() for v in values if v and v.strip()})
    people: list[Person] = []
    for start in range(0, len(wanted), 100):
        answer = client.call(
            "core_user_get_users_by_field", field=match_by, values=wanted[start : start + 100]
        )
        people.extend(parse_person(u) for u in answer)
    return people


def person_to_json(person: Person) -> dict[str, Any]:
    data = asdict(person)
    data["roles"] = list(person.roles)
    data["groups"] = [list(g) for g in person.groups]
    return data


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


def resolve_directory(
    client: MoodleClient,
    match_by: str,
    field_name: str,
    seeds: Iterable[str],
    known: Directory,
    *,
    depth: int = 3,
) -> Directory:
    """Look up the people the seeds name, then the people *they* name (managers'
    managers), ``depth`` levels up. ``known`` (the cache) is reused and extended."""
    directory = Directory(dict(known.people), set(known.asked))

    def lookup(value: str) -> Person | None:
        key = value.strip().casefold()
        return next(
            (p for p in directory.people.values() if str(getattr(p, match_by)).casefold() == key),
            None,
        )

    wanted = {v.strip() for v in seeds if v and v.strip()}
    for _ in range(depth):
        missing = [v for v in wanted if lookup(v) is None and v.casefold() not in directory.asked]
        if missing:
            for person in fetch_people(client, match_by, missing):
                directory.people[person.id] = person
            directory.asked.update(v.casefold() for v in missing)
        found = [p for v in wanted if (p := lookup(v)) is not None]
        wanted = {p.custom.get(field_name, "").strip() for p in found} - {""}
        if not wanted:
            break
    return directory


@dataclass(frozen=True)
class FollowupNeeds:
    """What the follow-up rule needs from the refresher course this run, decided from
    the ledger so that an unchanged site pays nothing for it: the refresher's
    enrolments only when a completed learner has no settled refresher enrolment yet,
    its grades only while started refreshers have no retention score."""

    settled: frozenset[int] = frozenset()
    retention: bool = False
    #: retention scores recorded by earlier runs (kept in every snapshot)
    known_retention: Mapping[int, float] = field(default_factory=dict)


def fetch_retention(client: MoodleClient, course: Course, quiz_ref: Ref | None) -> dict[int, float]:
    """Each user's result on the refresher's quiz (one call for the whole course)."""
    report = client.call("gradereport_user_get_grade_items", courseid=course.id)
    scores: dict[int, float] = {}
    for usergrade in report.get("usergrades") or []:
        for item in usergrade.get("gradeitems") or []:
            if item.get("itemmodule") != "quiz" or item.get("graderaw") is None:
                continue
            if quiz_ref is not None and quiz_ref not in (item.get("cmid"), item.get("itemname")):
                continue
            top = float(item.get("grademax") or 0) - float(item.get("grademin") or 0)
            if top > 0:
                value = (float(item["graderaw"]) - float(item.get("grademin") or 0)) / top
                scores[int(usergrade["userid"])] = round(value, 4)
    return scores


def _completed(
    uid: int, results: Mapping[int, Any], plan: FetchPlan, cache: Mapping[int, CachedLearner]
) -> bool:
    """Has this learner met every completion criterion (as fetched now, or cached)?"""
    if uid in plan.full:
        completion = results[uid].completion
    elif uid in plan.completion_only:
        completion = results[uid]
    elif uid in cache:
        completion = LearnerData.from_json(cache[uid].data).completion
    else:
        return False
    return completion is not None and completion.completion_time is not None


def uses_plugin(programme: Programme, site: SiteInfo) -> bool:
    """The sign-off channel: the plugin where asked for, or (auto) where installed."""
    cfg = programme.signoff
    if cfg is None or cfg.channel == "completion_report":
        return False
    if cfg.channel == "plugin" and site.plugin_version is None:
        raise ConfigurationError(
            f"{programme.source}: signoff.channel is 'plugin' but local_buyin's functions are "
            "not in the token's service",
            hint="Install local_buyin (see README) or set signoff.channel = 'auto'.",
        )
    return site.plugin_version is not None


def fetch_plugin_signoffs(
    client: MoodleClient, courseid: int, known: Mapping[str, Any] | None
) -> tuple[dict[int, dict[str, Any]], set[int], dict[str, Any]]:
    """The plugin's sign-off requests changed since the last run (one call unless paged).

    Returns every request by learner, the learners whose request changed now, and
    the cache to keep (rows and the time cursor)."""
    rows: dict[int, dict[str, Any]] = {
        int(k): dict(v) for k, v in (known or {}).get("rows", {}).items()
    }
    since = int((known or {}).get("cursor", 0))
    changed: set[int] = set()
    offset = 0
    while True:
        page = client.call(
            "local_buyin_get_signoffs",
            since=since,
            courseid=courseid,
            limitfrom=offset,
            limitnumber=500,
        )
        for row in page.get("signoffs") or []:
            uid = int(row["userid"])
            if rows.get(uid) != row:
                changed.add(uid)
            rows[uid] = dict(row)
        if not page.get("hasmore"):
            break
        offset += len(page.get("signoffs") or []) or 500
    cursor = max([since, *(int(r["timemodified"]) for r in rows.values())])
    return rows, changed, {"rows": {str(k): v for k, v in rows.items()}, "cursor": cursor}


@dataclass
class Pulled:
    snapshot: Snapshot
    rows: list[CachedLearner]
    #: the course structure to cache (course and quiz), refreshed on reconciliation
    structure: dict[str, Any]
    directory: Directory
    #: the plugin's requests to cache (None where the plugin channel is not used)
    plugin: dict[str, Any] | None = None


def pull(
    client: MoodleClient,
    site: SiteInfo,
    programme: Programme,
    cache: Mapping[int, CachedLearner],
    now: int,
    *,
    reconcile: bool,
    force_full: Iterable[int] = (),
    poll_completion: Iterable[int] = (),
    concurrency: int = 4,
    page_size: int = 1000,
    structure: Mapping[str, Any] | None = None,
    directory: Directory | None = None,
    needs: FollowupNeeds | None = None,
    progress: Callable[[int, int], None] | None = None,
    plugin: Mapping[str, Any] | None = None,
) -> Pulled:
    """Fetch one programme: the snapshot, and what to cache for the next run."""
    where = str(programme.source)
    post_ref = programme.insights.get("post_quiz")
    followup = programme.followup
    refs = {
        "course": programme.course,
        "quiz": programme.precheck.quiz if programme.precheck else None,
        "post_quiz": post_ref,
        "refresher": followup.refresher.course if followup and followup.refresher else None,
    }
    # the cached structure serves only while the mapping still names the same things
    cached_ok = bool(structure) and not reconcile and (structure or {}).get("refs") == refs
    if cached_ok and structure and structure.get("course"):
        course = Course(**structure["course"])
        quiz = Quiz(**structure["quiz"]) if structure.get("quiz") else None
        post_quiz = Quiz(**structure["post_quiz"]) if structure.get("post_quiz") else None
        activities = fetch_activities(client, course)
    else:
        course = resolve_course(client, programme.course, where)
        activities = fetch_activities(client, course)
        quiz = None
        if programme.precheck is not None:
            quiz = fetch_quiz(client, course, activities, programme.precheck.quiz, where)
        post_quiz = None
        if post_ref is not None:
            post_quiz = fetch_quiz(client, course, activities, post_ref, where)
    roles: dict[str, int] = {}
    enrolled = fetch_enrolled(client, course.id, page_size, roles)
    active = fetch_active_ids(client, course.id, page_size)
    people = [replace(p, active=p.id in active) for p in enrolled]
    learner_role = resolve_role(programme.learner_role, roles, where)
    learners = [p for p in people if learner_role in p.roles]
    grades = grade_signature(client.call("gradereport_user_get_grade_items", courseid=course.id))
    plugin_rows: dict[int, dict[str, Any]] | None = None
    plugin_cache: dict[str, Any] | None = None
    if uses_plugin(programme, site):
        plugin_rows, decided, plugin_cache = fetch_plugin_signoffs(client, course.id, plugin)
        # a decision changes the learner's course completion: look at it now
        poll_completion = {*poll_completion, *decided}
    plan = decide_fetches(
        learners,
        {p.id: learner_signature(p, grades) for p in learners},
        cache,
        reconcile=reconcile,
        force_full=force_full,
        poll_completion=poll_completion,
    )
    jobs: dict[int, Callable[[], Any]] = {}
    for uid in sorted(plan.full):
        previous = LearnerData.from_json(cache[uid].data) if uid in cache else None
        jobs[uid] = partial(fetch_learner, client, site, course, quiz, uid, previous, post_quiz)
    for uid in sorted(plan.completion_only):
        jobs[uid] = partial(fetch_completion, client, course, uid)
    results = run_concurrently(jobs, concurrency)

    people_directory = Directory()
    if programme.signoff is not None or programme.kickoff is not None:
        signoff = programme.signoff
        field_name = signoff.manager_field if signoff else "manager"
        match_by = signoff.match_by if signoff else "username"
        seeds = [p.custom.get(field_name, "") for p in learners]
        if signoff and signoff.fallback_approver:
            seeds.append(signoff.fallback_approver)
        people_directory = resolve_directory(
            client,
            match_by,
            field_name,
            seeds,
            Directory() if reconcile else (directory or Directory()),
        )
    refresher = None
    refresher_enrolled = None
    retention: dict[int, float] = {}
    if followup is not None and followup.refresher is not None:
        cached = (structure or {}).get("refresher")
        if cached and cached_ok:
            refresher = Course(**cached)
        else:
            refresher = resolve_course(client, followup.refresher.course, where)
        settled = needs.settled if needs is not None else frozenset()
        if any(p.id not in settled and _completed(p.id, results, plan, cache) for p in learners):
            refresher_enrolled = frozenset(
                p.id for p in fetch_enrolled(client, refresher.id, page_size)
            )
        if needs is not None:
            retention = dict(needs.known_retention)
            if needs.retention:
                retention.update(fetch_retention(client, refresher, followup.refresher.quiz))
    log.info(
        "%s: %d enrolled, %d learners, %d fetched in full, %d polled",
        programme.id,
        len(people),
        len(learners),
        len(plan.full),
        len(plan.completion_only),
    )

    snap_learners: dict[int, Learner] = {}
    rows: list[CachedLearner] = []
    for person in learners:
        cached = cache.get(person.id)
        signature = learner_signature(person, grades)
        first_seen = cached.first_seen if cached else now
        if person.id in plan.full:
            data: LearnerData = results[person.id]
            fresh, fetched_at = True, now
        else:
            assert cached is not None
            data = LearnerData.from_json(cached.data)
            fetched_at = cached.fetched_at
            fresh = False
            if person.id in plan.completion_only:
                data = replace(data, completion=results[person.id])
                fresh = True
            signature = cached.signature
        snap_learners[person.id] = Learner(
            person=person, data=data, first_seen=first_seen, fetched_at=fetched_at, fresh=fresh
        )
        rows.append(
            CachedLearner(
                program=programme.id,
                userid=person.id,
                signature=signature,
                # unchanged learners keep their cached JSON (no re-serialising)
                data=data.to_json() if fresh or cached is None else cached.data,
                first_seen=first_seen,
                fetched_at=fetched_at,
                undecided=cached.undecided if cached else None,
            )
        )
    snapshot = Snapshot(
        programme=programme,
        site_url=client.url,
        agent_userid=site.userid,
        taken_at=now,
        course=course,
        activities=activities,
        quiz=quiz,
        post_quiz=post_quiz,
        learners=snap_learners,
        people={p.id: p for p in people},
        roles=roles,
        directory=people_directory.people,
        refresher=refresher,
        refresher_enrolled=refresher_enrolled,
        retention=retention,
        plugin_signoffs=plugin_rows,
    )
    return Pulled(
        snapshot=snapshot,
        rows=rows,
        structure={
            "refs": refs,
            "course": asdict(course),
            "quiz": asdict(quiz) if quiz else None,
            "post_quiz": asdict(post_quiz) if post_quiz else None,
            "refresher": asdict(refresher) if refresher else None,
        },
        directory=people_directory,
        plugin=plugin_cache,
    )
