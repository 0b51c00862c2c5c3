"""`buyin demo`: the whole pipeline against the built-in simulated Moodle.

Seeds a simulated site with the CC101 programme (24 learners, 4 managers by
default), maps it with the packaged example mapping, runs a dry run, a sync and
a second sync (which must change nothing), and prints what happened per learner.
Nothing leaves the process: the simulation answers through a requests adapter.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import requests

from buyin import sync
from buyin.config import Secret, Settings
from buyin.model.actions import MessageParams
from buyin.moodle.client import MoodleClient
from buyin.report_text import print_sync_report
from buyin.resources import data_path
from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.state import State
from buyin.sync import Syncer, SyncReport

Echo = Callable[[str], None]


def _settings(site: SimulatedMoodle, workdir: Path) -> Settings:
    mappings = workdir / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    shutil.copy(data_path("mappings/examples/cc101.toml"), mappings / "cc101.toml")
    return Settings(
        url=site.url,
        token=Secret(site.token),
        state_path=workdir / "buyin-state.sqlite",
        mapping_dir=mappings,
    )


def _sync(settings: Settings, site: SimulatedMoodle, now: int, dry_run: bool) -> SyncReport:
    session = requests.Session()
    session.mount(site.url, site.adapter())
    client = MoodleClient.from_settings(settings, session=session, sleep=lambda _s: None)
    state = State(settings.state_path)
    try:
        return Syncer(settings, client, state, clock=lambda: now).run(dry_run=dry_run)
    finally:
        state.close()


def learner_summary(report: SyncReport, echo: Echo) -> None:
    for outcome in report.outcomes:
        if outcome.pushed is None:
            continue
        per_user: dict[int, list[str]] = {}
        for action in outcome.pushed.applied:
            if action.kind == "override":
                per_user.setdefault(action.userid, []).append(
                    f"{action.reason.get('topic')}: {action.target.split(' · ', 1)[-1]}"
                )
            elif isinstance(action.params, MessageParams):
                per_user.setdefault(action.userid, []).append(f"notified ({action.params.summary})")
        echo(f"per learner ({outcome.programme.id}):")
        for uid, name in sorted(outcome.usernames.items()):
            done = per_user.get(uid)
            why = outcome.undecided.get(uid)
            if done:
                echo(f"  {name}: " + "; ".join(done))
            elif why:
                echo(f"  {name}: skipped: {why}")
            else:
                echo(f"  {name}: nothing to do")


def run_demo(echo: Echo, *, learners: int = 24, keep: Path | None = None) -> int:
    now = sync.system_clock()
    site = SimulatedMoodle(generate_scenario(learners=learners, now=now), clock=lambda: now)
    workdir = keep or Path(tempfile.mkdtemp(prefix="buyin-demo-"))
    settings = _settings(site, workdir)
    echo(f"Simulated Moodle at {site.url}: CC101 with {learners} learners.")
    echo("")
    echo("1. Dry run (the same planning, nothing pushed):")
    dry = _sync(settings, site, now, dry_run=True)
    print_sync_report(dry, echo, verbose=False)
    echo("")
    echo("2. Sync:")
    first = _sync(settings, site, now, dry_run=False)
    print_sync_report(first, echo, verbose=True)
    learner_summary(first, echo)
    echo(first.metrics_line())
    echo("")
    echo("3. Sync again (nothing has changed, so nothing is done):")
    second = _sync(settings, site, now, dry_run=False)
    print_sync_report(second, echo, verbose=False)
    echo(second.metrics_line())
    if keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        echo(f"state kept in {settings.state_path}")
    return max(first.exit_code, second.exit_code)
