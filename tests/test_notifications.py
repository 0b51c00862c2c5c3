"""Messages as local_buyin notifications (issue #22): the agent sends intents, the plugin
renders them with its lang strings, each idempotency key once.

Against the simulated site; tests/test_site_notifications.py does the same against a
real Moodle with the plugin.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from buyin.actions.apply import NOTIFY_FUNCTION, send_notifications
from buyin.messages import render
from buyin.messages.intent import NATIVE_COMMON, kind_of, lang_strings, page_of, string_id
from buyin.messages.render import COMPOSERS
from buyin.messages.templates import EN
from buyin.model.actions import Action, Kind, MessageParams, params_from_json
from buyin.simulator import SimulatedMoodle
from buyin.simulator.notifications import KINDS, Renderer, strings
from support import REPO

LANG_FILE = REPO / "plugin_contract/moodle/local_buyin/lang/en/local_buyin.php"
MESSAGES_PHP = REPO / "plugin_contract/moodle/local_buyin/db/messages.php"
_PHP_STRING = re.compile(r"^\$string\['((?:[^'\\]|\\.)*)'\] = '((?:[^'\\]|\\.)*)';$", re.M)


def php_strings(path: Path) -> dict[str, str]:
    """The strings of a Moodle lang file (single-quoted, one per line)."""

    def unquote(text: str) -> str:
        return re.sub(r"\\(.)", r"\1", text)

    return {
        unquote(k): unquote(v) for k, v in _PHP_STRING.findall(path.read_text(encoding="utf-8"))
    }


def test_every_template_fragment_has_a_lang_string_with_the_same_placeholders() -> None:
    plugin = php_strings(LANG_FILE)
    compared = 0
    for template, fragments in EN.items():
        for name, fragment in fragments.items():
            if template == "common" and name in NATIVE_COMMON:
                continue
            sid = string_id(template, name)
            assert sid in plugin, f"{sid} is missing: run python tools/gen_lang.py"
            agent = set(re.findall(r"(?<!\{)\{(\w+)\}", fragment))
            moodle = set(re.findall(r"\{\$a->(\w+)\}", plugin[sid]))
            assert agent == moodle, f"{sid}: the agent fills {agent}, the string takes {moodle}"
            compared += 1
    assert compared >= sum(len(f) for f in EN.values()) - len(NATIVE_COMMON)


def test_every_kind_the_agent_names_is_a_message_provider_with_its_name() -> None:
    providers = set(re.findall(r"^    '(\w+)' => \[$", MESSAGES_PHP.read_text(), re.M))
    assert providers == set(KINDS)
    plugin = php_strings(LANG_FILE)
    for kind in KINDS:
        assert f"messageprovider:{kind}" in plugin
        assert f"subject:{kind}" in plugin
    assert {kind_of(t) for t in COMPOSERS} <= providers
    assert {page_of(t) for t in COMPOSERS} == {"myresults", "myteam", "signoff"}


def _message(template: str, data: dict[str, Any]) -> MessageParams:
    return render(MessageParams(touserid=9, template=template, data=data))


def test_the_plugins_words_are_the_agents_words() -> None:
    """Rendered with the generated strings, an intent reads as the agent's English text."""
    course = {"name": "Customer <Conversations>", "url": "https://moodle.test/course/view.php?id=2"}
    samples = [
        _message("signoff.signed", {"firstname": "Ada", "course": course, "who": "Bo & Co"}),
        _message(
            "poll.invite",
            {
                "firstname": "Mo",
                "count": 1,
                "course": course,
                "poll": {"name": "What should it solve?", "url": "https://moodle.test/p"},
            },
        ),
        _message(
            "insights.complete",
            {
                "firstname": "Ada",
                "course": course,
                "pre": {"Closing": 0.5},
                "post": {"Closing": 0.9, "Listening": 0.8},
                "minutes": 75,
                "activities": 1,
                "share": 0.6,
                "sender": "Sam Owner",
            },
        ),
    ]
    renderer = Renderer(strings({}))
    for params in samples:
        assert params.intent["body"], params.template
        assert renderer.parts(params.intent["body"]) == params.text, params.template


def test_a_merged_message_loses_its_later_greetings_in_moodle_too() -> None:
    course = {"name": "CC", "url": "https://moodle.test/c"}
    parts = [
        {"template": "signoff.signed", "data": {"firstname": "Ada", "course": course, "who": "Bo"}},
        {
            "template": "followup.job_aid",
            "data": {
                "firstname": "Ada",
                "course": course,
                "aid": {"url": "https://moodle.test/aid", "title": "Job aid"},
            },
        },
    ]
    params = _message("inbox", {"parts": parts})
    assert Renderer(strings({})).parts(params.intent["body"]) == params.text
    assert params.text.count("Ada") == 1


