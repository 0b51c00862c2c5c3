"""`buyin demo`: the whole pipeline against the built-in simulated Moodle.

Seeds a simulated site with the CC101 programme (24 learners, 4 managers by
default), maps it with the packaged example mapping, runs a dry run, a sync and
a second sync (which must change nothing), and prints what happened per learner.
Nothing leaves the process: the simulation answers through a requests adapter.

With ``weeks``, the programme is lived instead (:mod:`buyin.simulator.journeys`):
people act every day and the agent syncs every morning; the demo prints one
learner's and one manager's inbox as they read it, and the report's headline.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from buyin import sync
from buyin.config import Secret, Settings
from buyin.model.actions import MessageParams
from buyin.model.names import plural
from buyin.moodle.client import MoodleClient
from buyin.report_text import print_sync_report
from buyin.resources import data_path
from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.state import State
from buyin.sync import Syncer, SyncReport

if TYPE_CHECKING:
    from buyin.simulator.journey_inbox import Received
    from buyin.simulator.journeys import Journey

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


# -- weeks of a programme, as the people in it read it ---------------------------------


def _shown(message: Received) -> list[str]:
    when = message.local()
    head = f"--- {when:%a} {when.day} {when:%b %H:%M} ({message.zone}) · {message.subject}"
    return [head, *("    " + line for line in message.text.splitlines()), ""]


def _pick(journey: Journey) -> tuple[str | None, str | None]:
    """A learner whose journey shows the most (a rejection, a sign-off, what they
    gained), and the manager with the most to read."""
    learners: Counter[str] = Counter()
    managers: Counter[str] = Counter()
    for m in journey.inbox:
        if m.role == "learner":
            learners[m.to] += len(set(m.kinds)) + (5 if "signoff.rejected" in m.kinds else 0)
        else:
            managers[m.to] += 1 + ("signoff.digest" in m.kinds)
    best_learner = learners.most_common(1)[0][0] if learners else None
    best_manager = managers.most_common(1)[0][0] if managers else None
    return best_learner, best_manager


def inbox_figures(journey: Journey) -> dict[str, float]:
    """What the inbox measures: messages per manager per week (mean, max), weekend
    messages, and the most sign-off messages about one request (reminders per request)."""
    weeks = max(1, journey.days // 7)
    per_week: Counter[tuple[str, int]] = Counter()
    managers = set()
    for m in journey.inbox:
        if m.role != "learner":
            managers.add(m.to)
            per_week[(m.to, (m.sent_at - journey.start) // (7 * 86400))] += 1
    counts = [per_week[(who, w)] for who in managers for w in range(weeks)]
    asked: Counter[tuple[str, int]] = Counter()
    requests = journey.requests()
    for m in journey.inbox:
        for learner, how in m.signoff:
            if how == "direct":
                for since, until in requests.get(learner, []):
                    if since <= m.sent_at <= until:
                        asked[(learner, since)] += 1
    return {
        "manager_week_mean": sum(counts) / len(counts) if counts else 0.0,
        "manager_week_max": max(counts, default=0),
        "weekend": sum(1 for m in journey.inbox if m.local().weekday() >= 5),
        "reminders_max": max((n - 1 for n in asked.values()), default=0),
        "messages": len(journey.inbox),
    }


def run_weeks(
    echo: Echo,
    *,
    weeks: int,
    learners: int = 240,
    inbox: Path | None = None,
    events: Path | None = None,
    keep: Path | None = None,
) -> int:
    from buyin.report.finding import overview
    from buyin.report.load import build_programme_report
    from buyin.simulator.journeys import JourneyOptions, run

    # weeks of syncs write the state file thousands of times: in memory where it can be
    shm = Path("/dev/shm")
    scratch = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    workdir = keep or Path(tempfile.mkdtemp(prefix="buyin-demo-", dir=scratch))
    options = JourneyOptions(weeks=weeks, learners=learners)
    echo(
        f"Living {weeks} weeks of CC101 with {learners} learners on a simulated Moodle with "
        "local_buyin: people act every day, the agent syncs every morning."
    )
    began = time.monotonic()
    journey = run(workdir, options, sync.system_clock())
    if inbox is not None:
        inbox.write_text(
            "".join(json.dumps(m.to_json(), ensure_ascii=False) + "\n" for m in journey.inbox)
        )
    if events is not None:
        events.write_text(
            "".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in journey.events)
        )
    learner, manager = _pick(journey)
    for who, title in ((learner, "a learner"), (manager, "a manager")):
        if who is None:
            continue
        mine = journey.inbox_of(who)
        echo("")
        echo(f"The inbox of {title}, {who} ({len(mine)} messages in {weeks} weeks):")
        for message in mine:
            for line in _shown(message):
                echo(line)
    figures = inbox_figures(journey)
    echo(
        f"{figures['messages']:.0f} messages in all; a manager got "
        f"{figures['manager_week_mean']:.2f} a week on average, at most "
        f"{figures['manager_week_max']:.0f}; {figures['weekend']:.0f} on a weekend; at most "
        f"{plural(int(figures['reminders_max']), 'reminder')} about one request."
    )
    report = build_programme_report(journey.settings, "cc101")
    echo("")
    echo("The programme report opens with:")
    echo("  " + overview(report))
    echo(f"({time.monotonic() - began:.0f} seconds)")
    if keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        echo(f"state kept in {journey.settings.state_path}")
    return 0
