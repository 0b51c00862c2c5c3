"""Moodle's rules over the simulated state: quiz grades, activity completion of
a quiz, course-completion criteria and their aggregation.

Pure functions over :class:`~buyin.simulator.model.Scenario`; the site and the
scenario generator both use them, so the seeded data obeys the same rules the
site applies when something changes.
"""

from __future__ import annotations

from .model import (
    AGGREGATION_ALL,
    COMPLETION_COMPLETE,
    COMPLETION_COMPLETE_FAIL,
    COMPLETION_COMPLETE_PASS,
    ENROL_ACTIVE,
    GRADEMETHOD_AVERAGE,
    GRADEMETHOD_FIRST,
    GRADEMETHOD_LAST,
    ROLE_STUDENT,
    ActivityCompletion,
    Attempt,
    Quiz,
    Scenario,
)


def attempts_of(state: Scenario, quizid: int, userid: int) -> list[Attempt]:
    return sorted(state.attempts.of(quizid, userid), key=lambda a: a.attempt)


def attempt_grade(quiz: Quiz, attempt: Attempt) -> float | None:
    """The attempt's grade out of ``quiz.grade`` (None while unfinished)."""
    raw = attempt.sumgrades
    if raw is None or not quiz.sumgrades:
        return None
    return round(raw / quiz.sumgrades * quiz.grade, 5)


def quiz_grade(state: Scenario, quiz: Quiz, userid: int) -> tuple[float, int] | None:
    """(grade out of quiz.grade, time the grade was last set) per the quiz's grade method."""
    finished = [a for a in attempts_of(state, quiz.id, userid) if a.finished]
    if not finished:
        return None
    grades = [attempt_grade(quiz, a) or 0.0 for a in finished]
    if quiz.grademethod == GRADEMETHOD_AVERAGE:
        grade = sum(grades) / len(grades)
    elif quiz.grademethod == GRADEMETHOD_FIRST:
        grade = grades[0]
    elif quiz.grademethod == GRADEMETHOD_LAST:
        grade = grades[-1]
    else:
        grade = max(grades)
    return round(grade, 5), max(a.timefinish for a in finished)


def update_quiz_completion(state: Scenario, quiz: Quiz, userid: int) -> None:
    """Completion of a quiz with "receive a grade" + "receive a passing grade"."""
    activity = state.activities.get(quiz.cmid)
    if activity is None or not activity.completion:
        return
    graded = quiz_grade(state, quiz, userid)
    if graded is None:
        return
    grade, when = graded
    passed = grade >= quiz.gradepass if quiz.gradepass else True
    newstate = COMPLETION_COMPLETE_PASS if passed else COMPLETION_COMPLETE_FAIL
    if not quiz.gradepass:
        newstate = COMPLETION_COMPLETE
    state.activity_completions[(userid, quiz.cmid)] = ActivityCompletion(newstate, when)


def is_enrolled(state: Scenario, userid: int, courseid: int) -> bool:
    return (userid, courseid) in state.enrolments


def is_active_enrolment(state: Scenario, userid: int, courseid: int, now: int) -> bool:
    enrolment = state.enrolments.get((userid, courseid))
    user = state.users.get(userid)
    if enrolment is None or user is None or user.suspended:
        return False
    if enrolment.status != ENROL_ACTIVE or enrolment.timestart > now:
        return False
    return not (enrolment.timeend and enrolment.timeend <= now)


def is_tracked(state: Scenario, userid: int, courseid: int) -> bool:
    """Moodle tracks completion of users holding a role with moodle/course:isincompletionreports (students)."""
    enrolment = state.enrolments.get((userid, courseid))
    return enrolment is not None and ROLE_STUDENT in enrolment.roleids


def criteria_status(
    state: Scenario, userid: int, courseid: int
) -> list[tuple[str, int, bool, int | None]]:
    """Each criterion of the course as (kind, id, complete, timecompleted); kind "activity" or "role"."""
    course = state.courses[courseid]
    result: list[tuple[str, int, bool, int | None]] = []
    for criterion in course.completion.activities:
        done = state.activity_completions.get((userid, criterion.cmid))
        complete = done is not None and done.state in (
            COMPLETION_COMPLETE,
            COMPLETION_COMPLETE_PASS,
        )
        result.append(
            ("activity", criterion.id, complete, done.timecompleted if done and complete else None)
        )
    role = course.completion.role
    if role is not None:
        signoff = state.signoffs.get((userid, courseid))
        result.append(("role", role.id, signoff is not None, signoff.time if signoff else None))
    return result


def aggregate_course(state: Scenario, userid: int, courseid: int) -> bool:
    """Moodle's course-completion aggregation for one user; True when it newly completed."""
    if (userid, courseid) in state.course_completions or not is_tracked(state, userid, courseid):
        return False
    course = state.courses[courseid]
    if not course.enablecompletion:
        return False
    criteria = criteria_status(state, userid, courseid)
    if not criteria:
        return False
    flags = [c[2] for c in criteria]
    complete = all(flags) if course.completion.aggregation == AGGREGATION_ALL else any(flags)
    if not complete:
        return False
    # The course completion time is the latest criterion time.
    state.course_completions[(userid, courseid)] = max(c[3] or 0 for c in criteria if c[2])
    return True
