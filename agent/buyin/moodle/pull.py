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
always see every learner. Which path reads the learners is a :class:`CourseSource`
(:mod:`buyin.moodle.source`), chosen once; the learner cache is decoded once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from buyin.model.ledger import CachedLearner
from buyin.model.programme import Programme
from buyin.model.snapshot import (
    Course,
    Directory,
    Learner,
    LearnerData,
    Quiz,
    SignoffRow,
    Snapshot,
)
from buyin.moodle.client import MoodleClient
from buyin.moodle.fetch import (
    SiteInfo,
    fetch_activities,
    fetch_enrolled,
    fetch_plugin_signoffs,
    fetch_quiz,
    fetch_retention,
    reads_signoffs_after,
    resolve_course,
    resolve_directory,
    uses_plugin,
)
from buyin.moodle.poll import fetch_poll
from buyin.moodle.progress import SINCE_MARGIN
from buyin.moodle.source import (
    CourseRead,
    SourceInput,
    Structure,
    choose_source,
    learner_signature,
)

log = logging.getLogger("buyin.pull")


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
    #: learners whose course completion to read whatever their signature says (the core
    #: source adds those awaiting sign-off and those local_buyin reports decided)
    poll_completion: frozenset[int] = frozenset()
    needs: FollowupNeeds | None = None
    concurrency: int = 4
    page_size: int = 1000
    progress: Callable[[int, int], None] | None = None


@dataclass(frozen=True)
class Followup:
    """The refresher course, who is enrolled in it (when asked), retention scores."""

    refresher: Course | None = None
    enrolled: frozenset[int] | None = None
    retention: dict[int, float] = field(default_factory=dict)


def pull(
    client: MoodleClient,
    site: SiteInfo,
    programme: Programme,
    cache: PullCache,
    options: PullOptions,
) -> Pulled:
    """Fetch one programme: the snapshot, and what to cache for the next run."""
    known = {uid: LearnerData.from_json(c.data) for uid, c in cache.learners.items()}
    refs = _refs(programme)
    structure = _structure(client, programme, cache, options.reconcile, refs)
    plugin_rows, decided, plugin_cache = _signoffs(
        client, site, programme, structure, cache, options.now
    )
    given = _source_input(client, site, programme, cache, options, known, decided)
    read = choose_source(given).read(structure)
    directory = _directory(client, programme, cache, options.reconcile, read)
    followup = _followup(client, programme, structure, cache, options, read, known)
    poll, poll_structure = None, None
    if programme.poll is not None:
        kept = (cache.structure or {}).get("poll") if structure.cached else None
        poll, poll_structure = fetch_poll(
            client, programme.poll, options.page_size, str(programme.source), kept
        )
    learners, rows = _learners(programme, read, cache, known, options.now)
    log.info(
        "%s: %d enrolled, %d learners, %d fetched in full, %d polled",
        programme.id,
        len(read.people),
        len(learners),
        len(read.fetched),
        len(read.polled),
    )
    snapshot = Snapshot(
        programme=programme,
        site_url=client.url,
        agent_userid=site.userid,
        taken_at=options.now,
        course=structure.course,
        activities=structure.activities,
        quiz=structure.quiz,
        post_quiz=structure.post_quiz,
        learners=learners,
        people={p.id: p for p in read.people},
        roles=read.roles,
        directory=directory.people,
        refresher=followup.refresher,
        refresher_enrolled=followup.enrolled,
        retention=followup.retention,
        plugin_signoffs=plugin_rows,
        poll=poll,
    )
    return Pulled(
        snapshot=snapshot,
        rows=rows,
        structure=_to_cache(refs, structure, followup.refresher, poll_structure, read, options),
        directory=directory,
        plugin=plugin_cache,
    )


