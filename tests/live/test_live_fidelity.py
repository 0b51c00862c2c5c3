"""The simulated Moodle checked against the real one, call by call: the agent syncs the
real site on each path (core, and local_buyin) through a recording proxy; every call it
made is then sent, in the same order and at the same moment, to the simulated Moodle
seeded with the same scenario, and the answers are compared (shape, and every value but
the site's own: new rows' ids, secrets, cache revisions; see live_support.VOLATILE_KEYS).
A difference fails naming the function and the field.
"""

from __future__ import annotations

import os

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

pytestmark = pytest.mark.live

#: what the agent calls on each path in a first sync, a read-back of its messages (what it
#: does after an interrupted run) and, with the plugin, `buyin release-lease`
CORE = {
    "core_webservice_get_site_info",
    "core_course_get_courses_by_field",
    "core_course_get_contents",
    "mod_quiz_get_quizzes_by_courses",
    "core_enrol_get_enrolled_users",
    "core_user_get_users_by_field",
    "gradereport_user_get_grade_items",
    "mod_quiz_get_user_quiz_attempts",
    "core_completion_get_activities_completion_status",
    "core_completion_get_course_completion_status",
    "core_completion_override_activity_completion_status",
    "core_message_send_instant_messages",
    "core_message_get_messages",
    "enrol_manual_enrol_users",
    "mod_feedback_get_feedbacks_by_courses",
    "mod_feedback_get_items",
    "mod_feedback_get_non_respondents",
    "mod_feedback_get_responses_analysis",
}
PLUGIN = {
    "local_buyin_get_progress",
    "local_buyin_complete_activities",
    "local_buyin_request_signoffs",
    "local_buyin_get_signoffs",
    "local_buyin_save_figures",
    "local_buyin_acquire_lease",
    "local_buyin_release_lease",
}


def record(moodle: RealMoodle, steps: Steps, token: str, name: str) -> list[Exchange]:
    """One sync through the proxy, one call at a time (so the order is the site's), then
    the agent's read-back of each recipient's messages."""
    recorder = Recorder(moodle.url)
    try:
        agent = Agent(RealMoodle(recorder.url, token), steps.tmp / name, token)
        write_mappings(agent.mappings)
        os.environ["BUYIN_CONCURRENCY"] = "1"
        try:
            agent.sync()
        finally:
            del os.environ["BUYIN_CONCURRENCY"]
        if token != moodle.token:  # the plugin path: the admin's command giving the lease up
            released = agent.run("release-lease")
            assert released.code == 0, released.out + released.err
        via = RealMoodle(recorder.url, token)
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
    [("core", f) for f in sorted(CORE)] + [("plugin", f) for f in sorted(PLUGIN)],
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
    expected = CORE | PLUGIN if path == "plugin" else CORE
    assert set(differences[path]) - expected == set(), (
        "a function the agent calls is not listed here"
    )
