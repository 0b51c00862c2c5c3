"""Benchmark (not a test): web-service calls and time as the site grows, core path,
local_buyin path and a naive per-learner script side by side.

    python tools/benchmark.py [--sizes 24,240,2400] [--latency-ms 0] [--without-poll]

For each cohort size it seeds the simulated Moodle twice (without and with
local_buyin 0.2.0), runs a first sync, a repeat sync (which verifies what the
first one pushed), a steady sync on the unchanged site, and a sync two days later
when a full reconciliation is due, and prints a Markdown table of calls (reads and
writes) and seconds per run. Latency (simulated per call, in ms) shows what
concurrency buys against a real site's round trips. The naive column is the reads
of a script that asks for every learner's progress each run (measured on the
simulator without latency: its seconds would be its calls times the latency).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import time
from pathlib import Path

import requests

from buyin.config import Secret, Settings
from buyin.errors import BuyinError
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


def naive_run(site: SimulatedMoodle, settings: Settings) -> int:
    """What a naive script pays per run: the course, its learners, then per learner
    their activity completion, course completion and quiz attempts (no writes)."""
    session = requests.Session()
    session.mount(site.url, site.adapter())
    client = MoodleClient.from_settings(settings, session=session, sleep=lambda _s: None)
    before = len(site.calls)
    course = client.call("core_course_get_courses_by_field", field="shortname", value="CC101")
    courseid = int(course["courses"][0]["id"])
    quizzes = [q for q in site.state.quizzes.values() if q.course == courseid]
    users = client.call("core_enrol_get_enrolled_users", courseid=courseid)
    for user in users:
        uid = int(user["id"])
        client.call(
            "core_completion_get_activities_completion_status", courseid=courseid, userid=uid
        )
        with contextlib.suppress(BuyinError):  # a manager is not tracked
            client.call(
                "core_completion_get_course_completion_status", courseid=courseid, userid=uid
            )
        for quiz in quizzes:
            client.call("mod_quiz_get_user_quiz_attempts", quizid=quiz.id, userid=uid, status="all")
    return len(site.calls) - before


def setup(
    size: int, args: argparse.Namespace, *, plugin: bool
) -> tuple[SimulatedMoodle, Settings, Path]:
    work = Path(tempfile.mkdtemp(prefix="buyin-bench-"))
    (work / "mappings").mkdir()
    mapping = data_path("mappings/examples/cc101.toml").read_text()
    if args.without_poll:  # the programme alone: the manager poll's calls left out
        mapping = mapping[: mapping.index("[poll]")]
    (work / "mappings" / "cc101.toml").write_text(mapping)
    site = SimulatedMoodle(generate_scenario(learners=size, now=NOW - 3600), clock=lambda: NOW)
    if plugin:
        site.install_plugin()
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
    return site, settings, work


RUNS = (
    ("first", NOW),
    ("repeat", NOW + 60),
    ("steady", NOW + 120),
    ("reconcile", NOW + 2 * 86400),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="24,240,2400")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--without-poll", action="store_true", help="leave the example's [poll] section out"
    )
    args = parser.parse_args()
    print(
        "| learners | run | core calls | core s | plugin calls | plugin s | naive calls |\n"
        "|---:|---|---:|---:|---:|---:|---:|"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        measured: dict[bool, list[tuple[int, float]]] = {}
        for plugin in (False, True):
            site, settings, work = setup(size, args, plugin=plugin)
            measured[plugin] = []
            for _label, now in RUNS:
                report, seconds = one_run(settings, site, now)
                measured[plugin].append((report.metrics.total_calls, seconds))
            shutil.rmtree(work, ignore_errors=True)
        site, settings, work = setup(
            size,
            argparse.Namespace(latency_ms=0, concurrency=1, without_poll=args.without_poll),
            plugin=False,
        )
        naive = naive_run(site, settings)
        shutil.rmtree(work, ignore_errors=True)
        for i, (label, _now) in enumerate(RUNS):
            (core, core_s), (plug, plug_s) = measured[False][i], measured[True][i]
            print(f"| {size} | {label} | {core} | {core_s:.1f} | {plug} | {plug_s:.1f} | {naive} |")


if __name__ == "__main__":
    main()
