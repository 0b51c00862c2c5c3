"""Moodle's answers → the model: one function per payload shape.

Every answer was validated against its contract schema by the client before it
reaches here, so parsing reads what the schema guarantees.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from buyin.errors import ContractError
from buyin.model.poll import PollAnswer
from buyin.model.snapshot import (
    AGGREGATION_ALL,
    Activity,
    ActivityState,
    Attempt,
    Course,
    CourseCompletion,
    Criterion,
    Mark,
    Person,
    Quiz,
    SignoffRow,
)


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
        lang=str(user.get("lang") or ""),
        timezone=str(user.get("timezone") or ""),
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
        timecompleted=int(status["timecompleted"]) if status.get("timecompleted") else None,
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


def parse_signoff_row(raw: Mapping[str, Any]) -> SignoffRow:
    return SignoffRow.from_json(raw)


def parse_course(raw: Mapping[str, Any], site_url: str) -> Course:
    """A course of ``core_course_get_courses_by_field``."""
    courseid = int(raw["id"])
    return Course(
        id=courseid,
        shortname=str(raw.get("shortname") or ""),
        fullname=str(raw.get("fullname") or ""),
        enablecompletion=bool(raw.get("enablecompletion")),
        url=f"{site_url}/course/view.php?id={courseid}",
        groupmode=int(raw.get("groupmode") or 0),
    )


def parse_activities(sections: list[Mapping[str, Any]], site_url: str) -> tuple[Activity, ...]:
    """The activities of ``core_course_get_contents``, in course order."""
    return tuple(
        Activity(
            cmid=int(module["id"]),
            name=str(module.get("name") or ""),
            modname=str(module.get("modname") or ""),
            instance=int(module.get("instance") or 0),
            section=int(section.get("section") or 0),
            section_name=str(section.get("name") or ""),
            completion=int(module.get("completion") or 0),
            url=str(module.get("url") or f"{site_url}/mod/view.php?id={module['id']}"),
        )
        for section in sections
        for module in section.get("modules") or []
    )


def parse_quiz(raw: Mapping[str, Any], site_url: str) -> Quiz:
    """A quiz of ``mod_quiz_get_quizzes_by_courses``."""
    cmid = int(raw["coursemodule"])
    return Quiz(
        id=int(raw["id"]),
        cmid=cmid,
        name=str(raw.get("name") or ""),
        grade=float(raw.get("grade") or 0),
        sumgrades=float(raw.get("sumgrades") or 0),
        url=f"{site_url}/mod/quiz/view.php?id={cmid}",
    )


def parse_retention(report: Mapping[str, Any], quiz_ref: int | str | None) -> dict[int, float]:
    """Each user's result on a course's quiz (the refresher's) as a fraction, from
    ``gradereport_user_get_grade_items``; ``quiz_ref`` picks one quiz by cmid or name."""
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


# --- mod_feedback (the manager poll) ---------------------------------------------------


def choice_ratings(presentation: str) -> dict[int, int]:
    """A rated choice's option position -> rating, from Moodle's presentation
    (``r>>>>>1####1 - Not at all|2####2 - A little|...<<<<<1``)."""
    body = presentation.split(">>>>>", 1)[-1].split("<<<<<", 1)[0]
    ratings: dict[int, int] = {}
    for position, option in enumerate(body.split("|"), start=1):
        head = option.split("####", 1)[0].strip()
        ratings[position] = (
            int(head) if "####" in option and head.lstrip("-").isdigit() else position
        )
    return ratings


def choice_options(presentation: str) -> list[str]:
    """A choice question's option texts, in Moodle's 1-based order."""
    body = presentation.split(">>>>>", 1)[-1].split("<<<<<", 1)[0]
    return [o.split("####", 1)[-1] for o in body.split("|")] if body else []


def chosen_positions(rawval: str) -> list[int]:
    """The options a stored choice value names ("1|4" -> [1, 4])."""
    return [int(v) for v in str(rawval).split("|") if v.strip().isdigit()]


def parse_poll_answer(
    attempt: Mapping[str, Any],
    items: Mapping[str, int],
    options: Mapping[int, str],
    ratings: Mapping[int, int],
) -> PollAnswer:
    """One attempt of mod_feedback_get_responses_analysis: ``items`` are the mapped
    questions' ids by role (question, impact, comments); free text is unescaped
    (Moodle stores it through ``s()``)."""
    raw = {int(r["id"]): str(r.get("rawval") or "") for r in attempt.get("responses") or []}
    topics = [
        options[p] for p in chosen_positions(raw.get(items.get("question", 0), "")) if p in options
    ]
    impact_value = chosen_positions(raw.get(items.get("impact", 0), ""))
    impact = ratings.get(impact_value[0]) if impact_value else None
    return PollAnswer(
        userid=int(attempt["userid"]),
        fullname=str(attempt.get("fullname") or ""),
        timemodified=int(attempt.get("timemodified") or 0),
        topics=tuple(dict.fromkeys(topics)),
        impact=impact,
        comment=html.unescape(raw.get(items.get("comments", 0), "")).strip(),
    )


def analysis_counts(data: list[Any]) -> list[int]:
    """A choice question's answer counts from mod_feedback_get_analysis, whose ``data``
    are JSON strings (not objects), one per option."""
    counts = []
    for entry in data:
        row = json.loads(entry) if isinstance(entry, str) else entry
        counts.append(int(row.get("answercount") or 0) if isinstance(row, Mapping) else 0)
    return counts
