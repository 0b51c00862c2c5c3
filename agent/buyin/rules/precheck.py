"""Pre-check test-out (SPEC §4.1, practice P1).

For each learner with a counting finished attempt: topic score = sum of marks /
sum of max marks over the topic (its quiz grade item where the quiz has grade
items, its mapped slots otherwise). Topics at or above the pass mark: every
covered activity with completion tracking that is not complete is overridden to
complete. Never the reverse, never an excluded activity, never the quiz itself.
One notification per counted attempt: tested-out topics, the activities
completed for them, the focus topics with their scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from buyin.model.actions import Action, Kind, OverrideParams
from buyin.model.programme import Precheck, Topic
from buyin.model.snapshot import Activity, Attempt, Learner, Snapshot
from buyin.rules import History, RuleResult
from buyin.rules.messages import course_link, first_name, message

HIDDEN_MARKS = (
    "marks are hidden by the quiz's review options (or the attempt awaits manual grading)"
)


@dataclass(frozen=True)
class TopicScore:
    topic: Topic
    grade: float
    maxgrade: float

    @property
    def fraction(self) -> float:
        return self.grade / self.maxgrade if self.maxgrade > 0 else 0.0


def counting_attempt(attempts: tuple[Attempt, ...], which: str) -> Attempt | None:
    finished = [a for a in attempts if a.finished]
    if not finished:
        return None
    if which == "last":
        return max(finished, key=lambda a: (a.number, a.id))
    if which == "best":
        # highest grade; the earlier attempt wins a tie (Moodle's "highest grade")
        return max(finished, key=lambda a: (a.sumgrades or 0.0, -a.number, -a.id))
    return min(finished, key=lambda a: (a.number, a.id))


def topic_scores(attempt: Attempt, precheck: Precheck) -> list[TopicScore] | str:
    """Per-topic scores, or the reason they cannot be decided."""
    if attempt.sumgrades is None:
        # Moodle blanks a finished attempt's sumgrades for a viewer who may not see its marks
        return HIDDEN_MARKS
    scores = []
    for topic in precheck.topics:
        if attempt.item_marks is not None and topic.grade_item in attempt.item_marks:
            mark = attempt.item_marks[topic.grade_item]
            scores.append(TopicScore(topic, mark.grade, mark.maxgrade))
            continue
        if attempt.item_marks is not None and not topic.slots:
            return f"topic {topic.name!r} matches no grade item of the quiz and has no slots mapped"
        if not topic.slots:
            return f"no quiz slots mapped for topic {topic.name!r}"
        if attempt.slot_marks is None:
            if attempt.item_marks is None:
                return HIDDEN_MARKS  # the attempt review left the marks out
            return f"per-slot marks of attempt {attempt.id} are not available"
        missing = [s for s in topic.slots if s not in attempt.slot_marks]
        if missing:
            return f"topic {topic.name!r}: slots {missing} are not in the quiz"
        grade = sum(attempt.slot_marks[s].grade for s in topic.slots)
        maxgrade = sum(attempt.slot_marks[s].maxgrade for s in topic.slots)
        scores.append(TopicScore(topic, grade, maxgrade))
    return scores


def covered_activities(topic: Topic, snapshot: Snapshot, precheck: Precheck) -> list[Activity]:
    """The activities a topic covers that the rule may complete."""
    if topic.activities is not None:
        candidates = [a for cmid in topic.activities if (a := snapshot.activity(cmid)) is not None]
    else:
        candidates = list(snapshot.section_activities(topic.section))
    quiz_cmid = snapshot.quiz.cmid if snapshot.quiz else None
    return [
        a
        for a in candidates
        if a.completion != 0 and a.cmid not in precheck.exclude and a.cmid != quiz_cmid
    ]


def post_scores(snapshot: Snapshot, learner: Learner) -> dict[str, float]:
    """Per-topic scores of the learner's last finished post-assessment attempt (the
    programme's topics, scored like the pre-check), or {} where there is none."""
    precheck = snapshot.programme.precheck
    if precheck is None or snapshot.post_quiz is None:
        return {}
    attempt = counting_attempt(learner.data.post_attempts, "last")
    if attempt is None:
        return {}
    scores = topic_scores(attempt, precheck)
    if isinstance(scores, str):
        return {}
    return {s.topic.name: round(s.fraction, 4) for s in scores}


def evidence(snapshot: Snapshot, learner: Learner) -> dict[str, Any]:
    """What a manager confirms by signing: the topics the learner tested out of (with
    their pre-check scores) and their post-assessment score, where there is one."""
    precheck = snapshot.programme.precheck
    tested: list[dict[str, Any]] = []
    if precheck is not None:
        attempt = counting_attempt(learner.data.attempts, precheck.attempt)
        scores = topic_scores(attempt, precheck) if attempt is not None else []
        if not isinstance(scores, str):
            tested = [
                {"topic": s.topic.name, "score": s.fraction}
                for s in scores
                if s.fraction >= precheck.pass_mark
            ]
    post = post_scores(snapshot, learner)
    return {
        "tested_out": tested,
        "post": round(sum(post.values()) / len(post), 4) if post else None,
    }


def undecidable(learner: Learner) -> str | None:
    if learner.person.suspended or not learner.person.active:
        return "enrolment not active or user suspended"
    attempts = learner.data.attempts
    if not any(a.finished for a in attempts):
        if any(a.state in ("inprogress", "overdue") for a in attempts):
            return "pre-check attempt in progress"
        return "no pre-check attempt yet"
    return None


