"""The manager poll (SPEC §4.6, issue #14): the simulated Feedback, the mapping's
``[poll]``, the agent's invitations and reminders, doctor, and what the reports show.

Expected figures come from tests/fixtures/moodle/scenario.json (``poll``: mgr1 and mgr2
answered, mgr3 and mgr4 did not) and are computed here by hand.
"""

from __future__ import annotations

from typing import Any

from buyin.simulator import SimulatedMoodle
from support import Clock, load_scenario

POLL = load_scenario()["poll"]
MGR = {name: int(uid) for name, uid in POLL["non_respondents"].items()} | {
    name: int(r["userid"]) for name, r in POLL["respondents"].items()
}


def poll_messages(site: SimulatedMoodle, userid: int, words: str) -> list[Any]:
    return [m for m in site.messages_to(userid) if words in m.text]


def invitations(site: SimulatedMoodle, userid: int) -> list[Any]:
    return poll_messages(site, userid, "Tell us in two minutes")


def reminders(site: SimulatedMoodle, userid: int) -> list[Any]:
    return poll_messages(site, userid, "a reminder: what should")


def test_non_respondents_are_invited_once_and_reminded_once(
    site: SimulatedMoodle, run_sync: Any, clock: Clock
) -> None:
    run_sync()
    sent = len(site.state.messages)
    clock.advance(hours=1)
    run_sync()  # a second sync sends nothing new
    assert len(site.state.messages) == sent
    for name in ("mgr3", "mgr4"):
        [invite] = invitations(site, MGR[name])
        assert f"/mod/feedback/view.php?id={POLL['cmid']}" in invite.text
        assert reminders(site, MGR[name]) == []
    for name in ("mgr1", "mgr2"):
        assert invitations(site, MGR[name]) == []
    clock.advance(days=2)
    run_sync()
    assert all(reminders(site, MGR[n]) == [] for n in ("mgr3", "mgr4"))
    clock.advance(days=1, hours=1)
    run_sync()
    for name in ("mgr3", "mgr4"):
        assert len(invitations(site, MGR[name])) == 1
        assert len(reminders(site, MGR[name])) == 1
    clock.advance(days=7)
    run_sync()
    for name in ("mgr3", "mgr4"):
        assert len(invitations(site, MGR[name])) == len(reminders(site, MGR[name])) == 1
