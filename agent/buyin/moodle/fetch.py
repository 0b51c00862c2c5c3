"""Fetching from Moodle: one function per question the agent asks, and one pager.

Each returns the model (parsed by :mod:`buyin.moodle.parse`); the call counts are
what a run pays for (see :mod:`buyin.moodle.pull`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from buyin.errors import ConfigurationError
from buyin.model.programme import Programme, Ref
from buyin.model.snapshot import (
    Activity,
    Attempt,
    Course,
    CourseCompletion,
    Directory,
    LearnerData,
    Mark,
    Person,
    Quiz,
    SignoffRow,
)
from buyin.moodle.client import MoodleClient
from buyin.moodle.parse import (
    parse_activities,
    parse_activity_states,
    parse_attempt,
    parse_course,
    parse_course_completion,
    parse_person,
    parse_quiz,
    parse_retention,
    parse_signoff_row,
    parse_slot_marks,
)

USER_FIELDS = "id,username,firstname,lastname,fullname,email,idnumber,lastcourseaccess,customfields,groups,roles"

#: the local_buyin plugin's functions the sign-off channel uses
PLUGIN_FUNCTIONS = ("local_buyin_request_signoffs", "local_buyin_get_signoffs")
PLUGIN_PAGE = 500
#: local_buyin 0.2.0's course-wide reads and bulk writes (issue #12)
PROGRESS_FUNCTION = "local_buyin_get_progress"
BULK_OVERRIDE_FUNCTION = "local_buyin_complete_activities"
#: the figures of the plugin's My team and My results pages (issue #13)
FIGURES_FUNCTION = "local_buyin_save_figures"

T = TypeVar("T")


def paginate(
    fetch_page: Callable[[int], tuple[list[T], bool | None]], page_size: int
) -> Iterator[list[T]]:
    """Every page of a paged function, from offset 0.

    ``fetch_page(offset)`` returns the page's items and whether more follow
    (``None`` where the function does not say: then a short page is the last).
    """
    offset = 0
    while True:
        items, more = fetch_page(offset)
        yield items
        if (more is None and len(items) < page_size) or more is False:
            return
        offset += len(items) or page_size


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
    def reads_progress(self) -> bool:
        """local_buyin_get_progress is in the service: one call per page of learners."""
        return PROGRESS_FUNCTION in self.functions

    @property
    def saves_figures(self) -> bool:
        """local_buyin's pages are there to be fed after each sync."""
        return FIGURES_FUNCTION in self.functions

    @property
    def bulk_overrides(self) -> bool:
        """local_buyin_complete_activities is in the service: overrides in batches."""
        return BULK_OVERRIDE_FUNCTION in self.functions

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
    return parse_course(courses[0], client.url)


def fetch_activities(client: MoodleClient, course: Course) -> tuple[Activity, ...]:
    sections = client.call(
        "core_course_get_contents",
        courseid=course.id,
        options=[{"name": "excludecontents", "value": True}],
    )
    return parse_activities(sections, client.url)


def fetch_quiz(
    client: MoodleClient, course: Course, activities: Iterable[Activity], ref: Ref, where: str
) -> Quiz:
    answer = client.call("mod_quiz_get_quizzes_by_courses", courseids=[course.id])
    quizzes = answer.get("quizzes") or []
    for q in quizzes:
        if ref in (int(q["coursemodule"]), str(q.get("name"))) or (
            isinstance(ref, str) and ref.casefold() == str(q.get("name", "")).casefold()
        ):
            return parse_quiz(q, client.url)
    names = ", ".join(f"{q['coursemodule']} ({q.get('name')})" for q in quizzes) or "none"
    raise ConfigurationError(
        f"{where}: quiz {ref!r} is not a quiz of course {course.shortname} (id {course.id})",
        hint=f"Use the quiz's course module id or name; the course's quizzes: {names}.",
    )


def enrolled_pages(
    client: MoodleClient, courseid: int, page_size: int, options: list[dict[str, Any]]
) -> Iterator[list[dict[str, Any]]]:
    """core_enrol_get_enrolled_users page by page (limitfrom/limitnumber)."""

    def page(offset: int) -> tuple[list[dict[str, Any]], bool | None]:
        answer = client.call(
            "core_enrol_get_enrolled_users",
            courseid=courseid,
            options=[
                *options,
                {"name": "limitfrom", "value": offset},
                {"name": "limitnumber", "value": page_size},
            ],
        )
        return list(answer), None

    return paginate(page, page_size)


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
    return complete_attempts(
        client, [parse_attempt(item) for item in raw.get("attempts") or []], previous
    )


def complete_attempts(
    client: MoodleClient, attempts: Iterable[Attempt], previous: tuple[Attempt, ...]
) -> tuple[Attempt, ...]:
    """The attempts in order, each finished one without grade-item marks given its
    per-slot marks (kept from before, else reviewed: one call per new attempt)."""
    known = {a.id: a for a in previous}
    parsed = []
    for attempt in attempts:
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


