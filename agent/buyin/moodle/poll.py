"""Reading the manager poll (SPEC §4.6): the Feedback activity, its questions checked
against the mapping, who is enrolled to answer, who answered what and who has not.

Calls per sync: the course, the course's feedbacks (always with ``courseids``: without
them Moodle searches only courses the agent is enrolled in), the items, the poll
course's enrolments (paged), and either the answers (paged) and the non-respondents
(paged, or in one call through local_buyin 0.4.0) or, for an anonymous Feedback, the
aggregate analysis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from buyin.errors import ConfigurationError
from buyin.model.poll import PollAnswer, PollState
from buyin.model.programme import Poll
from buyin.moodle.client import MoodleClient
from buyin.moodle.fetch import fetch_enrolled, paginate, resolve_course, resolve_role
from buyin.moodle.parse import (
    analysis_counts,
    choice_options,
    choice_ratings,
    parse_poll_answer,
)

#: answers and non-respondents per page (Moodle sets no upper bound: 0 would be all;
#: 1,000 answers are about half a megabyte)
POLL_PAGE = 1000
#: local_buyin 0.4.0: the non-respondents' ids in one call
NON_RESPONDENTS_FUNCTION = "local_buyin_get_non_respondents"


@dataclass(frozen=True)
class Feedback:
    id: int
    cmid: int
    courseid: int
    name: str
    anonymous: bool


def find_feedback(client: MoodleClient, courseid: int, ref: int | str, where: str) -> Feedback:
    """The course's Feedback by course module id or name."""
    answer = client.call("mod_feedback_get_feedbacks_by_courses", courseids=[courseid])
    feedbacks = answer.get("feedbacks") or []
    for f in feedbacks:
        if ref == int(f["coursemodule"]) or (
            isinstance(ref, str) and ref.casefold() == str(f.get("name", "")).casefold()
        ):
            return Feedback(
                id=int(f["id"]),
                cmid=int(f["coursemodule"]),
                courseid=int(f["course"]),
                name=str(f.get("name") or ""),
                anonymous=int(f.get("anonymous") or 2) == 1,
            )
    refused = [w for w in answer.get("warnings") or [] if int(w.get("itemid") or 0) == courseid]
    if refused:
        raise ConfigurationError(
            f"{where}: poll.activity: the agent cannot open course {courseid} "
            f"({refused[0].get('message', 'no access')})",
            hint="Give the agent's role mod/feedback:view in the poll's course "
            "(`buyin doctor` checks it).",
        )
    names = ", ".join(f"{f['coursemodule']} ({f.get('name')})" for f in feedbacks) or "none"
    raise ConfigurationError(
        f"{where}: poll.activity: {ref!r} is not a Feedback of course {courseid}",
        hint=f"Use the Feedback's course module id or name; the course's Feedbacks: {names}.",
    )


@dataclass(frozen=True)
class Questions:
    """The mapped questions' item ids by role, and the rated question's ratings."""

    ids: dict[str, int]
    ratings: dict[int, int]
    option_count: int


def map_questions(items: list[Mapping[str, Any]], poll: Poll, where: str) -> Questions:
    """Check the mapping against the Feedback's questions: the labels exist and the
    mapped options are options of the question."""
    by_label = {str(i.get("label") or ""): i for i in items}
    ids: dict[str, int] = {}
    wanted = {"question": poll.question, "impact": poll.impact, "comments": poll.comments}
    for role, label in wanted.items():
        item = by_label.get(label)
        if item is None:
            if role == "question":
                labels = ", ".join(sorted(k for k in by_label if k)) or "none"
                raise ConfigurationError(
                    f"{where}: poll.question: the Feedback has no question labelled {label!r}",
                    hint=f"Use one of its question labels: {labels}.",
                )
            continue
        ids[role] = int(item["id"])
    question = by_label[poll.question]
    count = len(choice_options(str(question.get("presentation") or "")))
    beyond = [p for p in poll.options if p > count]
    if beyond:
        raise ConfigurationError(
            f"{where}: poll.options.{beyond[0]}: question {poll.question!r} has {count} options",
            hint="Number the options from 1, in the order Moodle shows them.",
        )
    impact = by_label.get(poll.impact)
    ratings = choice_ratings(str(impact.get("presentation") or "")) if impact else {}
    return Questions(ids=ids, ratings=ratings, option_count=count)


