"""One programme's pass, in named steps (lease → read → decide → plan → push → save
→ figures), and what it leaves for the run's report: :class:`ProgrammeRun`,
:class:`ProgrammeOutcome`, :class:`RunOptions` (what the command line asked).
:mod:`buyin.sync` runs every programme.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from buyin import fencing, verify
from buyin.config import Settings
from buyin.errors import (
    BuyinError,
    TransientError,
)
from buyin.facts import learner_points
from buyin.mapping import Programme
from buyin.model.actions import Action, FiguresParams, Kind, params_to_json
from buyin.model.clock import HOUR
from buyin.model.history import HistoryPoint
from buyin.model.ledger import (
    CachedLearner,
    Ledger,
    LedgerEntry,
    ProgrammeState,
    ScheduleStatus,
    Status,
)
from buyin.model.names import Names
from buyin.model.snapshot import Directory, Snapshot
from buyin.moodle.client import MoodleClient
from buyin.moodle.fetch import SiteInfo
from buyin.moodle.lease import lease_store
from buyin.moodle.pull import FollowupNeeds, PullCache, Pulled, PullOptions, pull
from buyin.plan import Plan, make_plan
from buyin.push import Pusher, PushResult
from buyin.report.pushed import pushed_figures
from buyin.rules import (
    BACKFILL_DEFAULT,
    History,
    RuleResult,
    evaluate,
    signoff_records,
)
from buyin.rules.noops import silent_noops
from buyin.state import State

log = logging.getLogger("buyin.sync")


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
    #: the figures of local_buyin's pages: planned (a dry run's too) and pushed
    figures: Plan | None = None
    figures_pushed: PushResult | None = None

    @property
    def stops(self) -> list[BuyinError]:
        """What stopped the programme or one of its pushes."""
        found = [self.error] if self.error is not None else []
        for pushed in (self.pushed, self.figures_pushed):
            if pushed is not None and pushed.stopped_by is not None:
                found.append(pushed.stopped_by)
        return found

    @property
    def unreachable(self) -> bool:
        """Moodle failed temporarily past the client's retries (the run ends, exit 75)."""
        return any(isinstance(e, TransientError) for e in self.stops)


@dataclass(frozen=True)
class RunOptions:
    """What the command line asked of one run."""

    dry_run: bool = False
    #: only this programme id
    program: str | None = None
    #: a backfill's window: events of ``kinds`` inside it are news before the start line
    window: tuple[int, int] | None = None
    retro_kickoff: bool = False
    kinds: frozenset[str] = BACKFILL_DEFAULT
    #: ``progress(done, total)`` as learners are read (the command line's progress bar)
    progress: Callable[[int, int], None] | None = None

    @property
    def mode(self) -> str:
        """How the run record names it: sync, dry-run, backfill, backfill-dry-run."""
        if self.window is None:
            return "dry-run" if self.dry_run else "sync"
        return "backfill-dry-run" if self.dry_run else "backfill"


class RunContext(Protocol):
    """What every programme of a run shares (a :class:`buyin.sync.Syncer`)."""

    settings: Settings
    client: MoodleClient
    state: State


