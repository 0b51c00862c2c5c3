"""One run: for every programme, pull → rules → plan → push, recorded in the state.

``dry_run`` runs the very same pull, rules and planning, then stops before the
push and writes nothing but a run record.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import requests

from buyin import fencing, verify
from buyin.config import Settings
from buyin.errors import (
    EXIT_ACTIONS_FAILED,
    EXIT_OK,
    BuyinError,
    Interrupted,
    TransientError,
    exit_code_for,
)
from buyin.facts import learner_points
from buyin.mapping import Programme, load_programmes
from buyin.model.actions import Action, FiguresParams, Kind
from buyin.model.clock import HOUR, day_of
from buyin.model.history import HistoryPoint
from buyin.model.ledger import CachedLearner, ScheduleStatus, Status
from buyin.model.names import Names
from buyin.model.snapshot import Directory, LearnerData, Snapshot
from buyin.moodle.client import CallMetrics, MoodleClient
from buyin.moodle.fetch import SiteInfo, uses_plugin
from buyin.moodle.lease import lease_store
from buyin.moodle.pull import FollowupNeeds, PullCache, Pulled, PullOptions, pull
from buyin.plan import Plan, make_plan
from buyin.push import Pusher, PushResult
from buyin.report.pushed import pushed_figures
from buyin.rules import (
    BACKFILL_DEFAULT,
    BACKFILL_KINDS,
    History,
    RuleResult,
    evaluate,
    signoff_records,
)
from buyin.rules.noops import silent_noops
from buyin.state import RunLock, State
from buyin.state.holder import RunHolder

log = logging.getLogger("buyin.sync")

Clock = Callable[[], int]


def system_clock() -> int:
    return int(time.time())


@dataclass
class ProgrammeOutcome:
    programme: Programme
    plan: Plan | None = None
    pushed: PushResult | None = None
    undecided: dict[int, str] = field(default_factory=dict)
    usernames: dict[int, str] = field(default_factory=dict)
    #: people, courses, roles and activities by name (what the admin reads)
    names: Names = field(default_factory=Names)
    error: BuyinError | None = None
    reconciled: bool = False
    #: why the programme does (part of) nothing without an error (rules.noops)
    warnings: list[str] = field(default_factory=list)
    #: news the rules left to ``buyin backfill`` (per kind, learner -> when)
    held: dict[str, dict[int, int]] = field(default_factory=dict)
    #: the programme's first sync (nothing kept of it before this run)
    first: bool = False


#: how `buyin backfill` names each kind of news, and what it is
BACKFILL_WORDS = {
    "precheck": "pre-check results",
    "followup": "follow-ups of completions (job aid, refresher, manager note)",
    "insights": "what-you-gained messages",
    "kickoff": "welcomes to learners who had already started",
}


def backfill_hint(report: SyncReport) -> list[str]:
    """What a programme's first sync leaves to ``buyin backfill``, and the command that
    would send it (printed by the first sync's dry run)."""
    lines: list[str] = []
    for outcome in report.outcomes:
        held = {k: v for k, v in outcome.held.items() if v}
        if not outcome.first or not held:
            continue
        since = min(t for who in held.values() for t in who.values())
        lines.append(
            f"{outcome.programme.id}: before its start line, left to `buyin backfill` "
            "(nobody is told unless you send it):"
        )
        for kind in BACKFILL_KINDS:
            if kind in held:
                lines.append(f"  {BACKFILL_WORDS[kind]}: {len(held[kind])} learner(s)")
        flags = " ".join(f"--{k}" for k in BACKFILL_KINDS if k in held)
        lines.append(
            f"  to send them: buyin backfill --since {day_of(since)} "
            f"--program {outcome.programme.id} {flags} --dry-run (then without --dry-run)"
        )
    return lines


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
        codes = [exit_code_for(o.error) for o in self.outcomes if o.error is not None]
        codes += [
            exit_code_for(o.pushed.stopped_by)
            for o in self.outcomes
            if o.pushed and o.pushed.stopped_by
        ]
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
        self.window: tuple[int, int] | None = None
        self.progress: Callable[[int, int], None] | None = None
        self.retro_kickoff = False
        self.kinds: frozenset[str] = BACKFILL_DEFAULT

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
        programmes = load_programmes(self.settings.mapping_dir, program)
        started = time.monotonic()
        now = self.clock()
        mode = ("backfill" if window else "sync") + ("-dry-run" if dry_run else "")
        if mode == "sync-dry-run":
            mode = "dry-run"
        self.window = window
        self.progress = progress
        self.retro_kickoff = retro_kickoff
        self.kinds = kinds
        report = SyncReport(
            run_id=self.state.start_run(mode, now),
            mode=mode,
            started_at=now,
            metrics=self.client.metrics,
        )
        try:
            site = SiteInfo.fetch(self.client)
            for programme in programmes:
                report.outcomes.append(
                    self._programme(programme, site, report.run_id, now, dry_run)
                )
        except BuyinError as exc:  # unreachable site (75) or a site-wide set-up error (78)
            report.error = exc
        except Interrupted as exc:  # SIGTERM/SIGINT: recorded as such, then the exit
            report.seconds = time.monotonic() - started
            self.state.finish_run(
                report.run_id,
                self.clock(),
                f"interrupted ({exc.name})",
                report.counts(),
                report.metrics_line(),
            )
            raise
        report.seconds = time.monotonic() - started
        outcome = "ok" if report.exit_code == EXIT_OK else f"exit {report.exit_code}"
        self.state.finish_run(
            report.run_id, self.clock(), outcome, report.counts(), report.metrics_line()
        )
        return report

    def _programme(
        self, programme: Programme, site: SiteInfo, run_id: int, now: int, dry_run: bool
    ) -> ProgrammeOutcome:
        outcome = ProgrammeOutcome(programme)
        store = None if dry_run else lease_store(self.client, site.functions, now)
        if store is not None:
            outcome.error = fencing.take(store, self.state, programme.id, agent_holder(self.state))
            if outcome.error is not None:
                log.error("%s: %s", programme.id, outcome.error)
                return outcome
        ledger = self.state.ledger(programme.id)
        cache = self.state.cached_learners(programme.id)
        kept = self.state.programme(programme.id)
        # the last run's acknowledged writes, read back with everything else (buyin.verify)
        unverified = verify.unverified(self.state, ledger, programme.id)
        last = kept.reconciled_at
        reconcile = (
            self.window is not None
            or last is None
            or now - last >= self.settings.reconcile_hours * HOUR
        )
        mapped_at = kept.mapped_at if kept.mapped_at is not None else now
        needs = FollowupNeeds(
            settled=ledger.settled_learners("enrol", "followup") - unverified.enrolled,
            retention=bool(ledger.started_enrolments("followup", now) - set(kept.retention)),
            known_retention=kept.retention,
        )
        unsettled = ledger.unsettled_learners() | unverified.learners
        try:
            # awaiting sign-off: others may sign at any time (the plugin reports decisions itself)
            awaiting = (
                set()
                if uses_plugin(programme, site)
                else {
                    uid
                    for uid, c in cache.items()
                    if (comp := LearnerData.from_json(c.data).completion) is not None
                    and comp.awaiting_signoff
                }
            )
            pulled = pull(
                self.client,
                site,
                programme,
                PullCache(
                    learners=cache,
                    structure=kept.structure,
                    directory=Directory.from_json(kept.directory),
                    plugin=kept.plugin,
                ),
                PullOptions(
                    now=now,
                    reconcile=reconcile,
                    force_full=frozenset(unsettled),
                    poll_completion=frozenset(awaiting),
                    needs=needs,
                    concurrency=self.settings.concurrency,
                    page_size=self.settings.page_size,
                    progress=self.progress,
                ),
            )
            snapshot = pulled.snapshot
            gone = [] if dry_run else verify.settle(self.state, unverified, snapshot, now)
            if gone:
                ledger = self.state.ledger(programme.id)
            history = History(
                ledger=ledger,
                mapped_at=mapped_at,
                window=self.window,
                retro_kickoff=self.retro_kickoff,
                kinds=self.kinds,
            )
            result = evaluate(snapshot, history, now)
            outcome.plan = make_plan(
                programme.id,
                result.actions,
                # the figures for the plugin's pages are planned apart, after the history
                {k: e for k, e in ledger.items() if e.kind != Kind.FIGURES},
                snapshot,
                give_up_after=self.settings.retry_failed_runs,
            )
        except TransientError:
            raise
        except BuyinError as exc:
            log.error("%s: %s", programme.id, exc)
            outcome.error = exc
            return outcome
        outcome.undecided = result.undecided
        outcome.warnings = silent_noops(snapshot) + verify.describe(gone)
        outcome.held = result.held
        outcome.first = kept.mapped_at is None
        outcome.usernames = {uid: lr.person.username for uid, lr in snapshot.learners.items()}
        outcome.names = names_of(snapshot)
        outcome.reconciled = reconcile
        if dry_run:
            return outcome
        pusher = Pusher(
            self.client,
            self.state,
            run_id,
            now,
            agent_userid=site.userid,
            concurrency=self.settings.concurrency,
            # a killed run's actions, and messages whose failure may have hidden a delivery
            previously_planned=ledger.in_doubt(),
            plugin=site.bulk_overrides,
        )
        outcome.pushed = pusher.push(outcome.plan)
        self._save(pulled, result, outcome.pushed, run_id, now, reconcile)
        if site.saves_figures and outcome.pushed.stopped_by is None:
            pusher.push(self._figures_plan(snapshot))
        return outcome

    def _figures_plan(self, snapshot: Snapshot) -> Plan:
        """What local_buyin's My team and My results pages show, from the history just
        saved: only what the ledger does not hold as pushed (its key names its content)."""
        programme = snapshot.programme
        rows = [
            (uid, at, HistoryPoint.from_json(data))
            for uid, at, data in self.state.history(programme.id)
        ]
        precheck = programme.precheck
        courseid = snapshot.course.id
        actions = [
            Action(
                key=f"figures:c{courseid}:{row.role[0]}{row.userid}:{row.digest}",
                kind=Kind.FIGURES,
                program=programme.id,
                userid=row.userid,
                target=row.name or f"user {row.userid}",
                params=FiguresParams(courseid, row.role, row.managerid, row.figures, row.digest),
                reason={"rule": "figures"},
            )
            for row in pushed_figures(
                rows,
                programme=programme.name or programme.id,
                topics=[t.name for t in precheck.topics] if precheck else [],
                pass_mark=precheck.pass_mark if precheck else None,
                poll=snapshot.poll,
            )
        ]
        ledger = self.state.ledger(programme.id)
        kept = {k: e for k, e in ledger.items() if e.kind == Kind.FIGURES}
        return make_plan(
            programme.id, actions, kept, snapshot, give_up_after=self.settings.retry_failed_runs
        )

    def _save(
        self,
        pulled: Pulled,
        result: RuleResult,
        pushed: PushResult,
        run_id: int,
        now: int,
        reconciled: bool,
    ) -> None:
        saved = [
            CachedLearner(
                program=r.program,
                userid=r.userid,
                # a learner this run changed is refetched next run (we changed their state)
                signature="" if r.userid in pushed.touched else r.signature,
                data=r.data,
                first_seen=r.first_seen,
                fetched_at=r.fetched_at,
                undecided=result.undecided.get(r.userid),
            )
            for r in pulled.rows
        ]
        # one transaction: a kill leaves all of the programme's outcome or none of it
        with self.state.transaction():
            self._save_outcome(pulled, result, saved, run_id, now, reconciled)

    def _save_outcome(
        self,
        pulled: Pulled,
        result: RuleResult,
        saved: list[CachedLearner],
        run_id: int,
        now: int,
        reconciled: bool,
    ) -> None:
        snapshot = pulled.snapshot
        program = snapshot.programme.id
        self.state.save_learners(program, saved)
        ledger = self.state.ledger(program)
        records: dict[int, dict[str, Any]] = {}
        if snapshot.programme.signoff is not None:
            found = signoff_records.records(snapshot, ledger, now)
            records = {uid: asdict(r) for uid, r in found.items()}
            self.state.save_signoffs(program, list(records.values()), now)
        points = learner_points(snapshot, ledger, records, result.facts)
        if points:
            self.state.add_history(run_id, program, points, now)
        for key, (userid, due_at, payload) in result.schedule.items():
            self.state.schedule(
                key=key,
                program=program,
                kind="message",
                userid=userid,
                due_at=due_at,
                payload=payload,
                now=now,
            )
        wanted = set(result.schedule) | {a.key for a in result.actions}
        for item in self.state.scheduled(program):
            if ledger.status(item.key) == Status.APPLIED:
                self.state.set_schedule_status(item.key, ScheduleStatus.DONE)
            elif item.key not in wanted:
                # the rules no longer ask for it (enrolment left as is, learner gone)
                self.state.set_schedule_status(item.key, ScheduleStatus.CANCELLED)
        if snapshot.poll is not None:
            self.state.save_poll(program, snapshot.poll)
        self.state.save_names(program, names_of(snapshot))
        kept = self.state.programme(program)
        self.state.save_programme(
            replace(
                kept,
                structure=pulled.structure,
                directory=pulled.directory.to_json(),
                plugin=kept.plugin if pulled.plugin is None else pulled.plugin,
                retention={**kept.retention, **snapshot.retention},
                mapped_at=now if kept.mapped_at is None else kept.mapped_at,
                reconciled_at=now if reconciled else kept.reconciled_at,
            )
        )


def names_of(snapshot: Snapshot) -> Names:
    """Everyone and everything of a snapshot by the name an admin knows it by."""
    names = Names()
    people = [*snapshot.directory.values(), *snapshot.people.values()]
    people += [learner.person for learner in snapshot.learners.values()]
    for person in people:
        names.add_person(person.id, person.username, person.fullname)
    for course in (snapshot.course, snapshot.refresher):
        if course is not None:
            names.courses[course.id] = course.shortname
    names.roles.update({roleid: name for name, roleid in snapshot.roles.items()})
    names.activities.update({a.cmid: a.name for a in snapshot.activities})
    if snapshot.poll is not None:
        names.activities[snapshot.poll.cmid] = snapshot.poll.name
    return names


def agent_holder(state: State) -> str:
    """This agent as a lease names it: its state file's own id (made once) and the host."""
    agent_id = state.get_meta("agent_id")
    if agent_id is None:
        agent_id = uuid.uuid4().hex[:12]
        state.set_meta("agent_id", agent_id)
    return f"agent {agent_id} on {socket.gethostname()}"


def release_leases(
    settings: Settings, program: str | None = None, *, force: bool = False
) -> list[tuple[str, bool]] | None:
    """Give up this agent's leases (every mapped programme, or one): for moving the
    agent to another machine or state file; ``force``: whoever holds them (the holder
    is gone for good). (programme, whether one was removed); None: the site keeps no
    leases."""
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
    load_programmes(settings.mapping_dir, program)
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
            return Syncer(settings, client, state, clock=now).run(
                dry_run=dry_run,
                program=program,
                window=window,
                progress=progress,
                retro_kickoff=retro_kickoff,
                kinds=kinds,
            )
        finally:
            if not dry_run:
                holder.clear()
            state.close()
    finally:
        lock.release()
