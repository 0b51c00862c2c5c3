"""Kickoff, final completion and follow-ups end to end (issue 5) on the simulated scenario.

Completion times, managers and who has started come from tests/fixtures/moodle/scenario.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from buyin.cli import main
from buyin.config import Settings
from buyin.push import Pusher
from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.simulator.functions import WRITE_FUNCTIONS
from support import DAY, SCENARIO_NOW, Clock, load_scenario, news_since, set_mapping
from test_sync import moodle_state, sync_once

REFRESHER = 3
STUDENT = 5
MGR = {"mgr1": 5, "mgr2": 6, "mgr3": 7, "mgr4": 8}


def completion_time(name: str) -> int:
    """Final completion: the latest criterion time (activities and the sign-off)."""
    learner = load_scenario()["learners"][name]
    times = [c["time"] for c in learner["cc101_activities_completed"]]
    times.append(learner["cc101_signoff"]["time"])
    return max(times)


def texts(site: SimulatedMoodle, userid: int, marker: str) -> list[str]:
    return [m.text for m in site.messages_to(userid) if marker in m.text]


def test_completed_learners_get_refresher_job_aid_and_open_notice(
    site: SimulatedMoodle, run_sync: Any, clock: Clock, mapping_dir: Path
) -> None:
    news_since(mapping_dir)  # the completions are news (not before the start line)
    scenario = load_scenario()
    l01, l07 = scenario["learners"]["learner01"], scenario["learners"]["learner07"]
    assert run_sync().exit_code == 0

    e01 = site.enrolment(l01["userid"], REFRESHER)
    e07 = site.enrolment(l07["userid"], REFRESHER)
    assert e01 is not None and e07 is not None
    assert e01.timestart == completion_time("learner01") + 30 * DAY
    assert e07.timestart == completion_time("learner07") + 30 * DAY
    assert STUDENT in e01.roleids and STUDENT in e07.roleids
    # learner01's refresher date has passed: told in the same message; learner07's is ahead
    (told,) = texts(site, l01["userid"], "is open now")
    assert "Customer conversation checklist" in told
    assert texts(site, l07["userid"], "is open now") == []
    for learner in (l01, l07):
        assert len(texts(site, learner["userid"], "Customer conversation checklist")) == 1
    # nobody else completed CC101
    assert {u for u in range(9, 33) if site.enrolment(u, REFRESHER)} == {
        l01["userid"],
        l07["userid"],
    }
    # the manager is told, with the refresher date
    note = texts(site, MGR["mgr2"], "Grace Hughes has completed")
    assert len(note) == 1 and "refresher opens on" in note[0]

    # learner07's refresher opens ~22 days later: the first sync on or after that day tells them
    opens = e07.timestart
    clock.now = opens - DAY
    run_sync()
    assert texts(site, l07["userid"], "is open now") == []
    clock.now = opens + 3600
    run_sync()
    assert len(texts(site, l07["userid"], "is open now")) == 1
    clock.advance(days=2)
    run_sync()
    assert len(texts(site, l07["userid"], "is open now")) == 1
    assert len(texts(site, l07["userid"], "Customer conversation checklist")) == 1


def test_a_second_sync_enrols_and_sends_nothing(
    site: SimulatedMoodle, run_sync: Any, clock: Clock
) -> None:
    run_sync()
    clock.advance(hours=1)
    mark = len(site.calls)
    run_sync()
    writes = [fn for fn, _ in site.calls[mark:] if fn in WRITE_FUNCTIONS]
    assert writes == []


def test_a_learner_already_enrolled_in_the_refresher_is_left_as_is(
    site: SimulatedMoodle, run_sync: Any
) -> None:
    l07 = load_scenario()["learners"]["learner07"]["userid"]
    site.enrol(l07, REFRESHER, STUDENT, timestart=12345)
    run_sync()
    enrolment = site.enrolment(l07, REFRESHER)
    assert enrolment is not None and enrolment.timestart == 12345
    assert texts(site, l07, "your refresher") == []


def test_killed_between_enrolment_and_notification_finishes_without_enrolling_twice(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = SimulatedMoodle(generate_scenario(), clock=clock)
    real = Pusher._batched

    def die_before_messages(self: Pusher, actions: Any, size: int, apply: Any) -> None:
        if actions and actions[0].kind == "message":
            raise KeyboardInterrupt
        real(self, actions, size, apply)

    monkeypatch.setattr(Pusher, "_batched", die_before_messages)
    with pytest.raises(KeyboardInterrupt):
        sync_once(site, tmp_path, clock, since="2026-01-01")
    monkeypatch.setattr(Pusher, "_batched", real)
    l01 = load_scenario()["learners"]["learner01"]["userid"]
    assert site.enrolment(l01, REFRESHER) is not None
    assert texts(site, l01, "is open now") == []

    mark = len(site.calls)
    assert sync_once(site, tmp_path, clock).exit_code == 0
    assert len(texts(site, l01, "is open now")) == 1
    assert [p for fn, p in site.calls[mark:] if fn == "enrol_manual_enrol_users"] == []


def test_kickoff_reaches_new_learners_and_their_managers_once_named_correctly(
    site: SimulatedMoodle, run_sync: Any, clock: Clock
) -> None:
    scenario = load_scenario()
    learners = scenario["learners"]
    started = {
        name
        for name, learner in learners.items()
        if learner["cc101_activities_completed"] or learner["precheck"]["attempts"]
    }
    # learner05 (started, mgr1) joins the course only after the programme is mapped
    l05 = learners["learner05"]["userid"]
    site.unenrol(l05, 2)
    run_sync()
    managers = {m["userid"]: m for m in scenario["managers"].values()}

    def check(name: str, expected: int) -> None:
        learner = learners[name]
        welcome = texts(site, learner["userid"], "welcome to")
        assert len(welcome) == expected, name
        if not expected:
            return
        manager = managers[learner["managerid"]]
        boss = f"{manager['firstname']} {manager['lastname']}"
        assert f"{boss} knows you are taking it" in welcome[0]
        assert "Maria Lopez, Head of Customer Service" in welcome[0]
        told = texts(site, manager["userid"], "of your team started")
        full = f"{learner['firstname']} {learner['lastname']}"
        assert sum(full in t for t in told) == 1, name

    for name in learners:
        if name != "learner05":
            check(name, 0 if name in started else 1)  # never retroactively
    assert texts(site, l05, "welcome to") == []

    clock.advance(days=1)
    site.enrol(l05, 2, STUDENT)
    run_sync()
    clock.advance(days=1)
    run_sync()
    check("learner05", 1)  # new since the mapping: welcomed although they had started before
    for name in learners:
        if name != "learner05":
            check(name, 0 if name in started else 1)


def test_backfill_matches_sync_and_a_second_backfill_changes_nothing(
    tmp_path: Path, clock: Clock
) -> None:
    # a sync whose start line is two months back, and a first sync that backfills them
    synced = SimulatedMoodle(generate_scenario(), clock=clock)
    backfilled = SimulatedMoodle(generate_scenario(), clock=clock)
    assert sync_once(synced, tmp_path / "sync", clock, since="2026-09-01").exit_code == 0
    window = (SCENARIO_NOW - 90 * DAY, clock.now)
    kinds = frozenset({"precheck", "followup", "insights"})
    assert (
        sync_once(backfilled, tmp_path / "backfill", clock, window=window, kinds=kinds).exit_code
        == 0
    )
    assert moodle_state(backfilled) == moodle_state(synced)
    digest = backfilled.state_digest()
    mark = len(backfilled.calls)
    assert (
        sync_once(backfilled, tmp_path / "backfill", clock, window=window, kinds=kinds).exit_code
        == 0
    )
    assert backfilled.state_digest() == digest
    assert not any(fn in WRITE_FUNCTIONS for fn, _ in backfilled.calls[mark:])


def test_mapped_since_leaves_old_completions_to_backfill(
    site: SimulatedMoodle, settings: Settings, mapping_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # mapped 20 days before the scenario's day: learner01 (35 days ago) is older
    set_mapping(
        mapping_dir,
        'learner_role = "student"',
        'learner_role = "student"\nmapped_since = "2026-11-03"',
    )
    monkeypatch.setattr("buyin.moodle.client._sleep", lambda _s: None)
    monkeypatch.setattr("buyin.sync.system_clock", lambda: SCENARIO_NOW + 3600)
    env = {"BUYIN_URL": settings.url, "BUYIN_TOKEN": settings.token.reveal()}
    base = ["--state", str(settings.state_path), "--mappings", str(mapping_dir)]
    l01 = load_scenario()["learners"]["learner01"]["userid"]
    l07 = load_scenario()["learners"]["learner07"]["userid"]

    result = CliRunner().invoke(main, [*base, "sync"], env=env)
    assert result.exit_code == 0, result.output
    assert site.enrolment(l01, REFRESHER) is None
    assert site.enrolment(l07, REFRESHER) is not None

    result = CliRunner().invoke(
        main, [*base, "backfill", "--since", "2026-10-01", "--dry-run"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "would enrol learner01 (Aisha Bello) in CC201 as student from " in result.output
    assert site.enrolment(l01, REFRESHER) is None

    result = CliRunner().invoke(main, [*base, "backfill", "--since", "2026-10-01"], env=env)
    assert result.exit_code == 0, result.output
    assert site.enrolment(l01, REFRESHER) is not None
    # no progress bar ("learners [###] 24/24") when not on a terminal
    assert not any(line.startswith("learners") for line in result.output.splitlines())

    result = CliRunner().invoke(main, [*base, "backfill", "--since", "not-a-date"], env=env)
    assert result.exit_code == 2
    assert "is not a date like" in result.output


def test_a_mapping_change_is_seen_at_the_next_sync_not_the_next_reconciliation(
    site: SimulatedMoodle, run_sync: Any, clock: Clock, mapping_dir: Path
) -> None:
    set_mapping(mapping_dir, 'course = "CC201"', 'course = "LEAD100"')
    run_sync()
    # (the poll's course is LEAD100 too: only the refresher's line changes back)
    set_mapping(mapping_dir, 'course = "LEAD100"\ndelay_days', 'course = "CC201"\ndelay_days')
    l02 = load_scenario()["learners"]["learner02"]["userid"]
    clock.advance(hours=1)
    site.mark_signoff(l02, 2, MGR["mgr1"], time=clock.now)
    site.run_completion_cron()  # Moodle marks the course complete
    run_sync()
    assert site.enrolment(l02, REFRESHER) is not None
    assert site.enrolment(l02, 4) is None


def test_the_refresher_quiz_result_is_recorded_as_retention_once(
    site: SimulatedMoodle, run_sync: Any, clock: Clock, settings: Settings, mapping_dir: Path
) -> None:
    from buyin.state import State

    news_since(mapping_dir)
    l01 = load_scenario()["learners"]["learner01"]["userid"]
    run_sync()  # learner01 is enrolled in CC201, whose start date has passed
    clock.advance(hours=2)
    site.add_attempt(l01, 2, {1: 1.0, 2: 1.0, 3: 0.0}, time=clock.now)  # 2 of 3 in CC201's quiz
    clock.advance(hours=1)
    run_sync()
    state = State(settings.state_path)
    points = [data for uid, _, data in state.history("cc101", l01)]
    state.close()
    assert points[-1]["retention"] == {"overall": round(2 / 3, 4)}
    # known now: the refresher's grade report is not asked for again
    clock.advance(hours=1)
    report = run_sync()
    assert report.metrics.calls["gradereport_user_get_grade_items"] == 1  # CC101's only
    state = State(settings.state_path)
    latest = [data for uid, _, data in state.history("cc101", l01)][-1]
    state.close()
    assert latest["retention"] == {"overall": round(2 / 3, 4)}  # every point carries it