class ProgrammeRun:
    """One programme's pass, in named steps:
    lease → read → decide → plan → push → save → figures.

    A dry run stops after ``plan`` (which plans the figures too, from the history
    this run would save); a refusal in read/decide/plan ends the programme with its
    error; a temporary failure before the push ends the run (nothing done, nothing
    to save)."""

    def __init__(
        self,
        syncer: RunContext,
        programme: Programme,
        site: SiteInfo,
        run_id: int,
        now: int,
        options: RunOptions,
    ) -> None:
        self.settings = syncer.settings
        self.client = syncer.client
        self.state = syncer.state
        self.programme = programme
        self.site = site
        self.run_id = run_id
        self.now = now
        self.options = options
        self.outcome = ProgrammeOutcome(programme)
        # what the state kept of the programme (read once, by `recall`)
        self.ledger = Ledger()
        self.cache: dict[int, CachedLearner] = {}
        self.kept = ProgrammeState(programme.id)
        # the last run's acknowledged writes to check, and those Moodle did not keep
        self.unverified = verify.Unverified(())
        self.dropped: list[LedgerEntry] = []
        # the ledger as the push left it (read once more, by `save`; the figures use it)
        self.pushed_ledger = Ledger()

    def run(self) -> ProgrammeOutcome:
        if not self.lease():
            return self.outcome
        self.recall()
        try:
            pulled = self.read()
            self.recheck(pulled.snapshot)
            result = self.decide(pulled.snapshot)
            self.plan(pulled.snapshot, result)
        except TransientError:
            raise
        except BuyinError as exc:
            log.error("%s: %s", self.programme.id, exc)
            self.outcome.error = exc
            return self.outcome
        if self.options.dry_run:
            return self.outcome
        pusher = self.push()
        self.save(pulled, result)
        self.figures(pusher, pulled.snapshot)
        return self.outcome

    # -- the steps -----------------------------------------------------------------

    def lease(self) -> bool:
        """Take or renew the programme's lease in Moodle with a new fencing token
        (:mod:`buyin.fencing`) where the site keeps leases (local_buyin, or the agent's
        preference): False (the refusal) when another agent holds it, or when this
        state is a copy or an old backup of the one that last ran."""
        if self.options.dry_run:
            return True
        store = lease_store(self.client, self.site.functions, self.now)
        if store is None:
            return True
        program = self.programme.id
        error = fencing.take(store, self.state, program, agent_holder(self.state))
        if error is not None:
            self.outcome.error = error
            log.error("%s: %s", program, error)
            return False
        return True

    def recall(self) -> None:
        """What earlier runs kept: the ledger, the learner cache, the programme's state."""
        self.ledger = self.state.ledger(self.programme.id)
        self.cache = self.state.cached_learners(self.programme.id)
        self.kept = self.state.programme(self.programme.id)
        # the last run's acknowledged writes, read back with everything else (buyin.verify)
        self.unverified = verify.unverified(self.state, self.ledger, self.programme.id)

    @property
    def reconcile(self) -> bool:
        """A full read this run: a backfill, the first sync, or reconcile_hours since the last."""
        last = self.kept.reconciled_at
        return (
            self.options.window is not None
            or last is None
            or self.now - last >= self.settings.reconcile_hours * HOUR
        )

    def read(self) -> Pulled:
        """The snapshot from Moodle, what earlier runs kept saving calls."""
        kept, ledger, now = self.kept, self.ledger, self.now
        needs = FollowupNeeds(
            settled=ledger.settled_learners("enrol", "followup") - self.unverified.enrolled,
            retention=bool(ledger.started_enrolments("followup", now) - set(kept.retention)),
            known_retention=kept.retention,
        )
        cache = PullCache(
            learners=self.cache,
            structure=kept.structure,
            directory=Directory.from_json(kept.directory),
            plugin=kept.plugin,
        )
        options = PullOptions(
            now=now,
            reconcile=self.reconcile,
            force_full=frozenset(ledger.unsettled_learners() | self.unverified.learners),
            needs=needs,
            concurrency=self.settings.concurrency,
            page_size=self.settings.page_size,
            progress=self.options.progress,
        )
        return pull(self.client, self.site, self.programme, cache, options)

    def recheck(self, snapshot: Snapshot) -> None:
        """The last run's acknowledged writes against what Moodle holds: those it did
        not keep are failed in the ledger, so this run plans them again, once."""
        if self.options.dry_run:
            return
        self.dropped = verify.settle(self.state, self.unverified, snapshot, self.now)
        if self.dropped:
            self.ledger = self.state.ledger(self.programme.id)

    def decide(self, snapshot: Snapshot) -> RuleResult:
        """The rules: what should be true, from the snapshot and the history."""
        history = History(
            ledger=self.ledger,
            mapped_at=self.kept.mapped_at if self.kept.mapped_at is not None else self.now,
            window=self.options.window,
            retro_kickoff=self.options.retro_kickoff,
            kinds=self.options.kinds,
        )
        return evaluate(snapshot, history, self.now)

    def plan(self, snapshot: Snapshot, result: RuleResult) -> None:
        """What to push (what the ledger and Moodle do not hold yet); a dry run also
        plans the figures, from the history this run would save."""
        outcome = self.outcome
        outcome.plan = make_plan(
            self.programme.id,
            result.actions,
            # the figures for the plugin's pages are planned apart, from the history
            {k: e for k, e in self.ledger.items() if e.kind != Kind.FIGURES},
            snapshot,
            give_up_after=self.settings.retry_failed_runs,
        )
        outcome.undecided = result.undecided
        outcome.warnings = silent_noops(snapshot) + verify.describe(self.dropped)
        outcome.held = result.held
        outcome.first = self.kept.mapped_at is None
        outcome.usernames = {uid: lr.person.username for uid, lr in snapshot.learners.items()}
        outcome.names = names_of(snapshot)
        outcome.reconciled = self.reconcile
        if self.options.dry_run and self.site.saves_figures:
            # as if every planned action were applied: what the real run would push
            after = as_applied(self.ledger, outcome.plan, self.now)
            _, points = run_points(snapshot, after, result, self.now)
            history = self.state.history(self.programme.id)
            history += [(uid, self.now, point) for uid, point in points.items()]
            outcome.figures = figures_plan(snapshot, history, after, self.settings)

    def push(self) -> Pusher:
        """The plan, applied in Moodle, every outcome recorded in the ledger."""
        assert self.outcome.plan is not None
        pusher = Pusher(
            self.client,
            self.state,
            self.run_id,
            self.now,
            agent_userid=self.site.userid,
            concurrency=self.settings.concurrency,
            # a killed run's actions, and messages whose failure may have hidden a delivery
            previously_planned=self.ledger.in_doubt(),
            plugin=self.site.bulk_overrides,
        )
        self.outcome.pushed = pusher.push(self.outcome.plan)
        return pusher

    def save(self, pulled: Pulled, result: RuleResult) -> None:
        """The learner cache, the history, the schedule and what is kept of the
        programme, in one transaction: a kill leaves all of it or none of it."""
        pushed = self.outcome.pushed
        assert pushed is not None
        saved = [
            replace(
                r,
                # a learner this run changed is refetched next run (we changed their state)
                signature="" if r.userid in pushed.touched else r.signature,
                undecided=result.undecided.get(r.userid),
            )
            for r in pulled.rows
        ]
        with self.state.transaction():
            self._save_outcome(pulled, result, saved)

    def figures(self, pusher: Pusher, snapshot: Snapshot) -> None:
        """What local_buyin's My team and My results pages show, from the history just
        saved (not after a push that stopped: the next run pushes them)."""
        pushed = self.outcome.pushed
        if not self.site.saves_figures or pushed is None or pushed.stopped_by is not None:
            return
        history = self.state.history(self.programme.id)
        plan = figures_plan(snapshot, history, self.pushed_ledger, self.settings)
        self.outcome.figures = plan
        self.outcome.figures_pushed = pusher.push(plan)

    # -- saving ----------------------------------------------------------------------

    def _save_outcome(self, pulled: Pulled, result: RuleResult, saved: list[CachedLearner]) -> None:
        snapshot, program, now = pulled.snapshot, self.programme.id, self.now
        self.state.save_learners(program, saved)
        ledger = self.pushed_ledger = self.state.ledger(program)  # as the push left it
        records, points = run_points(snapshot, ledger, result, now)
        if snapshot.programme.signoff is not None:
            self.state.save_signoffs(program, list(records.values()), now)
        if points:
            self.state.add_history(self.run_id, program, points, now)
        self._save_schedule(result, ledger)
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
                reconciled_at=now if self.outcome.reconciled else kept.reconciled_at,
            )
        )

    def _save_schedule(self, result: RuleResult, ledger: Ledger) -> None:
        program = self.programme.id
        for key, (userid, due_at, payload) in result.schedule.items():
            self.state.schedule(
                key=key,
                program=program,
                kind="message",
                userid=userid,
                due_at=due_at,
                payload=payload,
                now=self.now,
            )
        wanted = set(result.schedule) | {a.key for a in result.actions}
        for item in self.state.scheduled(program):
            if ledger.status(item.key) == Status.APPLIED:
                self.state.set_schedule_status(item.key, ScheduleStatus.DONE)
            elif item.key not in wanted:
                # the rules no longer ask for it (enrolment left as is, learner gone)
                self.state.set_schedule_status(item.key, ScheduleStatus.CANCELLED)


