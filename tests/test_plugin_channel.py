"""Sign-off through the local_buyin plugin (issue 7, the agent's side) on the simulated site."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from buyin.cli import main
from buyin.config import Settings
from buyin.moodle.contract import validate_response
from buyin.simulator import SimulatedMoodle
from buyin.simulator.plugin import PLUGIN_VERSION
from buyin.state import State
from support import load_scenario, set_mapping

MGR = {"mgr1": 5, "mgr2": 6, "mgr3": 7, "mgr4": 8}


def test_awaiting_learners_are_requested_for_their_own_managers_only(
    plugin_site: SimulatedMoodle, run_sync: Any
) -> None:
    scenario = load_scenario()
    assert run_sync().exit_code == 0
    requests = {(uid, r.managerid) for (course, uid), r in plugin_site.plugin.requests.items()}
    expected = {
        (scenario["learners"][name]["userid"], scenario["learners"][name]["managerid"])
        for name in scenario["expected_summary"]["cc101_awaiting_signoff"]
    }
    assert requests == expected
    # the digest links the plugin's page, not the completion report
    texts = [m.text for m in plugin_site.messages_to(MGR["mgr1"]) if "sign-off" in m.text]
    assert texts and "/local/buyin/index.php" in texts[0]
    # ... and calls it by the page's own name (issue #10)
    assert "requests page</a>" in texts[0]
    assert "course completion report" not in texts[0]


def test_a_decision_completes_the_course_and_records_who_signed(
    plugin_site: SimulatedMoodle, run_sync: Any, clock: Any, settings: Settings
) -> None:
    learner02 = load_scenario()["learners"]["learner02"]["userid"]
    run_sync()
    clock.advance(days=1)
    plugin_site.plugin_decide(learner02, 2, MGR["mgr1"], "signed", "Great work", time=clock.now)
    plugin_site.run_completion_cron()
    run_sync()
    assert plugin_site.course_completed(learner02, 2)
    state = State(settings.state_path)
    row = next(r for r in state.signoffs("cc101") if r["userid"] == learner02)
    state.close()
    assert row["status"] == "signed"
    assert row["signed_by"] == MGR["mgr1"] and row["signed_at"] == clock.now
    told = [m.text for m in plugin_site.messages_to(learner02) if "signed off your" in m.text]
    assert len(told) == 1 and "Dana Whitfield has signed off" in told[0]


def test_an_unchanged_site_costs_one_plugin_call_and_no_completion_polling(
    plugin_site: SimulatedMoodle, run_sync: Any, clock: Any
) -> None:
    run_sync()
    clock.advance(hours=1)
    run_sync()
    clock.advance(hours=1)
    report = run_sync()
    calls = report.metrics.calls
    assert calls["local_buyin_get_signoffs"] == 1
    assert "core_completion_get_course_completion_status" not in calls
    # site info, the course's five, the plugin's one, and the manager poll's three
    assert report.metrics.total_calls <= 1 + 5 + 1 + 3


def test_plugin_answers_validate_against_their_schemas(plugin_site: SimulatedMoodle) -> None:
    learner02 = load_scenario()["learners"]["learner02"]["userid"]
    request = plugin_site._fn_local_buyin_request_signoffs(
        [{"courseid": 2, "userid": learner02, "managerid": MGR["mgr1"]}]
    )
    validate_response("local_buyin_request_signoffs", request)
    listing = plugin_site._fn_local_buyin_get_signoffs(0, 2, 0, 500)
    validate_response("local_buyin_get_signoffs", listing)
    decision = plugin_site._fn_local_buyin_record_signoff(2, learner02, "signed", "ok")
    validate_response("local_buyin_record_signoff", decision)
    assert decision["signoff"]["decidedby"] == MGR["mgr1"]


def test_doctor_reports_the_plugin_and_a_required_plugin_missing(
    site: SimulatedMoodle, settings: Settings, mapping_dir: Path
) -> None:
    env = {"BUYIN_URL": settings.url, "BUYIN_TOKEN": settings.token.reveal()}
    base = ["--state", str(settings.state_path), "--mappings", str(mapping_dir), "doctor"]
    result = CliRunner().invoke(main, base, env=env)
    assert "local_buyin plugin: not installed" in result.output
    set_mapping(
        mapping_dir, "escalate_after_days = 7", 'escalate_after_days = 7\nchannel = "plugin"'
    )
    result = CliRunner().invoke(main, base, env=env)
    assert result.exit_code == 78
    assert (
        "sign-off channel 'plugin': local_buyin's functions are not in the service" in result.output
    )
    site.install_plugin()
    result = CliRunner().invoke(main, base, env=env)
    assert result.exit_code == 0, result.output
    assert f"local_buyin plugin: version {PLUGIN_VERSION}" in result.output


def _name(learner: str) -> str:
    return "{firstname} {lastname}".format(**load_scenario()["learners"][learner])


def test_a_reject_is_an_answer_no_reminder_the_learner_told_then_a_new_request(
    plugin_site: SimulatedMoodle, run_sync: Any, clock: Any, settings: Settings
) -> None:
    learner02 = load_scenario()["learners"]["learner02"]["userid"]
    name = _name("learner02")
    run_sync()  # Monday: mgr1 is asked
    asked = [m.text for m in plugin_site.messages_to(MGR["mgr1"]) if name in m.text]
    assert len(asked) == 1
    clock.advance(hours=2)
    comment = "Let's do the closing role-play together first."
    plugin_site.plugin_decide(learner02, 2, MGR["mgr1"], "rejected", comment, time=clock.now)
    for _ in range(14):  # two weeks of daily syncs: reminders and escalation would be due
        clock.advance(days=1)
        run_sync()
    about = [m for m in plugin_site.state.messages if name in m.text and m.useridto != learner02]
    assert [m.text for m in about if "sign-off" in m.text.lower()] == asked
    told = [m.text for m in plugin_site.messages_to(learner02) if "not ready to sign" in m.text]
    assert len(told) == 1
    assert "Dana Whitfield has looked at your completion" in told[0]
    assert comment.replace("'", "&#x27;") in told[0] and "What to do next" in told[0]
    assert "/local/buyin/myresults.php" in told[0]
    state = State(settings.state_path)
    row = next(r for r in state.signoffs("cc101") if r["userid"] == learner02)
    state.close()
    assert row["status"] == "rejected" and comment in row["note"]
    # ... and the report: the learner's stage, and the opening line
    from buyin.report.finding import overview
    from buyin.report.load import build_programme_report

    report = build_programme_report(settings, "cc101")
    assert report.funnel.rejected == 1
    assert "1 was asked by their manager for more before sign-off" in overview(report)
    # the learner redoes an activity: a new request, with its own clocks (not a reminder)
    plugin_site.complete_activity(learner02, 8, time=clock.now)
    clock.advance(days=1)
    run_sync()
    again = [m.text for m in plugin_site.messages_to(MGR["mgr1"]) if name in m.text][len(asked) :]
    assert len(again) == 1 and "reminder" not in again[0].lower()


def test_follow_ups_wait_for_moodle_to_mark_the_course_complete_and_use_its_time(
    plugin_site: SimulatedMoodle, run_sync: Any, clock: Any
) -> None:
    learner02 = load_scenario()["learners"]["learner02"]["userid"]
    run_sync()
    clock.advance(days=1)
    plugin_site.plugin_decide(learner02, 2, MGR["mgr1"], "signed", "", time=clock.now)
    signed = clock.now
    clock.advance(hours=1)
    run_sync()  # signed in the plugin, but Moodle's cron has not completed the course
    assert plugin_site.enrolment(learner02, 3) is None
    assert not any("checklist" in m.text for m in plugin_site.messages_to(learner02))
    plugin_site.run_completion_cron()
    cron = signed + 5 * 3600  # Moodle stamps the completion with its own time
    plugin_site.state.course_completions[(learner02, 2)] = cron
    clock.advance(days=1)
    run_sync()
    enrolment = plugin_site.enrolment(learner02, 3)
    assert enrolment is not None and enrolment.timestart == cron + 30 * 86400
    assert any("checklist" in m.text for m in plugin_site.messages_to(learner02))
