"""The records every component looks up, with Moodle's errors for a missing or
inaccessible one, and the user-picture URL the answers share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import WsError
from .model import Activity, Course, Group, Quiz, User

if TYPE_CHECKING:
    from .site import SimulatedMoodle


def missing(site: SimulatedMoodle, table: str, value: object) -> WsError:
    """dml_missing_record_exception for ``table``'s record ``value`` (named only when debugging)."""
    return WsError(
        "dml_missing_record_exception",
        "invalidrecord" if site.debug else "invalidrecordunknown",
        f"Can't find data record in database table {table}."
        if site.debug
        else "Can't find data record in database.",
        f"SELECT * FROM {{{table}}} WHERE id = ?\n[array (\n  0 => {value},\n)]",
    )


def get_course(site: SimulatedMoodle, courseid: int) -> Course:
    """The course, if it exists and the token's user may open it."""
    course = site.state.courses.get(courseid)
    if course is None:
        raise missing(site, "course", courseid)
    if courseid in site.inaccessible_courses:
        raise WsError(
            "core\\exception\\require_login_exception",
            "requireloginerror",
            "Course or activity not accessible.",
        )
    return course


def get_user(site: SimulatedMoodle, userid: int) -> User:
    user = site.state.users.get(userid)
    if user is None:
        raise missing(site, "user", userid)
    return user


def get_quiz(site: SimulatedMoodle, quizid: int) -> Quiz:
    """The quiz, if it exists and its course may be opened."""
    quiz = site.state.quizzes.get(quizid)
    if quiz is None:
        raise missing(site, "quiz", quizid)
    get_course(site, quiz.course)
    return quiz


def picture(site: SimulatedMoodle, small: bool = False) -> str:
    return f"{site.url}/theme/image.php/boost/core/{site.themerev}/u/{'f2' if small else 'f1'}"


def course_activities(site: SimulatedMoodle, courseid: int) -> list[Activity]:
    """The course's activities in its sections, in course order."""
    sections = {s.section: s for s in site.state.sections if s.course == courseid}
    found = [
        a for a in site.state.activities.values() if a.course == courseid and a.section in sections
    ]
    return sorted(found, key=lambda a: (a.section, a.cmid))


def accessible_courses(
    site: SimulatedMoodle, courseids: list[int]
) -> tuple[list[int], list[dict[str, Any]]]:
    """The courses the token's user may see, and Moodle's warning for each other one
    (the ``*_by_courses`` functions answer those with a warning, not an error)."""
    valid: list[int] = []
    warnings: list[dict[str, Any]] = []
    for cid in courseids:
        if cid in site.state.courses and cid not in site.inaccessible_courses:
            valid.append(cid)
        else:
            warnings.append(
                {
                    "item": "course",
                    "itemid": cid,
                    "warningcode": "1",
                    "message": "No access rights in course context",
                }
            )
    return valid, warnings


def groups_of(site: SimulatedMoodle, courseid: int, userid: int) -> list[Group]:
    """The course's groups the user is a member of, by group id: from a map of every
    membership built once per call (a scan of every group per user made listing a
    course's users quadratic)."""
    key = (len(site.calls), id(site.state.groups), len(site.state.groups))
    cached = site.__dict__.get("_groups_of")
    if cached is None or cached[0] != key:
        index: dict[tuple[int, int], list[Group]] = {}
        for group in sorted(site.state.groups.values(), key=lambda g: g.id):
            for member in dict.fromkeys(group.members):
                index.setdefault((group.courseid, member), []).append(group)
        cached = site.__dict__["_groups_of"] = (key, index)
    return list(cached[1].get((courseid, userid), ()))
