"""Benchmark (not a test): what a sync costs as the cohort grows, core and local_buyin path.

    python tools/benchmark.py [--sizes 24,2400,24000,100000] [--paths core,plugin]
                              [--latency-ms 30] [--json] [--without-poll]

For each cohort size and path the simulated Moodle is seeded (with or without
local_buyin) in a process of its own and served over HTTP on 127.0.0.1, with the
given latency per call; the agent runs in another process: a first sync, a repeat an hour
later (which verifies what the first one pushed), a steady sync an hour after that on the
unchanged site (as an hourly cron runs it), and a reconciliation two days later. Per run
it reports the web-service calls, the wall
time, the agent's own CPU seconds (the simulated site's are in its own process),
the agent process's peak RSS and the state file's size (with its write-ahead log).
``--json`` prints one JSON object a line: ``size``, ``path``, ``run`` (first, repeat,
steady, reconciliation), ``calls``, ``wall_s``, ``agent_cpu_s``, ``peak_rss_mb``,
``state_mb``; else a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

NOW = 1795392514 + 3600
#: an hourly cron: runs a minute apart fall inside the margin a read since the last one
#: keeps for clock skew between the agent and Moodle (SINCE_MARGIN, 5 minutes), and so read
#: again everyone the first run's writes touched
RUNS = (
    ("first", NOW),
    ("repeat", NOW + 3600),
    ("steady", NOW + 2 * 3600),
    ("reconciliation", NOW + 2 * 86400),
)
#: the site serves at most this long (a bound, whatever happens to the agent)
SITE_LIFETIME = 3 * 3600


def serve_site(
    size: int, plugin: bool, latency_ms: float, now: Synchronized[int], conn: Connection
) -> None:
    """The simulated site's process: seed, serve, say where, stop when told."""
    from buyin.simulator import SimulatedMoodle, generate_scenario
    from buyin.simulator.serve import SiteServer

    started = time.process_time()
    site = SimulatedMoodle(
        generate_scenario(learners=size, now=NOW - 3600), clock=lambda: now.value, shared=True
    )
    if plugin:
        site.install_plugin()
    if latency_ms:
        site.faults.latency_ms = latency_ms
        site.faults.sleep = time.sleep
    with SiteServer(site, lifetime=SITE_LIFETIME) as server:
        conn.send((server.url, site.token, time.process_time() - started))
        conn.recv()  # the agent is done
        conn.send(time.process_time() - started)


def state_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def run_agent(
    url: str, token: str, args: argparse.Namespace, now: Synchronized[int], conn: Connection
) -> None:
    """The agent's process: the four runs, each measured, sent back one by one."""
    import requests

    from buyin.cli import collect_less
    from buyin.config import Secret, Settings
    from buyin.moodle.client import MoodleClient
    from buyin.resources import data_path
    from buyin.state import State
    from buyin.sync import Syncer

    collect_less()  # as `buyin` does
    work = Path(tempfile.mkdtemp(prefix="buyin-bench-"))
    try:
        (work / "mappings").mkdir()
        mapping = data_path("mappings/examples/cc101.toml").read_text()
        if args.without_poll:  # the programme alone: the manager poll's calls left out
            mapping = mapping[: mapping.index("[poll]")]
        (work / "mappings" / "cc101.toml").write_text(mapping)
        settings = Settings(
            url=url,
            token=Secret(token),
            state_path=work / "state.sqlite",
            mapping_dir=work / "mappings",
            concurrency=args.concurrency,
        )
        for label, at in RUNS:
            now.value = at
            session = requests.Session()
            client = MoodleClient.from_settings(settings, session=session, sleep=lambda _s: None)
            cpu, wall = time.process_time(), time.perf_counter()
            state = State(settings.state_path)
            try:
                report = Syncer(settings, client, state, clock=lambda a=at: a).run()
            finally:
                state.close()
            conn.send(
                {
                    "run": label,
                    "calls": report.metrics.total_calls,
                    "wall_s": round(time.perf_counter() - wall, 2),
                    "agent_cpu_s": round(time.process_time() - cpu, 2),
                    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                    "state_mb": round(state_size(settings.state_path) / 1e6, 2),
                }
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        conn.send(None)


def measure(size: int, path: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    ctx = mp.get_context("fork")
    now = ctx.Value("q", NOW)
    site_end, site_conn = ctx.Pipe()
    site = ctx.Process(
        target=serve_site, args=(size, path == "plugin", args.latency_ms, now, site_conn)
    )
    site.start()
    try:
        url, token, seed_cpu = site_end.recv()
        agent_end, agent_conn = ctx.Pipe()
        agent = ctx.Process(target=run_agent, args=(url, token, args, now, agent_conn))
        agent.start()
        rows = []
        while (row := agent_end.recv()) is not None:
            row = {"size": size, "path": path, **row}
            rows.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
        agent.join()
        site_end.send("done")
        site_cpu = site_end.recv()
        print(
            f"# {size} {path}: the site's seeding {seed_cpu:.1f} CPU s, "
            f"seeding and serving {site_cpu:.1f} CPU s",
            file=sys.stderr,
            flush=True,
        )
        return rows
    finally:
        site.join(timeout=30)
        if site.is_alive():
            site.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="24,2400")
    parser.add_argument("--paths", default="core,plugin")
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    parser.add_argument(
        "--without-poll", action="store_true", help="leave the example's [poll] section out"
    )
    args = parser.parse_args()
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    if not set(paths) <= {"core", "plugin"}:
        parser.error("--paths takes core, plugin or both")
    if not args.json:
        print(
            f"| learners | path | run | calls | wall s ({args.latency_ms:g} ms a call) "
            "| agent CPU s | peak RSS MB | state MB |\n|---:|---|---|---:|---:|---:|---:|---:|",
            flush=True,
        )
    for size in (int(s) for s in args.sizes.split(",")):
        for path in paths:
            for r in measure(size, path, args):
                if not args.json:
                    print(
                        f"| {size:,} | {path} | {r['run']} | {r['calls']} | {r['wall_s']:.1f} "
                        f"| {r['agent_cpu_s']:.1f} | {r['peak_rss_mb']} | {r['state_mb']:.1f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
