"""One agent per state and per site (issue 15).

With local_buyin 0.3.0, a programme's lease is held in Moodle: a second agent with
ANOTHER state file against the same programme is refused with a clear message
(exit 3, like the local lock) instead of sending everything again. The run lock is
also held in the state database: a row naming the process, cleared on exit, stale
once that process is gone. (Two agents on one state through a path, a symlink or a
hard link: tests/test_state.py.)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from buyin.cli import main
from buyin.config import Settings
from buyin.errors import LockedError
from buyin.moodle.client import MoodleClient
from buyin.moodle.lease import GET_PREFERENCES, PREFERENCE, SET_PREFERENCES
from buyin.simulator import SimulatedMoodle
from buyin.simulator.functions import WRITE_FUNCTIONS
from buyin.simulator.serve import SiteServer
from buyin.state import State
from buyin.state.holder import RunHolder
from buyin.sync import Syncer
from crash_harness import build_site, write_mappings
from support import REPO, Clock

ACQUIRE = "local_buyin_acquire_lease"
#: above Linux's largest pid_max (2**22): no process has it
PAST_PID_MAX = 2**22 + 12345


def agent(site: SimulatedMoodle, tmp_path: Path, name: str, *args: str) -> Result:
    """`buyin` with its own state file (and its own copy of the mappings)."""
    home = tmp_path / name
    mappings = home / "mappings"
    if not mappings.exists():
        mappings.mkdir(parents=True)
        shutil.copy(REPO / "mappings" / "examples" / "cc101.toml", mappings / "cc101.toml")
    return CliRunner().invoke(
        main,
        ["--state", str(home / "state.sqlite"), "--mappings", str(mappings), *args],
        env={"BUYIN_URL": site.url, "BUYIN_TOKEN": site.token, "BUYIN_RETRIES": "1"},
    )


def writes(site: SimulatedMoodle, since: int) -> list[str]:
    return [f for f, _ in site.calls[since:] if f in WRITE_FUNCTIONS]


def test_a_second_agent_with_another_state_is_refused_the_programme(
    plugin_site: SimulatedMoodle, tmp_path: Path
) -> None:
    site = plugin_site
    first = agent(site, tmp_path, "a", "sync")
    assert first.exit_code == 0, first.output
    sent = len(site.state.messages)
    assert sent > 0

    mark = len(site.calls)
    second = agent(site, tmp_path, "b", "sync")
    assert second.exit_code == 3
    assert "cc101: stopped: programme cc101 is run by another agent" in second.output
    assert "held by agent " in second.output
    assert "what to do: Run each programme from one agent (one state file)" in second.output
    assert writes(site, mark) == []
    assert len(site.state.messages) == sent
    # the first agent goes on
    assert agent(site, tmp_path, "a", "sync").exit_code == 0


def test_each_run_renews_the_lease_with_a_new_token_kept_once_granted(
    plugin_site: SimulatedMoodle, run_sync: Any, clock: Clock, state: State
) -> None:
    site = plugin_site
    tokens = []
    for _ in range(3):
        assert run_sync().exit_code == 0
        lease = site.plugin.leases["cc101"]
        assert state.get_meta("lease_token:cc101") == lease.token
        tokens.append(lease.token)
        clock.advance(hours=1)
    assert len(set(tokens)) == 3
    assert len(site.calls_of(ACQUIRE)) == 3  # one call per programme per run


def sync_with_state(settings: Settings, state_path: Path, clock: Clock) -> int:
    """One in-process sync on the test's clock, with its own state file: its exit code."""
    mine = replace(settings, state_path=state_path)
    state = State(state_path)
    try:
        client = MoodleClient.from_settings(mine, sleep=lambda _s: None)
        return Syncer(mine, client, state, clock=clock).run().exit_code
    finally:
        state.close()