def _signoffs(
    client: MoodleClient,
    site: SiteInfo,
    programme: Programme,
    structure: Structure,
    cache: PullCache,
    now: int,
) -> tuple[dict[int, SignoffRow] | None, set[int], dict[str, Any] | None]:
    """local_buyin's sign-off requests (every row, those changed now, the cache to keep),
    where the plugin keeps the programme's sign-offs; after the last row read where the
    plugin reads after a position (0.4.0), rows SINCE_MARGIN old counting as settled."""
    if not uses_plugin(programme, site):
        return None, set(), None
    return fetch_plugin_signoffs(
        client,
        structure.course.id,
        cache.plugin,
        settled_before=now - SINCE_MARGIN if reads_signoffs_after(site) else None,
    )


def _refs(programme: Programme) -> dict[str, Any]:
    """What the mapping names (the cached structure serves while it names the same)."""
    followup = programme.followup
    return {
        "course": programme.course,
        "quiz": programme.precheck.quiz if programme.precheck else None,
        "post_quiz": programme.insights.get("post_quiz"),
        "refresher": followup.refresher.course if followup and followup.refresher else None,
        "poll": programme.raw.get("poll"),
    }


def _structure(
    client: MoodleClient,
    programme: Programme,
    cache: PullCache,
    reconcile: bool,
    refs: Mapping[str, Any],
) -> Structure:
    """The course, its activities (every run) and quizzes, from the cache while the
    mapping still names the same things and no reconciliation is due."""
    kept = cache.structure
    cached = bool(kept) and not reconcile and (kept or {}).get("refs") == refs
    if cached and kept and kept.get("course"):
        course = Course(**kept["course"])
        quiz = Quiz(**kept["quiz"]) if kept.get("quiz") else None
        post_quiz = Quiz(**kept["post_quiz"]) if kept.get("post_quiz") else None
        return Structure(course, fetch_activities(client, course), quiz, post_quiz, cached)
    where = str(programme.source)
    course = resolve_course(client, programme.course, where)
    activities = fetch_activities(client, course)
    quiz = None
    if programme.precheck is not None:
        quiz = fetch_quiz(client, course, activities, programme.precheck.quiz, where)
    post_quiz = None
    if (post_ref := refs["post_quiz"]) is not None:
        post_quiz = fetch_quiz(client, course, activities, post_ref, where)
    return Structure(course, activities, quiz, post_quiz, cached)


def _people_field(programme: Programme) -> tuple[str, bool]:
    """The profile field naming a learner's manager, and whether the programme needs
    people beyond the learners (sign-off, kickoff, poll)."""
    signoff = programme.signoff
    field_name = signoff.manager_field if signoff else "manager"
    wants = signoff is not None or programme.kickoff is not None or bool(programme.poll)
    return field_name, wants


def _source_input(
    client: MoodleClient,
    site: SiteInfo,
    programme: Programme,
    cache: PullCache,
    options: PullOptions,
    known: Mapping[int, LearnerData],
    decided: set[int],
) -> SourceInput:
    field_name, wants_directory = _people_field(programme)
    kept = cache.structure or {}
    return SourceInput(
        client=client,
        site=site,
        programme=programme,
        cache=cache.learners,
        known=known,
        progress_at=kept.get("progress_at"),
        roster=kept.get("roster"),
        now=options.now,
        reconcile=options.reconcile,
        fields=(field_name,) if wants_directory else (),
        force_full=options.force_full,
        # a decision changes the learner's course completion: look at it now
        decided=frozenset(decided) | options.poll_completion,
        concurrency=options.concurrency,
        page_size=options.page_size,
        progress=options.progress,
    )


def _directory(
    client: MoodleClient, programme: Programme, cache: PullCache, reconcile: bool, read: CourseRead
) -> Directory:
    """The managers and approvers the programme names, looked up (cached between runs)."""
    field_name, wants = _people_field(programme)
    if not wants:
        return Directory()
    signoff = programme.signoff
    seeds = [p.custom.get(field_name, "") for p in read.learners]
    if signoff and signoff.fallback_approver:
        seeds.append(signoff.fallback_approver)
    return resolve_directory(
        client,
        signoff.match_by if signoff else "username",
        field_name,
        seeds,
        Directory() if reconcile else (cache.directory or Directory()),
        # with local_buyin the enrolled come with their suspension: no need to ask again
        enrolled=read.people if read.roster is not None else (),
    )


