"""gradereport_user: the user grade report's grade items."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import logic
from ..lookups import get_course, get_user
from ..model import Course, Quiz, User
from ..render import fmt2, num

if TYPE_CHECKING:
    from ..site import SimulatedMoodle


def _grade_formatted(quiz: Quiz | None, grade: float | None) -> str:
    if grade is None:
        return "-"
    text = fmt2(grade)
    if quiz is None or not quiz.gradepass:
        return text
    if grade >= quiz.gradepass:
        icon = '<i class="icon fa fa-check text-success fa-fw inline"  title="Pass" role="img" aria-label="Pass"></i>'
    else:
        icon = '<i class="icon fa fa-xmark text-danger fa-fw inline"  title="Fail" role="img" aria-label="Fail"></i>'
    return icon + text


def _user_grades(site: SimulatedMoodle, course: Course, user: User) -> dict[str, Any]:
    quizzes = sorted(
        (q for q in site.state.quizzes.values() if q.course == course.id), key=lambda q: q.id
    )
    total_max = sum(q.grade for q in quizzes) or 0.0
    items: list[dict[str, Any]] = []
    total: float | None = None
    for quiz in quizzes:
        graded = logic.quiz_grade(site.state, quiz, user.id)
        grade, when = graded if graded is not None else (None, None)
        if grade is not None:
            total = (total or 0.0) + grade
        item: dict[str, Any] = {
            "id": quiz.gradeitemid,
            "itemname": quiz.name,
            "itemtype": "mod",
            "itemmodule": "quiz",
            "iteminstance": quiz.id,
            "itemnumber": 0,
            "idnumber": quiz.idnumber,
            "categoryid": course.gradecategoryid,
            "outcomeid": None,
            "scaleid": None,
            "locked": False,
            "cmid": quiz.cmid,
            "weightraw": num(round(quiz.grade / total_max, 5) if total_max else 0),
            "weightformatted": f"{(quiz.grade / total_max * 100) if total_max else 0:.2f} %",
            "graderaw": num(grade),
            "gradedatesubmitted": when,
            "gradedategraded": when,
            "gradehiddenbydate": False,
            "gradeneedsupdate": False,
            "gradeishidden": False,
            "gradeislocked": False,
            "gradeisoverridden": False,
            "gradeformatted": _grade_formatted(quiz, grade),
            "grademin": 0,
            "grademax": num(quiz.grade),
            "rangeformatted": f"0&ndash;{num(quiz.grade)}",
            "percentageformatted": f"{grade / quiz.grade * 100:.2f} %"
            if grade is not None
            else "-",
            "feedback": "",
            # no grade row yet (no graded attempt): Moodle's report shows no weight and
            # the row's default format (found on the real site, tests/live)
            "feedbackformat": 2 if grade is not None else 0,
        }
        if grade is None:
            del item["weightraw"], item["weightformatted"]
        items.append(item)
    total_time = (
        site.state.course_grade_times.get((user.id, course.id)) if total is not None else None
    )
    items.append(
        {
            "id": course.courseitemid,
            "itemname": None,
            "itemtype": "course",
            "itemmodule": None,
            "iteminstance": course.gradecategoryid,
            "itemnumber": None,
            "idnumber": None,
            "categoryid": None,
            "outcomeid": None,
            "scaleid": None,
            "locked": False,
            "graderaw": num(total),
            "gradedatesubmitted": None,
            "gradedategraded": total_time,
            "gradehiddenbydate": False,
            "gradeneedsupdate": False,
            "gradeishidden": False,
            "gradeislocked": False,
            "gradeisoverridden": False,
            "gradeformatted": _grade_formatted(None, total),
            "grademin": 0,
            "grademax": num(total_max),
            "rangeformatted": f"0&ndash;{num(total_max)}",
            "percentageformatted": f"{total / total_max * 100:.2f} %"
            if total is not None and total_max
            else "-",
            "feedback": "",
            "feedbackformat": 2 if total is not None else 0,
        }
    )
    return {
        "courseid": course.id,
        "courseidnumber": course.idnumber,
        "userid": user.id,
        "userfullname": user.fullname,
        "useridnumber": user.idnumber,
        "maxdepth": 2,
        "gradeitems": items,
    }


def get_grade_items(
    site: SimulatedMoodle, courseid: int, userid: int, groupid: int
) -> dict[str, Any]:
    course = get_course(site, courseid)
    if userid:
        user = get_user(site, userid)
        users = [user] if logic.is_enrolled(site.state, userid, courseid) else []
    else:
        users = [
            site.state.users[u]
            for (u, c) in site.state.enrolments
            if c == courseid and logic.is_tracked(site.state, u, courseid) and u in site.state.users
        ]
        if groupid:
            members = (
                set(site.state.groups[groupid].members) if groupid in site.state.groups else set()
            )
            users = [u for u in users if u.id in members]
        users.sort(key=lambda u: (u.lastname, u.firstname, u.id))
    return {"usergrades": [_user_grades(site, course, u) for u in users], "warnings": []}