def test_a_lease_whose_holder_stopped_lapses_and_is_taken_over(
    plugin_site: SimulatedMoodle, settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    assert sync_with_state(settings, a, clock) == 0
    clock.advance(days=1)
    assert sync_with_state(settings, b, clock) == 3  # a's lease still runs
    clock.advance(days=1, hours=1)  # a stopped: its lease lapsed
    assert sync_with_state(settings, b, clock) == 0
    clock.advance(hours=1)
    assert sync_with_state(settings, a, clock) == 3  # now a is refused


def test_release_lease_lets_another_agent_run_the_programme_at_once(
    plugin_site: SimulatedMoodle, tmp_path: Path
) -> None:
    site = plugin_site
    assert agent(site, tmp_path, "a", "sync").exit_code == 0
    released = agent(site, tmp_path, "a", "release-lease")
    assert released.exit_code == 0, released.output
    assert released.output.splitlines() == ["cc101: released"]
    assert agent(site, tmp_path, "b", "sync").exit_code == 0
    assert agent(site, tmp_path, "a", "sync").exit_code == 3


def test_without_the_lease_functions_nothing_changes(site: SimulatedMoodle, tmp_path: Path) -> None:
    assert agent(site, tmp_path, "a", "sync").exit_code == 0
    assert site.calls_of(ACQUIRE) == []
    assert "keeps no leases" in agent(site, tmp_path, "a", "release-lease").output


def test_two_agents_over_http_with_different_states_only_one_runs_the_programme(
    tmp_path: Path,
) -> None:
    """Both started at once against one site served on loopback: one sends, the other
    is refused; every message is sent once."""
    site = build_site("plugin", int(time.time()))
    mappings = write_mappings(tmp_path)
    with SiteServer(site, lifetime=120) as server:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO / "agent"),
            "BUYIN_URL": server.url,
            "BUYIN_TOKEN": site.token,
        }
        agents = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "buyin",
                    "--state",
                    str(tmp_path / f"{name}.sqlite"),
                    "--mappings",
                    str(mappings),
                    "sync",
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in ("a", "b")
        ]
        outputs = [p.communicate(timeout=120) for p in agents]
    codes = sorted(p.returncode for p in agents)
    assert codes == [0, 3], outputs
    # problems go to stderr (cron mails only those)
    refused = next(err for p, (_out, err) in zip(agents, outputs, strict=True) if p.returncode)
    assert "programme cc101 is run by another agent" in refused
    texts = [(m.useridto, m.text) for m in site.state.messages]
    assert len(texts) == len(set(texts)), "a message was sent twice"


# -- the run lock in the database ------------------------------------------------------


def test_the_run_holder_is_taken_named_and_cleared(tmp_path: Path) -> None:
    state = State(tmp_path / "state.sqlite")
    try:
        mine = RunHolder(state, 1000)
        mine.take()
        assert mine.holder() is None  # our own row is not another holder
        row = state.row("SELECT pid FROM run_holder")
        assert row is not None and row["pid"] == os.getpid()
        mine.clear()
        assert state.row("SELECT pid FROM run_holder") is None
    finally:
        state.close()


def test_a_live_holder_refuses_and_a_dead_one_is_taken_over(tmp_path: Path) -> None:
    state = State(tmp_path / "state.sqlite")
    try:
        other = RunHolder(state, 1000)
        # a live process of this host holds it
        other.pid = os.getppid()
        other.take()
        with pytest.raises(LockedError, match=f"pid {os.getppid()} on "):
            RunHolder(state, 1001).take()
        # its process is gone (a pid past any pid_max: never reused): stale, taken over
        with state.transaction() as db:
            db.execute("UPDATE run_holder SET pid = ?", (PAST_PID_MAX,))
        mine = RunHolder(state, 1002)
        mine.take()
        row = state.row("SELECT pid FROM run_holder")
        assert row is not None and row["pid"] == os.getpid()
    finally:
        state.close()


def test_a_killed_sync_leaves_a_stale_row_that_the_next_sync_takes_over(
    site: SimulatedMoodle, tmp_path: Path
) -> None:
    home = tmp_path / "a"
    assert agent(site, tmp_path, "a", "sync").exit_code == 0
    state = State(home / "state.sqlite")
    try:
        with state.transaction() as db:  # as a run killed mid-way leaves it
            db.execute(
                "INSERT INTO run_holder (id, pid, host, since) VALUES (1, ?, ?, 0)",
                (PAST_PID_MAX, socket.gethostname()),
            )
    finally:
        state.close()
    assert agent(site, tmp_path, "a", "sync").exit_code == 0


# -- fencing: a copied state, an old backup ----------------------------------------------

#: the core path's lease store: the agent's own preference (both functions in the service)
PREFERENCE_FUNCTIONS = {GET_PREFERENCES, SET_PREFERENCES}


def on_path(site: SimulatedMoodle, path: str) -> SimulatedMoodle:
    if path == "plugin":
        site.install_plugin()
    else:
        site.service_functions.update(PREFERENCE_FUNCTIONS)
    return site


def sent_once(site: SimulatedMoodle) -> None:
    texts = [(m.useridto, m.text) for m in site.state.messages]
    assert len(texts) == len(set(texts)), "a message was sent twice"