def _followup(
    client: MoodleClient,
    programme: Programme,
    structure: Structure,
    cache: PullCache,
    options: PullOptions,
    read: CourseRead,
    known: Mapping[int, LearnerData],
) -> Followup:
    """The refresher course; its enrolments only when a completed learner has no settled
    refresher enrolment yet, its grades only while started refreshers have no score."""
    followup = programme.followup
    if followup is None or followup.refresher is None:
        return Followup()
    kept = (cache.structure or {}).get("refresher")
    if kept and structure.cached:
        refresher = Course(**kept)
    else:
        refresher = resolve_course(client, followup.refresher.course, str(programme.source))
    needs = options.needs
    settled = needs.settled if needs is not None else frozenset()
    enrolled = None
    if any(p.id not in settled and _completed(p.id, read, known) for p in read.learners):
        enrolled = frozenset(p.id for p in fetch_enrolled(client, refresher.id, options.page_size))
    retention: dict[int, float] = {}
    if needs is not None:
        retention = dict(needs.known_retention)
        if needs.retention:
            retention.update(fetch_retention(client, refresher, followup.refresher.quiz))
    return Followup(refresher, enrolled, retention)


def _completed(uid: int, read: CourseRead, known: Mapping[int, LearnerData]) -> bool:
    """Has this learner met every completion criterion (as read now, or cached)?"""
    if uid in read.fetched:
        completion = read.fetched[uid].completion
    elif uid in read.polled:
        completion = read.polled[uid]
    elif uid in known:
        completion = known[uid].completion
    else:
        return False
    return completion is not None and completion.completion_time is not None


def _learners(
    programme: Programme,
    read: CourseRead,
    cache: PullCache,
    known: Mapping[int, LearnerData],
    now: int,
) -> tuple[dict[int, Learner], list[CachedLearner]]:
    """Every learner for the rules (read now, or as the cache kept them), and the cache
    rows to save (unchanged learners keep their cached JSON: no re-serialising)."""
    learners: dict[int, Learner] = {}
    rows: list[CachedLearner] = []
    for person in read.learners:
        cached = cache.learners.get(person.id)
        signature = learner_signature(person, read.grades)
        first_seen = cached.first_seen if cached else now
        if person.id in read.fetched:
            data, fresh, fetched_at = read.fetched[person.id], True, now
        else:
            assert cached is not None
            data, fresh, fetched_at = known[person.id], False, cached.fetched_at
            if person.id in read.polled:
                data, fresh = replace(data, completion=read.polled[person.id]), True
            signature = cached.signature
        learners[person.id] = Learner(
            person=person, data=data, first_seen=first_seen, fetched_at=fetched_at, fresh=fresh
        )
        rows.append(
            CachedLearner(
                program=programme.id,
                userid=person.id,
                signature=signature,
                data=_with_locale(data.to_json(), read.locales.get(person.id))
                if fresh or cached is None
                else cached.data,
                first_seen=first_seen,
                fetched_at=fetched_at,
                undecided=cached.undecided if cached else None,
            )
        )
    return learners, rows


def _with_locale(data: dict[str, Any], locale: Mapping[str, str] | None) -> dict[str, Any]:
    """A learner's cached JSON, with their language and time zone where known."""
    return {**data, "locale": dict(locale)} if locale else data


def _to_cache(
    refs: Mapping[str, Any],
    structure: Structure,
    refresher: Course | None,
    poll: dict[str, Any] | None,
    read: CourseRead,
    options: PullOptions,
) -> dict[str, Any]:
    """The course structure to cache (course and quiz), refreshed on reconciliation."""
    quiz, post_quiz = structure.quiz, structure.post_quiz
    return {
        "refs": dict(refs),
        "course": asdict(structure.course),
        "quiz": asdict(quiz) if quiz else None,
        "post_quiz": asdict(post_quiz) if post_quiz else None,
        "refresher": asdict(refresher) if refresher else None,
        "poll": poll,
        # when local_buyin_get_progress last read this course (the next "since")
        "progress_at": options.now if read.roster is not None else None,
        "roster": read.roster,
    }
