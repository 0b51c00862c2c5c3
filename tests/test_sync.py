"""Whole syncs against the simulated site: faults, killed runs, contract breaks, call budget."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from buyin.actions import SPECS, Outcome
from buyin.actions import apply as apply_module
from buyin.actions.apply import ApplyContext
from buyin.errors import ContractError
from buyin.model.actions import Kind
from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.state import State
from support import WRITES, Clock, moodle_state, precheck_messages, sync_once


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_thirty_percent_transient_failures_end_in_the_same_state(
    seed: int, tmp_path: Path, clock: Clock
) -> None:
    calm = SimulatedMoodle(generate_scenario(), clock=clock)
    stormy = SimulatedMoodle(generate_scenario(), clock=clock)
    stormy.faults.reseed(seed)
    stormy.faults.fail_rate = 0.3

    calm_report = sync_once(calm, tmp_path / "calm", clock)
    stormy_report = sync_once(stormy, tmp_path / "stormy", clock)

    assert calm_report.exit_code == 0
    assert stormy_report.exit_code == 0, [o.pushed for o in stormy_report.outcomes]
    assert sum(stormy_report.metrics.retries.values()) > 10  # the faults really happened
    assert moodle_state(stormy) == moodle_state(calm)


def test_a_run_killed_after_moodle_applied_is_finished_without_repeating(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = SimulatedMoodle(generate_scenario(), clock=clock)

    def send_then_die(ctx: ApplyContext, batch: list[Any]) -> list[Outcome]:
        # Moodle stores the messages; the process dies before the ledger says so
        ctx.client.call(
            "core_message_send_instant_messages",
            idempotent=False,
            messages=[
                {"touserid": a.params.touserid, "text": a.params.text, "textformat": 1}
                for a in batch
            ],
        )
        raise KeyboardInterrupt

    def override_then_die(ctx: ApplyContext, batch: list[Any]) -> list[Outcome]:
        ctx.client.call(
            "core_completion_override_activity_completion_status",
            userid=batch[0].userid,
            cmid=batch[0].params.cmid,
            newstate=1,
        )
        raise KeyboardInterrupt

    override = SPECS[Kind.OVERRIDE]
    with monkeypatch.context() as patch:
        patch.setitem(SPECS, Kind.OVERRIDE, replace(override, apply=override_then_die))
        with pytest.raises(KeyboardInterrupt):
            sync_once(site, tmp_path, clock, since="2026-01-01")
    with monkeypatch.context() as patch:
        patch.setattr(apply_module, "_send", send_then_die)
        with pytest.raises(KeyboardInterrupt):
            sync_once(site, tmp_path, clock)

    state = State(tmp_path / "state.sqlite")
    planned = [e for e in state.entries("planned")]
    state.close()
    assert planned, "the killed runs left planned actions behind"

    mark = len(site.calls)
    report = sync_once(site, tmp_path, clock)
    assert report.exit_code == 0
    # every finished learner holds exactly one pre-check message (none for learner01 and
    # learner07, whose course is complete); no override was repeated
    for uid in range(9, 25):
        assert len(precheck_messages(site, uid)) == (uid not in (9, 15)), uid
    repeated = [
        p
        for fn, p in site.calls[mark:]
        if fn == "core_completion_override_activity_completion_status"
    ]
    assert repeated == []
    state = State(tmp_path / "state.sqlite")
    assert state.entries("planned") == []
    state.close()


def test_a_contract_break_stops_the_programme_naming_function_and_path(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = SimulatedMoodle(generate_scenario(), clock=clock)
    real = site._fn_core_enrol_get_enrolled_users

    def broken(*args: Any, **kwargs: Any) -> Any:
        users = real(*args, **kwargs)
        users[3]["roles"][0]["roleid"] = "ten"
        return users

    monkeypatch.setattr(site, "_fn_core_enrol_get_enrolled_users", broken)
    digest = site.state_digest()
    report = sync_once(site, tmp_path, clock)
    error = report.outcomes[0].error
    assert isinstance(error, ContractError)
    assert error.function == "core_enrol_get_enrolled_users"
    assert error.path == "$[3].roles[0].roleid"
    assert report.exit_code == 78
    assert site.state_digest() == digest


def test_an_unchanged_site_costs_five_calls_per_programme_plus_pending_signoffs(
    tmp_path: Path, clock: Clock
) -> None:
    site = SimulatedMoodle(generate_scenario(), clock=clock)
    sync_once(site, tmp_path, clock)
    clock.advance(hours=1)
    sync_once(site, tmp_path, clock)  # refetches the learners the first run changed
    clock.advance(hours=1)
    report = sync_once(site, tmp_path, clock)
    awaiting = 4  # learner02, 08, 13, 19
    site_info = 1
    # the manager poll: who is enrolled in its course, the answers, who has not answered
    poll = 3
    assert report.metrics.total_calls <= site_info + 5 + awaiting + poll
    assert {fn for fn in report.metrics.calls if fn.startswith("mod_feedback_")} == {
        "mod_feedback_get_responses_analysis",
        "mod_feedback_get_non_respondents",
    }
    assert not any(fn in WRITES for fn in report.metrics.calls)


def test_a_full_reconciliation_runs_on_its_cadence(tmp_path: Path, clock: Clock) -> None:
    site = SimulatedMoodle(generate_scenario(), clock=clock)
    first = sync_once(site, tmp_path, clock)
    assert first.outcomes[0].reconciled
    clock.advance(hours=2)
    assert not sync_once(site, tmp_path, clock).outcomes[0].reconciled
    clock.advance(hours=23)
    again = sync_once(site, tmp_path, clock)
    assert again.outcomes[0].reconciled
    assert again.metrics.calls["core_completion_get_activities_completion_status"] == 24


def test_a_learner_who_moved_is_refetched_alone(tmp_path: Path, clock: Clock) -> None:
    site = SimulatedMoodle(generate_scenario(), clock=clock)
    sync_once(site, tmp_path, clock)
    clock.advance(hours=1)
    sync_once(site, tmp_path, clock)
    clock.advance(hours=1)
    site.complete_activity(20, 1, time=clock.now)  # learner12 opens the course
    report = sync_once(site, tmp_path, clock)
    assert report.metrics.calls["core_completion_get_activities_completion_status"] == 1
