"""The simulated Moodle keeps state the way Moodle does: tests of outcomes
(state and answers), never of calls. Nothing here sleeps."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import responses

from buyin.moodle.contract import validate_response
from buyin.moodle.encoding import flatten
from buyin.simulator import SimulatedMoodle, generate_scenario
from support import Clock

SCENARIO = json.loads((Path(__file__).parent / "fixtures" / "moodle" / "scenario.json").read_text())
NOW = 1795392514
CC101, CC201, LEAD100 = 2, 3, 4
MGR1, MGR2 = 5, 6
AGENT = 3


def uid(username: str) -> int:
    people = {**SCENARIO["learners"], **SCENARIO["managers"]}
    return int(people[username]["userid"])


@pytest.fixture
def sim(clock: Clock) -> SimulatedMoodle:
    return SimulatedMoodle(generate_scenario(), clock=clock)


def body(
    site: SimulatedMoodle,
    function: str,
    *,
    fmt: bool = True,
    token: str | None = None,
    **params: Any,
) -> str:
    fields = [("wstoken", token or site.token), ("wsfunction", function)]
    if fmt:
        fields.append(("moodlewsrestformat", "json"))
    fields += flatten(params)
    return urlencode(fields)


def call(site: SimulatedMoodle, function: str, **params: Any) -> Any:
    status, _headers, text = site.handle(body(site, function, **params))
    assert status == 200
    answer = json.loads(text)
    if not (isinstance(answer, dict) and "exception" in answer):
        validate_response(function, answer)
    return answer


def error_of(site: SimulatedMoodle, function: str, **params: Any) -> dict[str, Any]:
    answer = call(site, function, **params)
    assert isinstance(answer, dict) and "exception" in answer, answer
    return answer


# --- completion ----------------------------------------------------------------


def test_override_completes_the_activity_and_aggregates_the_course_at_once(
    sim: SimulatedMoodle, clock: Clock
) -> None:
    learner = uid("learner05")  # cmids 1, 2, 3, 5, 7 done
    sim.mark_signoff(learner, CC101, MGR1)
    assert not sim.course_completed(learner, CC101)
    for cmid in (4, 6):
        call(
            sim,
            "core_completion_override_activity_completion_status",
            userid=learner,
            cmid=cmid,
            newstate=1,
        )
        assert not sim.course_completed(learner, CC101)
    clock.now += 60
    answer = call(
        sim,
        "core_completion_override_activity_completion_status",
        userid=learner,
        cmid=8,
        newstate=1,
    )
    assert answer == {
        "cmid": 8,
        "userid": learner,
        "state": 1,
        "timecompleted": clock.now,
        "overrideby": AGENT,
        "tracking": 1,
    }
    assert sim.activity_state(learner, 8) == 1
    assert sim.course_completed(learner, CC101)  # no cron needed after an activity change
    status = call(
        sim, "core_completion_get_course_completion_status", courseid=CC101, userid=learner
    )
    assert status["completionstatus"]["completed"] is True
    statuses = call(
        sim, "core_completion_get_activities_completion_status", courseid=CC101, userid=learner
    )
    cm8 = next(s for s in statuses["statuses"] if s["cmid"] == 8)
    assert (cm8["state"], cm8["overrideby"], cm8["timecompleted"]) == (1, AGENT, clock.now)


def test_signoff_shows_the_criterion_at_once_and_completes_the_course_at_the_next_cron(
    sim: SimulatedMoodle, clock: Clock
) -> None:
    learner = uid("learner02")  # every activity done, awaiting sign-off
    assert sim.criteria_complete(learner, CC101) == {
        "activities": dict.fromkeys(range(1, 9), True),
        "role": False,
    }
    sim.mark_signoff(learner, CC101, MGR1, time=clock.now - 100)
    assert sim.criteria_complete(learner, CC101)["role"] is True
    status = call(
        sim, "core_completion_get_course_completion_status", courseid=CC101, userid=learner
    )
    role = status["completionstatus"]["completions"][-1]
    assert (role["type"], role["complete"], role["timecompleted"]) == (7, True, clock.now - 100)
    assert status["completionstatus"]["completed"] is False
    assert not sim.course_completed(learner, CC101)
    sim.run_completion_cron()
    assert sim.course_completed(learner, CC101)
    status = call(
        sim, "core_completion_get_course_completion_status", courseid=CC101, userid=learner
    )
    assert status["completionstatus"]["completed"] is True


def test_signoff_needs_the_role_in_the_course(sim: SimulatedMoodle) -> None:
    with pytest.raises(ValueError, match="does not hold role 10"):
        sim.mark_signoff(uid("learner02"), CC101, uid("learner01"))


def test_lastcourseaccess_moves_when_the_learner_acts_not_on_override_signoff_or_cron(
    sim: SimulatedMoodle, clock: Clock
) -> None:
    learner = uid("learner03")

    def lastaccess() -> int:
        users = call(sim, "core_enrol_get_enrolled_users", courseid=CC101)
        return int(next(u for u in users if u["id"] == learner)["lastcourseaccess"])

    assert lastaccess() == 0
    call(
        sim,
        "core_completion_override_activity_completion_status",
        userid=learner,
        cmid=5,
        newstate=1,
    )
    sim.mark_signoff(learner, CC101, MGR1)
    sim.run_completion_cron()
    assert lastaccess() == 0
    sim.complete_activity(learner, 6, time=clock.now + 10)
    assert lastaccess() == clock.now + 10
    sim.access_course(learner, CC101, clock.now + 20)
    assert lastaccess() == clock.now + 20
    sim.add_attempt(learner, 1, {i: 1.0 for i in range(1, 9)}, time=clock.now + 30)
    assert lastaccess() == clock.now + 30


def test_activity_completion_for_a_user_not_enrolled_is_untracked_not_an_error(
    sim: SimulatedMoodle,
) -> None:
    answer = call(
        sim,
        "core_completion_get_activities_completion_status",
        courseid=CC201,
        userid=uid("learner01"),
    )
    assert [s["istrackeduser"] for s in answer["statuses"]] == [False, False]


# --- quiz and grades -----------------------------------------------------------


def test_finishing_an_attempt_updates_grades_and_quiz_completion(
    sim: SimulatedMoodle, clock: Clock
) -> None:
    learner = uid("learner18")  # no attempt yet
    assert sim.activity_state(learner, 9) == 0
    sim.add_attempt(learner, 1, {1: 1, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0})
    assert sim.activity_state(learner, 9) == 3  # complete-fail
    sim.add_attempt(learner, 1, {i: 1 for i in range(1, 9)}, time=clock.now + 100)
    assert sim.activity_state(learner, 9) == 2  # complete-pass
    report = call(sim, "gradereport_user_get_grade_items", courseid=CC101, userid=learner)
    quiz_item, total = report["usergrades"][0]["gradeitems"]
    assert (quiz_item["graderaw"], quiz_item["gradedatesubmitted"]) == (10, clock.now + 100)
    assert total["graderaw"] == 10
    attempts = call(sim, "mod_quiz_get_user_quiz_attempts", quizid=1, userid=learner, status="all")[
        "attempts"
    ]
    assert [a["sumgrades"] for a in attempts] == [1, 8]
    assert attempts[1]["gradeitemmarks"][0] == {"name": "Listening", "grade": 2, "maxgrade": 2}


def test_grade_items_for_every_learner_in_one_call(sim: SimulatedMoodle) -> None:
    report = call(sim, "gradereport_user_get_grade_items", courseid=CC101)
    grades = {u["userid"]: u["gradeitems"][0]["graderaw"] for u in report["usergrades"]}
    assert len(grades) == 24  # the managers hold no graded role
    for name, learner in SCENARIO["learners"].items():
        assert grades[learner["userid"]] == learner["precheck"]["best_grade_out_of_10"], name


def test_attempt_status_filters_and_inprogress_attempts(sim: SimulatedMoodle) -> None:
    learner = uid("learner17")
    unfinished = call(
        sim, "mod_quiz_get_user_quiz_attempts", quizid=1, userid=learner, status="unfinished"
    )
    finished = call(sim, "mod_quiz_get_user_attempts", quizid=1, userid=learner, status="finished")
    assert [a["state"] for a in unfinished["attempts"]] == ["inprogress"]
    assert unfinished["attempts"][0]["sumgrades"] is None
    assert {m["grade"] for m in unfinished["attempts"][0]["gradeitemmarks"]} == {0}
    assert finished["attempts"] == []


def test_attempt_review_pages_and_string_marks(sim: SimulatedMoodle) -> None:
    review = call(sim, "mod_quiz_get_attempt_review", attemptid=4, page=2)
    assert [(q["slot"], q["page"], q["mark"], q["maxmark"]) for q in review["questions"]] == [
        (5, 2, "0.00", 1),
        (6, 2, "1.00", 1),
    ]
    assert (
        error_of(sim, "mod_quiz_get_attempt_review", attemptid=19)["errorcode"] == "noreviewattempt"
    )


# --- enrolment, messages, groups -----------------------------------------------


def test_an_enrolment_shows_up_in_enrolled_users(sim: SimulatedMoodle, clock: Clock) -> None:
    learner = uid("learner01")
    start = clock.now + 30 * 86400
    answer = call(
        sim,
        "enrol_manual_enrol_users",
        enrolments=[{"roleid": 5, "userid": learner, "courseid": CC201, "timestart": start}],
    )
    assert answer is None
    enrolment = sim.enrolment(learner, CC201)
    assert enrolment is not None and (
        enrolment.roleids,
        enrolment.timestart,
        enrolment.timeend,
    ) == ([5], start, 0)
    users = call(sim, "core_enrol_get_enrolled_users", courseid=CC201)
    assert [u["id"] for u in users] == [learner]
    # not active before its start date
    active = call(
        sim,
        "core_enrol_get_enrolled_users",
        courseid=CC201,
        options=[{"name": "onlyactive", "value": 1}],
    )
    assert active == []


def test_re_enrolling_updates_the_enrolment_and_adds_the_role(sim: SimulatedMoodle) -> None:
    manager = MGR1
    call(
        sim,
        "enrol_manual_enrol_users",
        enrolments=[{"roleid": 5, "userid": manager, "courseid": CC101, "timestart": 7}],
    )
    enrolment = sim.enrolment(manager, CC101)
    assert enrolment is not None and enrolment.roleids == [10, 5] and enrolment.timestart == 7


def test_role_not_assignable(sim: SimulatedMoodle) -> None:
    sim.assignable_roles.discard(10)
    error = error_of(
        sim, "enrol_manual_enrol_users", enrolments=[{"roleid": 10, "userid": 5, "courseid": 3}]
    )
    assert error == {
        "exception": "core\\exception\\moodle_exception",
        "errorcode": "wsusercannotassign",
        "message": "You don't have the permission to assign this role (10) to this user (5) in this course (3).",
    }
    assert sim.enrolment(5, 3) is None


def test_a_message_is_stored_and_read_back(sim: SimulatedMoodle, clock: Clock) -> None:
    learner = uid("learner08")
    sent = call(
        sim,
        "core_message_send_instant_messages",
        messages=[
            {"touserid": learner, "text": "<p>Hello</p>", "textformat": 1, "clientmsgid": "m-1"},
            {"touserid": 9999, "text": "lost", "textformat": 1, "clientmsgid": "m-2"},
        ],
    )
    assert sent[0]["msgid"] > 0 and sent[0]["clientmsgid"] == "m-1"
    assert sent[1]["msgid"] == -1 and "errormessage" in sent[1]
    stored = sim.messages_to(learner)
    assert [(m.text, m.useridfrom, m.timecreated) for m in stored] == [
        ("<p>Hello</p>", AGENT, clock.now)
    ]
    read = call(
        sim,
        "core_message_get_messages",
        useridto=learner,
        useridfrom=0,
        type="conversations",
        read=0,
    )
    assert [m["text"] for m in read["messages"]] == ["<p>Hello</p>"]
    assert read["messages"][0]["fullmessage"] == "Hello\n"


def test_a_suspended_user_gets_no_message(sim: SimulatedMoodle) -> None:
    sim.suspend_user(MGR2)
    sent = call(
        sim, "core_message_send_instant_messages", messages=[{"touserid": MGR2, "text": "x"}]
    )
    assert sent[0]["msgid"] == -1
    assert sim.messages_to(MGR2) == []
    found = call(sim, "core_user_get_users_by_field", field="username", values=["mgr2"])
    assert found[0]["suspended"] is True


def test_groups_are_created_and_filled(sim: SimulatedMoodle) -> None:
    created = call(
        sim,
        "core_group_create_groups",
        groups=[{"courseid": CC101, "name": "Team New", "description": "", "idnumber": "team-new"}],
    )
    groupid = created[0]["id"]
    assert groupid == 5
    assert (
        call(
            sim,
            "core_group_add_group_members",
            members=[{"groupid": groupid, "userid": uid("learner01")}],
        )
        is None
    )
    assert sim.group_members(CC101, "Team New") == {uid("learner01")}
    assert (
        error_of(
            sim,
            "core_group_create_groups",
            groups=[{"courseid": CC101, "name": "Team New", "description": ""}],
        )["errorcode"]
        == "groupexistforcourse"
    )
    # only enrolled users may join
    assert (
        error_of(sim, "core_group_add_group_members", members=[{"groupid": groupid, "userid": 2}])[
            "errorcode"
        ]
        == "invalidparameter"
    )


def test_unenrol_and_reset(sim: SimulatedMoodle) -> None:
    learner = uid("learner01")
    sim.unenrol(learner, CC101)
    assert sim.enrolment(learner, CC101) is None
    assert learner not in sim.group_members(CC101, "Team Dana Whitfield")
    sim.reset_course(CC101)
    assert sim.activity_state(uid("learner02"), 1) == 0
    assert not sim.course_completed(uid("learner07"), CC101)
    assert (
        call(
            sim, "mod_quiz_get_user_quiz_attempts", quizid=1, userid=uid("learner03"), status="all"
        )["attempts"]
        == []
    )


# --- enrolled users: paging and fields -----------------------------------------


def test_paging_visits_every_enrolled_user_once(sim: SimulatedMoodle) -> None:
    seen: list[int] = []
    for start in range(0, 40, 5):
        page = call(
            sim,
            "core_enrol_get_enrolled_users",
            courseid=CC101,
            options=[
                {"name": "limitfrom", "value": start},
                {"name": "limitnumber", "value": 5},
                {"name": "sortby", "value": "id"},
            ],
        )
        seen += [u["id"] for u in page]
    assert seen == list(range(5, 33))
    by_lastname = call(
        sim,
        "core_enrol_get_enrolled_users",
        courseid=CC101,
        options=[{"name": "sortby", "value": "lastname"}],
    )
    names = [u["lastname"] for u in by_lastname]
    assert names == sorted(names)


def test_userfields_and_empty_custom_fields(sim: SimulatedMoodle) -> None:
    sim.set_profile_field(uid("learner01"), "manager", None)
    users = call(
        sim,
        "core_enrol_get_enrolled_users",
        courseid=CC101,
        options=[{"name": "userfields", "value": "id,username,lastcourseaccess,customfields"}],
    )
    learner01 = next(u for u in users if u["username"] == "learner01")
    learner02 = next(u for u in users if u["username"] == "learner02")
    # id and fullname always come (Moodle declares both required)
    assert list(learner01) == ["id", "username", "fullname", "lastcourseaccess"]
    assert list(learner02) == ["id", "username", "fullname", "lastcourseaccess", "customfields"]
    assert learner02["customfields"][0]["value"] == "mgr1"


# --- errors --------------------------------------------------------------------


def test_invalid_token(sim: SimulatedMoodle) -> None:
    status, _h, text = sim.handle(body(sim, "core_webservice_get_site_info", token="nope"))
    assert (status, json.loads(text)["errorcode"]) == (200, "invalidtoken")


def test_function_removed_from_the_service(sim: SimulatedMoodle) -> None:
    sim.service_functions.discard("core_cohort_get_cohort_members")
    error = error_of(sim, "core_cohort_get_cohort_members", cohortids=[2])
    assert (error["exception"], error["errorcode"], error["message"]) == (
        "webservice_access_exception",
        "accessexception",
        "Access control exception",
    )
    names = [f["name"] for f in call(sim, "core_webservice_get_site_info")["functions"]]
    assert "core_cohort_get_cohort_members" not in names and "core_course_get_contents" in names


@pytest.mark.parametrize(
    ("function", "params"),
    [
        ("core_course_get_contents", {"courseid": "abc"}),
        ("core_course_get_contents", {}),
        ("mod_quiz_get_user_quiz_attempts", {"quizid": 1, "includepreviews": "true"}),
        ("mod_quiz_get_user_quiz_attempts", {"quizid": 1, "status": "bogus"}),
        ("core_course_get_contents", {"courseid": 2, "unexpected": 1}),
        (
            "core_enrol_get_enrolled_users",
            {"courseid": 2, "options": [{"name": "sortby", "value": "email"}]},
        ),
    ],
)
def test_invalid_parameters(sim: SimulatedMoodle, function: str, params: dict[str, Any]) -> None:
    error = error_of(sim, function, **params)
    assert error == {
        "exception": "core\\exception\\invalid_parameter_exception",
        "errorcode": "invalidparameter",
        "message": "Invalid parameter value detected",
    }
    sim.debug = True
    assert "debuginfo" in error_of(sim, function, **params)


def test_unknown_function_missing_capability_course_access_and_missing_records(
    sim: SimulatedMoodle,
) -> None:
    assert error_of(sim, "core_no_such_function")["errorcode"] == "invalidrecordunknown"
    sim.deny_capability(
        "core_completion_override_activity_completion_status", "moodle/course:overridecompletion"
    )
    error = error_of(
        sim, "core_completion_override_activity_completion_status", userid=9, cmid=2, newstate=1
    )
    assert error["errorcode"] == "nopermissions"
    assert error["message"].endswith("(Override activity completion status).")
    sim.deny_course_access(CC201)
    assert (
        error_of(sim, "core_enrol_get_enrolled_users", courseid=CC201)["errorcode"]
        == "requireloginerror"
    )
    assert (
        error_of(sim, "core_course_get_contents", courseid=99999)["errorcode"]
        == "invalidrecordunknown"
    )
    sim.debug = True
    error = error_of(sim, "core_course_get_contents", courseid=99999)
    assert (error["errorcode"], "debuginfo" in error) == ("invalidrecord", True)


def test_without_the_json_format_the_answer_is_xml(sim: SimulatedMoodle) -> None:
    status, headers, text = sim.handle(body(sim, "core_webservice_get_site_info", fmt=False))
    assert status == 200 and headers["Content-Type"].startswith("application/xml")
    assert text.startswith("<?xml") and '<KEY name="username"><VALUE>buyin_agent</VALUE>' in text
    status, headers, text = sim.handle(
        body(sim, "core_webservice_get_site_info", fmt=False, token="nope")
    )
    assert "<ERRORCODE>invalidtoken</ERRORCODE>" in text


# --- faults --------------------------------------------------------------------


def test_random_faults_mix_kinds_and_moments(sim: SimulatedMoodle) -> None:
    sim.faults.reseed(7)
    sim.faults.fail_rate = 0.5
    outcomes: dict[str, int] = {}
    for _ in range(300):
        try:
            status, headers, _text = sim.handle(body(sim, "core_webservice_get_site_info"))
            kind = str(status)
            if status in (429, 503):
                assert headers["Retry-After"] == "1"
        except requests.Timeout:
            kind = "timeout"
        except requests.ConnectionError:
            kind = "connection"
        outcomes[kind] = outcomes.get(kind, 0) + 1
    assert set(outcomes) == {"200", "500", "503", "429", "timeout", "connection"}
    assert 100 < outcomes["200"] < 200
    assert {when for _f, _k, when in sim.faults.history} == {"before", "after"}
    # the same seed gives the same faults
    again = SimulatedMoodle(generate_scenario())
    again.faults.reseed(7)
    again.faults.fail_rate = 0.5
    for _ in range(300):
        with contextlib.suppress(requests.RequestException):
            again.handle(body(again, "core_webservice_get_site_info"))
    assert again.faults.history == sim.faults.history


def test_a_fault_after_the_write_applies_the_write(sim: SimulatedMoodle) -> None:
    learner = uid("learner04")
    sim.faults.queue("core_completion_override_activity_completion_status", "http500", when="after")
    status, _h, _t = sim.handle(
        body(
            sim,
            "core_completion_override_activity_completion_status",
            userid=learner,
            cmid=2,
            newstate=1,
        )
    )
    assert status == 500
    assert sim.activity_state(learner, 2) == 1
    sim.faults.queue("core_completion_override_activity_completion_status", "connection")
    with pytest.raises(requests.ConnectionError):
        sim.handle(
            body(
                sim,
                "core_completion_override_activity_completion_status",
                userid=learner,
                cmid=4,
                newstate=1,
            )
        )
    assert sim.activity_state(learner, 4) == 0  # before: never happened


def test_queued_error_envelope_and_timeout(sim: SimulatedMoodle) -> None:
    sim.faults.queue("core_course_get_contents", "dmlreadexception")
    sim.faults.queue("*", "timeout")
    assert (
        error_of(sim, "core_course_get_contents", courseid=2)["exception"] == "dml_read_exception"
    )
    with pytest.raises(requests.Timeout):
        sim.handle(body(sim, "core_webservice_get_site_info"))
    assert call(sim, "core_webservice_get_site_info")["userid"] == AGENT


def test_latency_uses_the_injected_sleep(sim: SimulatedMoodle) -> None:
    slept: list[float] = []
    sim.faults.latency_ms = 40
    sim.faults.sleep = slept.append
    call(sim, "core_webservice_get_site_info")
    assert slept == [0.04]


# --- transports ----------------------------------------------------------------


def test_responses_registration_and_adapter(sim: SimulatedMoodle) -> None:
    data = {
        "wstoken": sim.token,
        "wsfunction": "core_webservice_get_site_info",
        "moodlewsrestformat": "json",
    }
    with responses.RequestsMock() as rsps:
        sim.register(rsps)
        answer = requests.post(f"{sim.url}/webservice/rest/server.php", data=data, timeout=5).json()
    assert answer["username"] == "buyin_agent"
    session = requests.Session()
    session.mount(sim.url, sim.adapter())
    response = session.post(f"{sim.url}/webservice/rest/server.php", data=data, timeout=5)
    assert response.status_code == 200 and response.json()["userid"] == AGENT
    sim.faults.queue("*", "connection")
    with pytest.raises(requests.ConnectionError):
        session.post(f"{sim.url}/webservice/rest/server.php", data=data, timeout=5)
    sim.faults.queue("*", "http503")
    response = session.post(f"{sim.url}/webservice/rest/server.php", data=data, timeout=5)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "1")


def test_concurrent_calls_are_serialised(sim: SimulatedMoodle) -> None:
    def send(n: int) -> None:
        for i in range(20):
            call(
                sim,
                "core_message_send_instant_messages",
                messages=[{"touserid": 9 + n, "text": f"{n}-{i}"}],
            )

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [m.id for n in range(8) for m in sim.messages_to(9 + n)]
    assert sorted(ids) == list(range(1, 161))


# --- calls and digests ---------------------------------------------------------


def test_reads_leave_the_digest_alone_and_writes_are_counted(sim: SimulatedMoodle) -> None:
    before = sim.state_digest()
    call(sim, "core_enrol_get_enrolled_users", courseid=CC101)
    call(sim, "gradereport_user_get_grade_items", courseid=CC101)
    call(sim, "core_completion_get_course_completion_status", courseid=CC101, userid=9)
    assert sim.state_digest() == before
    assert sim.write_calls() == []
    call(sim, "core_completion_override_activity_completion_status", userid=12, cmid=2, newstate=1)
    assert sim.state_digest() != before
    assert sim.write_calls() == [
        (
            "core_completion_override_activity_completion_status",
            {"userid": 12, "cmid": 2, "newstate": 1},
        )
    ]
    assert len(sim.calls) == 4


# --- the scenario --------------------------------------------------------------


def test_the_default_scenario_holds_the_expected_summary(sim: SimulatedMoodle) -> None:
    summary = SCENARIO["expected_summary"]
    for name in summary["cc101_complete"]:
        assert sim.course_completed(uid(name), CC101), name
    for name in summary["cc101_awaiting_signoff"]:
        criteria = sim.criteria_complete(uid(name), CC101)
        assert all(criteria["activities"].values()) and criteria["role"] is False, name
        assert not sim.course_completed(uid(name), CC101)
    for name in summary["cc101_in_progress"]:
        criteria = sim.criteria_complete(uid(name), CC101)
        assert any(criteria["activities"].values()) and not all(criteria["activities"].values()), (
            name
        )
    finished = {
        name
        for name in SCENARIO["learners"]
        if call(
            sim, "mod_quiz_get_user_quiz_attempts", quizid=1, userid=uid(name), status="finished"
        )["attempts"]
    }
    assert finished == set(summary["precheck_finished"])
    for name in summary["precheck_two_attempts"]:
        assert (
            len(call(sim, "mod_quiz_get_user_attempts", quizid=1, userid=uid(name))["attempts"])
            == 2
        )
    assert sim.course_completed(MGR1, LEAD100) and not sim.course_completed(MGR2, LEAD100)


def test_every_learner_matches_the_scenario(sim: SimulatedMoodle) -> None:
    for name, learner in SCENARIO["learners"].items():
        userid = learner["userid"]
        done = {a["cmid"]: a["time"] for a in learner["cc101_activities_completed"]}
        for cmid in range(1, 9):
            assert sim.activity_state(userid, cmid) == (1 if cmid in done else 0), (name, cmid)
        record = learner["cc101_course_completion_record"]
        completed = record["timecompleted"] if record else None
        assert sim.state.course_completions.get((userid, CC101)) == completed, name
        assert sim.group_members(
            CC101,
            f"Team {SCENARIO['managers'][learner['manager']]['firstname']} "
            f"{SCENARIO['managers'][learner['manager']]['lastname']}",
        ) >= {userid}


def test_times_shift_with_now() -> None:
    later = generate_scenario(now=NOW + 1000)
    base = generate_scenario()
    assert later.attempts[1].timefinish == base.attempts[1].timefinish + 1000
    assert later.signoffs[(9, CC101)].time == base.signoffs[(9, CC101)].time + 1000
    assert later.course_completions[(9, CC101)] == base.course_completions[(9, CC101)] + 1000


def test_a_large_scenario_is_shaped_like_the_small_one_and_deterministic() -> None:
    started = time.perf_counter()
    big = generate_scenario(learners=2400, seed=3)
    assert time.perf_counter() - started < 2
    learners = [u for u in big.users.values() if u.username.startswith("learner")]
    managers = [u for u in big.users.values() if u.username.startswith("mgr")]
    assert (len(learners), len(managers), len(big.groups)) == (2400, 400, 400)
    mgr5 = next(u for u in managers if u.username == "mgr5")
    assert mgr5.profile["manager"] == "mgr2"
    assert all(u.profile["manager"].startswith("mgr") for u in learners)
    assert len({u.id for u in big.users.values()}) == len(big.users)
    completed = sum(1 for (_u, c) in big.course_completions if c == CC101)
    assert 100 < completed < 600  # about 2 in 24 complete
    assert any(a.state == "inprogress" for a in big.attempts.values())
    first = SimulatedMoodle(big).state_digest()
    assert SimulatedMoodle(generate_scenario(learners=2400, seed=3)).state_digest() == first
    assert SimulatedMoodle(generate_scenario(learners=2400, seed=4)).state_digest() != first
    small = SimulatedMoodle(generate_scenario(learners=2400, seed=3))
    assert len(call(small, "core_enrol_get_enrolled_users", courseid=CC101)) == 2800
