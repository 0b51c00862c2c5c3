"""What `sync`, `backfill`, `status` and `demo` print: plain text for people and cron mail.

People, courses, roles and activities are named (``learner01 (Aisha Bello)``, ``CC201``,
``student``), dates are written as people write them (``24 Sep 2026``). A ledger key
appears only where the admin types it (``buyin retry``), and the line says so.

Three levels for `sync`: ``quiet`` (problems on ``warn``, then one summary line),
the default (a few lines per programme: counts by kind, failures grouped by their
error, undecided learners counted by reason), and ``verbose`` (every action and every
undecided learner by name).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from buyin.model.actions import (
    Action,
    EnrolParams,
    FiguresParams,
    GroupAddParams,
    GroupCreateParams,
    Kind,
    MessageParams,
    OverrideParams,
    Params,
    RoleAssignParams,
    SignoffRequestParams,
    params_from_json,
)
from buyin.model.clock import DAY, day_of
from buyin.model.ledger import LedgerEntry, ScheduledItem, Status
from buyin.model.names import Names, human_day, human_time, plural
from buyin.plan import MAX_ATTEMPTS
from buyin.rules import BACKFILL_KINDS
from buyin.state import State
from buyin.sync import ProgrammeOutcome, SyncReport

Echo = Callable[[str], None]

#: how a count of each kind reads ("11 activity completions")
KIND_WORDS: dict[Kind, tuple[str, str]] = {
    Kind.OVERRIDE: ("activity completion", "activity completions"),
    Kind.ENROL: ("enrolment", "enrolments"),
    Kind.ROLE_ASSIGN: ("role assignment", "role assignments"),
    Kind.GROUP_CREATE: ("group to create", "groups to create"),
    Kind.GROUP_ADD: ("group membership", "group memberships"),
    Kind.SIGNOFF_REQUEST: ("sign-off request", "sign-off requests"),
    Kind.MESSAGE: ("message", "messages"),
}
#: failed actions listed one by one without ``-v``
FAILED_SHOWN = 5


def when(ts: int | None) -> str:
    return human_time(ts)


# -- one action, named ---------------------------------------------------------------


def _after_arrow(target: str) -> str:
    return target.rsplit(" → ", 1)[-1]


def describe_params(kind: Kind, userid: int, target: str, p: Params, names: Names) -> str:
    """How an action reads for an admin: names and dates, never ids."""
    who = names.person(userid)
    if isinstance(p, OverrideParams):
        return f"complete {names.activity(p.cmid)} for {who}"
    if isinstance(p, MessageParams):
        return f"message {names.person(p.touserid)}: {p.summary or p.template}".rstrip(": ")
    if isinstance(p, EnrolParams):
        start = f" from {human_day(p.timestart)}" if p.timestart else ""
        return f"enrol {who} in {names.course(p.courseid)} as {names.role(p.roleid)}{start}"
    if isinstance(p, RoleAssignParams):
        return f"give {who} the role {names.role(p.roleid)} in {names.course(p.courseid)}"
    if isinstance(p, GroupCreateParams):
        return f"create group {p.name!r} in {names.course(p.courseid)}"
    if isinstance(p, GroupAddParams):
        return f"add {who} to group {_after_arrow(target)!r} in {names.course(p.courseid)}"
    if isinstance(p, FiguresParams):
        if p.role == "manager":
            return f"save {who}'s poll answer for their My team page"
        return f"save {who}'s figures for the My results and My team pages"
    assert isinstance(p, SignoffRequestParams)
    return f"ask {names.person(p.managerid)} to sign off {who} on their Sign-off requests page"


def describe_action(action: Action, names: Names) -> str:
    return describe_params(action.kind, action.userid, action.target, action.params, names)


def describe_entry(entry: LedgerEntry, names: Names) -> str:
    try:
        kind = Kind(entry.kind)
        params = params_from_json(kind, entry.payload)
    except (ValueError, TypeError):
        return f"{entry.kind} {entry.target}"
    return describe_params(kind, entry.userid, entry.target, params, names)


# -- sync ------------------------------------------------------------------------------


def _counts_by_kind(actions: Iterable[Action]) -> str:
    counts = Counter(a.kind for a in actions)
    parts = []
    for kind, (one, many) in KIND_WORDS.items():
        if counts[kind]:
            parts.append(plural(counts[kind], one, many))
    return ", ".join(parts)


def _by_reason(undecided: dict[int, str]) -> str:
    counts = Counter(undecided.values())
    return ", ".join(f"{n} {why}" for why, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _title(report: SyncReport) -> str:
    return report.mode.replace("-dry-run", "").replace("dry-run", "sync")


def not_tried(outcome: ProgrammeOutcome) -> int:
    """Planned actions a stopped push never reached (the next sync tries them)."""
    if outcome.plan is None or outcome.pushed is None:
        return 0
    pushed = outcome.pushed
    reached = len(pushed.applied) + len(pushed.failed) + len(pushed.deferred)
    reached -= len(outcome.plan.verified)  # counted as applied, never planned
    return max(0, len(outcome.plan.actions) - reached)


def summary_line(report: SyncReport) -> str:
    """The one line `sync --quiet` prints: what the run did, in counts."""
    head = f"{_title(report)} run {report.run_id}"
    if report.dry_run:
        head += " (dry run)"
    undecided = sum(len(o.undecided) for o in report.outcomes)
    stopped = [o.programme.id for o in report.outcomes if o.error is not None]
    stopped += [o.programme.id for o in report.outcomes if o.pushed and o.pushed.stopped_by]
    parts: list[str] = []
    if report.error is not None:
        parts.append("stopped before any programme")
    elif report.dry_run:
        parts.append(f"{plural(report.planned, 'action')} to take, nothing changed")
    elif report.planned == 0 and not stopped:
        parts.append("nothing to do")
    else:
        parts.append(f"applied {report.applied}, failed {report.failed}")
        waiting = sum(len(o.pushed.deferred) for o in report.outcomes if o.pushed)
        skipped = sum(not_tried(o) for o in report.outcomes)
        if waiting:
            parts.append(f"{waiting} waiting for an action they require")
        if skipped:
            parts.append(f"{skipped} not tried")
    if stopped:
        parts.append("stopped in " + ", ".join(stopped))
    parts.append(plural(len(report.outcomes), "programme"))
    if undecided:
        parts.append(f"{plural(undecided, 'learner')} undecided")
    return f"{head}: " + "; ".join(parts) + f" (exit {report.exit_code})"


def problem_lines(outcome: ProgrammeOutcome, *, verbose: bool = False) -> list[str]:
    """What went wrong in one programme: the error and what to do, failures grouped by
    their error (each action listed with ``verbose``, else the first few)."""
    name = outcome.programme.id
    lines: list[str] = []
    if outcome.error is not None:
        lines.append(f"  {name}: stopped: {outcome.error}")
        if outcome.error.hint:
            lines.append(f"    what to do: {outcome.error.hint}")
        return lines
    pushed = outcome.pushed
    if pushed is None:
        return lines
    groups: dict[str, list[Action]] = {}
    for action, error in pushed.failed:
        groups.setdefault(error, []).append(action)
    for error, actions in groups.items():
        lines.append(f"  {name}: {plural(len(actions), 'action')} failed: {error}")
        shown = actions if verbose else actions[:FAILED_SHOWN]
        for action in shown:
            lines.append(f"    {describe_action(action, outcome.names)}")
        if len(shown) < len(actions):
            lines.append(f"    … and {len(actions) - len(shown)} more (`buyin sync -v` lists them)")
    if groups:
        lines.append(
            f"    once fixed: `buyin retry --program {name}`, or let the next sync try again"
        )
    if pushed.stopped_by is not None:
        lines.append(f"  {name}: stopped: {pushed.stopped_by}")
        if pushed.stopped_by.hint:
            lines.append(f"    what to do: {pushed.stopped_by.hint}")
        left = not_tried(outcome)
        if left:
            lines.append(f"    {plural(left, 'action')} not tried: the next sync tries them")
    return lines


def print_sync_report(
    report: SyncReport,
    echo: Echo,
    *,
    verbose: bool = False,
    quiet: bool = False,
    warn: Echo | None = None,
) -> None:
    """``warn`` takes the problems (stderr under cron); ``echo`` the rest."""
    warn = warn or echo
    if quiet:
        for outcome in report.outcomes:
            for line in problem_lines(outcome, verbose=verbose):
                warn(line)
        echo(summary_line(report))
        return
    title = _title(report)
    if report.dry_run:
        title = f"{title} (dry run: nothing was changed in Moodle)"
    echo(f"{title} (run {report.run_id})")
    for outcome in report.outcomes:
        _print_outcome(report, outcome, echo, warn, verbose)
    echo(summary_line(report))


def _print_outcome(
    report: SyncReport, outcome: ProgrammeOutcome, echo: Echo, warn: Echo, verbose: bool
) -> None:
    programme = outcome.programme
    plan = outcome.plan
    if plan is not None:
        full = " (full reconciliation)" if outcome.reconciled else ""
        if not plan.actions:
            echo(f"  {programme.id}: nothing to do ({plan.done} done before){full}")
        else:
            verb = "to take" if report.dry_run else "planned"
            echo(
                f"  {programme.id}: {plural(len(plan.actions), 'action')} {verb}: "
                f"{_counts_by_kind(plan.actions)}{full}"
            )
            if plan.satisfied or plan.done:
                echo(f"    {len(plan.satisfied)} already true in Moodle, {plan.done} done before")
        if verbose or report.dry_run:  # a dry run is read for its actions
            for action in plan.actions:
                prefix = "would " if report.dry_run else ""
                echo(f"    {prefix}{describe_action(action, outcome.names)}")
        if outcome.pushed is not None and plan.actions:
            pushed = outcome.pushed
            line = f"    applied {len(pushed.applied)}, failed {len(pushed.failed)}"
            if pushed.deferred:
                line += f", {len(pushed.deferred)} waiting for an action they require"
            echo(line)
        for action in plan.given_up:
            warn(
                f"  {programme.id}: no longer retried after failing on "
                f"{MAX_ATTEMPTS}+ runs: {describe_action(action, outcome.names)}"
            )
    figures = outcome.figures
    if report.dry_run and figures is not None and figures.actions:
        # planned with the rest, from the history this run would save
        echo(
            f"    {plural(len(figures.actions), 'row')} of figures for local_buyin's pages to save"
        )
        for action in figures.actions:
            echo(f"    would {describe_action(action, outcome.names)}")
    for line in problem_lines(outcome, verbose=verbose):
        warn(line)
    if outcome.undecided:
        echo(
            f"    {plural(len(outcome.undecided), 'learner')} undecided: "
            f"{_by_reason(outcome.undecided)}" + ("" if verbose else " (`-v` lists them)")
        )
        if verbose:
            for uid, why in sorted(outcome.undecided.items()):
                echo(f"      {outcome.names.person(uid)}: {why}")


# -- status ----------------------------------------------------------------------------


def print_stuck(
    failed: list[LedgerEntry], echo: Echo, give_up_after: int, names: Names | None = None
) -> None:
    """Actions that failed on consecutive runs: the reason (with the fix), and whether
    they are still tried; the key is shown because `buyin retry` takes it."""
    names = names or Names()
    stuck = [e for e in failed if e.attempts >= 2]
    if not stuck:
        return
    echo(f"stuck actions (failed on consecutive runs): {len(stuck)}")
    for e in sorted(stuck, key=lambda e: e.key):
        quiet = e.attempts >= give_up_after
        echo(
            f"  {e.program}: {describe_entry(e, names)}: failed on {e.attempts} runs"
            + (", no longer retried" if quiet else "")
        )
        echo(f"    reason: {e.last_error or 'unknown'}")
        if quiet:
            echo(f"    once fixed, type: buyin retry --program {e.program} {e.key}")


def _runs(state: State, echo: Echo, limit: int, sync_running: bool) -> int:
    runs = state.runs(limit)
    echo("last runs:")
    if not runs:
        echo("  none")
    for run in runs:
        counts = ", ".join(f"{k} {v}" for k, v in run.counts.items() if k != "warnings")
        outcome = run.outcome
        if outcome == "running" and not sync_running:
            outcome = "did not finish (the process was killed)"
        echo(f"  #{run.id} {run.mode} {when(run.started_at)} → {outcome}  {counts}")
    return max((r.started_at for r in runs), default=0)


def _actions(state: State, echo: Echo, names: Names) -> None:
    by_status = state.counts_by_status()
    echo("actions: " + (", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) or "none"))
    planned = state.entries(Status.PLANNED, limit=50)
    if planned:
        echo("planned actions (the next sync applies them):")
        for e in planned:
            echo(f"  {e.program}: {describe_entry(e, names)}")
    failed = state.entries(Status.FAILED, limit=50)
    if failed:
        echo("failed actions (`buyin retry --program ID KEY` takes the key shown):")
        groups: dict[tuple[str, str], list[LedgerEntry]] = {}
        for e in failed:
            groups.setdefault((e.program, e.last_error or "unknown error"), []).append(e)
        for (program, error), entries in groups.items():
            echo(f"  {program}: {plural(len(entries), 'action')} failed: {error}")
            for e in entries:
                tries = plural(e.attempts, "attempt")
                echo(f"    {describe_entry(e, names)}, {tries} (key: {e.key})")


def _signoffs(state: State, echo: Echo, names: Names, now: int) -> None:
    open_signoffs = [r for r in state.signoffs() if r["status"] not in ("signed", "cancelled")]
    echo(f"open sign-offs: {len(open_signoffs)}")
    by_approver: dict[tuple[str, int | None], list[dict[str, Any]]] = {}
    for row in open_signoffs:
        by_approver.setdefault((str(row["program"]), row["approver"]), []).append(row)
    for (program, approver), rows in sorted(by_approver.items(), key=lambda kv: str(kv[0])):
        who = names.person(approver) if approver is not None else "(nobody can sign)"
        echo(f"  {program}: approver {who}:")
        for row in rows:
            since = row["awaiting_since"]
            age = (
                f"waiting {plural(round((now - int(since)) / DAY), 'day')}"
                if since and now
                else "waiting"
            )
            parts = [names.person(int(row["userid"])), str(row["status"]), age]
            if row["reminders"]:
                parts.append(plural(int(row["reminders"]), "reminder"))
            if row["escalated_to"]:
                parts.append(
                    f"escalated to {names.person(int(row['escalated_to']))} "
                    f"on {human_day(row['escalated_at'])}"
                )
            if row["note"]:
                parts.append(str(row["note"]))
            echo("    " + ", ".join(parts))


def _undecided(state: State, echo: Echo, names: Names) -> None:
    undecided = state.undecided()
    echo(f"undecided learners: {len(undecided)}")
    grouped: dict[tuple[str, str], list[int]] = {}
    for program, userid, why in undecided:
        grouped.setdefault((program, why), []).append(userid)
    for (program, why), users in sorted(grouped.items(), key=lambda kv: (kv[0][0], -len(kv[1]))):
        echo(f"  {program}: {why} ({len(users)}): " + ", ".join(names.person(u) for u in users))


def _scheduled_what(item: ScheduledItem, names: Names) -> str:
    parts = item.key.split(":")
    what = parts[1].replace("-", " ") if len(parts) > 1 else item.kind
    course = item.payload.get("course")
    where = f" ({names.course(int(course))})" if isinstance(course, int) else ""
    return f"{item.kind} to {names.person(item.userid)}: {what}{where}"


def print_status(
    state: State,
    echo: Echo,
    *,
    limit: int = 10,
    give_up_after: int = MAX_ATTEMPTS,
    sync_running: bool = False,
) -> None:
    """``sync_running``: another process holds the run lock (else a "running" run was killed)."""
    names = state.names()
    now = _runs(state, echo, limit, sync_running)
    _actions(state, echo, names)
    print_stuck(state.entries(Status.FAILED, limit=1000), echo, give_up_after, names)
    _signoffs(state, echo, names, now)
    _undecided(state, echo, names)
    pending = state.scheduled()
    if pending:
        echo(f"scheduled: {len(pending)}")
        for item in pending[:50]:
            echo(f"  {item.program}: {_scheduled_what(item, names)}, due {human_day(item.due_at)}")


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


class Reporter:
    """What a sync or a backfill prints: the progress as learners are read, then the
    run (the backfill hint of a first dry run, every programme, the summary line, the
    silent no-ops, the metrics line). Problems go to ``warn`` (stderr under cron)."""

    def __init__(
        self,
        echo: Echo,
        warn: Echo,
        *,
        verbose: bool = False,
        quiet: bool = False,
        show_metrics: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.echo = echo
        self.warn = warn
        self.verbose = verbose
        self.quiet = quiet
        self.show_metrics = show_metrics
        #: ``progress(done, total)`` as learners are read (a progress bar), or None
        self.progress = progress

    def run(self, report: SyncReport, *, backfill_hint_too: bool = False) -> None:
        if backfill_hint_too and report.dry_run:
            for line in backfill_hint(report):
                self.echo(line)
        print_sync_report(report, self.echo, verbose=self.verbose, quiet=self.quiet, warn=self.warn)
        # silent no-ops (a sign-off role nobody holds, a course without learners...)
        print_warnings(report.warnings(), self.echo)
        logging.getLogger("buyin.metrics").info(report.metrics_line())
        if self.show_metrics or self.verbose:
            self.echo(report.metrics_line())


def print_warnings(warnings: list[str], echo: Echo) -> None:
    """Silent no-ops (a programme that runs cleanly and does nothing), one line each."""
    for warning in warnings:
        echo(f"warning: {warning}")


def last_run_warnings(state: State) -> list[str]:
    """The warnings of the last run that finished (what `status` repeats)."""
    finished = next((r for r in state.runs(50) if r.outcome != "running"), None)
    found = finished.counts.get("warnings", []) if finished is not None else []
    return [str(w) for w in found] if isinstance(found, list) else []


__all__ = [
    "Reporter",
    "backfill_hint",
    "describe_action",
    "last_run_warnings",
    "print_status",
    "print_stuck",
    "print_sync_report",
    "print_warnings",
    "summary_line",
]
