"""mod_feedback: the Feedback activities of a course, their questions, who answered
what (per user where the activity is not anonymous), who has not answered, and the
aggregate analysis.

Answers follow the lab's captures (tests/fixtures/moodle/captures/mod_feedback_*):
stored values are Moodle's (checkboxes "1|4", a rated choice its option position,
free text HTML-escaped as ``s()`` stores it); the analysis's per-option data are
JSON strings, not objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import invalid
from ..lookups import accessible_courses, get_course, missing
from ..model import ENROL_ACTIVE, ROLE_STUDENT, Feedback, FeedbackCompleted, FeedbackItem
from ..render import php_json

if TYPE_CHECKING:
    from ..site import SimulatedMoodle

ANONYMOUS = 1
#: the sort keys get_non_respondents accepts
SORTS = ("lastaccess", "firstname", "lastname")


def get_feedback(site: SimulatedMoodle, feedbackid: int) -> Feedback:
    """The feedback, if it exists and its course may be opened."""
    feedback = site.state.feedbacks.get(feedbackid)
    if feedback is None:
        raise missing(site, "feedback", feedbackid)
    get_course(site, feedback.course)
    return feedback


def php_div(a: float, b: float) -> float | int:
    """PHP's ``/``: an int where the division is exact, else a float."""
    if b == 0:
        return 0
    q = a / b
    return int(q) if q == int(q) else q


def shorten(text: str, ideal: int = 30) -> str:
    """Moodle's ``shorten_text`` on plain text: cut at a word break, ``...`` appended."""
    if len(text) <= ideal:
        return text
    head = text[: ideal - 3]
    cut = head.rfind(" ")
    return (head[: cut + 1] if cut > 0 else head) + "..."


def options_of(item: FeedbackItem) -> list[str]:
    """A choice question's option texts (the presentation after ``>>>>>``)."""
    body = item.presentation.split(">>>>>", 1)[-1].split("<<<<<", 1)[0]
    return [o.split("####", 1)[-1] for o in body.split("|")]


def _item_dict(item: FeedbackItem, feedback: Feedback, number: int) -> dict[str, Any]:
    return {
        "id": item.id,
        "feedback": feedback.id,
        "template": 0,
        "name": item.name,
        "nameformat": 1,
        "label": item.label,
        "presentation": item.presentation,
        "presentationformat": 1,
        "typ": item.typ,
        "hasvalue": 1,
        "position": item.position,
        "required": item.required,
        "dependitem": 0,
        "dependvalue": "",
        "options": item.options,
        "itemfiles": [],
        "itemnumber": number,
        "otherdata": None,
    }


def _printval(item: FeedbackItem, value: str) -> str:
    if item.typ in ("multichoice", "multichoicerated"):
        texts = options_of(item)
        chosen = [int(v) for v in value.split("|") if v.isdigit()]
        return "\n".join(texts[i - 1] for i in chosen if 0 < i <= len(texts))
    return value


def _responses(feedback: Feedback, completed: FeedbackCompleted) -> list[dict[str, Any]]:
    out = []
    for item in sorted(feedback.items, key=lambda i: i.position):
        value = completed.values.get(item.id, "")
        out.append(
            {
                "id": item.id,
                "name": f"({item.label}) {shorten(item.name)}",
                "printval": _printval(item, value),
                "rawval": value,
            }
        )
    return out


def _page(rows: list[Any], page: int, perpage: int) -> list[Any]:
    """Moodle's paging: ``page`` 0-based, ``perpage`` 0 for all."""
    if perpage <= 0:
        return rows
    return rows[page * perpage : (page + 1) * perpage]


def _can_answer(site: SimulatedMoodle, feedback: Feedback) -> list[int]:
    """Users who may answer: active enrolments in the course with the student role."""
    return sorted(
        e.userid
        for e in site.state.enrolments.values()
        if e.courseid == feedback.course and e.status == ENROL_ACTIVE and ROLE_STUDENT in e.roleids
    )


def non_respondents(site: SimulatedMoodle, feedback: Feedback) -> list[int]:
    """Who may answer and has not (Moodle's feedback_get_incomplete_users), by id."""
    answered = {c.userid for c in feedback.completed}
    return [u for u in _can_answer(site, feedback) if u not in answered]


# --- the functions ---------------------------------------------------------------------


def get_feedbacks_by_courses(site: SimulatedMoodle, courseids: list[int]) -> dict[str, Any]:
    if not courseids:
        # only the courses the token's user is enrolled in
        courseids = sorted(
            cid for (uid, cid) in site.state.enrolments if uid == site.state.agent_userid
        )
    valid, warnings = accessible_courses(site, courseids)
    feedbacks: list[dict[str, Any]] = [
        {
            "id": f.id,
            "course": f.course,
            "name": f.name,
            "intro": f.intro,
            "introformat": 1,
            "lang": None,
            "anonymous": f.anonymous,
            "email_notification": False,
            "multiple_submit": f.multiple_submit,
            "autonumbering": True,
            "site_after_submit": "",
            "page_after_submit": f.page_after_submit,
            "page_after_submitformat": 1,
            "publish_stats": False,
            "timeopen": f.timeopen,
            "timeclose": f.timeclose,
            "timemodified": f.timemodified,
            "completionsubmit": False,
            "coursemodule": f.cmid,
            "introfiles": [],
            "pageaftersubmitfiles": [],
        }
        for f in sorted(site.state.feedbacks.values(), key=lambda f: f.id)
        if f.course in valid
    ]
    return {"feedbacks": feedbacks, "warnings": warnings}


