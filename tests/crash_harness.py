"""Kill `buyin sync` and compare: the simulated site served over HTTP on loopback, the
agent a subprocess killed with SIGKILL (at a random moment, or right after Moodle
applied a given kind of write, from the server's after-call hook), then run again;
what the site holds is compared with an uninterrupted run.

Used by tests/test_crash.py and tools/crash_campaign.py.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.simulator.serve import SiteServer

REPO = Path(__file__).resolve().parents[1]
#: the program as `buyin` runs it (buyin.entry: its signal handlers from its first line)
AGENT = [sys.executable, "-m", "buyin"]
SEND = "core_message_send_instant_messages"

#: each kind of write, and the functions that make it
WRITES: dict[str, tuple[str, ...]] = {
    "override": (
        "core_completion_override_activity_completion_status",
        "local_buyin_complete_activities",
    ),
    "enrolment": ("enrol_manual_enrol_users",),
    "role": ("core_role_assign_roles",),
    "group": ("core_group_create_groups", "core_group_add_group_members"),
    "signoff-request": ("local_buyin_request_signoffs",),
    "messages": (SEND, "local_buyin_send_notifications"),
}
#: the site variants: core Moodle, with local_buyin installed, and with local_buyin 0.4.0's
#: notifications (messages rendered and sent once per key by the plugin)
VARIANTS = ("core", "plugin", "notify")
MGR1, CC101 = 5, 2
ROLE_STUDENT = 5


def build_site(variant: str, now: int) -> SimulatedMoodle:
    """The scenario, set up so one sync makes every kind of write: mgr1 (the fallback
    approver) is a student in CC101, so the sign-off role is assigned; mgr2's team
    group is missing, so it is created and filled."""
    scenario = generate_scenario(now=now)
    scenario.enrolments[(MGR1, CC101)].roleids = [ROLE_STUDENT]
    team = next(g for g in scenario.groups.values() if g.idnumber == "team-mgr2")
    del scenario.groups[team.id]
    site = SimulatedMoodle(scenario, clock=lambda: now)
    if variant in ("plugin", "notify"):
        site.install_plugin(notifications=variant == "notify")
    return site


def write_mappings(workdir: Path) -> Path:
    mappings = workdir / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    text = (REPO / "mappings" / "examples" / "cc101.toml").read_text()
    text = text.replace("escalate_after_days = 7", "escalate_after_days = 7\nteam_groups = true")
    # the start line before every event of the scenario, so that one sync makes every
    # kind of write (follow-ups of earlier completions included) and sends every message
    text = re.sub(r'(?m)^mapped_since = ".*"$', 'mapped_since = "2026-01-01"', text)
    if "mapped_since" not in text:
        text = text.replace("[program]\n", '[program]\nmapped_since = "2026-01-01"\n', 1)
    # every day a working day and no weekly limit: the agent runs as a subprocess on the
    # machine's own clock, and the runs must send their messages whatever today is
    # (a Saturday, or CI's second run a year ahead)
    text = text.replace(
        "[program]\n",
        '[program]\nworking_days = ["monday", "tuesday", "wednesday", "thursday", '
        '"friday", "saturday", "sunday"]\nmanager_weekly_limit = 7\n',
        1,
    )
    (mappings / "cc101.toml").write_text(text)
    return mappings


@dataclass(frozen=True)
class Holding:
    """What the site holds: each user's messages (exact texts, counted), and the rest."""

    messages: dict[int, Counter[str]]
    rest: dict[str, Any]


def holding(site: SimulatedMoodle, url: str) -> Holding:
    """``url`` (the served site's, a new port each time) reads as "<site>" in texts."""
    state = site.state
    messages: dict[int, Counter[str]] = {}
    for m in state.messages:
        messages.setdefault(m.useridto, Counter())[m.text.replace(url, "<site>")] += 1
    rest = {
        "overrides": sorted(
            (k, v.state, v.overrideby) for k, v in state.activity_completions.items()
        ),
        "enrolments and roles": sorted(
            (k, sorted(e.roleids), e.timestart, e.status) for k, e in state.enrolments.items()
        ),
        "groups": sorted(
            (g.courseid, g.name, g.idnumber, sorted(g.members)) for g in state.groups.values()
        ),
        "signoff_requests": sorted(
            (r.courseid, r.userid, r.managerid, r.status) for r in site.plugin.requests.values()
        ),
    }
    return Holding(messages, rest)


