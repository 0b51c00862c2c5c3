"""Pre-check data sources end to end on the simulated site (issue 3).

Where the per-topic marks come from: grade items (Moodle 4.4+), else the attempt
review's per-slot marks summed over the mapping's slots; the pre-5.0 attempts
function; marks hidden by the quiz's review options; topics without slots.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from buyin.simulator import SimulatedMoodle, generate_scenario
from support import Clock, news_since, precheck_messages, set_mapping, sync_once

OVERRIDE = "core_completion_override_activity_completion_status"
REVIEW = "mod_quiz_get_attempt_review"
HIDDEN = "marks are hidden by the quiz's review options (or the attempt awaits manual grading)"


def completions(site: SimulatedMoodle) -> dict[int, set[int]]:
    """Per learner, the CC101 activities complete in Moodle."""
    learners = sorted(uid for (uid, cid), e in site.state.enrolments.items() if cid == 2)
    return {
        uid: {cm for cm in range(1, 10) if site.activity_state(uid, cm) != 0} for uid in learners
    }


def finished_learners(site: SimulatedMoodle) -> set[int]:
    return {a.userid for a in site.state.attempts.values() if a.quiz == 1 and a.finished}


def drop_grade_items(site: SimulatedMoodle) -> None:
    """The pre-check quiz without grade items (before Moodle 4.4, or never set up)."""
    site.state.quizzes[1].grade_items = []


def calls_since(site: SimulatedMoodle, mark: int, function: str) -> list[dict[str, Any]]:
    return [params for fn, params in site.calls[mark:] if fn == function]


@pytest.fixture
def reference(clock: Clock, tmp_path: Path) -> dict[int, set[int]]:
    """What one sync completes with grade items on a fresh copy of the default site."""
    other = SimulatedMoodle(generate_scenario(), clock=clock)
    report = sync_once(other, tmp_path / "reference", clock)
    assert report.exit_code == 0
    assert calls_since(other, 0, REVIEW) == []  # grade items: no review needed
    return completions(other)


# (a) no grade items: marks from the attempt review -------------------------------------


def test_without_grade_items_slot_marks_complete_the_same_learners(
    site: SimulatedMoodle, run_sync: Any, reference: dict[int, set[int]]
) -> None:
    drop_grade_items(site)
    report = run_sync()
    assert report.exit_code == 0
    assert completions(site) == reference
    # one review per finished attempt, nothing else
    finished = {a.id for a in site.state.attempts.values() if a.quiz == 1 and a.finished}
    reviewed = [p["attemptid"] for p in calls_since(site, 0, REVIEW)]
    assert sorted(reviewed) == sorted(finished)


def test_review_marks_are_summed_over_the_mapped_slots(
    site: SimulatedMoodle, run_sync: Any, mapping_dir: Path
) -> None:
    # Listening is mapped to slots 1, 2 and 3: its score is their marks over 3
    drop_grade_items(site)
    news_since(mapping_dir)  # the scenario's pre-checks are news, not history
    set_mapping(mapping_dir, "slots = [1, 2]", "slots = [1, 2, 3]")
    set_mapping(mapping_dir, "pass_mark = 0.8", "pass_mark = 0.6")
    before = completions(site)
    expected: set[tuple[int, int]] = set()
    scores: dict[int, float] = {}
    for uid in finished_learners(site):
        marks = _counting_attempt(site, uid).marks
        scores[uid] = sum(marks.get(s, 0.0) for s in (1, 2, 3)) / 3
        if scores[uid] >= 0.6:
            expected |= {(uid, cm) for cm in (1, 2) if cm not in before[uid]}
    assert expected and any(v < 0.6 for v in scores.values())  # the data tells both ways

    assert run_sync().exit_code == 0

    overridden = {
        (p["userid"], p["cmid"]) for p in calls_since(site, 0, OVERRIDE) if p["cmid"] in (1, 2)
    }
    assert overridden == expected
    for uid, score in scores.items():
        if uid in (9, 15):  # learner01 and learner07: course complete, no pre-check news
            assert precheck_messages(site, uid) == []
            continue
        text = precheck_messages(site, uid)[-1].text
        if score < 0.6:
            assert f"Listening</strong>: you scored {round(score * 100)}%" in text, uid
        else:
            assert f"<strong>Listening</strong> ({round(score * 100)}%)" in text, uid


def test_second_sync_reviews_nothing_and_a_new_attempt_alone_is_reviewed(
    site: SimulatedMoodle, run_sync: Any, clock: Clock
) -> None:
    drop_grade_items(site)
    run_sync()
    mark = len(site.calls)
    clock.advance(hours=1)
    assert run_sync().exit_code == 0
    assert calls_since(site, mark, REVIEW) == []

    # learner20 (id 28) takes the pre-check and aces it
    clock.advance(hours=1)
    site.add_attempt(28, 1, {slot: 1.0 for slot in range(1, 9)}, time=clock.now)
    new = max(site.state.attempts)
    mark = len(site.calls)
    assert run_sync().exit_code == 0
    assert [p["attemptid"] for p in calls_since(site, mark, REVIEW)] == [new]
    assert {1, 2, 3, 4, 5, 6, 7, 8} <= completions(site)[28]

    # a full reconciliation refetches everyone and still reviews nothing it has seen
    clock.advance(days=2)
    mark = len(site.calls)
    assert run_sync().exit_code == 0
    assert calls_since(site, mark, REVIEW) == []


def test_an_unanswered_question_counts_as_zero_not_as_hidden(
    site: SimulatedMoodle, run_sync: Any, clock: Clock, mapping_dir: Path
) -> None:
    # Moodle formats the mark of a question given up as "" (format_float(null))
    drop_grade_items(site)
    news_since(mapping_dir)
    site.add_attempt(28, 1, {1: 1.0, 2: 1.0, 3: 1.0, 5: 1.0, 6: 1.0}, time=clock.now - 600)
    report = run_sync()
    assert 28 not in report.outcomes[0].undecided
    # Listening and Objections aced; Questioning 1/2 and Closing 0/2 are focus topics
    assert {1, 2, 5, 6} <= completions(site)[28]
    overridden = {p["cmid"] for p in calls_since(site, 0, OVERRIDE) if p["userid"] == 28}
    assert overridden <= {1, 2, 5, 6} and overridden
    text = precheck_messages(site, 28)[-1].text
    assert "Closing</strong>: you scored 0%" in text
    assert "Questioning</strong>: you scored 50%" in text


# (b) a site older than 5.0 --------------------------------------------------------------


@pytest.mark.parametrize("grade_items", [True, False])
def test_pre_50_site_uses_the_legacy_attempts_function(
    grade_items: bool,
    site: SimulatedMoodle,
    run_sync: Any,
    reference: dict[int, set[int]],
) -> None:
    site.service_functions.discard("mod_quiz_get_user_quiz_attempts")
    if not grade_items:
        drop_grade_items(site)
    report = run_sync()
    assert report.exit_code == 0
    assert calls_since(site, 0, "mod_quiz_get_user_quiz_attempts") == []
    assert len(calls_since(site, 0, "mod_quiz_get_user_attempts")) == 24
    assert completions(site) == reference
    undecided = report.outcomes[0].undecided
    assert set(undecided) == set(range(25, 33))  # learner17 in progress, 18-24 no attempt


# (c) marks hidden by the quiz's review options ------------------------------------------


def hide_marks_immediately_after(site: SimulatedMoodle) -> None:
    """The agent's role lacks moodle/grade:viewhidden, and the quiz shows marks only
    "later, while the quiz is still open", not in the two minutes after an attempt."""
    site.grade_viewhidden = False
    quiz = site.state.quizzes[1]
    quiz.reviewmarks &= ~0x01000
    quiz.reviewmaxmarks &= ~0x01000


@pytest.mark.parametrize("grade_items", [True, False])
def test_hidden_marks_leave_the_learner_undecided_and_the_others_go_on(
    grade_items: bool,
    site: SimulatedMoodle,
    run_sync: Any,
    clock: Clock,
    reference: dict[int, set[int]],
) -> None:
    if not grade_items:
        drop_grade_items(site)
    hide_marks_immediately_after(site)
    # learner20 (id 28) submits an all-correct pre-check a minute ago
    site.add_attempt(28, 1, {slot: 1.0 for slot in range(1, 9)}, time=clock.now - 60)
    before = completions(site)[28]

    report = run_sync()

    assert report.exit_code == 0
    undecided = report.outcomes[0].undecided
    assert undecided[28] == HIDDEN
    assert completions(site)[28] == before
    assert precheck_messages(site, 28) == []
    # everyone else is decided as usual
    after = completions(site)
    assert {uid: cms for uid, cms in after.items() if uid != 28} == {
        uid: cms for uid, cms in reference.items() if uid != 28
    }

    # later, while the quiz is open, the marks show: the next sync decides learner20
    clock.advance(hours=0.1)
    site.access_course(28, 2, clock.now)  # learner20 opens the course again
    report = run_sync()
    assert 28 not in report.outcomes[0].undecided
    assert {1, 2, 3, 4, 5, 6, 7, 8} <= completions(site)[28]
    assert len(precheck_messages(site, 28)) == 1


def test_hidden_marks_with_the_legacy_function_and_no_grade_items(
    site: SimulatedMoodle, run_sync: Any, clock: Clock
) -> None:
    # mod_quiz_get_user_attempts shows the agent (mod/quiz:viewreports) the attempt's
    # sumgrades, but the review hides the per-question marks
    site.service_functions.discard("mod_quiz_get_user_quiz_attempts")
    drop_grade_items(site)
    hide_marks_immediately_after(site)
    site.add_attempt(28, 1, {slot: 1.0 for slot in range(1, 9)}, time=clock.now - 60)
    report = run_sync()
    assert report.outcomes[0].undecided[28] == HIDDEN
    assert precheck_messages(site, 28) == []
    assert 19 not in report.outcomes[0].undecided


# (d) a topic without slots on a quiz without grade items ---------------------------------


def test_topic_without_slots_leaves_finished_learners_undecided_naming_it(
    site: SimulatedMoodle, run_sync: Any, mapping_dir: Path
) -> None:
    drop_grade_items(site)
    set_mapping(mapping_dir, "slots = [5, 6]\n", "")
    before = completions(site)
    report = run_sync()
    assert report.exit_code == 0
    undecided = report.outcomes[0].undecided
    for uid in finished_learners(site):
        assert "Objections" in undecided[uid], uid
        assert precheck_messages(site, uid) == []
    assert completions(site) == before
    assert calls_since(site, 0, OVERRIDE) == []


# (e) `buyin status` lists every undecided learner with the reason -----------------------


def test_status_lists_each_undecided_learner_with_the_reason(
    site: SimulatedMoodle, run_sync: Any, settings: Any, clock: Clock
) -> None:
    from click.testing import CliRunner

    from buyin.cli import main

    hide_marks_immediately_after(site)
    site.add_attempt(28, 1, {slot: 1.0 for slot in range(1, 9)}, time=clock.now - 60)
    report = run_sync()
    undecided = report.outcomes[0].undecided
    assert len(undecided) == 8

    result = CliRunner().invoke(
        main, ["--state", str(settings.state_path), "status"], catch_exceptions=False
    )
    assert result.exit_code == 0
    lines = result.output.splitlines()
    names = {u.id: u.username for u in site.state.users.values()}
    for uid, why in undecided.items():  # grouped by reason, each learner by name
        assert any(why in line and f"{names[uid]} (" in line for line in lines), (uid, why)
    assert any(HIDDEN in line and "learner20 (" in line for line in lines)
    assert any("pre-check attempt in progress" in line and "learner17 (" in line for line in lines)


# helpers ---------------------------------------------------------------------------------


def _counting_attempt(site: SimulatedMoodle, uid: int) -> Any:
    finished = [a for a in site.state.attempts.values() if a.userid == uid and a.finished]
    return min(finished, key=lambda a: a.attempt)
