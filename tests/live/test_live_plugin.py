"""The plugin path on the real site: local_buyin from the checkout installed by Moodle's
upgrade, its service set up as the README tells an admin, a sync, managers deciding on
the sign-off page over HTTP (logged in with their password), Moodle's cron, the next
sync's follow-ups. Outcomes are what Moodle holds, not what anyone was told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from live_support import (
    Forms,
    Holding,
    PluginSite,
    RealMoodle,
    Steps,
    difference,
    php_problems,
    simulated_holding,
)

from support import DAY, load_scenario

pytestmark = pytest.mark.live

SCENARIO = load_scenario()
LEARNERS = SCENARIO["learners"]
CC101, CC201, STUDENT = 2, 3, 5
SIGNER, SIGNED = "mgr1", LEARNERS["learner02"]["userid"]
REJECTER, REJECTED = "mgr2", LEARNERS["learner08"]["userid"]


@dataclass
class PluginRun:
    after_sync: Holding
    after_decisions: Holding
    after_cron: Holding
    after_second_sync: Holding
    pages: dict[str, str]
    simulated: Holding
    completed: dict[int, int]


def decide(moodle: RealMoodle, manager: str, learner: int, decision: str) -> str:
    """The manager opens the sign-off page, finds the learner's request and posts its form
    (sesskey included) with the decision; returns the page shown after the redirect."""
    session = moodle.login(manager)
    page = session.get(f"{moodle.url}/local/buyin/index.php", timeout=60)
    assert page.status_code == 200
    requestid = moodle.value(
        f"select id from mdl_local_buyin_signoff where userid = {learner} and courseid = {CC101}"
    )
    word = "reject" if decision == "rejected" else "sign"
    # the list signs in one click; sending back (with a comment) is on the request's own page
    form, buttons = _form_with(page.text, requestid, decision, word)
    if not buttons:
        page = session.get(f"{moodle.url}/local/buyin/index.php?requestid={requestid}", timeout=60)
        assert page.status_code == 200
        form, buttons = _form_with(page.text, requestid, decision, word)
    assert buttons, f"no '{decision}' button in {form}"
    answer = session.post(
        form["action"] or page.url,
        data={**form["fields"], buttons[0][0]: buttons[0][1] or decision, "comment": "live test"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text[:1000]
    return answer.text


def _form_with(html: str, requestid: str, decision: str, word: str) -> tuple[Any, list[Any]]:
    forms = [f for f in Forms(html).forms if f["fields"].get("requestid") == requestid]
    assert forms, f"the page has no form for request {requestid}"
    for form in forms:
        buttons = [b for b in form["buttons"] if b[1] == decision or word in b[0].lower()]
        if buttons:
            return form, buttons
    return forms[0], []


@pytest.fixture(scope="module")
def run(plugin_steps: Steps) -> PluginRun:
    moodle, agent = plugin_steps.moodle, plugin_steps.agent(plugin=True)
    agent.sync()
    after_sync = moodle.holding()
    pages = {
        "signed": decide(moodle, SIGNER, SIGNED, "signed"),
        "rejected": decide(moodle, REJECTER, REJECTED, "rejected"),
    }
    after_decisions = moodle.holding()
    moodle.cron()
    after_cron = moodle.holding()
    agent.sync()
    completed = {
        int(u): int(t)
        for u, t in moodle.sql(
            "select userid, timecompleted from mdl_course_completions "
            f"where course = {CC101} and timecompleted is not null"
        )
    }
    return PluginRun(
        after_sync,
        after_decisions,
        after_cron,
        moodle.holding(),
        pages,
        simulated_holding(plugin_steps.tmp / "simulated", moodle, plugin=True),
        completed,
    )


def test_the_plugin_installs_through_moodles_upgrade(plugin_site: PluginSite) -> None:
    assert "completed successfully" in plugin_site.install_output
    assert php_problems(plugin_site.install_output) == []


def test_each_waiting_learner_is_requested_from_their_own_manager(run: PluginRun) -> None:
    requests = {(u, m): s for _c, u, m, s in run.after_sync.rest["signoff_requests"]}
    expected = {
        (LEARNERS[n]["userid"], SCENARIO["managers"][LEARNERS[n]["manager"]]["userid"])
        for n in SCENARIO["expected_summary"]["cc101_awaiting_signoff"]
    }
    assert set(requests) == expected
    assert set(requests.values()) == {"requested"}


def test_the_managers_decisions_on_the_page_are_recorded(run: PluginRun) -> None:
    status = {u: s for _c, u, _m, s in run.after_decisions.rest["signoff_requests"]}
    assert status[SIGNED] == "signed"
    assert status[REJECTED] == "rejected"
    others = set(status) - {SIGNED, REJECTED}
    assert {status[u] for u in others} == {"requested"}
    for page in run.pages.values():
        assert php_problems(page) == []


def test_cron_completes_the_signed_learner_only(run: PluginRun) -> None:
    before = {u for u, c in run.after_decisions.rest["course completions"] if c == CC101}
    after = {u for u, c in run.after_cron.rest["course completions"] if c == CC101}
    assert after - before == {SIGNED}


def test_the_next_sync_enrols_the_signed_learner_in_the_refresher(run: PluginRun) -> None:
    def refreshers(holding: Holding) -> dict[int, tuple[list[int], int]]:
        return {
            key[0]: (roles, start)
            for key, roles, start, _status in holding.rest["enrolments and roles"]
            if key[1] == CC201
        }

    new = set(refreshers(run.after_second_sync)) - set(refreshers(run.after_cron))
    assert new == {SIGNED}
    roles, start = refreshers(run.after_second_sync)[SIGNED]
    assert roles == [STUDENT]
    assert start == run.completed[SIGNED] + 30 * DAY
    assert REJECTED not in refreshers(run.after_second_sync)


def test_the_simulated_moodle_ends_where_the_real_one_does(run: PluginRun) -> None:
    # Notifications are rendered by Moodle (get_string, userdate, its HTML filters) on the
    # real site and by the simulator's own renderer: who got how many is compared here, the
    # words are checked against the lang strings by tests/test_site_notifications.py.
    real, simulated = run.after_sync, run.simulated
    assert {u: sum(c.values()) for u, c in real.messages.items()} == {
        u: sum(c.values()) for u, c in simulated.messages.items()
    }
    same_words = Holding(messages=real.messages, rest=simulated.rest)
    assert difference(real, same_words, only_shared=True) == []
