"""The pre-check rule as table tests on built snapshots (SPEC §4.1)."""

from __future__ import annotations

import pytest

from builders import (
    NOW,
    activities,
    activity,
    attempt,
    done,
    learner,
    precheck,
    programme,
    snapshot,
)
from buyin.model.actions import Kind, MessageParams, OverrideParams
from buyin.model.snapshot import ActivityState, Attempt, Learner
from buyin.rules import History, RuleResult
from buyin.rules import precheck as rule


def run(*learners: Learner, **cfg: object) -> RuleResult:
    snap = snapshot(*learners, programme=programme(precheck=precheck(**cfg)))  # type: ignore[arg-type]
    return rule.evaluate(snap, History(), NOW)


def completed(result: RuleResult) -> set[int]:
    """The activities the rule asks Moodle to mark complete (for learner 20)."""
    out = set()
    for action in result.actions:
        if action.kind == Kind.OVERRIDE:
            assert isinstance(action.params, OverrideParams)
            assert action.params.newstate == 1, "the rule only ever completes"
            assert action.key == f"override:u{action.userid}:cm{action.params.cmid}"
            out.add(action.params.cmid)
    return out


def result_messages(result: RuleResult) -> list[tuple[str, int]]:
    out = []
    for action in result.actions:
        if action.kind == Kind.MESSAGE:
            assert isinstance(action.params, MessageParams)
            out.append((action.key, action.params.touserid))
    return out


@pytest.mark.parametrize(
    ("marks", "pass_mark", "expected"),
    [
        pytest.param(
            {"Listening": 8, "Questions": 7},
            0.8,
            {1, 2},
            id="a topic at the pass mark is tested out, one below is not",
        ),
        pytest.param(
            {"Listening": 10, "Questions": 10},
            0.8,
            {1, 2, 3, 4},
            id="every topic passed completes every covered activity",
        ),
        pytest.param(
            {"Listening": 7.9, "Questions": 0}, 0.8, set(), id="no topic passed completes nothing"
        ),
        pytest.param(
            {"Listening": 6, "Questions": 6},
            0.6,
            {1, 2, 3, 4},
            id="the mapping's pass mark decides",
        ),
    ],
)
def test_pass_mark(marks: dict[str, float], pass_mark: float, expected: set[int]) -> None:
    result = run(learner(attempts=[attempt(7, marks=marks)]), pass_mark=pass_mark)

    assert completed(result) == expected
    assert result.facts[20]["precheck"] == {t: m / 10 for t, m in marks.items()}
    # one results message per counted attempt, sent once the overrides are done
    assert result_messages(result) == [("message:precheck:u20:a7", 20)]
    message = next(a for a in result.actions if a.kind == Kind.MESSAGE)
    assert set(message.requires) == {f"override:u20:cm{c}" for c in expected}


THREE_ATTEMPTS = (
    attempt(1, marks={"Listening": 10, "Questions": 0}),
    attempt(2, marks={"Listening": 9, "Questions": 10}),
    attempt(3, marks={"Listening": 0, "Questions": 9}),
)


@pytest.mark.parametrize(
    ("which", "attempts", "counted", "expected"),
    [
        pytest.param(
            "first", THREE_ATTEMPTS, 1, {1, 2}, id="first: the first finished attempt counts"
        ),
        pytest.param("best", THREE_ATTEMPTS, 2, {1, 2, 3, 4}, id="best: the highest total counts"),
        pytest.param(
            "last", THREE_ATTEMPTS, 3, {3, 4}, id="last: the latest finished attempt counts"
        ),
        pytest.param(
            "best",
            (
                attempt(1, marks={"Listening": 10, "Questions": 0}),
                attempt(2, marks={"Listening": 0, "Questions": 10}),
            ),
            1,
            {1, 2},
            id="best: the earlier attempt wins a tie",
        ),
        pytest.param(
            "last",
            (attempt(1, marks={"Listening": 10, "Questions": 0}), attempt(2, state="inprogress")),
            1,
            {1, 2},
            id="last: an attempt in progress does not count",
        ),
    ],
)
def test_which_attempt_counts(
    which: str, attempts: tuple[Attempt, ...], counted: int, expected: set[int]
) -> None:
    result = run(learner(attempts=attempts), attempt=which)

    assert completed(result) == expected
    assert result.facts[20]["precheck_attempt"] == counted
    assert result_messages(result) == [(f"message:precheck:u20:a{counted}", 20)]


