"""Where a programme's learners are read from: one :class:`CourseSource` per path.

- :class:`CoreSource`: Moodle's own functions (the enrolled users, the active ones,
  the grade report for all users, then per learner who moved their activity
  completion, course completion and attempts; per learner awaiting a sign-off their
  course completion).
- :class:`PluginSource`: local_buyin's ``local_buyin_get_progress`` (everyone on the
  first sync and a reconciliation, else only the users with a change since the last
  read; the others from the roster that read cached).

Both return one :class:`CourseRead`, decoded into the model's types; :func:`pull`
chooses the source once (:func:`choose_source`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

from buyin.model.ledger import CachedLearner
from buyin.model.programme import Programme
from buyin.model.snapshot import Course, CourseCompletion, LearnerData, Person, Quiz
from buyin.moodle.client import MoodleClient
from buyin.moodle.fetch import (
    SiteInfo,
    fetch_active_ids,
    fetch_completion,
    fetch_enrolled,
    fetch_learner,
    fetch_locales,
    resolve_role,
    uses_plugin,
)
from buyin.moodle.parse import grade_signature
from buyin.moodle.pool import run_concurrently
from buyin.moodle.progress import SINCE_MARGIN, ProgressRead, learner_data, read_course


@dataclass(frozen=True)
class Structure:
    """The course as the mapping names it: the course, its activities, its quizzes."""

    course: Course
    activities: tuple[Any, ...]
    quiz: Quiz | None
    post_quiz: Quiz | None
    #: the cached structure served (the mapping still names the same things)
    cached: bool


@dataclass(frozen=True)
class CourseRead:
    """One programme's people and progress as a source read them."""

    #: everyone enrolled (active, enrolment start, language and time zone where known)
    people: list[Person]
    #: role shortname -> id, as seen on the people
    roles: dict[str, int]
    learner_role: int
    #: learners read in full now
    fetched: dict[int, LearnerData] = field(default_factory=dict)
    #: learners whose course completion alone was read now (others may change it)
    polled: dict[int, CourseCompletion] = field(default_factory=dict)
    #: the grade report's signature per learner (core: the change signal)
    grades: dict[int, str] = field(default_factory=dict)
    #: language and time zone asked of Moodle now (core, on a full reconciliation)
    locales: dict[int, dict[str, str]] = field(default_factory=dict)
    #: the plugin's roster to cache for the next read (None on the core path)
    roster: dict[str, Any] | None = None

    @property
    def learners(self) -> list[Person]:
        return [p for p in self.people if self.learner_role in p.roles]


@dataclass(frozen=True)
class SourceInput:
    """What both sources read with: the site, the programme, what earlier runs kept."""

    client: MoodleClient
    site: SiteInfo
    programme: Programme
    #: the learner cache, and its data decoded once
    cache: Mapping[int, CachedLearner]
    known: Mapping[int, LearnerData]
    #: the plugin's progress read last time (its time and roster), from the structure cache
    progress_at: int | None
    roster: Mapping[str, Any] | None
    now: int
    reconcile: bool
    #: the profile field naming each learner's manager, where the programme needs people
    fields: tuple[str, ...]
    #: learners to fetch in full whatever their signature says (actions to verify)
    force_full: frozenset[int]
    #: learners whose sign-off request changed in local_buyin (their completion changed)
    decided: frozenset[int]
    concurrency: int = 4
    page_size: int = 1000
    progress: Callable[[int, int], None] | None = None

    @property
    def where(self) -> str:
        return str(self.programme.source)


class CourseSource(Protocol):
    def read(self, structure: Structure) -> CourseRead: ...


def choose_source(given: SourceInput) -> CourseSource:
    """local_buyin's progress read where the service has it, else Moodle's own functions."""
    return PluginSource(given) if given.site.reads_progress else CoreSource(given)


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