def fetch_locales(client: MoodleClient, userids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Each user's language and time zone (``lang``, ``timezone``: "99" for the site's
    default), which core_enrol_get_enrolled_users does not give: 100 users a call."""
    wanted = sorted(set(userids))
    locales: dict[int, dict[str, str]] = {}
    for start in range(0, len(wanted), 100):
        answer = client.call(
            "core_user_get_users_by_field",
            field="id",
            values=[str(i) for i in wanted[start : start + 100]],
        )
        for user in answer:
            locales[int(user["id"])] = {
                "lang": str(user.get("lang") or ""),
                "timezone": str(user.get("timezone") or ""),
            }
    return locales


def resolve_directory(
    client: MoodleClient,
    match_by: str,
    field_name: str,
    seeds: Iterable[str],
    known: Directory,
    *,
    depth: int = 3,
    enrolled: Iterable[Person] = (),
) -> Directory:
    """Look up the people the seeds name, then the people *they* name (managers'
    managers), ``depth`` levels up. ``known`` (the cache) is reused and extended;
    ``enrolled`` (people whose suspension is known) are taken as found before asking."""
    directory = Directory(dict(known.people), set(known.asked))
    nearby = {str(getattr(p, match_by)).strip().casefold(): p for p in enrolled}

    def key_of(person: Person) -> str:
        return str(getattr(person, match_by)).casefold()

    # the reference -> the first person holding it: one map, kept as people are added
    index: dict[str, int] = {}
    for each in directory.people.values():
        index.setdefault(key_of(each), each.id)

    def add(person: Person) -> None:
        directory.people[person.id] = person
        index.setdefault(key_of(person), person.id)

    def lookup(value: str) -> Person | None:
        key = value.strip().casefold()
        pid = index.get(key)
        if pid is not None and key_of(directory.people[pid]) == key:
            return directory.people[pid]
        if pid is None:
            return None
        # the person indexed was replaced by one with another reference: ask them all
        return next((p for p in directory.people.values() if key_of(p) == key), None)

    wanted = {v.strip() for v in seeds if v and v.strip()}
    for _ in range(depth):
        for value in wanted:
            person = nearby.get(value.casefold())
            if person is not None and lookup(value) is None:
                add(person)
        missing = [v for v in wanted if lookup(v) is None and v.casefold() not in directory.asked]
        if missing:
            for person in fetch_people(client, match_by, missing):
                add(person)
            directory.asked.update(v.casefold() for v in missing)
        found = [p for v in wanted if (p := lookup(v)) is not None]
        wanted = {p.custom.get(field_name, "").strip() for p in found} - {""}
        if not wanted:
            break
    return directory


def fetch_retention(client: MoodleClient, course: Course, quiz_ref: Ref | None) -> dict[int, float]:
    """Each user's result on the refresher's quiz (one call for the whole course)."""
    report = client.call("gradereport_user_get_grade_items", courseid=course.id)
    return parse_retention(report, quiz_ref)


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


#: local_buyin's first version whose get_signoffs reads after a (time, id) position
KEYSET_SIGNOFFS = 2026120402


def reads_signoffs_after(site: SiteInfo) -> bool:
    """local_buyin_get_signoffs takes ``afterid``: a cursor that never reads a row twice."""
    version = site.versions.get("local_buyin_get_signoffs", "")
    return version.isdigit() and int(version) >= KEYSET_SIGNOFFS


def fetch_plugin_signoffs(
    client: MoodleClient,
    courseid: int,
    known: Mapping[str, Any] | None,
    *,
    settled_before: int | None = None,
) -> tuple[dict[int, SignoffRow], set[int], dict[str, Any]]:
    """The plugin's sign-off requests changed since the last run (one call unless paged).

    Returns every request by learner, the learners whose request changed now, and
    the cache to keep (rows and the cursor). With ``settled_before`` (the plugin reads
    after a position: :func:`reads_signoffs_after`) the cursor is the newest row read
    that changed at or before that time, (timemodified, id), and the next read starts
    after it: nothing is read twice (a row changed later in the same second as a read
    is newer than ``settled_before``, so still read again). Without it the cursor is
    the newest time, read again inclusively (older plugins)."""
    rows: dict[int, SignoffRow] = {
        int(k): SignoffRow.from_json(v) for k, v in (known or {}).get("rows", {}).items()
    }
    since = int((known or {}).get("cursor", 0))
    after = int((known or {}).get("after", 0)) if settled_before is not None else 0
    changed: set[int] = set()
    position: dict[str, Any] = {"afterid": after} if settled_before is not None else {}

    def page(offset: int) -> tuple[list[dict[str, Any]], bool | None]:
        answer = client.call(
            "local_buyin_get_signoffs",
            since=since,
            courseid=courseid,
            limitfrom=offset,
            limitnumber=PLUGIN_PAGE,
            **position,
        )
        return list(answer.get("signoffs") or []), bool(answer.get("hasmore"))

    for items in paginate(page, PLUGIN_PAGE):
        for raw in items:
            row = parse_signoff_row(raw)
            if rows.get(row.userid) != row:
                changed.add(row.userid)
            rows[row.userid] = row
    kept: dict[str, Any] = {"rows": {str(k): v.to_json() for k, v in rows.items()}}
    if settled_before is None:
        kept["cursor"] = max([since, *(r.timemodified for r in rows.values())])
    else:
        settled = [
            (r.timemodified, r.id) for r in rows.values() if r.timemodified <= settled_before
        ]
        kept["cursor"], kept["after"] = max([(since, after), *settled])
    return rows, changed, kept
