"""Measure (not a test): the simulated 600-learner course of issue #16.

    python tools/refusal_site.py [--learners 600] [--managers 20] [--runs 4] [--latency-ms 2]

CC101 with 600 learners and 20 managers, mgr1 the fallback approver not enrolled
in the course, the agent's role not allowed to assign the sign-off role, and the
same-learner override collision on. Prints planned/applied/failed/exit/calls/
seconds per sync run, each run a minute after the last.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import requests

from buyin.config import Secret, Settings
from buyin.moodle.client import MoodleClient
from buyin.resources import data_path
from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.state import State
from buyin.sync import Syncer

NOW = 1795392514 + 3600
ROLE_STUDENT = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=600)
    parser.add_argument("--managers", type=int, default=20)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=2.0, help="simulated per call")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="buyin-refusal-"))
    (work / "mappings").mkdir()
    shutil.copy(data_path("mappings/examples/cc101.toml"), work / "mappings" / "cc101.toml")
    scenario = generate_scenario(
        learners=args.learners, managers=args.managers, approver_enrolled=False, now=NOW - 3600
    )
    site = SimulatedMoodle(scenario, clock=lambda: NOW)
    site.assignable_roles = {ROLE_STUDENT}
    site.collide_same_learner = True
    site.faults.latency_ms = args.latency_ms
    site.faults.sleep = time.sleep
    settings = Settings(
        url=site.url,
        token=Secret(site.token),
        state_path=work / "state.sqlite",
        mapping_dir=work / "mappings",
        concurrency=args.concurrency,
    )
    print("| run | planned | applied | failed | exit | calls | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for run in range(1, args.runs + 1):
        now = NOW + 60 * (run - 1)
        session = requests.Session()
        session.mount(site.url, site.adapter())
        client = MoodleClient.from_settings(settings, session=session, sleep=lambda _s: None)
        state = State(settings.state_path)
        started = time.perf_counter()
        try:
            report = Syncer(settings, client, state, clock=lambda now=now: now).run()  # type: ignore[misc]
        finally:
            state.close()
        seconds = time.perf_counter() - started
        print(
            f"| {run} | {report.planned} | {report.applied} | {report.failed} | "
            f"{report.exit_code} | {report.metrics.total_calls} | {seconds:.1f} |"
        )
    print(f"collisions inside the simulated Moodle: {site.collisions}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