@dataclass
class Difference:
    """Messages against the uninterrupted run: sent twice, lost, reworded (a text
    that run never sent, standing in for one it did), extra (a text it never sent)."""

    twice: int = 0
    lost: int = 0
    reworded: int = 0
    extra: int = 0
    rest: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not (self.twice or self.lost or self.reworded or self.extra or self.rest)


def compare(got: Holding, want: Holding) -> Difference:
    diff = Difference()
    for user in set(got.messages) | set(want.messages):
        have = got.messages.get(user, Counter())
        expected = want.messages.get(user, Counter())
        diff.twice += sum(max(0, have[t] - n) for t, n in expected.items())
        missing = sum(max(0, n - have[t]) for t, n in expected.items())
        unknown = sum(n for t, n in have.items() if t not in expected)
        reworded = min(missing, unknown)
        diff.reworded += reworded
        diff.lost += missing - reworded
        diff.extra += unknown - reworded
    diff.rest = [key for key in want.rest if got.rest[key] != want.rest[key]]
    return diff


@dataclass(frozen=True)
class KillPoint:
    """Where the first sync dies: right after Moodle applied the ``nth`` call of one
    kind of write (before its answer left), or, with no ``write``, ``delay`` seconds
    after the ``nth`` call of any kind was applied (between calls, or in the next)."""

    variant: str
    write: str | None = None
    nth: int = 1
    delay: float = 0.0

    def __str__(self) -> str:
        if self.write:
            return f"{self.variant}: after {self.write} #{self.nth}"
        return f"{self.variant}: {self.delay * 1000:.0f} ms after call #{self.nth}"


@dataclass
class Run:
    code: int
    out: str
    err: str
    calls: list[str]
    seconds: float