def test_a_date_reaches_moodle_as_a_timestamp() -> None:
    params = _message(
        "followup.manager_note",
        {
            "firstname": "Mo",
            "learner": "Ada",
            "username": "learner01",
            "course": {"name": "CC", "url": "https://moodle.test/c"},
            "refresher_opens": 1796083200,
            "now": 1795000000,
        },
    )
    dates = re.findall(r'\{"date": (\d+)\}', json.dumps(params.intent))
    assert dates == ["1796083200"]
    assert params.intent["kind"] == "recognition" and params.intent["page"] == "myteam"


def test_a_programmes_own_words_go_as_they_are() -> None:
    own = {"kickoff.learner": {"body": "<p>Welcome {firstname}!</p>"}}
    params = render(
        MessageParams(
            touserid=9,
            template="kickoff.learner",
            data={"firstname": "Ada", "course": {"name": "CC", "url": "https://m.test/c"}},
        ),
        own,
    )
    node = params.intent["body"][0]
    assert "s" not in node and node["f"] == "<p>Welcome {firstname}!</p>"
    assert Renderer(strings({})).parts(params.intent["body"]) == "<p>Welcome Ada!</p>"


def test_gen_lang_check_passes() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(REPO / "tools/gen_lang.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(lang_strings()) > 100


@pytest.fixture
def notify_site(site: SimulatedMoodle) -> SimulatedMoodle:
    site.install_plugin(notifications=True)
    return site


def test_a_sync_sends_notifications_not_instant_messages(
    notify_site: SimulatedMoodle, run_sync: Any, state: Any
) -> None:
    assert run_sync().exit_code == 0
    calls = Counter(fn for fn, _ in notify_site.calls)
    assert calls[NOTIFY_FUNCTION] >= 1
    assert calls["core_message_send_instant_messages"] == 0
    sent = notify_site.plugin.notifications
    assert sent and len({n.key for n in sent}) == len(sent)
    # what each person reads is what the agent composed (dates aside: Moodle writes them)
    texts = {
        e.payload["text"]
        for e in state.entries()
        if e.kind == Kind.MESSAGE and e.payload.get("text")
    }
    # Moodle's day (strftimedaydate) has a comma after the weekday, the agent's none
    assert all(re.sub(r"(day), (\d)", r"\1 \2", n.html) in texts for n in sent)
    assert all(n.contexturl.endswith(".php") and n.contexturlname for n in sent)
    assert {n.kind for n in sent} <= set(KINDS)


def test_the_same_batch_sent_twice_delivers_once(
    notify_site: SimulatedMoodle, run_sync: Any, state: Any
) -> None:
    assert run_sync().exit_code == 0
    delivered = len(notify_site.state.messages)
    actions = [
        Action(
            key=e.key,
            kind=Kind.MESSAGE,
            program=e.program,
            userid=e.userid,
            target=e.target,
            params=params_from_json(Kind.MESSAGE, e.payload),
        )
        for e in state.entries()
        if e.kind == Kind.MESSAGE
    ]
    assert actions
    from buyin.actions.apply import ApplyContext
    from buyin.moodle.client import MoodleClient

    client = MoodleClient(notify_site.url, notify_site.token, sleep=lambda _s: None)
    client.known_functions = set(notify_site.service_functions)
    outcomes = send_notifications(ApplyContext(client=client, agent_userid=2), actions)
    assert all(o.error is None and not o.attempted for o in outcomes)
    assert len(notify_site.state.messages) == delivered


def test_a_customised_string_changes_the_words(notify_site: SimulatedMoodle, run_sync: Any) -> None:
    notify_site.plugin.custom_strings["msg:common:percent"] = "{$a->value} pour cent"
    assert run_sync().exit_code == 0
    texts = [n.html for n in notify_site.plugin.notifications]
    assert any("pour cent" in t for t in texts)
    assert not any(re.search(r"\d%", t) for t in texts)


def test_doctor_says_what_the_plugins_notifications_would_add(
    site: SimulatedMoodle, settings: Any, mapping_dir: Path
) -> None:
    from click.testing import CliRunner

    from buyin.cli import main

    env = {"BUYIN_URL": settings.url, "BUYIN_TOKEN": settings.token.reveal()}
    args = ["--state", str(settings.state_path), "--mappings", str(mapping_dir), "doctor"]
    without = CliRunner().invoke(main, args, env=env)
    assert "messages: sent as personal messages from the agent's account, in English" in (
        without.output
    )
    assert "local_buyin 0.4.0 would send them as Moodle notifications" in without.output
    site.install_plugin(notifications=True)
    with_plugin = CliRunner().invoke(main, args, env=env)
    assert with_plugin.exit_code == 0, with_plugin.output
    assert "messages: sent as local_buyin notifications, in each recipient's language" in (
        with_plugin.output
    )
