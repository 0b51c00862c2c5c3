"""Progress through local_buyin_get_progress: one call per page of learners instead
of three or more core calls per learner (issue #12).

The plugin's learner is turned into the core answers' shapes and read by the same
parsers, so a learner's :class:`LearnerData` is the same whichever path read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from buyin.model.snapshot import (
    Attempt,
    LearnerData,
    Person,
    Quiz,
    person_from_json,
    person_to_json,
)
from buyin.moodle.client import MoodleClient
from buyin.moodle.fetch import PROGRESS_FUNCTION, complete_attempts
from buyin.moodle.parse import (
    parse_activity_states,
    parse_attempt,
    parse_course_completion,
    parse_person,
)

#: learners per local_buyin_get_progress page (the plugin allows up to 1,000)
PROGRESS_PAGE = 1000
#: a steady run re-reads what changed since a little before the last read, so a
#: change made while it ran (or a clock apart by minutes) is not missed
SINCE_MARGIN = 300

#: the "details.type" core gives each criterion type (Moodle's English strings)
_CRITERION_KINDS = {4: "Activity completion", 7: "Manual completion by others"}


@dataclass(frozen=True)
class ProgressPages:
    """Every page of one local_buyin_get_progress read."""

    aggregation: int
    #: users with an enrolment in the course, whatever ``since``
    enrolled: int
    learners: list[dict[str, Any]]


def fetch_progress(
    client: MoodleClient,
    courseid: int,
    quizzes: Iterable[Quiz | None],
    since: int,
    page_size: int,
    profilefields: Iterable[str] = (),
) -> ProgressPages:
    """The course's completion aggregation and its learners (only those changed at or
    after ``since`` unless it is 0), every page."""
    quizids = sorted({q.id for q in quizzes if q is not None})
    fields = sorted(set(profilefields))
    learners: list[dict[str, Any]] = []
    cursor = 0
    while True:
        page = client.call(
            PROGRESS_FUNCTION,
            courseid=courseid,
            quizids=quizids,
            since=since,
            cursor=cursor,
            limit=page_size,
            profilefields=fields,
        )
        learners += page.get("learners") or []
        cursor = int(page.get("nextcursor") or 0)
        if not cursor:
            return ProgressPages(
                int(page.get("aggregation") or 1), int(page.get("enrolled") or 0), learners
            )


@dataclass(frozen=True)
class ProgressRead:
    """Who is enrolled and who changed, from local_buyin_get_progress alone (no
    core_enrol_get_enrolled_users): what :func:`read_course` returns."""

    aggregation: int
    #: everyone enrolled, as core_enrol_get_enrolled_users would list them
    people: list[Person]
    #: role shortname -> id, as seen on the people
    roles: dict[str, int]
    #: the users read now (everyone on a full read, else those changed since), raw
    changed: dict[int, dict[str, Any]]
    #: the roster to cache: user id -> person and enrolments
    roster: dict[str, Any]
    #: everyone's enrolments and suspension (``_active_from`` in pull)
    access: dict[str, Any]
    full: bool


def _access(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "suspended": bool(item.get("suspended")),
        "enrolments": [
            [e["status"], e["enrolstatus"], e["timestart"], e["timeend"], e["timecreated"]]
            for e in item.get("enrolments") or []
        ],
    }


def read_course(
    client: MoodleClient,
    courseid: int,
    quizzes: Iterable[Quiz | None],
    profilefields: Iterable[str],
    known: Mapping[str, Any] | None,
    since: int,
) -> ProgressRead:
    """Everyone enrolled with what changed: with ``known`` (the roster cached by the last
    read) and ``since`` > 0, only the users changed since; everyone again (since 0) when
    there is no roster or the count of enrolled users says someone left since."""
    quizzes = tuple(quizzes)
    fields = tuple(profilefields)
    roster: dict[str, Any] = dict((known or {}).get("people") or {}) if since > 0 else {}
    roles: dict[str, int] = dict((known or {}).get("roles") or {}) if since > 0 else {}
    pages = fetch_progress(client, courseid, quizzes, since if roster else 0, PROGRESS_PAGE, fields)
    full = not roster
    if roster:
        merged = roster | {str(int(i["userid"])): i for i in pages.learners}
        if len(merged) != pages.enrolled:
            # someone was unenrolled (their row is gone, nothing is "since"): read everyone
            roster, roles, full = {}, {}, True
            pages = fetch_progress(client, courseid, quizzes, 0, PROGRESS_PAGE, fields)
    changed: dict[int, dict[str, Any]] = {}
    for item in pages.learners:
        uid = int(item["userid"])
        changed[uid] = item
        person = parse_person({**item, "id": uid})
        roster[str(uid)] = {"person": person_to_json(person), "access": _access(item)}
        for role in item.get("roles") or []:
            roles[str(role["shortname"])] = int(role["roleid"])
    people = sorted(
        (person_from_json(entry["person"]) for entry in roster.values()), key=lambda p: p.id
    )
    return ProgressRead(
        aggregation=pages.aggregation,
        people=people,
        roles=roles,
        changed=changed,
        roster={"people": roster, "roles": roles},
        access={uid: entry["access"] for uid, entry in roster.items()},
        full=full,
    )


def learner_data(
    client: MoodleClient,
    raw: Mapping[str, Any],
    aggregation: int,
    quiz: Quiz | None,
    post_quiz: Quiz | None,
    previous: LearnerData | None,
) -> LearnerData:
    """One plugin learner as the core path would have read it."""
    activities = parse_activity_states(
        {"statuses": [dict(a, istrackeduser=True) for a in raw.get("activities") or []]}
    )
    completion = raw.get("completion") or {}
    criteria = [
        {
            "type": c["criteriatype"],
            "complete": c.get("timecompleted") is not None,
            "timecompleted": c.get("timecompleted"),
            "details": {"type": _CRITERION_KINDS.get(int(c["criteriatype"]), "")},
        }
        for c in completion.get("criteria") or []
    ]
    course_completion = parse_course_completion(
        {
            "completionstatus": {
                "completed": completion.get("timecompleted") is not None,
                "timecompleted": completion.get("timecompleted"),
                "aggregation": aggregation,
                "completions": criteria,
            }
        }
    )
    before = previous or LearnerData()

    def attempts(of: Quiz | None, known: tuple[Attempt, ...]) -> tuple[Attempt, ...]:
        if of is None:
            return ()
        mine = [parse_attempt(a) for a in raw.get("attempts") or [] if int(a["quiz"]) == of.id]
        return complete_attempts(client, mine, known)

    return LearnerData(
        activities=activities,
        attempts=attempts(quiz, before.attempts),
        completion=course_completion,
        post_attempts=attempts(post_quiz, before.post_attempts),
    )
