"""mod_quiz: quizzes, attempts as the review options show them, attempt reviews and
the grading set-up page."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from .. import logic
from ..errors import invalid, moodle_error
from ..lookups import accessible_courses, get_quiz, get_user, missing
from ..model import Attempt, Quiz, QuizSlot
from ..render import fmt2, num, php_json

if TYPE_CHECKING:
    from ..site import SimulatedMoodle


QTYPE_NAMES = {"truefalse": "True/False", "multichoice": "Multiple choice"}
#: the lab quiz's question texts as Moodle shortens them on the editing pages
QUESTION_EXCERPTS = {
    "L1 Paraphrasing": "Active listening includes paraphrasing the ...",
    "L2 Frustrated caller": "A customer says &quot;I&#039;ve called three times about ...",
    "Q1 Closed questions": "Closed questions are the best way to uncover a ...",
    "Q2 Open question": "Which of these is an open question?\n",
    "O1 Acknowledge first": "Acknowledging an objection before responding to...",
    "O2 Price objection": "A customer says the price is too high. Which ...",
    "C1 Summarise next steps": "You should avoid summarising agreed next steps ...",
    "C2 Strong close": "Which is the strongest way to close a support ...",
}


def get_quizzes_by_courses(site: SimulatedMoodle, courseids: list[int]) -> dict[str, Any]:
    wanted = courseids or sorted(site.state.courses)
    valid, warnings = accessible_courses(site, wanted)
    quizzes = []
    for quiz in sorted(site.state.quizzes.values(), key=lambda q: q.id):
        if quiz.course not in valid:
            continue
        activity = site.state.activities[quiz.cmid]
        created = site.state.courses[quiz.course].timecreated
        quizzes.append(
            {
                "id": quiz.id,
                "coursemodule": quiz.cmid,
                "course": quiz.course,
                "name": quiz.name,
                "intro": quiz.intro,
                "introformat": 1,
                "introfiles": [],
                "section": activity.section,
                "visible": True,
                "groupmode": 0,
                "groupingid": 0,
                "lang": "",
                "enableaitools": None,
                "enabledaiactions": None,
                "timeopen": 0,
                "timeclose": 0,
                "timelimit": 0,
                "overduehandling": "autosubmit",
                "graceperiod": 86400,
                "preferredbehaviour": "deferredfeedback",
                "canredoquestions": 0,
                "attempts": quiz.attempts,
                "attemptonlast": 0,
                "grademethod": quiz.grademethod,
                "decimalpoints": quiz.decimalpoints,
                "questiondecimalpoints": -1,
                "reviewattempt": quiz.reviewattempt,
                "reviewcorrectness": quiz.reviewcorrectness,
                "reviewmaxmarks": quiz.reviewmaxmarks,
                "reviewmarks": quiz.reviewmarks,
                "reviewspecificfeedback": quiz.reviewspecificfeedback,
                "reviewgeneralfeedback": quiz.reviewgeneralfeedback,
                "reviewrightanswer": quiz.reviewrightanswer,
                "reviewoverallfeedback": quiz.reviewoverallfeedback,
                "questionsperpage": quiz.questionsperpage,
                "navmethod": "free",
                "shuffleanswers": 1,
                "sumgrades": num(quiz.sumgrades),
                "grade": num(quiz.grade),
                "timecreated": created,
                "timemodified": created,
                "password": "",
                "subnet": "",
                "browsersecurity": "",
                "delay1": 0,
                "delay2": 0,
                "showuserpicture": 0,
                "showblocks": 0,
                "completionattemptsexhausted": 0,
                "completionpass": 1 if quiz.gradepass else 0,
                "allowofflineattempts": 0,
                "autosaveperiod": 60,
                "hasfeedback": 1 if quiz.feedback else 0,
                "hasquestions": 1 if quiz.slots else 0,
                "precreateattempts": None,
            }
        )
    return {"quizzes": quizzes, "warnings": warnings}


def _marks_display(site: SimulatedMoodle, quiz: Quiz, attempt: Attempt) -> int:
    """The agent's question_display_options->marks for an attempt: 0 hidden, 1 max only,
    2 mark and max (mod_quiz display_options::make_from_quiz, quiz_get_review_options)."""
    if site.grade_viewhidden:
        return 2
    if attempt.state in ("inprogress", "overdue"):
        when = 0x10000  # DURING
    elif site.time() < attempt.timefinish + 120:
        when = 0x01000  # IMMEDIATELY_AFTER
    else:
        when = 0x00100  # LATER_WHILE_OPEN (the simulated quizzes never close)
    if not quiz.reviewmaxmarks & when:
        return 0
    return 2 if quiz.reviewmarks & when else 1


def attempt_dict(
    site: SimulatedMoodle, quiz: Quiz, attempt: Attempt, *, hide_marks: bool = False
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": attempt.id,
        "quiz": attempt.quiz,
        "userid": attempt.userid,
        "attempt": attempt.attempt,
        "uniqueid": attempt.uniqueid,
        "layout": quiz.layout,
        "currentpage": 0,
        "preview": 0,
        "state": attempt.state,
        "timestart": attempt.timestart,
        "timefinish": attempt.timefinish,
        "timemodified": attempt.timemodified,
        "timemodifiedoffline": 0,
        "timecheckstate": None,
        "sumgrades": None if hide_marks else num(attempt.sumgrades),
    }
    if quiz.grade_items and not hide_marks:
        maxmarks = {s.slot: s.maxmark for s in quiz.slots}
        result["gradeitemmarks"] = [
            {
                "name": item.name,
                "grade": num(
                    sum(attempt.marks.get(s, 0.0) for s in item.slots) if attempt.finished else 0
                ),
                "maxgrade": num(sum(maxmarks.get(s, 0.0) for s in item.slots)),
            }
            for item in quiz.grade_items
        ]
    result["gradednotificationsenttime"] = attempt.gradednotificationsenttime
    return result


def _user_attempts(
    site: SimulatedMoodle,
    quizid: int,
    userid: int,
    status: str,
    includepreviews: bool,
    legacy: bool = False,
) -> dict[str, Any]:
    if status not in ("all", "finished", "unfinished"):
        raise invalid("Invalid status value")
    quiz = get_quiz(site, quizid)
    userid = userid or site.state.agent_userid
    get_user(site, userid)
    attempts = []
    for attempt in logic.attempts_of(site.state, quiz.id, userid):
        if status == "finished" and attempt.state not in ("finished", "abandoned"):
            continue
        if status == "unfinished" and attempt.state not in ("inprogress", "overdue"):
            continue
        # get_user_quiz_attempts blanks the marks (sumgrades null, no gradeitemmarks) of a
        # finished attempt the caller's review options hide; the deprecated
        # get_user_attempts does not for a caller holding mod/quiz:viewreports (the agent)
        hide = not legacy and attempt.finished and _marks_display(site, quiz, attempt) < 2
        attempts.append(attempt_dict(site, quiz, attempt, hide_marks=hide))
    return {"attempts": attempts, "warnings": []}


def get_user_quiz_attempts(
    site: SimulatedMoodle, quizid: int, userid: int, status: str, includepreviews: bool
) -> dict[str, Any]:
    return _user_attempts(site, quizid, userid, status, includepreviews)


def get_user_attempts(
    site: SimulatedMoodle, quizid: int, userid: int, status: str, includepreviews: bool
) -> dict[str, Any]:
    return _user_attempts(site, quizid, userid, status, includepreviews, legacy=True)


def get_attempt_review(site: SimulatedMoodle, attemptid: int, page: int) -> dict[str, Any]:
    attempt = site.state.attempts.get(attemptid)
    if attempt is None:
        raise missing(site, "quiz_attempts", attemptid)
    quiz = get_quiz(site, attempt.quiz)
    if not attempt.finished:
        raise moodle_error("noreviewattempt", "You are not allowed to review this attempt.")
    pages = sorted({s.page - 1 for s in quiz.slots})
    if page != -1 and page not in pages:
        raise invalid("Invalid page number")
    grade = logic.attempt_grade(quiz, attempt)
    shown = round(grade, quiz.decimalpoints) if grade is not None else None
    display = _marks_display(site, quiz, attempt)
    questions = []
    for slot in quiz.slots:
        if page != -1 and slot.page - 1 != page:
            continue
        mark = attempt.marks.get(slot.slot)
        if mark is None:
            qstate, stateclass, status = "gaveup", "notanswered", "Not answered"
        elif mark >= slot.maxmark:
            qstate, stateclass, status = "gradedright", "correct", "Correct"
        elif mark <= 0:
            qstate, stateclass, status = "gradedwrong", "incorrect", "Incorrect"
        else:
            qstate, stateclass, status = (
                "gradedpartial",
                "partiallycorrect",
                "Partially correct",
            )
        marktext = fmt2(mark) if mark is not None else None
        question: dict[str, Any] = {
            "slot": slot.slot,
            "type": slot.qtype,
            "page": slot.page - 1,
            "questionnumber": str(slot.slot),
            "number": slot.slot,
            "html": (
                f'<div id="question-{attempt.uniqueid}-{slot.slot}" class="que {slot.qtype} deferredfeedback '
                f'{stateclass}"><div class="info"><h3 class="no">Question <span class="qno">{slot.slot}'
                f'</span></h3><div class="state">{status}</div><div class="grade">Mark {marktext or "-"} '
                f'out of {fmt2(slot.maxmark)}</div></div><div class="content"><div class="qtext"><p>'
                f"{html.escape(slot.name)}</p></div></div></div>"
            ),
            "responsefileareas": [],
            "sequencecheck": 3,
            "lastactiontime": attempt.timefinish,
            "hasautosavedstep": False,
            "flagged": False,
            "state": qstate,
            "stateclass": stateclass,
            "status": status,
            "blockedbyprevious": False,
        }
        # marks only where the review options show them; a question given up has no
        # mark, which Moodle formats as "" (format_float(null))
        if display >= 2:
            question["mark"] = marktext if marktext is not None else ""
        if display >= 1:
            question["maxmark"] = num(slot.maxmark)
        question["settings"] = (
            '{"shuffleanswers":"1","answernumbering":"abc","showstandardinstruction":"0","layout":1}'
            if slot.qtype == "multichoice"
            else None
        )
        questions.append(question)
    additional = []
    if shown is not None:
        for minimum, text in quiz.feedback:
            if shown >= minimum:
                additional.append({"id": "feedback", "title": "Feedback", "content": text})
                break
    return {
        "grade": num(shown),
        "attempt": attempt_dict(site, quiz, attempt),
        "additionaldata": additional,
        "questions": questions,
        "warnings": [],
    }


def _question_link(site: SimulatedMoodle, quiz: Quiz, slot: QuizSlot) -> str:
    """The question's link on the quiz editing pages (edit_renderer::get_question_name_for_slot)."""
    title = QTYPE_NAMES.get(slot.qtype, slot.qtype)
    excerpt = QUESTION_EXCERPTS.get(slot.name, html.escape(slot.name, quote=True))
    return (
        f'<a title="Edit question {html.escape(slot.name)}" href="{site.url}'
        f"/question/bank/editquestion/question.php?returnurl=%2F&amp;cmid={quiz.cmid}"
        f'&amp;id={slot.questionid}"><img class="icon activityicon" title="{title}" '
        f'alt="{title}" src="{site.url}/theme/image.php/boost/qtype_{slot.qtype}/'
        f'{site.themerev}/icon" /><span class="instancename"><i class="icon fa fa-pen '
        f'fa-fw " aria-hidden="true" ></i><span class="questionname">'
        f'{html.escape(slot.name)}</span> <span class="questiontext">{excerpt}</span>'
        "</span></a>"
    )