def run_points(
    snapshot: Snapshot, ledger: Ledger, result: RuleResult, now: int
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """The sign-off records and the history points a run saves (pure)."""
    records: dict[int, dict[str, Any]] = {}
    if snapshot.programme.signoff is not None:
        found = signoff_records.records(snapshot, ledger, now)
        records = {uid: asdict(r) for uid, r in found.items()}
    return records, learner_points(snapshot, ledger, records, result.facts)


def as_applied(ledger: Ledger, plan: Plan, now: int) -> Ledger:
    """The ledger as a push applying every planned action would leave it (a dry run's
    guess at the history the real run saves)."""
    entries = dict(ledger.items())
    for action in [*plan.actions, *plan.verified]:
        entries[action.key] = LedgerEntry(
            key=action.key,
            program=action.program,
            kind=action.kind,
            userid=action.userid,
            target=action.target,
            payload=params_to_json(action.params),
            reason=dict(action.reason),
            status=Status.APPLIED,
            attempts=1,
            last_error=None,
            created_at=now,
            updated_at=now,
            applied_at=now,
        )
    return Ledger(entries)


def figures_plan(
    snapshot: Snapshot,
    history: Sequence[tuple[int, int, Mapping[str, Any]]],
    ledger: Ledger,
    settings: Settings,
) -> Plan:
    """The figures of local_buyin's My team and My results pages, from the history:
    only what the ledger does not hold as pushed (its key names its content)."""
    programme = snapshot.programme
    rows = [(uid, at, HistoryPoint.from_json(data)) for uid, at, data in history]
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
    kept = {k: e for k, e in ledger.items() if e.kind == Kind.FIGURES}
    return make_plan(
        programme.id, actions, kept, snapshot, give_up_after=settings.retry_failed_runs
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
