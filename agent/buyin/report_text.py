"""What `sync`, `status` and `demo` print: plain text for people and cron mail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from buyin.actions import describe
from buyin.model.clock import DAY
from buyin.model.ledger import LedgerEntry, Status
from buyin.plan import MAX_ATTEMPTS
from buyin.state import State
from buyin.sync import SyncReport

Echo = Callable[[str], None]


def when(ts: int | None) -> str:
    if not ts:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def print_sync_report(report: SyncReport, echo: Echo, *, verbose: bool = True) -> None:
    title = report.mode.replace("-dry-run", "").replace("dry-run", "sync")
    if report.dry_run:
        title = f"{title} (dry run: nothing was changed in Moodle)"
    echo(f"{title} (run {report.run_id})")
    for outcome in report.outcomes:
        programme = outcome.programme
        if outcome.error is not None:
            echo(f"  {programme.id}: stopped: {outcome.error}")
            if outcome.error.hint:
                echo(f"    what to do: {outcome.error.hint}")
            continue
        plan = outcome.plan
        assert plan is not None
        verb = "to take" if report.dry_run else "planned"
        echo(
            f"  {programme.id}: {len(plan.actions)} action(s) {verb}, "
            f"{len(plan.satisfied)} already true in Moodle, {plan.done} done before"
            + (" (full reconciliation)" if outcome.reconciled else "")
        )
        if verbose:
            for action in plan.actions:
                echo(f"    {'would ' if report.dry_run else ''}{describe(action)}")
        if outcome.pushed is not None:
            pushed = outcome.pushed
            echo(f"    applied {len(pushed.applied)}, failed {len(pushed.failed)}")
            for action, error in pushed.failed:
                echo(f"    FAILED {describe(action)}: {error}")
            if pushed.stopped_by is not None:
                echo(f"    stopped: {pushed.stopped_by}")
        for action in plan.given_up:
            echo(f"    given up after repeated failures: {describe(action)}")
        if outcome.undecided:
            echo(f"    {len(outcome.undecided)} learner(s) undecided:")
            for uid, why in sorted(outcome.undecided.items()):
                echo(f"      {outcome.usernames.get(uid, uid)} (id {uid}): {why}")


def print_stuck(failed: list[LedgerEntry], echo: Echo, give_up_after: int) -> None:
    """Actions that failed on consecutive runs: the reason (with the fix), and whether
    they are still tried."""
    stuck = [e for e in failed if e.attempts >= 2]
    if not stuck:
        return
    echo(f"stuck actions (failed on consecutive runs): {len(stuck)}")
    for e in sorted(stuck, key=lambda e: e.key):
        quiet = e.attempts >= give_up_after
        echo(
            f"  {e.key} ({e.target}): failed on {e.attempts} runs"
            + (", no longer retried" if quiet else "")
        )
        echo(f"    reason: {e.last_error or 'unknown'}")
        if quiet:
            echo(f"    once fixed: `buyin retry --program {e.program} {e.key}`")


def print_status(
    state: State,
    echo: Echo,
    *,
    limit: int = 10,
    give_up_after: int = MAX_ATTEMPTS,
    sync_running: bool = False,
) -> None:
    """``sync_running``: another process holds the run lock (else a "running" run was killed)."""
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
    by_status = state.counts_by_status()
    echo("actions: " + (", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) or "none"))
    for status_name in (Status.PLANNED, Status.FAILED):
        entries = state.entries(status_name, limit=50)
        if entries:
            echo(f"{status_name} actions:")
            for e in entries:
                tail = f": {e.last_error}" if e.last_error else ""
                echo(f"  {e.key} ({e.target}), {e.attempts} attempt(s){tail}")
    print_stuck(state.entries(Status.FAILED, limit=1000), echo, give_up_after)
    open_signoffs = [r for r in state.signoffs() if r["status"] not in ("signed", "cancelled")]
    echo(f"open sign-offs: {len(open_signoffs)}")
    by_approver: dict[tuple[str, int | None], list[dict[str, Any]]] = {}
    for row in open_signoffs:
        by_approver.setdefault((str(row["program"]), row["approver"]), []).append(row)
    now = max((r.started_at for r in runs), default=0)
    for (program, approver), rows in sorted(by_approver.items(), key=lambda kv: str(kv[0])):
        echo(f"  {program} approver {approver if approver is not None else '(none)'}:")
        for row in rows:
            since = row["awaiting_since"]
            age = f"waiting {(now - int(since)) / DAY:.0f} days" if since and now else "waiting"
            parts = [f"user {row['userid']}", str(row["status"]), age]
            if row["reminders"]:
                parts.append(f"{row['reminders']} reminder(s)")
            if row["escalated_to"]:
                parts.append(f"escalated to user {row['escalated_to']} {when(row['escalated_at'])}")
            if row["note"]:
                parts.append(str(row["note"]))
            echo("    " + ", ".join(parts))
    undecided = state.undecided()
    echo(f"undecided learners: {len(undecided)}")
    for program, userid, why in undecided:
        echo(f"  {program} user {userid}: {why}")
    pending = state.scheduled()
    if pending:
        echo(f"scheduled: {len(pending)}")
        for item in pending[:50]:
            echo(f"  {item.key} due {when(item.due_at)}")


def print_warnings(warnings: list[str], echo: Echo) -> None:
    """Silent no-ops (a programme that runs cleanly and does nothing), one line each."""
    for warning in warnings:
        echo(f"warning: {warning}")


def last_run_warnings(state: State) -> list[str]:
    """The warnings of the last run that finished (what `status` repeats)."""
    finished = next((r for r in state.runs(50) if r.outcome != "running"), None)
    found = finished.counts.get("warnings", []) if finished is not None else []
    return [str(w) for w in found] if isinstance(found, list) else []
