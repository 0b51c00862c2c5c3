"""The agent on the core path against the real site: what Moodle holds after a dry run,
a full sync, Moodle's cron and a second sync, checked against scenario.json's expected
states and against the same sync on the simulated Moodle.

One reset, then every step in order (the module's fixture); each test reads one outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from live_support import Holding, Steps, difference, simulated_holding, time_shift

from support import DAY, load_scenario

pytestmark = pytest.mark.live

SCENARIO = load_scenario()
LEARNERS = SCENARIO["learners"]
SECTIONS: dict[str, int] = SCENARIO["courses"]["CC101"]["sections"]
CC101, CC201 = 2, 3
STUDENT = 5


@dataclass
class CoreRun:
    fresh: Holding
    after_dry_run: Holding
    after_sync: Holding
    after_cron: Holding
    after_second_sync: Holding
    dry_out: str
    second_out: str
    topics: dict[int, list[int]]
    shift: int
    completed: dict[int, int]
    simulated: Holding


@pytest.fixture(scope="module")
def core(steps: Steps) -> CoreRun:
    moodle, agent = steps.moodle, steps.agent(plugin=False)
    fresh = moodle.holding()
    dry = agent.run("sync", "--dry-run")
    assert dry.code == 0, dry.out + dry.err
    after_dry = moodle.holding()
    agent.sync()
    after_sync = moodle.holding()
    moodle.cron()
    after_cron = moodle.holding()
    second = agent.sync()
    topics: dict[int, list[int]] = {}
    for cmid, section in moodle.sql(
        "select cm.id, cs.section from mdl_course_modules cm "
        "join mdl_course_sections cs on cs.id = cm.section where cm.course = 2"
    ):
        topics.setdefault(int(section), []).append(int(cmid))
    completed = {
        int(u): int(t)
        for u, t in moodle.sql(
            "select userid, timecompleted from mdl_course_completions "
            "where course = 2 and timecompleted is not null"
        )
    }
    return CoreRun(
        fresh,
        after_dry,
        after_sync,
        after_cron,
        moodle.holding(),
        dry.out,
        second.out,
        topics,
        time_shift(moodle),
        completed,
        simulated_holding(steps.tmp / "simulated", moodle, plugin=False),
    )


def _first_attempt_aced(name: str) -> set[str]:
    precheck = LEARNERS[name]["precheck"] or {}
    attempts = [a for a in precheck.get("attempts", []) if "per_topic_correct" in a]
    if not attempts:  # no finished attempt
        return set()
    return {topic for topic, right in attempts[0]["per_topic_correct"].items() if right == 2}


def _states(holding: Holding) -> dict[tuple[int, int], tuple[int, Any]]:
    return {key: (state, by) for key, state, by in holding.rest["overrides"]}


def test_a_dry_run_changes_nothing(core: CoreRun) -> None:
    assert difference(core.after_dry_run, core.fresh) == []
    assert difference(core.after_sync, core.fresh) != []  # there was something to change


def test_each_aced_topic_is_completed_by_the_agent_and_nothing_else(core: CoreRun) -> None:
    before, after = _states(core.fresh), _states(core.after_sync)
    by_agent = {key for key, (_state, by) in after.items() if by == 3}
    expected: set[tuple[int, int]] = set()
    for name, learner in LEARNERS.items():
        for topic in _first_attempt_aced(name):
            for cmid in core.topics[SECTIONS[topic]]:
                key = (learner["userid"], cmid)
                assert after.get(key, (0, None))[0] >= 1, f"{name}: {topic} cm {cmid} not complete"
                if before.get(key, (0, None))[0] == 0:
                    expected.add(key)
    assert expected, "the scenario has aced topics to complete"
    assert by_agent == expected
    # learners with no finished attempt (learner17 in progress, 18 to 24 none) untouched
    untouched = {LEARNERS[f"learner{n:02d}"]["userid"] for n in range(17, 25)}
    assert {u for u, _cm in by_agent} & untouched == set()


def test_refreshers_open_thirty_days_after_each_completion(core: CoreRun) -> None:
    enrolled = {
        key[0]: (roles, start)
        for key, roles, start, _status in core.after_sync.rest["enrolments and roles"]
        if key[1] == CC201
    }
    before = {key[0] for key, *_ in core.fresh.rest["enrolments and roles"] if key[1] == CC201}
    complete = {LEARNERS[n]["userid"] for n in SCENARIO["expected_summary"]["cc101_complete"]}
    assert set(enrolled) - before == complete
    for userid in complete:
        roles, start = enrolled[userid]
        assert roles == [STUDENT]
        assert start == core.completed[userid] + 30 * DAY


def test_the_site_is_the_scenario_shifted_in_time(core: CoreRun) -> None:
    for name in SCENARIO["expected_summary"]["cc101_complete"]:
        record = LEARNERS[name]["cc101_course_completion_record"]
        assert core.completed[LEARNERS[name]["userid"]] == record["timecompleted"] + core.shift


def test_messages_reach_the_people_the_scenario_names(core: CoreRun) -> None:
    received = core.after_sync.messages
    assert all(n == 1 for counts in received.values() for n in counts.values()), "a text twice"
    for name in SCENARIO["expected_summary"]["cc101_awaiting_signoff"]:
        manager = SCENARIO["managers"][LEARNERS[name]["manager"]]["userid"]
        assert received.get(manager), f"{name}'s manager was told nothing"
    for name in SCENARIO["expected_summary"]["precheck_finished"]:
        if name not in SCENARIO["expected_summary"]["cc101_complete"]:
            assert received.get(LEARNERS[name]["userid"]), f"{name} was told nothing"


def test_cron_completes_exactly_the_scenarios_complete_learners(core: CoreRun) -> None:
    complete = {LEARNERS[n]["userid"] for n in SCENARIO["expected_summary"]["cc101_complete"]}
    assert {u for u, c in core.after_cron.rest["course completions"] if c == CC101} == complete


def test_a_second_sync_changes_nothing(core: CoreRun) -> None:
    assert difference(core.after_second_sync, core.after_cron) == []


def test_the_simulated_moodle_ends_where_the_real_one_does(core: CoreRun) -> None:
    assert difference(core.after_sync, core.simulated, only_shared=True) == []