@pytest.mark.parametrize("path", ["plugin", "core"])
def test_a_copied_state_folder_is_refused_then_after_the_lease_moves_the_original(
    site: SimulatedMoodle, tmp_path: Path, clock: Clock, path: str
) -> None:
    site = on_path(site, path)
    assert agent(site, tmp_path, "a", "sync").exit_code == 0
    sent = len(site.state.messages)
    assert sent > 0
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # cp -a a b
    clock.advance(hours=1)
    assert agent(site, tmp_path, "a", "sync").exit_code == 0

    mark = len(site.calls)
    copy = agent(site, tmp_path, "b", "sync")
    assert copy.exit_code == 3, copy.output
    assert "this state file is not the one that last ran it" in copy.output
    assert "a copied state folder, or this is an old backup restored" in copy.output
    assert "`buyin release-lease --force`" in copy.output
    assert "Traceback" not in copy.output
    assert writes(site, mark) == []
    assert len(site.state.messages) == sent

    # the copy is the one to keep: the lease moves to it, and the original is refused
    moved = agent(site, tmp_path, "b", "release-lease", "--force")
    assert moved.exit_code == 0, moved.output
    assert moved.output.splitlines() == ["cc101: released"]
    assert agent(site, tmp_path, "b", "sync").exit_code == 0
    original = agent(site, tmp_path, "a", "sync")
    assert original.exit_code == 3
    assert "this state file is not the one that last ran it" in original.output
    assert agent(site, tmp_path, "b", "sync").exit_code == 0
    sent_once(site)


@pytest.mark.parametrize("path", ["plugin", "core"])
def test_a_state_copied_after_moodle_granted_a_lease_whose_answer_was_lost(
    site: SimulatedMoodle, tmp_path: Path, clock: Clock, path: str
) -> None:
    """The issue's case: the first agent's run dies after Moodle granted its lease
    (here: every answer lost), its folder is copied, the original syncs, then the copy."""
    site = on_path(site, path)
    function = ACQUIRE if path == "plugin" else SET_PREFERENCES
    site.faults.queue(function, "connection", 5, when="after")
    assert agent(site, tmp_path, "a", "sync").exit_code == 75
    assert site.state.messages == []
    site.faults.clear()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    assert agent(site, tmp_path, "a", "sync").exit_code == 0
    sent = len(site.state.messages)
    copy = agent(site, tmp_path, "b", "sync")
    assert copy.exit_code == 3, copy.output
    assert "this state file is not the one that last ran it" in copy.output
    assert len(site.state.messages) == sent
    sent_once(site)


def test_on_core_moodle_a_second_agent_is_refused_through_the_preference(
    site: SimulatedMoodle, tmp_path: Path
) -> None:
    site = on_path(site, "core")
    assert agent(site, tmp_path, "a", "sync").exit_code == 0
    second = agent(site, tmp_path, "b", "sync")
    assert second.exit_code == 3
    assert "is run by another agent: its lease in Moodle (the agent's preferences)" in (
        second.output
    )
    sent_once(site)


def test_on_core_moodle_a_preference_moodle_does_not_define_is_dropped_silently(
    site: SimulatedMoodle,
) -> None:
    """As the real site answers (Moodle 5.1): null, and nothing kept."""
    site.service_functions.update(PREFERENCE_FUNCTIONS)
    client = MoodleClient(site.url, site.token, sleep=lambda _s: None)
    assert (
        client.call(SET_PREFERENCES, preferences=[{"type": "buyin_lease_cc101", "value": "x"}])
        is None
    )
    answer = client.call(GET_PREFERENCES, name="buyin_lease_cc101")
    assert answer["preferences"] == [{"name": "buyin_lease_cc101", "value": None}]
    client.call(SET_PREFERENCES, preferences=[{"type": PREFERENCE, "value": '{"a": 1}'}])
    answer = client.call(GET_PREFERENCES, name=PREFERENCE)
    assert answer["preferences"] == [{"name": PREFERENCE, "value": '{"a": 1}'}]


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("plugin", "programme leases: kept in Moodle (local_buyin)"),
        ("core", "programme leases: kept in Moodle (the agent's preferences)"),
        ("none", "programme leases: not kept: nothing in Moodle stops a second agent"),
    ],
)
def test_doctor_says_where_the_leases_are_kept(
    site: SimulatedMoodle, tmp_path: Path, path: str, line: str
) -> None:
    if path != "none":
        on_path(site, path)
    result = agent(site, tmp_path, "a", "doctor")
    assert f"[ok  ] {line}" in result.output, result.output
