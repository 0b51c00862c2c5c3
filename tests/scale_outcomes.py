"""What a cohort's runs leave in the ledger, as lines to compare across versions.

The benchmark's four runs (first sync, repeat, steady, a reconciliation two days later)
on a generated site of ``size`` learners, core or local_buyin path; every ledger entry
as one line: key, status, attempts, applied time and a digest of its payload and reason
(test-outs are overrides, sign-offs are sign-off requests and reminders: all in it).
``tests/fixtures/scale_ledger.json`` holds the lines the code wrote before the run's
per-learner look-ups were indexed (issue #24); ``test_scale.py`` compares with it.

    python tests/scale_outcomes.py > tests/fixtures/scale_ledger.json
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import requests

from buyin.config import Secret, Settings
from buyin.moodle.client import MoodleClient
from buyin.resources import data_path
from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.state import State
from buyin.sync import Syncer

NOW = 1795392514 + 3600
RUNS = (NOW, NOW + 60, NOW + 120, NOW + 2 * 86400)
#: the sizes and paths compared (small: the test runs them all)
CASES = ((240, "core"), (240, "plugin"))


def _kept(payload: dict[str, object]) -> dict[str, object]:
    """The payload as the golden lines knew it: a message's ``intent`` (issue #22, the same
    message as local_buyin renders it, from the same template and data) came later."""
    return {k: v for k, v in payload.items() if k != "intent"}


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ledger_lines(size: int, path: str) -> list[str]:
    """The ledger after the four runs, one sorted line per entry."""
    work = Path(tempfile.mkdtemp(prefix="buyin-scale-"))
    try:
        (work / "mappings").mkdir()
        mapping = data_path("mappings/examples/cc101.toml").read_text()
        (work / "mappings" / "cc101.toml").write_text(mapping)
        now = [RUNS[0]]
        site = SimulatedMoodle(
            generate_scenario(learners=size, now=NOW - 3600), clock=lambda: now[0]
        )
        if path == "plugin":
            site.install_plugin()
        settings = Settings(
            url=site.url,
            token=Secret(site.token),
            state_path=work / "state.sqlite",
            mapping_dir=work / "mappings",
            concurrency=1,
        )
        for at in RUNS:
            now[0] = at
            session = requests.Session()
            session.mount(site.url, site.adapter())
            client = MoodleClient.from_settings(settings, session=session, sleep=lambda _s: None)
            state = State(settings.state_path)
            try:
                Syncer(settings, client, state, clock=lambda: now[0]).run()
            finally:
                state.close()
        state = State(settings.state_path)
        try:
            entries = state.ledger().values()
        finally:
            state.close()
        return sorted(
            f"{e.key} {e.status} {e.attempts} {e.applied_at} {_digest([_kept(e.payload), e.reason])}"
            for e in entries
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    out = {f"{size}-{path}": ledger_lines(size, path) for size, path in CASES}
    json.dump(out, sys.stdout, indent=0)
    sys.stdout.write("\n")
