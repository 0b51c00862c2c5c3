"""Each external function of local_buyin called on the real site as the agent, as a
manager and as a learner (each with a token on the plugin's service, as an admin could
give one): the capability and context checks hold, nobody reads or decides another
team's requests, bad parameters get Moodle's errors, and a refused call changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from live_support import RealMoodle, Steps

from buyin.moodle.contract import validate_response
from support import load_scenario

pytestmark = pytest.mark.live

SCENARIO = load_scenario()
LEARNERS = SCENARIO["learners"]
CC101 = 2
L02, L08 = LEARNERS["learner02"]["userid"], LEARNERS["learner08"]["userid"]  # mgr1's, mgr2's
MGR1 = SCENARIO["managers"]["mgr1"]["userid"]

#: a valid call of every function of local_buyin (what the agent sends)
CALLS: dict[str, dict[str, Any]] = {
    "local_buyin_request_signoffs": {
        "requests": [{"courseid": CC101, "userid": L02, "managerid": MGR1}]
    },
    "local_buyin_get_signoffs": {"since": 0, "courseid": CC101},
    "local_buyin_record_signoff": {"courseid": CC101, "userid": L02, "decision": "rejected"},
    "local_buyin_get_progress": {"courseid": CC101, "quizids": [1], "profilefields": ["manager"]},
    "local_buyin_complete_activities": {"items": [{"userid": L08, "cmid": 1, "newstate": 1}]},
    "local_buyin_save_figures": {
        "items": [
            {"courseid": CC101, "userid": L08, "role": "learner", "managerid": 6, "figures": "{}"}
        ]
    },
    "local_buyin_acquire_lease": {"programme": "livetest", "holder": "live-test", "seconds": 600},
    "local_buyin_release_lease": {"programme": "livetest", "holder": "live-test"},
}
AGENT_ONLY = sorted(set(CALLS) - {"local_buyin_record_signoff"})


@pytest.fixture(scope="module")
def site(plugin_steps: Steps) -> tuple[RealMoodle, dict[str, str]]:
    moodle = plugin_steps.moodle
    plugin_steps.agent(plugin=True).sync()  # sign-off requests for every waiting learner
    tokens = moodle.user_tokens("mgr1", "mgr2", "learner02", "learner08")
    tokens["agent"] = plugin_steps.plugin_token
    return moodle, tokens


def _plugin_rows(moodle: RealMoodle) -> list[list[str]]:
    return moodle.sql(
        "select 'signoff', id, userid, managerid, status, timemodified from mdl_local_buyin_signoff "
        "union all select 'figures', id, userid, courseid, role, timemodified from mdl_local_buyin_figures "
        "union all select 'lease', id, 0, 0, holder, timeexpires from mdl_local_buyin_lease "
        "union all select 'override', id, userid, coursemoduleid, completionstate::text, "
        "timemodified from mdl_course_modules_completion order by 1, 2"
    )


def _refused(answer: Any) -> str:
    """Moodle's error, or (functions answering per item) every item refused."""
    if isinstance(answer, dict) and isinstance(answer.get("items"), list) and answer["items"]:
        codes = {
            item.get("warningcode") for item in answer["items"] if item.get("status") is not True
        }
        assert len(codes) == 1 and len(answer["items"]) == 1, json.dumps(answer)[:500]
        return str(codes.pop())
    assert isinstance(answer, dict) and "exception" in answer, json.dumps(answer)[:500]
    return str(answer["errorcode"])


@pytest.mark.parametrize("who", ["learner02", "mgr1"])
@pytest.mark.parametrize("function", AGENT_ONLY)
def test_the_agents_functions_refuse_people(
    site: tuple[RealMoodle, dict[str, str]], function: str, who: str
) -> None:
    moodle, tokens = site
    before = _plugin_rows(moodle)
    code = _refused(moodle.call(function, tokens[who], **CALLS[function]))
    assert code in ("nopermissions", "accessexception", "requireloginerror"), code
    assert _plugin_rows(moodle) == before