class Agent:
    """`buyin sync` runs against one served site, each a subprocess."""

    def __init__(self, site: SimulatedMoodle, workdir: Path, *, lifetime: float = 300) -> None:
        self.site = site
        self.workdir = workdir
        self.mappings = write_mappings(workdir)
        self.calls: list[str] = []
        #: (the functions to count, or all; how many more; then how long before the kill)
        self._kill_on: tuple[frozenset[str], int, float] | None = None
        #: (calls left before the signal, the signal, then how long before it)
        self._signal_on: tuple[int, int, float] | None = None
        self._process: subprocess.Popen[str] | None = None
        self.killed = False
        self.server = SiteServer(site, lifetime=lifetime, after_call=self._after_call)

    def __enter__(self) -> Agent:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(REPO / "agent"),
            "BUYIN_URL": self.server.url,
            "BUYIN_TOKEN": self.site.token,
            "BUYIN_RETRIES": "3",
            "BUYIN_CONCURRENCY": "1",  # one call in flight: "right after" is exact
            **extra,
        }

    def _after_call(self, function: str) -> None:
        self.calls.append(function)
        if self._signal_on is not None:
            left, signum, delay = self._signal_on
            if left > 1:
                self._signal_on = (left - 1, signum, delay)
            else:
                self._signal_on = None
                threading.Thread(target=self._signal_after, args=(signum, delay)).start()
        if self._kill_on is None:
            return
        functions, left, delay = self._kill_on
        if functions and function not in functions:
            return
        if left > 1:
            self._kill_on = (functions, left - 1, delay)
            return
        self._kill_on = None
        if delay > 0:
            # a sleeping thread, not threading.Timer: a timed condition wait never wakes
            # under libfaketime (CI's second run moves the clock with it)
            # bound to this run's process: a late kill must never reach the rerun
            threading.Thread(
                target=self._kill_after, args=(self._process, delay), daemon=True
            ).start()
        else:
            self._kill()

    def _signal_later(self, signum: int, delay: float) -> None:
        """``delay`` seconds after the agent's first line ran (its handlers are in
        place: the kernel shows SIGTERM caught), send ``signum``."""
        process = self._process
        if process is None:
            return
        while process.poll() is None and not handlers_in_place(process.pid):
            time.sleep(0.0005)
        time.sleep(delay)
        if process.poll() is None:
            self.killed = True
            process.send_signal(signum)

    def _signal_after(self, signum: int, delay: float) -> None:
        process = self._process
        time.sleep(delay)
        if process is not None and process.poll() is None:
            self.killed = True
            process.send_signal(signum)

    def _kill_after(self, process: subprocess.Popen[str] | None, delay: float) -> None:
        time.sleep(delay)
        if process is self._process:
            self._kill()

    def _kill(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            self.killed = True
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)

    def sync(
        self,
        *,
        state: str = "state.sqlite",
        kill: KillPoint | None = None,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        signal_at: SignalPoint | None = None,
        command: str = "sync",
    ) -> Run:
        """One `buyin sync` (killed where asked; or sent a signal at ``signal_at``),
        waited for (bounded)."""
        self.calls = []
        self.killed = False
        self._signal_on = None
        if signal_at is not None and signal_at.after_call:
            self._signal_on = (signal_at.after_call, signal_at.signum, signal_at.delay)
        if kill is not None:
            functions = frozenset(WRITES[kill.write] if kill.write else ())
            self._kill_on = (functions, kill.nth, kill.delay)
        else:
            self._kill_on = None
        command = [
            *AGENT,
            "--state",
            str(self.workdir / state),
            "--mappings",
            str(self.mappings),
            *args,
            *command.split(),
        ]
        started = time.monotonic()
        self._process = subprocess.Popen(
            command,
            env=env or self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if signal_at is not None and not signal_at.after_call:
            threading.Thread(
                target=self._signal_later, args=(signal_at.signum, signal_at.delay), daemon=True
            ).start()
        out, err = self._process.communicate(timeout=120)
        code = self._process.returncode
        self._process = None
        return Run(code, out, err, list(self.calls), time.monotonic() - started)


def handlers_in_place(pid: int) -> bool:
    """Whether the agent's own code runs (Linux: /proc shows SIGTERM caught, which
    Python alone does not do): the moment start-up is the agent's, not Python's."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    except OSError:
        return True
    return False


@dataclass(frozen=True)
class SignalPoint:
    """A signal ``delay`` seconds after Moodle answered the agent's ``after_call``-th
    call (0: after the agent's first line ran: during its start-up)."""

    variant: str
    signum: int
    after_call: int
    delay: float

    def __str__(self) -> str:
        when = f"after call #{self.after_call}" if self.after_call else "after start-up"
        return (
            f"{self.variant}: {signal.Signals(self.signum).name} {self.delay * 1000:.0f} ms {when}"
        )


@dataclass
class Signalled:
    point: SignalPoint
    #: the signal reached the agent before it exited
    delivered: bool
    code: int
    error_lines: list[str]
    tracebacks: int
    reruns: list[int]
    diff: Difference

    @property
    def ok(self) -> bool:
        return (
            self.delivered
            and self.code == 128 + self.point.signum
            and len(self.error_lines) == 1
            and not self.tracebacks
            and self.reruns[-1] == 0
            and self.diff.same
        )


def signal_points(
    reference: dict[str, Run], count: int, seed: int, signum: int = signal.SIGINT
) -> list[SignalPoint]:
    """``count`` moments drawn over each variant's uninterrupted run: one in four during
    start-up (0 to 200 ms from the agent's first line: imports, configuration, the state,
    the first call), the others after a call drawn uniformly from its calls, 0 to 50 ms
    later (between calls, or in the next one; in flight among its last ten). Counted in
    calls, not seconds: a loaded machine's pace does not move a moment past the run."""
    rng = random.Random(seed)
    points = []
    for i in range(count):
        variant = VARIANTS[i % len(VARIANTS)]
        calls = len(reference[variant].calls)
        if i % 4 == 0:
            points.append(SignalPoint(variant, signum, 0, rng.uniform(0, 0.2)))
            continue
        after = rng.randint(1, calls)
        # near the end the last calls and the summary may take less than 50 ms: there the
        # signal comes while the call is in flight (the server has applied it, no answer yet)
        delay = 0.0 if after > calls - 10 else rng.uniform(0, 0.05)
        points.append(SignalPoint(variant, signum, after, delay))
    return points


def interrupt(point: SignalPoint, workdir: Path, now: int, want: Holding) -> Signalled:
    """Signal the first sync at ``point``, sync again, compare with ``want``."""
    site = build_site(point.variant, now)
    with Agent(site, workdir) as agent:
        first = agent.sync(signal_at=point)
        delivered = agent.killed
        rerun = agent.sync()
        held = holding(site, agent.server.url)
    return Signalled(
        point,
        delivered,
        first.code,
        [line for line in first.err.splitlines() if line.startswith("error:")],
        (first.err + first.out + rerun.err).count("Traceback"),
        [rerun.code],
        compare(held, want),
    )


@dataclass
class Outcome:
    point: KillPoint
    killed: bool
    reruns: list[int]
    diff: Difference
    tracebacks: int

    @property
    def ok(self) -> bool:
        return self.killed and self.reruns[-1] == 0 and self.diff.same and not self.tracebacks


def uninterrupted(variant: str, workdir: Path, now: int) -> tuple[Holding, Run]:
    """The reference: one sync, then one more (which must change nothing)."""
    site = build_site(variant, now)
    with Agent(site, workdir) as agent:
        first = agent.sync()
        assert first.code == 0, first.err
        second = agent.sync()
        assert second.code == 0, second.err
        return holding(site, agent.server.url), first


def crash(point: KillPoint, workdir: Path, now: int, want: Holding, *, reruns: int = 1) -> Outcome:
    """Kill the first sync at ``point``, run again (``reruns`` times), compare."""
    site = build_site(point.variant, now)
    with Agent(site, workdir) as agent:
        first = agent.sync(kill=point)
        killed = agent.killed
        runs = [agent.sync() for _ in range(reruns)]
        held = holding(site, agent.server.url)
    errors = first.err + "".join(r.err for r in runs)
    return Outcome(
        point,
        killed,
        [r.code for r in runs],
        compare(held, want),
        errors.count("Traceback"),
    )


def targeted_points(reference: dict[str, Run], count: int) -> list[KillPoint]:
    """``count`` points right after a write, cycling over every (variant, kind, nth)
    the uninterrupted run made, first occurrences first."""
    combos: list[KillPoint] = []
    for variant, run in reference.items():
        for write, functions in WRITES.items():
            made = sum(1 for c in run.calls if c in functions)
            combos += [KillPoint(variant, write, nth) for nth in range(1, made + 1)]
    combos.sort(key=lambda p: (p.nth, VARIANTS.index(p.variant), list(WRITES).index(p.write or "")))
    return [combos[i % len(combos)] for i in range(count)]


def random_points(reference: dict[str, Run], count: int, seed: int) -> list[KillPoint]:
    """``count`` kill moments: after a call drawn uniformly from each variant's
    uninterrupted run (in its first three quarters: the last calls can come faster than
    50 ms apart, and a kill after them lands after the run ended), 0 to 50 ms later."""
    rng = random.Random(seed)
    points = []
    for i in range(count):
        variant = VARIANTS[i % len(VARIANTS)]
        calls = len(reference[variant].calls)
        points.append(
            KillPoint(
                variant, nth=rng.randint(1, max(1, calls * 3 // 4)), delay=rng.uniform(0, 0.05)
            )
        )
    return points


#: the core path's lease: the agent's own preference (both functions in the service)
PREFERENCE_FUNCTIONS = ("core_user_get_user_preferences", "core_user_update_user_preferences")


#: the exits a copied state's sequence must give (see copied_state)
COPIED_WANT = [0, 0, 3, 0, 0, 3]


@dataclass
class Copied:
    """A state folder copied (``cp -a``) and run beside the original, over HTTP."""

    variant: str
    #: exits of: original, original, copy (refused), copy release-lease --force, copy,
    #: original (refused)
    codes: list[int]
    diff: Difference
    tracebacks: int

    @property
    def ok(self) -> bool:
        return self.codes == COPIED_WANT and self.diff.same and not self.tracebacks


def copied_state(variant: str, workdir: Path, now: int, want: Holding) -> Copied:
    """The original syncs, its folder is copied, the original syncs again; the copy is
    refused; the lease is moved to the copy by force; the original is refused in its
    turn. On the core path the lease is the agent's preference."""
    site = build_site(variant, now)
    if variant == "core":
        site.service_functions.update(PREFERENCE_FUNCTIONS)
    original, copy = workdir / "a", workdir / "b"
    original.mkdir(parents=True, exist_ok=True)
    with Agent(site, workdir) as agent:
        runs = [agent.sync(state="a/state.sqlite")]
        shutil.copytree(original, copy)
        runs.append(agent.sync(state="a/state.sqlite"))
        runs.append(agent.sync(state="b/state.sqlite"))
        runs.append(agent.sync(state="b/state.sqlite", command="release-lease --force"))
        runs.append(agent.sync(state="b/state.sqlite"))
        runs.append(agent.sync(state="a/state.sqlite"))
        held = holding(site, agent.server.url)
    return Copied(
        variant,
        [r.code for r in runs],
        compare(held, want),
        sum((r.err + r.out).count("Traceback") for r in runs),
    )
