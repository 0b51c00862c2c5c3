"""The snapshot: a typed, read-only picture of one programme, pulled from Moodle.

Cost model (web-service round trips are what a run pays for):

- per programme, every run: the course (1), its contents (1), its quizzes (1),
  the enrolled users with ``lastcourseaccess`` and profile fields (1 per page),
  the course's grade report for all users (1);
- per learner who *moved* (new, opened the course, submitted a quiz, has a
  planned action to verify) or on a full reconciliation: activity completion
  (1), course completion (1), quiz attempts (1), and a review per new finished
  attempt only where the quiz has no grade items;
- on a full reconciliation (the first sync too): the learners' language and time zone,
  1 per 100 learners (kept in the learner cache);
- per learner whose course completion others can change without the learner
  moving (awaiting sign-off): course completion (1).

Where local_buyin 0.2.0 is installed (``local_buyin_get_progress`` in the service),
the per-learner calls, the grade report and the enrolled users give way to one
progress call per page of 1,000 learners: everyone on the first sync and a
reconciliation, else only the users with a change since the last read, the others
from the roster that read cached (read in full again when the enrolled count says
someone left). The managers enrolled in the course come with it (their suspension
too), so only managers who are not enrolled are looked up.

Everything else comes from the learner cache in the state database, so the rules
always see every learner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import Any

from buyin.model.ledger import CachedLearner
from buyin.model.programme import Programme
from buyin.model.snapshot import (
    Course,
    Directory,
    Learner,
    LearnerData,
    Person,
    Quiz,
    SignoffRow,
    Snapshot,
)
from buyin.moodle.client import MoodleClient
from buyin.moodle.fetch import (
    SiteInfo,
    fetch_active_ids,
    fetch_activities,
    fetch_completion,
    fetch_enrolled,
    fetch_learner,
    fetch_locales,
    fetch_plugin_signoffs,
    fetch_quiz,
    fetch_retention,
    reads_signoffs_after,
    resolve_course,
    resolve_directory,
    resolve_role,
    uses_plugin,
)
from buyin.moodle.parse import grade_signature
from buyin.moodle.poll import fetch_poll
from buyin.moodle.pool import run_concurrently
from buyin.moodle.progress import SINCE_MARGIN, CourseRead, learner_data, read_course

log = logging.getLogger("buyin.pull")


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


@dataclass
class Pulled:
    snapshot: Snapshot
    rows: list[CachedLearner]
    #: the course structure to cache (course and quiz), refreshed on reconciliation
    structure: dict[str, Any]
    directory: Directory
    #: the plugin's requests to cache (None where the plugin channel is not used)
    plugin: dict[str, Any] | None = None


@dataclass(frozen=True)
class PullCache:
    """What earlier runs kept, so an unchanged site costs a handful of calls."""

    learners: Mapping[int, CachedLearner] = field(default_factory=dict)
    #: the course structure (course, quizzes, refresher) and the references it was read for
    structure: Mapping[str, Any] | None = None
    directory: Directory | None = None
    #: the plugin's sign-off rows and their time cursor
    plugin: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class PullOptions:
    now: int
    #: fetch everyone in full and refresh the structure and the directory
    reconcile: bool = False
    #: learners to fetch in full whatever their signature says (actions to verify)
    force_full: frozenset[int] = frozenset()
    #: learners whose course completion others may change (awaiting sign-off)
    poll_completion: frozenset[int] = frozenset()
    needs: FollowupNeeds | None = None
    concurrency: int = 4
    page_size: int = 1000
    progress: Callable[[int, int], None] | None = None


def _fetch_each(
    client: MoodleClient,
    site: SiteInfo,
    course: Course,
    quiz: Quiz | None,
    post_quiz: Quiz | None,
    learners: list[Person],
    grades: Mapping[int, str],
    cache: PullCache,
    options: PullOptions,
    poll_completion: set[int],
) -> tuple[FetchPlan, dict[int, Any]]:
    """The core path: per learner who moved, their activity completion, course
    completion and attempts; per learner polled, their course completion."""
    plan = decide_fetches(
        learners,
        {p.id: learner_signature(p, grades) for p in learners},
        cache.learners,
        reconcile=options.reconcile,
        force_full=options.force_full,
        poll_completion=poll_completion,
    )
    jobs: dict[int, Callable[[], Any]] = {}
    for uid in sorted(plan.full):
        previous = (
            LearnerData.from_json(cache.learners[uid].data) if uid in cache.learners else None
        )
        jobs[uid] = partial(fetch_learner, client, site, course, quiz, uid, previous, post_quiz)
    for uid in sorted(plan.completion_only):
        jobs[uid] = partial(fetch_completion, client, course, uid)
    return plan, run_concurrently(jobs, options.concurrency, options.progress)


def _read_progress(
    client: MoodleClient,
    course: Course,
    quizzes: tuple[Quiz | None, Quiz | None],
    profilefields: tuple[str, ...],
    cache: PullCache,
    reconcile: bool,
) -> CourseRead:
    """The plugin path: everyone on the first sync and a reconciliation, else only the
    users with a change since the last read (their own, a decision, our writes), the
    others from the roster that read cached."""
    structure = cache.structure or {}
    last = structure.get("progress_at")
    known = structure.get("roster")
    fresh = reconcile or last is None or not known or known.get("fields") != list(profilefields)
    since = 0 if fresh else max(0, int(last or 0) - SINCE_MARGIN)
    return read_course(client, course.id, quizzes, profilefields, known, since)


def _progress_results(
    client: MoodleClient,
    read: CourseRead,
    quizzes: tuple[Quiz | None, Quiz | None],
    learner_ids: set[int],
    cache: PullCache,
) -> tuple[FetchPlan, dict[int, Any]]:
    """The learners read now (as a plan of full fetches) and their data."""
    quiz, post_quiz = quizzes
    results: dict[int, Any] = {}
    for uid, item in read.changed.items():
        if uid in learner_ids:
            cached = cache.learners.get(uid)
            previous = LearnerData.from_json(cached.data) if cached else None
            results[uid] = learner_data(client, item, read.aggregation, quiz, post_quiz, previous)
    return FetchPlan(full=set(results)), results


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


def _learner_locales(
    client: MoodleClient, learner_ids: list[int], cache: PullCache, reconcile: bool
) -> dict[int, dict[str, str]]:
    """The learners' language and time zone on the core path: asked of Moodle on a full
    reconciliation (the first sync or ``reconcile``), else as the learner cache kept them
    (a learner first seen since then is in UTC until the next reconciliation)."""
    if reconcile or not cache.learners:
        return fetch_locales(client, learner_ids) if learner_ids else {}
    kept: dict[int, dict[str, str]] = {}
    for uid in learner_ids:
        cached = cache.learners.get(uid)
        locale = cached.data.get("locale") if cached else None
        if locale:
            kept[uid] = {"lang": str(locale["lang"]), "timezone": str(locale["timezone"])}
    return kept


def _with_locale(data: dict[str, Any], locale: Mapping[str, str] | None) -> dict[str, Any]:
    """A learner's cached JSON, with their language and time zone where known."""
    return {**data, "locale": dict(locale)} if locale else data