def get_feedback_access_information(
    site: SimulatedMoodle, feedbackid: int, courseid: int = 0
) -> dict[str, Any]:
    feedback = get_feedback(site, feedbackid)
    now = site.time()
    is_open = (not feedback.timeopen or feedback.timeopen <= now) and (
        not feedback.timeclose or now <= feedback.timeclose
    )
    return {
        "canviewanalysis": True,
        "cancomplete": False,
        "cansubmit": True,
        "candeletesubmissions": True,
        "canviewreports": True,
        "canedititems": True,
        "isempty": not feedback.items,
        "isopen": is_open,
        "isalreadysubmitted": False,
        "isanonymous": feedback.anonymous == ANONYMOUS,
        "warnings": [],
    }


def get_items(site: SimulatedMoodle, feedbackid: int, courseid: int = 0) -> dict[str, Any]:
    feedback = get_feedback(site, feedbackid)
    items = sorted(feedback.items, key=lambda i: i.position)
    return {
        "items": [_item_dict(item, feedback, n) for n, item in enumerate(items, start=1)],
        "warnings": [],
    }


def get_non_respondents(
    site: SimulatedMoodle,
    feedbackid: int,
    groupid: int = 0,
    sort: str = "lastaccess",
    page: int = 0,
    perpage: int = 0,
    courseid: int = 0,
) -> dict[str, Any]:
    feedback = get_feedback(site, feedbackid)
    if sort not in SORTS:
        raise invalid("Invalid sort param, must be firstname, lastname or lastaccess.")
    users = [site.state.users[u] for u in non_respondents(site, feedback)]
    users.sort(key=lambda u: (getattr(u, sort), u.id))
    return {
        "users": [
            {"courseid": 0, "userid": u.id, "fullname": u.fullname, "started": False}
            for u in _page(users, page, perpage)
        ],
        "total": len(users),
        "warnings": [],
    }


def get_responses_analysis(
    site: SimulatedMoodle,
    feedbackid: int,
    groupid: int = 0,
    page: int = 0,
    perpage: int = 0,
    courseid: int = 0,
) -> dict[str, Any]:
    feedback = get_feedback(site, feedbackid)
    attempts: list[dict[str, Any]] = []
    anonattempts: list[dict[str, Any]] = []
    if feedback.anonymous == ANONYMOUS:
        rows = _page(sorted(feedback.completed, key=lambda c: c.id), page, perpage)
        anonattempts = [
            {"id": c.id, "courseid": 0, "number": c.id, "responses": _responses(feedback, c)}
            for c in rows
        ]
    else:
        users = site.state.users
        ordered = sorted(
            feedback.completed,
            key=lambda c: (users[c.userid].lastname, users[c.userid].firstname, c.id),
        )
        attempts = [
            {
                "id": c.id,
                "courseid": 0,
                "userid": c.userid,
                "timemodified": c.timemodified,
                "fullname": users[c.userid].fullname,
                "responses": _responses(feedback, c),
            }
            for c in _page(ordered, page, perpage)
        ]
    anonymous = feedback.anonymous == ANONYMOUS
    return {
        "attempts": attempts,
        "totalattempts": 0 if anonymous else len(feedback.completed),
        "anonattempts": anonattempts,
        "totalanonattempts": len(feedback.completed) if anonymous else 0,
        "warnings": [],
    }


def _analysis_data(item: FeedbackItem, completed: list[FeedbackCompleted]) -> list[str]:
    values = [c.values.get(item.id, "") for c in completed]
    total = len(completed)
    if item.typ == "textarea":
        return values
    rows = []
    for position, text in enumerate(options_of(item), start=1):
        count = sum(1 for v in values if str(position) in v.split("|"))
        row: dict[str, Any] = {"answertext": text, "answercount": count}
        if item.typ == "multichoicerated":
            row["avg"] = php_div(position * count, total)
            row["value"] = str(position)
        row["quotient"] = php_div(count, total)
        rows.append(php_json(row))
    return rows


def get_analysis(
    site: SimulatedMoodle, feedbackid: int, groupid: int = 0, courseid: int = 0
) -> dict[str, Any]:
    feedback = get_feedback(site, feedbackid)
    completed = sorted(feedback.completed, key=lambda c: c.id)
    items = sorted(feedback.items, key=lambda i: i.position)
    return {
        "completedcount": len(completed),
        "itemscount": len(items),
        "itemsdata": [
            {"item": _item_dict(item, feedback, n), "data": _analysis_data(item, completed)}
            for n, item in enumerate(items, start=1)
        ],
        "warnings": [],
    }


def submit(site: SimulatedMoodle, feedbackid: int, userid: int, values: dict[str, str]) -> int:
    """Store one user's answers (by item label, as Moodle stores them); the completed id.

    A test helper: the agent never answers a feedback."""
    feedback = site.state.feedbacks[feedbackid]
    by_label = {i.label: i for i in feedback.items}
    unknown = sorted(set(values) - set(by_label))
    if unknown:
        raise ValueError(f"feedback {feedbackid} has no question labelled {', '.join(unknown)}")
    previous = [c for c in feedback.completed if c.userid == userid]
    if previous and not feedback.multiple_submit:
        feedback.completed.remove(previous[0])
    completed = FeedbackCompleted(
        id=site.state.new_id("feedback_completed"),
        userid=userid,
        timemodified=site.time(),
        values={by_label[k].id: v for k, v in values.items()},
    )
    feedback.completed.append(completed)
    return completed.id
