"""Silent no-ops: a programme that runs cleanly and does nothing, because of how the
site is, not because of an error. Each is a warning in sync's summary and `status`."""

from __future__ import annotations

from buyin.model.snapshot import Snapshot


def silent_noops(snapshot: Snapshot) -> list[str]:
    """Why this programme will do (part of) nothing, in words, with what to check."""
    programme = snapshot.programme
    course = snapshot.course.shortname
    found: list[str] = []
    signoff = programme.signoff
    if signoff is not None and isinstance(signoff.role, str) and signoff.role not in snapshot.roles:
        found.append(
            f"the sign-off role {signoff.role!r} is held by nobody in {course}, so its id is "
            "unknown and no sign-off is requested: give the role to one person in the course, "
            "or set [signoff] role to the role's id"
        )
    if not snapshot.learners:
        found.append(
            f"{course} has no learners with the role {programme.learner_role!r}: nothing to do "
            "(check [program] course and learner_role)"
        )
    elif programme.precheck is not None and not any(
        lr.data.attempts for lr in snapshot.learners.values()
    ):
        quiz = snapshot.quiz.name if snapshot.quiz is not None else programme.precheck.quiz
        found.append(
            f"the pre-check quiz {quiz!r} has no attempts yet: nobody can test out "
            "(check [precheck] quiz is the quiz learners take)"
        )
    return found
