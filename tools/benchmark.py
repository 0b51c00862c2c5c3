"""Benchmark (not a test): web-service calls and time per learner as the site grows.

    python tools/benchmark.py [--sizes 24,240,2400] [--latency-ms 0]

For each cohort size it seeds the simulated Moodle, runs a first sync, a repeat
sync (which refetches the learners the first one changed), a steady sync on the
unchanged site, and a sync two days later when a full reconciliation is due, and
prints calls per run, calls per learner and seconds. Latency (simulated per
call, in ms) shows what concurrency buys against a real site's round trips.
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
from buyin.sync import Syncer, SyncReport

NOW = 1795392514 + 3600


def one_run(settings: Settings, site: SimulatedMoodle, now: int) -> tuple[SyncReport, float]:
    session = requests.Session()
    session.mount(site.url, site.adapter())
    client = MoodleClient.from_settings(settings, session=session, sleep=lambda _s: None)
    state = State(settings.state_path)
    started = time.perf_counter()
    try:
        report = Syncer(settings, client, state, clock=lambda: now).run()
    finally:
        state.close()
    return report, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="24,240,2400")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    print(
        f"{'learners':>8} {'run':<12} {'calls':>7} {'calls/learner':>13} {'writes':>7} {'seconds':>8}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        work = Path(tempfile.mkdtemp(prefix="buyin-bench-"))
        (work / "mappings").mkdir()
        shutil.copy(data_path("mappings/examples/cc101.toml"), work / "mappings" / "cc101.toml")
        site = SimulatedMoodle(generate_scenario(learners=size, now=NOW - 3600), clock=lambda: NOW)
        if args.latency_ms:
            site.faults.latency_ms = args.latency_ms
            site.faults.sleep = time.sleep
        settings = Settings(
            url=site.url,
            token=Secret(site.token),
            state_path=work / "state.sqlite",
            mapping_dir=work / "mappings",
            concurrency=args.concurrency,
        )
        runs = (
            ("first", NOW),
            ("repeat", NOW + 60),
            ("steady", NOW + 120),
            ("reconcile", NOW + 2 * 86400),
        )
        for label, now in runs:
            report, seconds = one_run(settings, site, now)
            calls = report.metrics.total_calls
            writes = report.applied
            print(
                f"{size:>8} {label:<12} {calls:>7} {calls / size:>13.2f} {writes:>7} {seconds:>8.2f}"
            )
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
