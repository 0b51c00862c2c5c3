"""Manager sign-off end to end (issue 4) on the simulated default scenario.

Who awaits, who manages whom and how long they have waited come from
tests/fixtures/moodle/scenario.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from buyin.cli import main
from buyin.config import Settings
from buyin.simulator import SimulatedMoodle
from buyin.state import State
from support import DAY, load_scenario, set_mapping

MGR = {"mgr1": 5, "mgr2": 6, "mgr3": 7, "mgr4": 8}
SIGNOFF_ROLE = 10
AGENT = 3


def digests(site: SimulatedMoodle, userid: int) -> list[str]:
    return [
        m.text
        for m in site.messages_to(userid)
        if m.useridfrom == AGENT and "sign-off" in m.text and "signed off your" not in m.text
    ]


def learner_id(name: str) -> int:
    return int(load_scenario()["learners"][name]["userid"])


def test_awaiting_learners_reach_their_own_managers(
    site: SimulatedMoodle, run_sync: Any, clock: Any
) -> None:
    scenario = load_scenario()
    awaiting = scenario["expected_summary"]["cc101_awaiting_signoff"]
    assert awaiting == ["learner02", "learner08", "learner13", "learner19"]
    report = run_sync()
    assert report.exit_code == 0
    for name in awaiting:
        manager = scenario["learners"][name]["manager"]
        mid = MGR[manager]
        # enrolled in CC101 with the sign-off role (the scenario already had them)
        enrolment = site.enrolment(mid, 2)
        assert enrolment is not None and SIGNOFF_ROLE in enrolment.roleids
        texts = digests(site, mid)
        assert len(texts) == 1, manager
        fullname = (
            f"{scenario['learners'][name]['firstname']} {scenario['learners'][name]['lastname']}"
        )
        assert fullname in texts[0]
        assert "/report/completion/index.php?course=2" in texts[0]
    # learner08 (mgr2's report) finished ~12 days ago, but mgr2 was asked only now: the
    # escalation clock starts with the request, so nobody is escalated on the first sync
    assert not any("waited longer" in t for m in MGR.values() for t in digests(site, m))
    learner08 = scenario["learners"]["learner08"]
    name08 = f"{learner08['firstname']} {learner08['lastname']}"
    clock.advance(days=7)  # escalate_after_days after the request: mgr1 hears too
    run_sync()
    assert name08 in digests(site, MGR["mgr1"])[-1]
    assert "waited longer than expected" in digests(site, MGR["mgr1"])[-1]
    # learners not awaiting are in nobody's digest
    for name in ("learner03", "learner01", "learner07"):
        learner = scenario["learners"][name]
        full = f"{learner['firstname']} {learner['lastname']}"
        assert all(full not in t for m in MGR.values() for t in digests(site, m))


def test_signed_learners_are_recorded_with_their_latency(
    site: SimulatedMoodle, run_sync: Any, settings: Settings
) -> None:
    scenario = load_scenario()
    run_sync()
    state = State(settings.state_path)
    rows = {r["userid"]: r for r in state.signoffs("cc101")}
    state.close()
    for name in scenario["expected_summary"]["cc101_complete"]:
        learner = scenario["learners"][name]
        row = rows[learner["userid"]]
        last_activity = max(c["time"] for c in learner["cc101_activities_completed"])
        assert row["status"] == "signed"
        assert row["signed_at"] == learner["cc101_signoff"]["time"]
        assert row["latency_seconds"] == learner["cc101_signoff"]["time"] - last_activity
        # signed before the programme was mapped: nobody asked, so nobody is told again
        assert not any("signed off your" in m.text for m in site.messages_to(learner["userid"]))
    for name in scenario["expected_summary"]["cc101_awaiting_signoff"]:
        assert rows[learner_id(name)]["status"] in ("requested", "escalated")


def test_a_second_sync_the_same_day_sends_nothing(
    site: SimulatedMoodle, run_sync: Any, clock: Any
) -> None:
    run_sync()
    before = {m: len(digests(site, m)) for m in MGR.values()}
    clock.advance(hours=3)
    mark = len(site.calls)
    run_sync()
    assert {m: len(digests(site, m)) for m in MGR.values()} == before
    assert [fn for fn, _ in site.calls[mark:] if fn == "core_message_send_instant_messages"] == []


def test_reminders_follow_the_interval_escalation_happens_once(
    site: SimulatedMoodle, run_sync: Any, clock: Any
) -> None:
    mgr3, mgr1 = MGR["mgr3"], MGR["mgr1"]
    run_sync()  # day 0: request
    seen = {d: len(digests(site, mgr3)) for d in (0,)}
    for day in range(1, 8):
        clock.advance(days=1)
        run_sync()
        seen[day] = len(digests(site, mgr3))
    # remind_every_days = 3: the request on day 0 (a Monday), a reminder on day 3; day 6
    # is a Sunday (working days only), and on day 7 (escalate_after_days) the learners go
    # to the approver's own manager instead: no reminder after an escalation
    assert seen == {0: 1, 1: 1, 2: 1, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2}
    assert "A reminder, in case the first one got buried" in digests(site, mgr3)[-1]
    # each escalated learner reached the escalation approver once, however many runs
    escalations = [
        t.split("waited longer than expected")[1]
        for t in digests(site, mgr1)
        if "waited longer than expected" in t
    ]
    scenario = load_scenario()["learners"]
    for name in ("learner08", "learner13", "learner19"):
        full = "{firstname} {lastname}".format(**scenario[name])
        assert sum(full in t for t in escalations) == 1, name


def test_a_signoff_in_moodle_closes_the_request_and_tells_the_learner_once(
    site: SimulatedMoodle, run_sync: Any, clock: Any, settings: Settings
) -> None:
    learner02 = learner_id("learner02")
    run_sync()
    clock.advance(days=1)
    site.mark_signoff(learner02, 2, MGR["mgr1"], time=clock.now)
    run_sync()
    told = [m.text for m in site.messages_to(learner02) if "signed off your" in m.text]
    assert len(told) == 1
    assert "Dana Whitfield has signed off your completion" in told[0]
    clock.advance(days=1)
    site.run_completion_cron()
    run_sync()
    assert len([m for m in site.messages_to(learner02) if "signed off your" in m.text]) == 1
    state = State(settings.state_path)
    row = next(r for r in state.signoffs("cc101") if r["userid"] == learner02)
    state.close()
    assert row["status"] == "signed" and row["signed_at"] == clock.now - DAY
    assert row["requested_at"] is not None


def test_unenrolled_learner_cancels_the_request(
    site: SimulatedMoodle, run_sync: Any, clock: Any, settings: Settings
) -> None:
    learner19 = learner_id("learner19")
    run_sync()
    site.unenrol(learner19, 2)
    clock.advance(days=1)
    run_sync()
    state = State(settings.state_path)
    row = next(r for r in state.signoffs("cc101") if r["userid"] == learner19)
    state.close()
    assert row["status"] == "cancelled"
    clock.advance(days=3)
    run_sync()
    assert all("Kofi" not in t for t in digests(site, MGR["mgr4"])[1:])


def test_missing_manager_goes_to_the_fallback_and_is_reported(
    site: SimulatedMoodle, run_sync: Any, settings: Settings
) -> None:
    learner13 = learner_id("learner13")
    site.set_profile_field(learner13, "manager", "nobody-here")
    report = run_sync()
    assert report.exit_code == 0
    name13 = "{firstname} {lastname}".format(**load_scenario()["learners"]["learner13"])
    assert any(name13 in t for t in digests(site, MGR["mgr1"]))  # fallback_approver = mgr1
    assert not any(name13 in t for t in digests(site, MGR["mgr3"]))
    result = CliRunner().invoke(main, ["--state", str(settings.state_path), "status"])
    assert "manager 'nobody-here' is unknown: fallback approver mgr1" in result.output


def test_suspended_manager_goes_to_the_fallback(
    site: SimulatedMoodle, run_sync: Any, settings: Settings
) -> None:
    site.suspend_user(MGR["mgr4"])
    run_sync()
    name19 = "{firstname} {lastname}".format(**load_scenario()["learners"]["learner19"])
    assert digests(site, MGR["mgr4"]) == []
    assert any(name19 in t for t in digests(site, MGR["mgr1"]))
    result = CliRunner().invoke(main, ["--state", str(settings.state_path), "status"])
    assert "manager mgr4 is suspended: fallback approver mgr1" in result.output


def test_a_manager_chain_that_loops_escalates_to_the_fallback(
    site: SimulatedMoodle, run_sync: Any, settings: Settings, mapping_dir: Path, clock: Any
) -> None:
    # learner08's manager is mgr2; make mgr2's manager learner08 (a loop)
    site.set_profile_field(MGR["mgr2"], "manager", "learner08")
    set_mapping(mapping_dir, 'fallback_approver = "mgr1"', 'fallback_approver = "mgr3"')
    run_sync()
    clock.advance(days=7)
    run_sync()
    name08 = "{firstname} {lastname}".format(**load_scenario()["learners"]["learner08"])
    assert not any(name08 in t for t in site_texts(site, learner_id("learner08")))
    assert any(name08 in t and "waited longer" in t for t in digests(site, MGR["mgr3"]))
    result = CliRunner().invoke(main, ["--state", str(settings.state_path), "status"])
    assert "manager chain loops (learner08 → mgr2 → learner08)" in result.output


def site_texts(site: SimulatedMoodle, userid: int) -> list[str]:
    return [m.text for m in site.messages_to(userid)]


def test_any_aggregation_is_reported_not_crashed(
    site: SimulatedMoodle, run_sync: Any, settings: Settings
) -> None:
    site.state.courses[2].completion.aggregation = 2  # ANY
    report = run_sync()
    assert report.exit_code == 0
    assert report.outcomes[0].undecided[learner_id("learner02")] == (
        "course completion aggregation is ANY: sign-off is not required"
    )
    assert all(digests(site, m) == [] for m in MGR.values())
    result = CliRunner().invoke(
        main,
        ["--state", str(settings.state_path), "--mappings", str(settings.mapping_dir), "doctor"],
        env={"BUYIN_URL": settings.url, "BUYIN_TOKEN": settings.token.reveal()},
    )
    assert result.exit_code == 78
    assert "course completion aggregation is ANY" in result.output


def test_a_role_the_agent_may_not_assign_is_named(
    site: SimulatedMoodle, run_sync: Any, settings: Settings
) -> None:
    site.assignable_roles.discard(SIGNOFF_ROLE)
    site.unenrol(MGR["mgr2"], 2)  # mgr2 must be enrolled again to sign learner08
    report = run_sync()
    # the refusal fails alone: exit 1, everything else pushed
    assert report.exit_code == 1
    pushed = report.outcomes[0].pushed
    assert pushed is not None and pushed.stopped_by is None
    assert [(a.key, "Allow role assignments" in why) for a, why in pushed.failed] == [
        (f"enrol:u{MGR['mgr2']}:c2:r{SIGNOFF_ROLE}", True)
    ]
    assert site.enrolment(MGR["mgr2"], 2) is None
    # mgr2 is still asked, and told who can let them into the report
    (request,) = digests(site, MGR["mgr2"])
    assert "ask your site administrator to enrol you" in request
    assert digests(site, MGR["mgr3"]), "the other approvers were asked too"
    result = CliRunner().invoke(
        main,
        [
            "--state",
            str(settings.state_path),
            "--mappings",
            str(settings.mapping_dir),
            "doctor",
            "--probe-writes",
        ],
        env={"BUYIN_URL": settings.url, "BUYIN_TOKEN": settings.token.reveal()},
    )
    assert result.exit_code == 78
    assert "the agent may assign role 10" in result.output
    assert "Allow role assignments" in result.output


@pytest.mark.parametrize("team_groups", [True])
def test_team_groups_put_each_manager_with_their_reports(
    team_groups: bool, site: SimulatedMoodle, run_sync: Any, mapping_dir: Path, clock: Any
) -> None:
    set_mapping(
        mapping_dir, "escalate_after_days = 7", "escalate_after_days = 7\nteam_groups = true"
    )
    site.state.groups.clear()
    run_sync()
    members = site.group_members(2, "Team Priya Natarajan")
    assert {MGR["mgr3"], learner_id("learner13")} <= members
    clock.advance(days=3)
    run_sync()  # the reminder links the report filtered to the manager's team
    group = next(g for g in site.state.groups.values() if g.name == "Team Priya Natarajan")
    assert f"&amp;group={group.id}" in digests(site, MGR["mgr3"])[-1]


def test_an_approver_enrolled_without_the_role_gets_the_role_not_a_new_enrolment(
    site: SimulatedMoodle, run_sync: Any
) -> None:
    enrolment = site.state.enrolments[(MGR["mgr2"], 2)]
    enrolment.roleids[:] = [1]  # in the course as a manager, not with the sign-off role
    enrolment.timestart, enrolment.timeend = 1790000000, 1800000000
    assert run_sync().exit_code == 0
    after = site.enrolment(MGR["mgr2"], 2)
    assert after is not None and SIGNOFF_ROLE in after.roleids
    assert (after.timestart, after.timeend) == (1790000000, 1800000000)  # left as it was
    assert not any(
        p["enrolments"][0]["userid"] == MGR["mgr2"]
        for fn, p in site.calls
        if fn == "enrol_manual_enrol_users"
    )


def test_a_role_the_agent_may_not_assign_by_role_assignment_is_named(
    site: SimulatedMoodle, run_sync: Any
) -> None:
    enrolment = site.state.enrolments[(MGR["mgr2"], 2)]
    enrolment.roleids[:] = [1]
    site.assignable_roles.discard(SIGNOFF_ROLE)
    report = run_sync()
    assert report.exit_code == 1
    pushed = report.outcomes[0].pushed
    assert pushed is not None and pushed.stopped_by is None
    ((action, why),) = pushed.failed
    assert action.key == f"role:u{MGR['mgr2']}:c2:r{SIGNOFF_ROLE}"
    assert "may not assign role 10" in why and "Allow role assignments" in why
    assert digests(site, MGR["mgr2"]), "mgr2 is still asked"
