"""Properties of the pure pre-check rule (SPEC §4.1), over random programmes and learners.

Snapshots are built in memory from the dataclasses of buyin.snapshot; no HTTP. The
expected outcome is computed here, independently of the rule's code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buyin.mapping import Precheck, Programme, Topic
from buyin.model.actions import Action, OverrideParams, params_to_json
from buyin.model.snapshot import (
    Activity,
    ActivityState,
    Attempt,
    Course,
    Learner,
    LearnerData,
    Mark,
    Person,
    Quiz,
    Snapshot,
)
from buyin.plan import make_plan
from buyin.rules import History
from buyin.rules.precheck import HIDDEN_MARKS, evaluate
from buyin.state import LedgerEntry

NOW = 1_800_000_000
QUIZ_CMID = 100
SLOTS = 8
SECTIONS = ("Listening", "Questioning", "Objections", "Closing")
MODULES = ("page", "url", "assign", "quiz", "h5pactivity")


@dataclass(frozen=True)
class Case:
    snapshot: Snapshot
    precheck: Precheck
    mode: str  # "items" or "slots"


def _grade(draw: st.DrawFn, maxgrade: float) -> float:
    return draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])) * maxgrade


@st.composite
def cases(draw: st.DrawFn) -> Case:
    # the course: sections of activities, the pre-check quiz somewhere among them
    activities: list[Activity] = []
    cmid = 1
    nsections = draw(st.integers(1, len(SECTIONS)))
    quiz_section = draw(st.integers(0, nsections))
    for number in range(nsections + 1):
        name = "General" if number == 0 else SECTIONS[number - 1]
        for _ in range(draw(st.integers(0 if number == 0 else 1, 4))):
            activities.append(
                Activity(
                    cmid=cmid,
                    name=f"activity {cmid}",
                    modname=draw(st.sampled_from(MODULES)),
                    instance=cmid,
                    section=number,
                    section_name=name,
                    completion=draw(st.sampled_from([0, 1, 2])),
                    url=f"https://moodle.test/mod/view.php?id={cmid}",
                )
            )
            cmid += 1
        if number == quiz_section:
            activities.append(
                Activity(
                    QUIZ_CMID, "Pre-check", "quiz", 1, number, name, 2, "https://moodle.test/q"
                )
            )
    cmids = [a.cmid for a in activities]

    # the mapping: topics named after sections, some with explicit activities or another
    # section; their slots; exclusions; pass mark; which attempt counts
    mode = draw(st.sampled_from(["items", "slots"]))
    topics = []
    for name in draw(
        st.lists(st.sampled_from(SECTIONS), min_size=1, max_size=len(SECTIONS), unique=True)
    ):
        how = draw(st.sampled_from(["section", "other-section", "activities"]))
        section = name
        explicit: tuple[int, ...] | None = None
        if how == "other-section":
            section = draw(st.sampled_from(SECTIONS)).upper()  # matched case-insensitively
        elif how == "activities":
            explicit = tuple(draw(st.lists(st.sampled_from(cmids), unique=True)))
        slots = tuple(draw(st.lists(st.integers(1, SLOTS), min_size=1, max_size=4, unique=True)))
        topics.append(Topic(name, name, section, slots, explicit))
    precheck = Precheck(
        quiz=QUIZ_CMID,
        topics=tuple(topics),
        attempt=draw(st.sampled_from(["first", "best", "last"])),
        pass_mark=draw(st.floats(0, 1, exclude_min=True, allow_nan=False)),
        exclude=frozenset(draw(st.lists(st.sampled_from(cmids), unique=True))),
    )
    programme = Programme(id="p1", course=2, source=Path("p1.toml"), precheck=precheck)
    maxmarks = {s: draw(st.sampled_from([1.0, 2.0])) for s in range(1, SLOTS + 1)}

    learners: dict[int, Learner] = {}
    for uid in range(10, 10 + draw(st.integers(1, 5))):
        states = {
            a.cmid: ActivityState(draw(st.integers(0, 3)), 0, None, a.completion)
            for a in activities
            if a.completion and draw(st.booleans())
        }
        attempts = []
        for number in range(1, draw(st.integers(0, 3)) + 1):
            state = draw(st.sampled_from(["finished", "finished", "inprogress", "abandoned"]))
            slot_marks = {s: Mark(_grade(draw, m), m) for s, m in maxmarks.items()}
            item_marks = {
                t.grade_item: Mark(
                    sum(slot_marks[s].grade for s in t.slots),
                    sum(slot_marks[s].maxgrade for s in t.slots),
                )
                for t in topics
            }
            finished = state == "finished"
            # rarely, marks hidden by the review options: sumgrades blanked
            hidden = finished and draw(st.integers(0, 9)) == 0
            attempts.append(
                Attempt(
                    id=uid * 10 + number,
                    number=number,
                    state=state,
                    timestart=NOW - 1000,
                    timefinish=NOW - 500 if finished else 0,
                    sumgrades=None
                    if hidden or not finished
                    else sum(m.grade for m in slot_marks.values()),
                    # a site may send grade item marks even when sumgrades is blanked
                    item_marks=item_marks if mode == "items" else None,
                    slot_marks=None if mode == "items" or hidden else slot_marks,
                )
            )
        person = Person(
            id=uid,
            username=f"learner{uid}",
            fullname=f"Learner {uid}",
            firstname="Learner",
            email=f"l{uid}@example.test",
            idnumber="",
            roles=(5,),
            suspended=draw(st.integers(0, 9)) == 0,
        )
        learners[uid] = Learner(
            person, LearnerData(activities=states, attempts=tuple(attempts)), NOW, NOW, True
        )
    snapshot = Snapshot(
        programme=programme,
        site_url="https://moodle.test",
        agent_userid=2,
        taken_at=NOW,
        course=Course(2, "CC", "Course", True, "https://moodle.test/course/view.php?id=2"),
        activities=tuple(activities),
        quiz=Quiz(1, QUIZ_CMID, "Pre-check", 10, 8, "https://moodle.test/q"),
        learners=learners,
        people={uid: lr.person for uid, lr in learners.items()},
    )
    return Case(snapshot, precheck, mode)


# -- the oracle: what the rule must do, computed independently --------------------------


def counting(attempts: tuple[Attempt, ...], which: str) -> Attempt | None:
    finished = sorted((a for a in attempts if a.state == "finished"), key=lambda a: a.number)
    if not finished:
        return None
    if which == "first":
        return finished[0]
    if which == "last":
        return finished[-1]
    best = max(a.sumgrades or 0.0 for a in finished)
    return next(a for a in finished if (a.sumgrades or 0.0) == best)


def fraction(attempt: Attempt, topic: Topic) -> float:
    if attempt.item_marks is not None:
        mark = attempt.item_marks[topic.grade_item]
        grade, maxgrade = mark.grade, mark.maxgrade
    else:
        assert attempt.slot_marks is not None
        grade = sum(attempt.slot_marks[s].grade for s in topic.slots)
        maxgrade = sum(attempt.slot_marks[s].maxgrade for s in topic.slots)
    return grade / maxgrade if maxgrade else 0.0


def covered(case: Case, topic: Topic) -> set[int]:
    """Every activity the topic covers, before any filtering."""
    if topic.activities is not None:
        return set(topic.activities)
    return {
        a.cmid
        for a in case.snapshot.activities
        if a.section_name.casefold() == topic.section.casefold()
    }


def expected(case: Case) -> tuple[set[tuple[int, int]], set[int]]:
    """(learner, cmid) pairs to complete, and the learners to message."""
    overrides: set[tuple[int, int]] = set()
    messaged: set[int] = set()
    activity = {a.cmid: a for a in case.snapshot.activities}
    for uid, learner in case.snapshot.learners.items():
        attempt = counting(learner.data.attempts, case.precheck.attempt)
        if learner.person.suspended or attempt is None or attempt.sumgrades is None:
            continue
        messaged.add(uid)
        for topic in case.precheck.topics:
            if fraction(attempt, topic) < case.precheck.pass_mark:
                continue
            for cmid in covered(case, topic):
                state = learner.data.activities.get(cmid)
                if (
                    cmid in activity
                    and activity[cmid].completion != 0
                    and cmid not in case.precheck.exclude
                    and cmid != QUIZ_CMID
                    and (state is None or state.state == 0)
                ):
                    overrides.add((uid, cmid))
    return overrides, messaged


def overrides_of(actions: list[Action]) -> set[tuple[int, int]]:
    return {(a.userid, a.params.cmid) for a in actions if a.kind == "override"}


def applied(snapshot: Snapshot, actions: list[Action]) -> Snapshot:
    """The snapshot after Moodle applied the overrides (state 1)."""
    learners = dict(snapshot.learners)
    for action in actions:
        if action.kind != "override":
            continue
        learner = learners[action.userid]
        states = dict(learner.data.activities)
        states[action.params.cmid] = ActivityState(1, NOW, 2, 1)
        learners[action.userid] = replace(learner, data=replace(learner.data, activities=states))
    return replace(snapshot, learners=learners)


def ledger_of(actions: list[Action]) -> dict[str, LedgerEntry]:
    return {
        a.key: LedgerEntry(
            key=a.key,
            program=a.program,
            kind=a.kind,
            userid=a.userid,
            target=a.target,
            payload=params_to_json(a.params),
            reason=dict(a.reason),
            status="applied",
            attempts=1,
            last_error=None,
            created_at=NOW,
            updated_at=NOW,
            applied_at=NOW,
        )
        for a in actions
    }


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(cases())
def test_overrides_are_exactly_the_passed_topics_incomplete_tracked_activities(
    case: Case,
) -> None:
    result = evaluate(case.snapshot, History(), NOW)
    activity = {a.cmid: a for a in case.snapshot.activities}
    for action in result.actions:
        assert action.kind in ("override", "message")
        if action.kind == "override":
            assert action.params == OverrideParams(cmid=action.params.cmid, newstate=1)
            cmid = action.params.cmid
            assert cmid != QUIZ_CMID
            assert cmid not in case.precheck.exclude
            assert activity[cmid].completion != 0
            state = case.snapshot.learners[action.userid].data.activities.get(cmid)
            assert state is None or state.state == 0
    overrides, _ = expected(case)
    assert overrides_of(result.actions) == overrides


@PROPERTY
@given(cases())
def test_one_message_per_learner_with_a_counting_attempt_none_for_others(case: Case) -> None:
    result = evaluate(case.snapshot, History(), NOW)
    messages = [a.userid for a in result.actions if a.kind == "message"]
    _, messaged = expected(case)
    assert sorted(messages) == sorted(messaged)
    # every other learner is undecided, with a reason; hidden marks say so
    assert set(result.undecided) == set(case.snapshot.learners) - messaged
    for uid, why in result.undecided.items():
        learner = case.snapshot.learners[uid]
        attempt = counting(learner.data.attempts, case.precheck.attempt)
        if not learner.person.suspended and attempt is not None:
            assert why == HIDDEN_MARKS
    # overrides only for learners who are messaged
    assert {uid for uid, _ in overrides_of(result.actions)} <= messaged


@PROPERTY
@given(cases())
def test_applying_the_overrides_then_evaluating_again_changes_nothing(case: Case) -> None:
    first = evaluate(case.snapshot, History(), NOW)
    after = applied(case.snapshot, first.actions)
    second = evaluate(after, History(ledger=ledger_of(first.actions)), NOW + 3600)
    assert overrides_of(second.actions) == set()
    assert {a.key for a in second.actions} == {a.key for a in first.actions if a.kind == "message"}
    assert second.undecided == first.undecided

    # planned against the ledger of the first run: nothing to do
    plan = make_plan("p1", second.actions, ledger_of(first.actions), after)
    assert plan.actions == [] and plan.satisfied == [] and plan.verified == []
    assert plan.done == len({a.key for a in second.actions})
    # and the first run's own actions against that ledger and Moodle's new state
    replay = make_plan("p1", first.actions, ledger_of(first.actions), after)
    assert replay.actions == [] and replay.done == len({a.key for a in first.actions})


@PROPERTY
@given(cases())
def test_nothing_is_ever_marked_incomplete_or_completed_twice(case: Case) -> None:
    result = evaluate(case.snapshot, History(), NOW)
    keys = [a.key for a in result.actions if a.kind == "message"]
    assert len(keys) == len(set(keys))
    for action in result.actions:
        if action.kind == "override":
            assert action.params.newstate == 1
            assert action.key == f"override:u{action.userid}:cm{action.params.cmid}"