def evaluate(snapshot: Snapshot, history: History, now: int) -> RuleResult:
    precheck = snapshot.programme.precheck
    result = RuleResult()
    if precheck is None or snapshot.quiz is None:
        return result
    program = snapshot.programme.id
    for uid, learner in sorted(snapshot.learners.items()):
        post = post_scores(snapshot, learner)
        if post:
            result.facts.setdefault(uid, {})["post"] = post
        why = undecidable(learner)
        if why is not None:
            result.undecided[uid] = why
            continue
        attempt = counting_attempt(learner.data.attempts, precheck.attempt)
        assert attempt is not None
        scores = topic_scores(attempt, precheck)
        if isinstance(scores, str):
            result.undecided[uid] = scores
            continue
        passed = [s for s in scores if s.fraction >= precheck.pass_mark]
        focus = [s for s in scores if s.fraction < precheck.pass_mark]
        completed: list[tuple[TopicScore, list[Activity]]] = []
        for score in passed:
            todo = []
            for activity in covered_activities(score.topic, snapshot, precheck):
                state = learner.data.activities.get(activity.cmid)
                if state is not None and state.state != 0:
                    continue  # already complete: never touched, never reversed
                todo.append(activity)
                result.actions.append(
                    Action(
                        key=f"override:u{uid}:cm{activity.cmid}",
                        kind=Kind.OVERRIDE,
                        program=program,
                        userid=uid,
                        target=f"{learner.person.username} · {activity.name}",
                        params=OverrideParams(cmid=activity.cmid),
                        reason={
                            "rule": "precheck",
                            "topic": score.topic.name,
                            "score": round(score.fraction, 4),
                            "attempt": attempt.id,
                            "minutes_saved": precheck.minutes_per_activity,
                        },
                    )
                )
            completed.append((score, todo))
        result.facts.setdefault(uid, {}).update(
            {
                "precheck": {s.topic.name: round(s.fraction, 4) for s in scores},
                "precheck_attempt": attempt.id,
                "tested_out": sorted(a.cmid for _, acts in completed for a in acts),
            }
        )
        news = _message(snapshot, history, learner, attempt, completed, focus, result)
        if news is not None:
            result.actions.append(news)
    return result


def _message(
    snapshot: Snapshot,
    history: History,
    learner: Learner,
    attempt: Attempt,
    planned: list[tuple[TopicScore, list[Activity]]],
    focus: list[TopicScore],
    held: RuleResult,
) -> Action | None:
    """The learner's pre-check message, where it is news.

    It lists only what this attempt completed (planned now, or applied by an earlier
    run). A learner whose course is complete hears nothing; an attempt before the start
    line is history: its learner hears of it only where something was completed for
    them, in a note saying when the pre-check was (unless a backfill sends it whole).
    """
    precheck = snapshot.programme.precheck
    assert precheck is not None
    uid = learner.id
    if learner.data.completion is not None and learner.data.completion.completion_time:
        return None
    earlier = {
        int(e.payload.get("cmid", 0))
        for e in history.ledger.applied("override").get(uid, [])
        if e.reason.get("attempt") == attempt.id
    }
    completed = [
        (score, [a for a in covered_activities(score.topic, snapshot, precheck) if a.cmid in earlier]
         + acts)
        for score, acts in planned
    ]  # fmt: skip
    data = message_data(snapshot, learner, precheck, completed, focus)
    template = "precheck.result"
    taken = attempt.timefinish or attempt.timestart
    if not history.in_scope("precheck", taken, snapshot):
        held.hold("precheck", uid, taken)
        if not any(acts for _, acts in completed):
            return None
        template = "precheck.completed"
        data["taken"] = taken
    return message(
        snapshot.programme.id,
        f"message:precheck:u{uid}:a{attempt.id}",
        learner.person,
        template,
        data,
        {"rule": "precheck", "attempt": attempt.id},
        # it says the activities were completed: only once they are
        requires=tuple(f"override:u{uid}:cm{a.cmid}" for _, acts in planned for a in acts),
    )


def message_data(
    snapshot: Snapshot,
    learner: Learner,
    precheck: Precheck,
    completed: list[tuple[TopicScore, list[Activity]]],
    focus: list[TopicScore],
) -> dict[str, Any]:
    """The facts of the learner's pre-check message (template "precheck.result")."""
    done_now = {a.cmid for _, activities in completed for a in activities}
    left = [
        a
        for a in snapshot.activities
        if a.completion
        and (snapshot.quiz is None or a.cmid != snapshot.quiz.cmid)
        and a.cmid not in done_now
        and not ((state := learner.data.activities.get(a.cmid)) and state.complete)
    ]
    return {
        "firstname": first_name(learner.person),
        "course": course_link(snapshot.course),
        "quiz": snapshot.quiz.name if snapshot.quiz else None,
        "passmark": precheck.pass_mark,
        "completed": [
            {
                "topic": score.topic.name,
                "score": score.fraction,
                "activities": [{"name": a.name, "url": a.url} for a in activities],
            }
            for score, activities in completed
        ],
        "focus": [{"topic": s.topic.name, "score": s.fraction} for s in focus],
        # activities still to do once these are complete (no "continue" when none is)
        "left": len(left),
    }
