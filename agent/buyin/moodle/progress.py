"""Progress through local_buyin_get_progress: one call per page of learners instead
of three or more core calls per learner (issue #12).

The plugin's learner is turned into the core answers' shapes and read by the same
parsers, so a learner's :class:`LearnerData` is the same whichever path read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from buyin.model.snapshot import Attempt, LearnerData, Quiz
from buyin.moodle.client import MoodleClient
from buyin.moodle.fetch import PROGRESS_FUNCTION, complete_attempts
from buyin.moodle.parse import parse_activity_states, parse_attempt, parse_course_completion

#: learners per local_buyin_get_progress page (the plugin allows up to 1,000)
PROGRESS_PAGE = 1000
#: a steady run re-reads what changed since a little before the last read, so a
#: change made while it ran (or a clock apart by minutes) is not missed
SINCE_MARGIN = 300

#: the "details.type" core gives each criterion type (Moodle's English strings)
_CRITERION_KINDS = {4: "Activity completion", 7: "Manual completion by others"}


def fetch_progress(
    client: MoodleClient, courseid: int, quizzes: Iterable[Quiz | None], since: int, page_size: int
) -> tuple[int, list[dict[str, Any]]]:
    """The course's completion aggregation and its learners (only those changed at or
    after ``since`` unless it is 0), every page."""
    quizids = sorted({q.id for q in quizzes if q is not None})
    learners: list[dict[str, Any]] = []
    cursor = 0
    aggregation = 1
    while True:
        page = client.call(
            PROGRESS_FUNCTION,
            courseid=courseid,
            quizids=quizids,
            since=since,
            cursor=cursor,
            limit=page_size,
        )
        aggregation = int(page.get("aggregation") or 1)
        learners += page.get("learners") or []
        cursor = int(page.get("nextcursor") or 0)
        if not cursor:
            return aggregation, learners


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
