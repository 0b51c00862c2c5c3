"""Messages: one renderer over one template table, and a text composed once.

The text of a message is frozen in the ledger when it is planned, before anything
of that run is applied; a run that dies part-way, or a send whose outcome is in
doubt, ends with the very text composed first, delivered once (issue #15).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import builders
from buyin.messages import render
from buyin.messages.render import COMPOSERS
from buyin.messages.templates import EN
from buyin.model.actions import Action, Kind, MessageParams
from buyin.model.ledger import Status
from buyin.plan import make_plan
from buyin.push import Pusher
from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.state import State
from support import Clock, precheck_messages
from test_sync import moodle_state, sync_once

COURSE = {"name": "Customer <Conversations>", "url": "https://moodle.example.test/course?id=2&x=1"}


def test_every_template_has_its_words_and_one_composer() -> None:
    assert set(COMPOSERS) == set(EN) - {"common"}
    assert all("summary" in EN[t] for t in COMPOSERS)


def test_values_are_escaped_and_only_built_html_goes_in_as_is() -> None:
    intent = MessageParams(
        touserid=5,
        template="signoff.signed",
        data={"firstname": "<b>Ann</b>", "who": "O'Neil & Sons", "course": COURSE},
    )
    rendered = render(intent)
    assert rendered.text == (
        "<p>Hi &lt;b&gt;Ann&lt;/b&gt;, O&#x27;Neil &amp; Sons has signed off your completion "
        'of <a href="https://moodle.example.test/course?id=2&amp;x=1">Customer '
        "&lt;Conversations&gt;</a>. Congratulations!</p>"
    )
    assert rendered.summary == "signed off"
    assert (rendered.template, rendered.data) == (intent.template, intent.data)


def test_a_programme_override_replaces_its_fragment_and_keeps_unknown_placeholders() -> None:
    intent = MessageParams(
        touserid=5,
        template="kickoff.learner",
        data={"firstname": "Ann & co", "manager": None, "course": COURSE, "sponsor_message": ""},
    )
    own = {"kickoff.learner": {"body": "<p>{firstname}, {manager}: {courselink} {later}</p>"}}
    assert render(intent, own).text == (
        '<p>Ann &amp; co, Your manager: <a href="https://moodle.example.test/course?id=2&amp;'
        'x=1">Customer &lt;Conversations&gt;</a> {later}</p>'
    )


@pytest.mark.parametrize(
    ("recipient", "now", "expected"),
    [
        pytest.param(
            None, 0, " Their refresher opens on Tuesday 15 December 2026.", id="no zone known: UTC"
        ),
        pytest.param(
            {"lang": "en", "timezone": "99"},
            0,
            " Their refresher opens on Tuesday 15 December 2026.",
            id="99, the site's default: UTC",
        ),
        pytest.param(
            {"lang": "en", "timezone": "Pacific/Auckland"},
            0,
            " Their refresher opens on Wednesday 16 December 2026.",
            id="the recipient's zone: their day",
        ),
        pytest.param(
            {"lang": "xx", "timezone": "Nowhere/Atlantis"},
            0,
            " Their refresher opens on Tuesday 15 December 2026.",
            id="an unknown language and zone: English and UTC",
        ),
        pytest.param(
            None,
            1797400000,
            " Their refresher opened on Tuesday 15 December 2026.",
            id="a date already past when sent: told as past",
        ),
        pytest.param(
            None,
            1797278400,
            " Their refresher opens on Tuesday 15 December 2026.",
            id="the day before: still to come",
        ),
    ],
)
def test_dates_are_the_readers_and_never_a_past_date_as_to_come(
    recipient: dict[str, str] | None, now: int, expected: str
) -> None:
    opens = 1797364800  # Tuesday 15 December 2026 20:00 UTC (Wednesday 09:00 in Auckland)
    data = {
        "firstname": "Omar",
        "learner": "Grace Hughes",
        "username": "learner07",
        "course": COURSE,
        "refresher_opens": opens,
        "now": now,
    }
    if recipient is not None:
        data["recipient"] = recipient
    text = render(MessageParams(touserid=6, template="followup.manager_note", data=data)).text
    assert expected in text


def test_an_unknown_template_is_named() -> None:
    with pytest.raises(KeyError, match="no message template 'nope'"):
        render(MessageParams(touserid=5, template="nope"))


def _die(*args: object) -> None:
    raise KeyboardInterrupt


def test_a_run_killed_after_the_overrides_sends_the_text_composed_before_them(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calm = SimulatedMoodle(generate_scenario(), clock=clock)
    assert sync_once(calm, tmp_path / "calm", clock).exit_code == 0
    site = SimulatedMoodle(generate_scenario(), clock=clock)
    with monkeypatch.context() as patch:
        # the overrides go first, one call each; the process dies as the next kind begins
        patch.setattr(Pusher, "_batched", _die)
        with pytest.raises(KeyboardInterrupt):
            sync_once(site, tmp_path / "killed", clock)
    assert site.activity_state(19, 1) != 0, "the overrides were applied before the kill"
    assert precheck_messages(site, 19) == []

    assert sync_once(site, tmp_path / "killed", clock).exit_code == 0

    (text,) = [m.text for m in precheck_messages(site, 19)]
    assert "marked their activities complete for you" in text
    assert "already complete" not in text
    assert moodle_state(site) == moodle_state(calm)


def test_a_lost_send_whose_read_back_fails_is_never_sent_twice(
    tmp_path: Path, clock: Clock
) -> None:
    calm = SimulatedMoodle(generate_scenario(), clock=clock)
    for _ in range(2):
        assert sync_once(calm, tmp_path / "calm", clock).exit_code == 0
    site = SimulatedMoodle(generate_scenario(), clock=clock)
    # Moodle stores the first batch but the answer is lost; every read-back then fails
    site.faults.queue("core_message_send_instant_messages", "timeout", when="after")
    site.faults.queue("core_message_get_messages", "timeout", count=200)

    first = sync_once(site, tmp_path / "doubt", clock, retries=3)
    state = State(tmp_path / "doubt" / "state.sqlite")
    in_doubt = [e for e in state.entries("failed") if e.kind == Kind.MESSAGE]
    state.close()
    assert first.exit_code != 0 and in_doubt, "the batch's outcome was left in doubt"
    assert any(fn == "core_message_get_messages" for fn, _, _ in site.faults.history)

    site.faults.clear()
    assert sync_once(site, tmp_path / "doubt", clock).exit_code == 0

    for uid in range(9, 25):
        assert len(precheck_messages(site, uid)) <= 1, uid
    assert moodle_state(site) == moodle_state(calm)


# -- the planner composes once ------------------------------------------------------------

INTENT = MessageParams(
    touserid=20,
    template="signoff.signed",
    data={"firstname": "Ann", "who": "Dana Whitfield", "course": COURSE},
)
KEY = "message:signoff-done:u20:c2"
STORED = {"touserid": 20, "template": "signoff.signed", "summary": "signed off", "text": "<p>x</p>"}


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, "rendered"),
        (Status.PLANNED, "stored"),  # a killed run
        (Status.FAILED, "stored"),  # a send in doubt
    ],
)
def test_the_planner_renders_a_message_once_and_then_keeps_its_stored_text(
    stored: Status | None, expected: str
) -> None:
    action = Action(KEY, Kind.MESSAGE, "cc101", 20, "learner20", INTENT, {"rule": "now"})
    rows = [] if stored is None else [builders.entry(KEY, status=stored, payload=STORED)]
    plan = make_plan("cc101", [action], builders.ledger(*rows), builders.snapshot())
    (planned,) = plan.actions
    assert isinstance(planned.params, MessageParams)
    if expected == "stored":
        assert (planned.params.text, planned.reason) == ("<p>x</p>", {})
    else:
        assert planned.params.text == render(INTENT).text
        assert "Dana Whitfield has signed off" in planned.params.text
