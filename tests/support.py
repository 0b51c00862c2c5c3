"""Helpers shared by the tests (import as `from support import ...`)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import responses
from click.testing import CliRunner, Result

from buyin.cli import main
from buyin.config import Secret, Settings
from buyin.moodle.client import MoodleClient
from buyin.simulator import SimulatedMoodle
from buyin.state import State
from buyin.sync import Syncer, SyncReport

FIXTURES = Path(__file__).parent / "fixtures" / "moodle"
REPO = Path(__file__).resolve().parents[1]
#: the shared scenario's generated_at: the simulated site's "now" by default
SCENARIO_NOW = 1795392514
DAY = 86400


def load_scenario() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "scenario.json").read_text())
    return data


@dataclass
class Clock:
    now: int = SCENARIO_NOW + 3600

    def __call__(self) -> int:
        return self.now

    def advance(self, *, days: float = 0, hours: float = 0) -> int:
        self.now += int(days * DAY + hours * 3600)
        return self.now


def set_mapping(mapping_dir: Path, old: str, new: str) -> None:
    """Edit the example mapping in place (tests vary one setting at a time)."""
    path = mapping_dir / "cc101.toml"
    text = path.read_text()
    assert old in text, f"{old!r} not in the mapping"
    path.write_text(text.replace(old, new))


def precheck_messages(site: Any, userid: int) -> list[Any]:
    """The pre-check result messages a user received (not kickoffs, digests, job aids)."""
    return [
        m
        for m in site.messages_to(userid)
        if "thank you for taking the" in m.text.lower() or " you took the " in m.text
    ]


def news_since(mapping_dir: Path, day: str = "2026-01-01") -> None:
    """Set the example mapping's start line (``mapped_since``) back to ``day``, so the
    scenario's months of history are news to the first sync (as after a backfill)."""
    set_mapping(
        mapping_dir, 'learner_role = "student"', f'learner_role = "student"\nmapped_since = "{day}"'
    )


# -- whole syncs against a simulated site --------------------------------------------

USERS = range(9, 33)
WRITES = {
    "core_completion_override_activity_completion_status",
    "core_message_send_instant_messages",
    "enrol_manual_enrol_users",
}


def moodle_state(site: SimulatedMoodle) -> dict[str, Any]:
    """What learners see: activity states, messages received, enrolments."""
    return {
        "activities": {(u, cm): site.activity_state(u, cm) for u in USERS for cm in range(1, 10)},
        "messages": {u: sorted(m.text for m in site.messages_to(u)) for u in USERS},
        "enrolments": {
            (u, c): (sorted(e.roleids), e.timestart) if (e := site.enrolment(u, c)) else None
            for u in USERS
            for c in (2, 3, 4)
        },
    }


def sync_once(site: SimulatedMoodle, workdir: Path, clock: Clock, **kw: Any) -> SyncReport:
    """One sync of the example mapping against ``site``, its state in ``workdir``, the
    client never sleeping; ``since``: the start line set in the mapping it creates, ``retries``
    the client's attempts per call, the rest as :meth:`Syncer.run` takes it."""
    mappings = workdir / "mappings"
    since = kw.pop("since", None)
    if not mappings.exists():
        mappings.mkdir(parents=True)
        shutil.copy(REPO / "mappings" / "examples" / "cc101.toml", mappings / "cc101.toml")
        if since:
            news_since(mappings, since)
    settings = Settings(
        url=site.url,
        token=Secret(site.token),
        state_path=workdir / "state.sqlite",
        mapping_dir=mappings,
        retries=kw.pop("retries", 6),
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        site.register(rsps)
        state = State(settings.state_path)
        try:
            client = MoodleClient.from_settings(settings, sleep=lambda _s: None)
            return Syncer(settings, client, state, clock=clock).run(**kw)
        finally:
            state.close()


def invoke(settings: Settings, *args: str, token: str | None = None, retries: int = 3) -> Result:
    """Run `buyin ARGS` in-process against ``settings``' site, state and mappings."""
    env = {
        "BUYIN_URL": settings.url,
        "BUYIN_TOKEN": token if token is not None else settings.token.reveal(),
        "BUYIN_RETRIES": str(retries),
    }
    return CliRunner().invoke(
        main,
        ["--state", str(settings.state_path), "--mappings", str(settings.mapping_dir), *args],
        env=env,
        catch_exceptions=False,
    )
