"""SIGTERM and SIGINT: the call in flight finishes, no other starts, the run is
recorded as interrupted, one line, exit 143 / 130. The agent runs as a subprocess
against the simulated site served over HTTP on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from buyin.cli import main
from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.simulator.serve import SiteServer
from support import REPO, Clock

AGENT = [sys.executable, "-m", "buyin"]  # the program as `buyin` runs it (buyin.entry)


def agent_env(server: SiteServer, site: SimulatedMoodle) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO / "agent"),
        "BUYIN_URL": server.url,
        "BUYIN_TOKEN": site.token,
        "BUYIN_RETRIES": "2",
        "BUYIN_CONCURRENCY": "1",  # one call in flight at a time: exact counts
    }


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_the_sync_after_the_call_in_flight_and_is_recorded(
    tmp_path: Path, signum: int, code: int
) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    shutil.copy(REPO / "mappings" / "examples" / "cc101.toml", mappings / "cc101.toml")
    state = tmp_path / "state.sqlite"
    site = SimulatedMoodle(generate_scenario(), clock=Clock())
    agent: list[subprocess.Popen[str]] = []
    calls: list[str] = []

    def after_call(function: str) -> None:
        calls.append(function)
        if len(calls) == 20:  # mid-run, while this call is in flight
            agent[0].send_signal(signum)

    with SiteServer(site, lifetime=60, after_call=after_call) as server:
        args = ["--state", str(state), "--mappings", str(mappings), "sync"]
        agent.append(
            subprocess.Popen(
                [*AGENT, *args],
                env=agent_env(server, site),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        _out, err = agent[0].communicate(timeout=60)
    assert agent[0].returncode == code
    assert len(calls) == 20  # the call in flight finished; none started after it
    name = signal.Signals(signum).name
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert lines == [
        f"error: interrupted by {name}: stopped after the call in flight; "
        "the next sync resumes where this one stopped"
    ]
    assert "Traceback" not in err
    status = CliRunner().invoke(main, ["--state", str(state), "status"])
    assert f"→ interrupted ({name})" in status.output
