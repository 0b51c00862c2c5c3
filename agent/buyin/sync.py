"""One run: every programme of the mapping, each a :class:`ProgrammeRun` (lease →
read → decide → plan → push → save → figures, :mod:`buyin.programme_run`), recorded
in the state with the run's counts and metrics.

``dry_run`` runs the very same read, rules and planning, then stops before the
push and writes nothing but a run record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from buyin import fencing
from buyin.config import Settings
from buyin.errors import (
    EXIT_ACTIONS_FAILED,
    EXIT_OK,
    BuyinError,
    Interrupted,
    exit_code_for,
)
from buyin.mapping import Programme, load_programmes
from buyin.model.ledger import (
    Status,
)
from buyin.moodle.client import CallMetrics, MoodleClient
from buyin.moodle.fetch import SiteInfo
from buyin.moodle.lease import lease_store
from buyin.programme_run import ProgrammeOutcome, ProgrammeRun, RunOptions, agent_holder, names_of
from buyin.rules import (
    BACKFILL_DEFAULT,
)
from buyin.state import RunLock, State
from buyin.state.holder import RunHolder

log = logging.getLogger("buyin.sync")

__all__ = ["ProgrammeOutcome", "RunOptions", "SyncReport", "Syncer", "names_of", "run_sync"]

Clock = Callable[[], int]


def system_clock() -> int:
    return int(time.time())


@dataclass
class SyncReport:
    run_id: int
    mode: str
    started_at: int
    outcomes: list[ProgrammeOutcome] = field(default_factory=list)
    metrics: CallMetrics = field(default_factory=CallMetrics)
    seconds: float = 0.0
    error: BuyinError | None = None

    @property
    def dry_run(self) -> bool:
        return self.mode.endswith("dry-run")

    @property
    def applied(self) -> int:
        return sum(len(o.pushed.applied) for o in self.outcomes if o.pushed)

    @property
    def failed(self) -> int:
        return sum(len(o.pushed.failed) for o in self.outcomes if o.pushed)

    @property
    def planned(self) -> int:
        return sum(len(o.plan.actions) for o in self.outcomes if o.plan)

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return exit_code_for(self.error)
        codes = [exit_code_for(e) for o in self.outcomes for e in o.stops]
        if codes:
            return max(codes)
        return EXIT_ACTIONS_FAILED if self.failed else EXIT_OK

    def warnings(self) -> list[str]:
        """Every programme's silent no-ops, each prefixed with the programme's id."""
        return [f"{o.programme.id}: {w}" for o in self.outcomes for w in o.warnings]

    def counts(self) -> dict[str, Any]:
        """What the run record keeps (and `status` shows): counts, and any warnings."""
        counts: dict[str, Any] = {
            "programmes": len(self.outcomes),
            Status.PLANNED: self.planned,
            Status.APPLIED: self.applied,
            Status.FAILED: self.failed,
            "undecided": sum(len(o.undecided) for o in self.outcomes),
            "calls": self.metrics.total_calls,
        }
        if warnings := self.warnings():
            counts["warnings"] = warnings
        return counts

    def metrics_line(self) -> str:
        return f"metrics run={self.run_id} mode={self.mode} seconds={self.seconds:.2f} " + (
            self.metrics.line()
        )


class Syncer:
    def __init__(
        self,
        settings: Settings,
        client: MoodleClient,
        state: State,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self.settings = settings
        self.client = client
        self.state = state
        self.clock = clock

    def run(
        self,
        *,
        dry_run: bool = False,
        program: str | None = None,
        window: tuple[int, int] | None = None,
        progress: Callable[[int, int], None] | None = None,
        retro_kickoff: bool = False,
        kinds: frozenset[str] = BACKFILL_DEFAULT,
    ) -> SyncReport:
        """One pass. ``window`` makes it a backfill: events of ``kinds`` inside it
        (pre-checks, completions, starts) are news even before the start line, and
        every learner is fetched."""
        options = RunOptions(dry_run, program, window, retro_kickoff, kinds, progress)
        return self.run_with(options)

    def run_with(
        self, options: RunOptions, programmes: list[Programme] | None = None
    ) -> SyncReport:
        """Every programme of the mapping (``programmes``: as loaded and validated by
        the caller), one :class:`ProgrammeRun` each; a temporary failure that outlasts
        the client's retries ends the run (exit 75) once the programme it hit has
        saved what it did."""
        if programmes is None:
            programmes = load_programmes(self.settings.mapping_dir, options.program)
        started = time.monotonic()
        now = self.clock()
        report = SyncReport(
            run_id=self.state.start_run(options.mode, now),
            mode=options.mode,
            started_at=now,
            metrics=self.client.metrics,
        )
        try:
            site = SiteInfo.fetch(self.client)
            for programme in programmes:
                outcome = ProgrammeRun(self, programme, site, report.run_id, now, options).run()
                report.outcomes.append(outcome)
                if outcome.unreachable:
                    break  # Moodle is down: the next run resumes with the others
        except BuyinError as exc:  # unreachable site (75) or a site-wide set-up error (78)
            report.error = exc
        except Interrupted as exc:  # SIGTERM/SIGINT: recorded as such, then the exit
            report.seconds = time.monotonic() - started
            self._finish(report, f"interrupted ({exc.name})")
            raise
        report.seconds = time.monotonic() - started
        self._finish(report, "ok" if report.exit_code == EXIT_OK else f"exit {report.exit_code}")
        self.state.compact(self.clock(), self.settings.state_retention_days)
        return report

    def _finish(self, report: SyncReport, outcome: str) -> None:
        self.state.finish_run(
            report.run_id, self.clock(), outcome, report.counts(), report.metrics_line()
        )


def release_leases(
    settings: Settings, program: str | None = None, *, force: bool = False
) -> list[tuple[str, bool]] | None:
    """Give up this agent's leases (every mapped programme, or one): for moving the
    agent to another machine or state file; ``force``: whoever holds them (the holder
    is gone for good, or this copy of the state is to run from now on). (programme,
    whether one was removed); None: the site keeps no leases."""
    programmes = load_programmes(settings.mapping_dir, program)
    client = MoodleClient.from_settings(settings)
    with RunLock(settings.state_path):
        state = State(settings.state_path)
        try:
            store = lease_store(client, SiteInfo.fetch(client).functions, system_clock())
            if store is None:
                return None
            holder = agent_holder(state)
            return [
                (p.id, fencing.release(store, state, p.id, holder, force=force)) for p in programmes
            ]
        finally:
            state.close()


def run_sync(
    settings: Settings,
    *,
    dry_run: bool = False,
    program: str | None = None,
    window: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    retro_kickoff: bool = False,
    kinds: frozenset[str] = BACKFILL_DEFAULT,
    session: requests.Session | None = None,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
) -> SyncReport:
    """The `buyin sync` and `buyin backfill` entry point: mappings validated before
    anything, the lock (unless dry-run), the state, the client, one run."""
    programmes = load_programmes(settings.mapping_dir, program)  # validated once, here
    client = MoodleClient.from_settings(settings, session=session, sleep=sleep)
    lock = RunLock(settings.state_path)
    if not dry_run:
        lock.acquire()
    try:
        state = State(settings.state_path)
        # the system clock as it is at call time (tests replace it)
        now = clock or system_clock
        holder = RunHolder(state, now())
        try:
            if not dry_run:
                holder.take()
            options = RunOptions(dry_run, program, window, retro_kickoff, kinds, progress)
            return Syncer(settings, client, state, clock=now).run_with(options, programmes)
        finally:
            if not dry_run:
                holder.clear()
            state.close()
    finally:
        lock.release()