@pytest.mark.parametrize(
    ("subject", "why"),
    [
        pytest.param(learner(), "no pre-check attempt yet", id="no attempt yet: undecided"),
        pytest.param(
            learner(attempts=[attempt(state="inprogress")]),
            "pre-check attempt in progress",
            id="an attempt in progress: undecided",
        ),
        pytest.param(
            learner(attempts=[attempt(state="overdue")]),
            "pre-check attempt in progress",
            id="an overdue attempt: undecided",
        ),
        pytest.param(
            learner(attempts=[attempt(hidden=True)]),
            rule.HIDDEN_MARKS,
            id="hidden marks: undecided, never guessed",
        ),
        pytest.param(
            learner(attempts=[attempt()], suspended=True),
            "enrolment not active or user suspended",
            id="a suspended learner: undecided",
        ),
        pytest.param(
            learner(attempts=[attempt()], active=False),
            "enrolment not active or user suspended",
            id="an inactive enrolment: undecided",
        ),
    ],
)
def test_undecided_learners_get_nothing(subject: Learner, why: str) -> None:
    result = run(subject)

    assert result.actions == []
    assert result.undecided == {20: why}


@pytest.mark.parametrize(
    ("states", "exclude", "expected"),
    [
        pytest.param({}, (2,), {1}, id="an excluded activity is never completed"),
        pytest.param({2: done()}, (), {1}, id="an activity already complete is left alone"),
        pytest.param(
            {2: ActivityState(state=3, timecompleted=NOW, overrideby=None, tracking=2)},
            (),
            {1},
            id="a complete-fail activity is left alone, never reversed",
        ),
        pytest.param({1: done(), 2: done()}, (), set(), id="both already complete: nothing to do"),
    ],
)
def test_what_is_never_touched(
    states: dict[int, ActivityState], exclude: tuple[int, ...], expected: set[int]
) -> None:
    subject = learner(
        activities=states, attempts=[attempt(marks={"Listening": 10, "Questions": 0})]
    )
    result = run(subject, exclude=exclude)

    assert completed(result) == expected
    assert result_messages(result) == [("message:precheck:u20:a1", 20)]


def test_a_failed_topic_never_uncompletes_its_done_activities() -> None:
    subject = learner(
        activities={3: done(), 4: done()},
        attempts=[attempt(marks={"Listening": 0, "Questions": 0})],
    )

    result = run(subject)

    assert [a.kind for a in result.actions] == [Kind.MESSAGE]


def test_untracked_activities_and_the_quiz_itself_are_not_completed() -> None:
    standard = activities()
    layout = (
        *standard[:2],
        activity(30, section="Listening", completion=0),  # no completion tracking
        activity(9, section="Listening"),  # the pre-check quiz in the topic's section
    )
    snap = snapshot(
        learner(attempts=[attempt(marks={"Listening": 10, "Questions": 0})]),
        programme=programme(precheck=precheck()),
        activities=layout,
    )

    result = rule.evaluate(snap, History(), NOW)

    assert completed(result) == {1, 2}


def test_each_learner_is_decided_on_their_own() -> None:
    passing = learner(20, attempts=[attempt(1, marks={"Listening": 10, "Questions": 10})])
    waiting = learner(21, attempts=[attempt(2, state="inprogress")])
    snap = snapshot(passing, waiting, programme=programme(precheck=precheck()))

    result = rule.evaluate(snap, History(), NOW)

    assert {a.userid for a in result.actions} == {20}
    assert result.undecided == {21: "pre-check attempt in progress"}
    assert result_messages(result) == [("message:precheck:u20:a1", 20)]
