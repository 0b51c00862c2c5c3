"""The simulated Moodle checked against the real one, call by call: the agent syncs the
real site on each path (core, and local_buyin) through a recording proxy; every call it
made is then sent, in the same order and at the same moment, to the simulated Moodle
seeded with the same scenario, and the answers are compared (shape, and every value but
the site's own: new rows' ids, secrets, cache revisions; see live_support.VOLATILE_KEYS).
A difference fails naming the function and the field.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from live_support import (
    Agent,
    Exchange,
    PluginSite,
    RealMoodle,
    Recorder,
    Steps,
    replay,
    write_mappings,
)

from buyin.simulator.plugin import PLUGIN_FUNCTIONS
from support import REPO

pytestmark = pytest.mark.live

#: every function of the agent's service (plugin_contract/service.json) and the plugin's
SERVICE = {
    f["name"]
    for f in json.loads((REPO / "plugin_contract" / "service.json").read_text())["functions"]
}
#: the plugin's functions the agent calls: all the simulator serves but the managers' own
PLUGIN = (set(PLUGIN_FUNCTIONS) | {"local_buyin_send_notifications"}) - {
    "local_buyin_record_signoff"
}
#: what a first sync, `buyin doctor` and a read-back of messages do not call (or call only on
#: other sites: mod_quiz_get_user_attempts before Moodle 5.0, the attempt review where a quiz
#: has no grade items, the role where an approver lacks it, the cohorts in reports): called
#: here as the agent calls them
EXTRA: list[tuple[str, dict[str, Any]]] = [
    (
        "mod_quiz_get_user_attempts",
        {"quizid": 1, "userid": 11, "status": "all", "includepreviews": 0},
    ),
    ("mod_quiz_get_attempt_review", {"attemptid": 3}),
    ("mod_feedback_get_analysis", {"feedbackid": 1}),
    ("core_cohort_get_cohort_members", {"cohortids": [1, 2]}),
    (
        "core_role_assign_roles",
        {"assignments": [{"roleid": 10, "userid": 5, "contextlevel": "course", "instanceid": 3}]},
    ),
    (
        "core_group_create_groups",
        {
            "groups": [
                {
                    "courseid": 2,
                    "name": "Live test team",
                    "description": "",
                    "idnumber": "live-test",
                }
            ]
        },
    ),
]


def record(moodle: RealMoodle, steps: Steps, token: str, name: str) -> list[Exchange]:
    """One sync through the proxy, one call at a time (so the order is the site's), then
    `buyin doctor`, on the core path the rest of the service (EXTRA), and the agent's
    read-back of each recipient's messages."""
    recorder = Recorder(moodle.url)
    try:
        agent = Agent(RealMoodle(recorder.url, token), steps.tmp / name, token)
        mapping = write_mappings(agent.mappings) / "cc101.toml"
        # team groups on: the group functions are called too
        text = mapping.read_text().replace("[signoff]\n", "[signoff]\nteam_groups = true\n", 1)
        mapping.write_text(text)
        os.environ["BUYIN_CONCURRENCY"] = "1"
        try:
            agent.sync()
        finally:
            del os.environ["BUYIN_CONCURRENCY"]
        if token != moodle.token:  # the plugin path: the admin's command giving the lease up
            released = agent.run("release-lease")
            assert released.code == 0, released.out + released.err
        via = RealMoodle(recorder.url, token)
        if token == moodle.token:  # the core path: the rest of the agent's service
            for function, params in EXTRA:
                via.call(function, token, **params)
            group = moodle.value("select id from mdl_groups where idnumber = 'live-test'")
            members = [{"groupid": int(group), "userid": 9}]
            via.call("core_group_add_group_members", token, members=members)
        doctor = agent.run("doctor")  # its probes of each write change nothing
        assert doctor.code in (0, 78), doctor.out + doctor.err
        for (userid,) in moodle.sql(
            "select distinct useridto from mdl_notifications where useridfrom = 3 union "
            "select mcm.userid from mdl_messages m join mdl_message_conversation_members mcm "
            "on mcm.conversationid = m.conversationid and mcm.userid <> 3 where m.useridfrom = 3"
        ):
            via.call(
                "core_message_get_messages",
                useridto=int(userid),
                useridfrom=3,
                type="conversations",
                read=2,
                newestfirst=1,
                limitfrom=0,
                limitnum=50,
            )
    finally:
        recorder.close()
    return recorder.exchanges


@pytest.fixture(scope="module")
def differences(plugin_steps: Steps, plugin_site: PluginSite) -> dict[str, dict[str, list[str]]]:
    moodle = plugin_steps.moodle
    plugin = record(moodle, plugin_steps, plugin_steps.plugin_token, "plugin")
    found = {"plugin": replay(plugin, moodle, plugin=True)}
    moodle.reset()  # the core path: Moodle without the plugin
    core = record(moodle, plugin_steps, moodle.token, "core")
    found["core"] = replay(core, moodle, plugin=False)
    return found


@pytest.mark.parametrize(
    ("path", "function"),
    [("core", f) for f in sorted(SERVICE)] + [("plugin", f) for f in sorted(PLUGIN)],
)
def test_the_simulated_answer_is_the_real_one(
    differences: dict[str, dict[str, list[str]]], path: str, function: str
) -> None:
    assert function in differences[path], f"the agent did not call {function} on the {path} path"
    assert differences[path][function] == [], f"{function} ({path} path)"


@pytest.mark.parametrize("path", ["core", "plugin"])
def test_every_function_called_is_compared(
    differences: dict[str, dict[str, list[str]]], path: str
) -> None:
    expected = SERVICE | PLUGIN if path == "plugin" else SERVICE
    assert set(differences[path]) - expected == set(), (
        "a function the agent calls is not listed here"
    )