def pull(
    client: MoodleClient,
    site: SiteInfo,
    programme: Programme,
    cache: PullCache,
    options: PullOptions,
) -> Pulled:
    """Fetch one programme: the snapshot, and what to cache for the next run."""
    now = options.now
    reconcile = options.reconcile
    page_size = options.page_size
    structure = cache.structure
    poll_completion: set[int] = set(options.poll_completion)
    where = str(programme.source)
    post_ref = programme.insights.get("post_quiz")
    followup = programme.followup
    refs = {
        "course": programme.course,
        "quiz": programme.precheck.quiz if programme.precheck else None,
        "post_quiz": post_ref,
        "refresher": followup.refresher.course if followup and followup.refresher else None,
        "poll": programme.raw.get("poll"),
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
    signoff = programme.signoff
    field_name = signoff.manager_field if signoff else "manager"
    wants_directory = signoff is not None or programme.kickoff is not None or bool(programme.poll)
    roles: dict[str, int] = {}
    active: set[int] | None = None
    plan, results = FetchPlan(), dict[int, Any]()
    read: CourseRead | None = None
    if site.reads_progress:
        read_fields = (field_name,) if wants_directory else ()
        read = _read_progress(client, course, (quiz, post_quiz), read_fields, cache, reconcile)
        learner_role = resolve_role(programme.learner_role, read.roles, where)
        learner_ids = {p.id for p in read.people if learner_role in p.roles}
        if learner_ids - set(cache.learners) - set(read.changed):
            # learners the cache lacks though nothing changed for them: read everyone
            read = read_course(client, course.id, (quiz, post_quiz), read_fields, None, 0)
            learner_role = resolve_role(programme.learner_role, read.roles, where)
        enrolled, roles = read.people, dict(read.roles)
        plan, results = _progress_results(
            client,
            read,
            (quiz, post_quiz),
            {p.id for p in enrolled if learner_role in p.roles},
            cache,
        )
        active = _active_from(read.access, enrolled, now)
    else:
        enrolled = fetch_enrolled(client, course.id, page_size, roles)
        learner_role = resolve_role(programme.learner_role, roles, where)
    if active is None:
        active = fetch_active_ids(client, course.id, page_size)
    # where local_buyin reads progress, Moodle's own enrolment start (reports' cohorts)
    starts = _enrolled_from(read.access) if read is not None else {}
    people = [replace(p, active=p.id in active, enrolled_at=starts.get(p.id)) for p in enrolled]
    locales: dict[int, dict[str, str]] = {}
    if read is None:
        # core: learners' language and time zone, asked on a full reconciliation only
        # (local_buyin's progress read brings them), kept in the learner cache between runs
        locales = _learner_locales(
            client, [p.id for p in people if learner_role in p.roles], cache, reconcile
        )
        people = [
            replace(p, lang=locales[p.id]["lang"], timezone=locales[p.id]["timezone"])
            if p.id in locales
            else p
            for p in people
        ]
    learners = [p for p in people if learner_role in p.roles]
    # with local_buyin's progress read, its "since" is the change signal: no grade report
    grades = (
        {}
        if site.reads_progress
        else grade_signature(client.call("gradereport_user_get_grade_items", courseid=course.id))
    )
    plugin_rows: dict[int, SignoffRow] | None = None
    plugin_cache: dict[str, Any] | None = None
    if uses_plugin(programme, site):
        plugin_rows, decided, plugin_cache = fetch_plugin_signoffs(
            client,
            course.id,
            cache.plugin,
            settled_before=now - SINCE_MARGIN if reads_signoffs_after(site) else None,
        )
        # a decision changes the learner's course completion: look at it now
        poll_completion |= decided
    if not site.reads_progress:
        plan, results = _fetch_each(
            client, site, course, quiz, post_quiz, learners, grades, cache, options, poll_completion
        )
    people_directory = Directory()
    if wants_directory:
        match_by = signoff.match_by if signoff else "username"
        seeds = [p.custom.get(field_name, "") for p in learners]
        if signoff and signoff.fallback_approver:
            seeds.append(signoff.fallback_approver)
        people_directory = resolve_directory(
            client,
            match_by,
            field_name,
            seeds,
            Directory() if reconcile else (cache.directory or Directory()),
            # with local_buyin the enrolled come with their suspension: no need to ask again
            enrolled=people if read is not None else (),
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
        needs = options.needs
        settled = needs.settled if needs is not None else frozenset()
        if any(
            p.id not in settled and _completed(p.id, results, plan, cache.learners)
            for p in learners
        ):
            refresher_enrolled = frozenset(
                p.id for p in fetch_enrolled(client, refresher.id, page_size)
            )
        if needs is not None:
            retention = dict(needs.known_retention)
            if needs.retention:
                retention.update(fetch_retention(client, refresher, followup.refresher.quiz))
    poll = None
    poll_structure = None
    if programme.poll is not None:
        known = (structure or {}).get("poll") if cached_ok else None
        poll, poll_structure = fetch_poll(client, programme.poll, page_size, where, known)
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
        cached = cache.learners.get(person.id)
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
                data=_with_locale(data.to_json(), locales.get(person.id))
                if fresh or cached is None
                else cached.data,
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
        poll=poll,
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
            "poll": poll_structure,
            # when local_buyin_get_progress last read this course (the next "since")
            "progress_at": now if site.reads_progress else None,
            "roster": None
            if read is None
            else {**read.roster, "fields": [field_name] if wants_directory else []},
        },
        directory=people_directory,
        plugin=plugin_cache,
    )