def get_edit_grading_page_data(site: SimulatedMoodle, quizid: int) -> str:
    """The grading set-up page's template context as a JSON *string*
    (mod_quiz\\output\\edit_grading_page::export_for_template); needs mod/quiz:manage."""
    quiz = get_quiz(site, quizid)
    slot_item = {s: item.id for item in quiz.grade_items for s in item.slots}
    maxmarks = {s.slot: s.maxmark for s in quiz.slots}
    gradeitems = []
    for order, item in enumerate(quiz.grade_items, start=1):
        used = any(s in maxmarks for s in item.slots)
        gradeitems.append(
            {
                "id": str(item.id),
                "sortorder": str(order),
                "name": item.name,
                "displayname": item.name,
                "isused": used,
                "summarks": fmt2(sum(maxmarks.get(s, 0.0) for s in item.slots)) if used else "-",
            }
        )
    sections: list[dict[str, Any]] = []
    heading: str | None = None
    for slot in sorted(quiz.slots, key=lambda x: x.slot):
        if not sections or slot.heading != heading:
            heading = slot.heading
            sections.append({"displayname": heading or "Untitled section", "slots": []})
        choices: list[dict[str, Any]] = [{"id": 0, "choice": "[none]", "isselected": False}]
        choices += [
            {
                "id": str(item.id),
                "choice": item.name,
                "isselected": slot_item.get(slot.slot) == item.id,
            }
            for item in quiz.grade_items
        ]
        sections[-1]["slots"].append(
            {
                "id": str(slot.slot),
                "displaynumber": slot.slot,
                "displayname": _question_link(site, quiz, slot),
                "maxmark": fmt2(slot.maxmark),
                "choices": choices,
            }
        )
    if not sections:
        sections.append({"displayname": "Untitled section", "slots": []})
    context = {
        "quizid": str(quiz.id),
        "hasgradeitems": bool(gradeitems),
        "gradeitems": gradeitems,
        "hasslots": bool(quiz.slots),
        "sections": sections,
        "hasmultiplesections": len(sections) > 1,
        "nogradeitems": {
            "message": "Create grade items within your quiz. Allocate questions or quiz "
            "sections to these grade items to break down grade results into different areas."
        },
        "noslots": {
            "message": "This quiz has no questions yet. Please add questions first, then "
            "return here to set up grade items."
        },
    }
    return php_json(context)