def fetch_poll(
    client: MoodleClient,
    poll: Poll,
    page_size: int,
    where: str,
    known: Mapping[str, Any] | None = None,
) -> tuple[PollState, dict[str, Any]]:
    """The poll now, and its structure to cache (``known``: the cached one, which spares
    the course, the feedbacks and the items while the mapping is unchanged)."""
    if known:
        feedback = Feedback(**known["feedback"])
        questions = Questions(
            ids=dict(known["ids"]),
            ratings={int(k): int(v) for k, v in known["ratings"].items()},
            option_count=int(known["option_count"]),
        )
    else:
        course = resolve_course(client, poll.course, f"{where}: poll.course")
        feedback = find_feedback(client, course.id, poll.activity, where)
        items = client.call("mod_feedback_get_items", feedbackid=feedback.id).get("items") or []
        questions = map_questions(items, poll, where)
    roles: dict[str, int] = {}
    people = fetch_enrolled(client, feedback.courseid, page_size, roles)
    roleid = resolve_role(poll.role, roles, f"{where}: poll.role")
    enrolled = {p.id: p.roles for p in people if p.active}
    answers: dict[int, PollAnswer] = {}
    non_respondents: frozenset[int] = frozenset()
    counts = {topic: 0 for topic in poll.options.values()}
    if feedback.anonymous:
        analysis = client.call("mod_feedback_get_analysis", feedbackid=feedback.id)
        responses = int(analysis.get("completedcount") or 0)
        for entry in analysis.get("itemsdata") or []:
            if int(entry["item"]["id"]) == questions.ids["question"]:
                for position, n in enumerate(analysis_counts(entry.get("data") or []), start=1):
                    if position in poll.options:
                        counts[poll.options[position]] += n
    else:
        for page in _pages(client, "mod_feedback_get_responses_analysis", feedback.id):
            for attempt in page:
                answer = parse_poll_answer(attempt, questions.ids, poll.options, questions.ratings)
                answers[answer.userid] = answer
        for answer in answers.values():
            for topic in answer.topics:
                counts[topic] += 1
        responses = len(answers)
        non_respondents = fetch_non_respondents(client, feedback.id)
    state = PollState(
        feedbackid=feedback.id,
        cmid=feedback.cmid,
        courseid=feedback.courseid,
        name=feedback.name,
        url=f"{client.url}/mod/feedback/view.php?id={feedback.cmid}",
        anonymous=feedback.anonymous,
        roleid=roleid,
        answers=answers,
        non_respondents=non_respondents,
        enrolled=enrolled,
        topic_counts=counts,
        responses=responses,
    )
    structure = {
        "feedback": asdict(feedback),
        "ids": questions.ids,
        "ratings": {str(k): v for k, v in questions.ratings.items()},
        "option_count": questions.option_count,
    }
    return state, structure


def fetch_non_respondents(client: MoodleClient, feedbackid: int) -> frozenset[int]:
    """Who may answer and has not: through local_buyin in one call where the service has
    it (0.4.0), else mod_feedback's list, a page at a time."""
    if NON_RESPONDENTS_FUNCTION in (client.known_functions or ()):
        answer = client.call(NON_RESPONDENTS_FUNCTION, feedbackid=feedbackid)
        return frozenset(int(u) for u in answer.get("userids") or ())
    return frozenset(
        int(u["userid"])
        for page in _pages(client, "mod_feedback_get_non_respondents", feedbackid)
        for u in page
    )


def _pages(client: MoodleClient, function: str, feedbackid: int) -> Any:
    """A mod_feedback list page by page (``page`` 0-based; the total says when to stop)."""
    key = "attempts" if function == "mod_feedback_get_responses_analysis" else "users"
    total_key = "totalattempts" if key == "attempts" else "total"

    def page(offset: int) -> tuple[list[dict[str, Any]], bool | None]:
        answer = client.call(
            function, feedbackid=feedbackid, page=offset // POLL_PAGE, perpage=POLL_PAGE
        )
        rows = list(answer.get(key) or [])
        return rows, offset + len(rows) < int(answer.get(total_key) or 0)

    return paginate(page, POLL_PAGE)