@pytest.mark.parametrize("function", AGENT_ONLY)
def test_the_agent_gets_answers_in_the_contracts_shape(
    site: tuple[RealMoodle, dict[str, str]], function: str
) -> None:
    moodle, tokens = site
    answer = moodle.call(function, tokens["agent"], **CALLS[function])
    assert not (isinstance(answer, dict) and "exception" in answer), answer
    validate_response(function, answer)


def test_a_learner_cannot_decide_even_their_own_request(
    site: tuple[RealMoodle, dict[str, str]],
) -> None:
    moodle, tokens = site
    before = _plugin_rows(moodle)
    _refused(
        moodle.call(
            "local_buyin_record_signoff", tokens["learner02"], **CALLS["local_buyin_record_signoff"]
        )
    )
    assert _plugin_rows(moodle) == before


def test_the_agent_cannot_decide_for_a_manager(site: tuple[RealMoodle, dict[str, str]]) -> None:
    moodle, tokens = site
    before = _plugin_rows(moodle)
    _refused(
        moodle.call(
            "local_buyin_record_signoff", tokens["agent"], **CALLS["local_buyin_record_signoff"]
        )
    )
    assert _plugin_rows(moodle) == before


def test_a_manager_cannot_decide_another_teams_request(
    site: tuple[RealMoodle, dict[str, str]],
) -> None:
    moodle, tokens = site
    before = _plugin_rows(moodle)
    code = _refused(
        moodle.call(
            "local_buyin_record_signoff",
            tokens["mgr2"],
            courseid=CC101,
            userid=L02,
            decision="signed",
        )
    )
    assert code == "notyourrequest"
    assert _plugin_rows(moodle) == before


@pytest.mark.parametrize(
    ("function", "params"),
    [
        ("local_buyin_get_signoffs", {"since": "yesterday"}),
        ("local_buyin_get_progress", {"courseid": CC101, "limit": "many"}),
        ("local_buyin_acquire_lease", {"programme": "a b/c", "holder": "x", "seconds": 600}),
        ("local_buyin_request_signoffs", {}),
        (
            "local_buyin_complete_activities",
            {"items": [{"userid": L08, "cmid": "one", "newstate": 1}]},
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_parameters_get_moodles_invalidparameter(
    site: tuple[RealMoodle, dict[str, str]], function: str, params: dict[str, Any]
) -> None:
    moodle, tokens = site
    before = _plugin_rows(moodle)
    assert _refused(moodle.call(function, tokens["agent"], **params)) == "invalidparameter"
    assert _plugin_rows(moodle) == before


def test_a_decision_other_than_signed_or_rejected_is_refused(
    site: tuple[RealMoodle, dict[str, str]],
) -> None:
    moodle, tokens = site
    before = _plugin_rows(moodle)
    _refused(
        moodle.call(
            "local_buyin_record_signoff",
            tokens["mgr1"],
            courseid=CC101,
            userid=L02,
            decision="maybe",
        )
    )
    assert _plugin_rows(moodle) == before


def test_the_manager_decides_their_own_request_and_nothing_else_moves(
    site: tuple[RealMoodle, dict[str, str]],
) -> None:
    moodle, tokens = site
    others = [r for r in _plugin_rows(moodle) if not (r[0] == "signoff" and r[2] == str(L02))]
    answer = moodle.call(
        "local_buyin_record_signoff", tokens["mgr1"], **CALLS["local_buyin_record_signoff"]
    )
    assert answer.get("status") is True, answer
    assert (
        moodle.value(f"select status from mdl_local_buyin_signoff where userid = {L02}")
        == "rejected"
    )
    after = [r for r in _plugin_rows(moodle) if not (r[0] == "signoff" and r[2] == str(L02))]
    assert after == others


def test_the_signoffs_a_manager_may_read_are_only_their_own(
    site: tuple[RealMoodle, dict[str, str]],
) -> None:
    """get_signoffs is the agent's: a manager reads their requests on the page only."""
    moodle, tokens = site
    _refused(moodle.call("local_buyin_get_signoffs", tokens["mgr2"], since=0))