class CoreSource:
    """Moodle's own functions: per learner who moved, their activity completion, course
    completion and attempts; per learner polled, their course completion."""

    def __init__(self, given: SourceInput) -> None:
        self.given = given

    def read(self, structure: Structure) -> CourseRead:
        given, course = self.given, structure.course
        roles: dict[str, int] = {}
        enrolled = fetch_enrolled(given.client, course.id, given.page_size, roles)
        learner_role = resolve_role(given.programme.learner_role, roles, given.where)
        active = fetch_active_ids(given.client, course.id, given.page_size)
        people = [replace(p, active=p.id in active, enrolled_at=None) for p in enrolled]
        locales = self._locales([p.id for p in people if learner_role in p.roles])
        people = [
            replace(p, lang=locales[p.id]["lang"], timezone=locales[p.id]["timezone"])
            if p.id in locales
            else p
            for p in people
        ]
        answer = given.client.call("gradereport_user_get_grade_items", courseid=course.id)
        read = CourseRead(
            people, roles, learner_role, grades=grade_signature(answer), locales=locales
        )
        plan = decide_fetches(
            read.learners,
            {p.id: learner_signature(p, read.grades) for p in read.learners},
            given.cache,
            reconcile=given.reconcile,
            force_full=given.force_full,
            poll_completion=self._awaiting() | given.decided,
        )
        fetched, polled = self._fetch(structure, plan)
        return replace(read, fetched=fetched, polled=polled)

    def _awaiting(self) -> set[int]:
        """Learners awaiting sign-off: others may sign at any time (where local_buyin
        keeps the sign-offs, it reports decisions itself)."""
        if uses_plugin(self.given.programme, self.given.site):
            return set()
        return {
            uid
            for uid, data in self.given.known.items()
            if data.completion is not None and data.completion.awaiting_signoff
        }

    def _locales(self, learner_ids: list[int]) -> dict[int, dict[str, str]]:
        """The learners' language and time zone, asked of Moodle on a full reconciliation
        (the first sync or ``reconcile``), else as the learner cache kept them (a learner
        first seen since then is in UTC until the next reconciliation)."""
        given = self.given
        if given.reconcile or not given.cache:
            return fetch_locales(given.client, learner_ids) if learner_ids else {}
        kept: dict[int, dict[str, str]] = {}
        for uid in learner_ids:
            cached = given.cache.get(uid)
            locale = cached.data.get("locale") if cached else None
            if locale:
                kept[uid] = {"lang": str(locale["lang"]), "timezone": str(locale["timezone"])}
        return kept

    def _fetch(
        self, structure: Structure, plan: FetchPlan
    ) -> tuple[dict[int, LearnerData], dict[int, CourseCompletion]]:
        given, course = self.given, structure.course
        quiz, post_quiz = structure.quiz, structure.post_quiz
        jobs: dict[int, Callable[[], Any]] = {}
        for uid in sorted(plan.full):
            previous = given.known.get(uid)
            jobs[uid] = partial(
                fetch_learner, given.client, given.site, course, quiz, uid, previous, post_quiz
            )
        for uid in sorted(plan.completion_only):
            jobs[uid] = partial(fetch_completion, given.client, course, uid)
        results = run_concurrently(jobs, given.concurrency, given.progress)
        fetched = {uid: results[uid] for uid in plan.full}
        polled = {uid: results[uid] for uid in plan.completion_only}
        return fetched, polled


class PluginSource:
    """local_buyin_get_progress: everyone on the first sync and a reconciliation, else
    only the users with a change since the last read (their own, a decision, our
    writes), the others from the roster that read cached."""

    def __init__(self, given: SourceInput) -> None:
        self.given = given

    def read(self, structure: Structure) -> CourseRead:
        given = self.given
        quizzes = (structure.quiz, structure.post_quiz)
        progress = self._progress(structure)
        learner_role = resolve_role(given.programme.learner_role, progress.roles, given.where)
        ids = {p.id for p in progress.people if learner_role in p.roles}
        if ids - set(given.cache) - set(progress.changed):
            # learners the cache lacks though nothing changed for them: read everyone
            progress = read_course(
                given.client, structure.course.id, quizzes, given.fields, None, 0
            )
            learner_role = resolve_role(given.programme.learner_role, progress.roles, given.where)
        enrolled = progress.people
        ids = {p.id for p in enrolled if learner_role in p.roles}
        fetched = {
            uid: learner_data(
                given.client, item, progress.aggregation, *quizzes, given.known.get(uid)
            )
            for uid, item in progress.changed.items()
            if uid in ids
        }
        active = _active_from(progress.access, enrolled, given.now)
        if active is None:
            active = fetch_active_ids(given.client, structure.course.id, given.page_size)
        # Moodle's own enrolment start (reports' cohorts)
        starts = _enrolled_from(progress.access)
        people = [replace(p, active=p.id in active, enrolled_at=starts.get(p.id)) for p in enrolled]
        roster = {**progress.roster, "fields": list(given.fields)}
        return CourseRead(people, dict(progress.roles), learner_role, fetched, roster=roster)

    def _progress(self, structure: Structure) -> ProgressRead:
        given = self.given
        last, known = given.progress_at, given.roster
        fresh = (
            given.reconcile
            or last is None
            or not known
            or known.get("fields") != list(given.fields)
        )
        since = 0 if fresh else max(0, int(last or 0) - SINCE_MARGIN)
        return read_course(
            given.client,
            structure.course.id,
            (structure.quiz, structure.post_quiz),
            given.fields,
            known,
            since,
        )


def _active_from(access: Mapping[str, Any], people: list[Person], now: int) -> set[int] | None:
    """Who is active now (an enrolment running, the account not suspended), as
    ``onlyactive`` would answer; None where someone's enrolments are not known."""
    active = set()
    for person in people:
        known = access.get(str(person.id))
        if known is None:
            return None
        if not known["suspended"] and any(
            status == 0 and enrolstatus == 0 and start <= now and (not end or end > now)
            for status, enrolstatus, start, end, *_ in known["enrolments"]
        ):
            active.add(person.id)
    return active


def _enrolled_from(access: Mapping[str, Any]) -> dict[int, int]:
    """When each user's enrolment in the course began, as Moodle holds it (its start,
    else when it was made), from local_buyin's progress read; the earliest of several."""
    starts: dict[int, int] = {}
    for uid, known in access.items():
        times = [int(e[2]) or (int(e[4]) if len(e) > 4 else 0) for e in known.get("enrolments", [])]
        times = [t for t in times if t]
        if times:
            starts[int(uid)] = min(times)
    return starts
