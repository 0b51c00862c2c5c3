"""The `buyin` command line: thin click commands over the library.

Results go to stdout, logs to stderr (``-v`` for debug). Every error a user can
meet is rendered by :func:`fail` (message, what to do, exit code from
:func:`buyin.errors.exit_code_for`): never a traceback.
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from buyin import __version__
from buyin.config import Settings, load_settings
from buyin.errors import (
    EXIT_STATE,
    BuyinError,
    Interrupted,
    StateError,
    exit_code_for,
    exit_table,
)
from buyin.logsetup import setup_logging
from buyin.model.clock import DAY, parse_day

if TYPE_CHECKING:
    from buyin.report_text import Reporter
    from buyin.state import State
    from buyin.sync import SyncReport

F = TypeVar("F", bound=Callable[..., Any])

#: the exit table under `--help` (\b: click keeps the lines as they are)
EXIT_CODES = "\b\nExit codes:\n" + exit_table()


def fail(error: BuyinError) -> NoReturn:
    """The one place that shows an error to the user and picks the exit code."""
    click.echo(f"error: {error}", err=True)
    if error.hint:
        click.echo(f"  what to do: {error.hint}", err=True)
    sys.exit(exit_code_for(error))


def friendly(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BuyinError as exc:
            fail(exc)
        except Interrupted as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """SIGTERM and SIGINT let the call in flight finish and start no other (the run
    is recorded as interrupted, exit 143 / 130); a second signal stops at once."""
    from buyin.moodle.client import STOP, request_stop

    def handler(signum: int, _frame: object) -> None:
        if STOP.signum is not None:
            raise Interrupted(signum)
        request_stop(signum)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
        if STOP.signum is not None:  # the run had nothing left to call: it finished
            raise Interrupted(STOP.signum)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        request_stop(None)


def _settings(ctx: click.Context, **flags: Any) -> Settings:
    obj = ctx.find_root().obj or {}
    merged = {**obj.get("flags", {}), **{k: v for k, v in flags.items() if v is not None}}
    return load_settings(merged, config_file=obj.get("config"))


def collect_less() -> None:
    """A run builds one large graph of plain objects (the snapshot, the ledger, the
    history) and drops it at the end: Python's cyclic collector, at its default
    thresholds (700, 10, 10), walks the whole growing heap again and again meanwhile (a
    third of a steady run's CPU at 2,400 learners). Young objects are collected 70 times
    less often, the oldest 10 times less (memory still bounded: cycles are rare here)."""
    gc.set_threshold(50_000, 20, 100)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="buyin")
@click.option("-c", "--config", type=click.Path(path_type=Path), help="buyin.toml to read.")
@click.option("--url", help="Moodle site URL (overrides BUYIN_URL and the file).")
@click.option("--state", "state_path", help="SQLite state file.")
@click.option("--mappings", "mapping_dir", help="Directory of programme mappings.")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-v info, -vv debug).")
@click.pass_context
def main(
    ctx: click.Context,
    config: Path | None,
    url: str | None,
    state_path: str | None,
    mapping_dir: str | None,
    verbose: int,
) -> None:
    """moodle-buyin: make workplace training stick inside Moodle."""
    setup_logging(verbose)
    collect_less()
    ctx.obj = {
        "verbose": verbose,
        "config": config,
        "flags": {"url": url, "state_path": state_path, "mapping_dir": mapping_dir},
    }


@main.command()
@click.option(
    "--probe-writes",
    is_flag=True,
    help="Also make one real write: re-enrol (manual enrolment) an approver who already "
    "holds the sign-off role, which leaves their enrolment active with no start or end "
    "date. Without it doctor changes nothing in Moodle: each write's capability is checked "
    "by a call Moodle refuses or rolls back after checking it.",
)
@click.pass_context
@friendly
def doctor(ctx: click.Context, probe_writes: bool) -> None:
    """Check the site against the contract and every capability sync's writes need:
    a checklist, exit 78 when not ready."""
    from buyin.doctor import run_doctor
    from buyin.logsetup import redact_secret
    from buyin.mapping import load_programmes
    from buyin.moodle.client import MoodleClient

    settings = _settings(ctx)
    programmes = load_programmes(settings.mapping_dir)
    redact_secret(settings.token.reveal())
    report = run_doctor(MoodleClient.from_settings(settings), programmes, probe_writes=probe_writes)
    for check in report.checks:
        mark = "ok  " if check.ok else "FAIL"
        line = f"[{mark}] {check.name}"
        if check.detail:
            line += f": {check.detail}"
        click.echo(line)
        if not check.ok and check.hint:
            click.echo(f"       what to do: {check.hint}")
    state_problems = _check_state(settings.state_path)
    failed = sum(1 for c in report.checks if not c.ok) + bool(state_problems)
    click.echo(f"{len(report.checks) + 1 - failed} passed, {failed} failed")
    sys.exit(report.exit_code or (EXIT_STATE if state_problems else 0))


def _check_state(path: Path) -> list[str]:
    """doctor's state-file line: integrity (PRAGMA quick_check), schema version, tables."""
    from buyin.state import State

    if not path.exists():
        click.echo(f"[ok  ] state file {path}: not created yet (the first sync creates it)")
        return []
    hint = StateError.hint
    try:
        state = State(path)
    except BuyinError as exc:
        problems, hint = [str(exc)], exc.hint
    else:
        try:
            problems = state.check()
        except BuyinError as exc:
            problems, hint = [str(exc)], exc.hint
        finally:
            state.close()
    if not problems:
        click.echo(f"[ok  ] state file {path}: intact, schema up to date")
        return []
    click.echo(f"[FAIL] state file {path}: " + "; ".join(problems))
    click.echo("       what to do: " + hint)
    return problems


def output_options(func: F) -> F:
    """`sync` and `backfill`: how much they print (cron wants --quiet)."""
    func = click.option(
        "--metrics",
        "show_metrics",
        is_flag=True,
        help="Print the metrics line (calls per function, retries, failures, time); "
        "-v prints it too. It is kept with the run either way.",
    )(func)
    func = click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="For cron: problems on stderr and one summary line on stdout.",
    )(func)
    func = click.option(
        "-v",
        "--verbose",
        "detail",
        count=True,
        help="List every action and every undecided learner by name, and the metrics line.",
    )(func)
    return func


def _quiet_logs(ctx: click.Context, quiet: bool, detail: int) -> None:
    """--quiet: the failures are printed once, grouped; their per-action warnings are not."""
    if quiet and not detail and not (ctx.find_root().obj or {}).get("verbose"):
        logging.getLogger("buyin").setLevel(logging.ERROR)


def _reporter(ctx: click.Context, *, quiet: bool, detail: int, show_metrics: bool) -> Reporter:
    """What `sync` and `backfill` print: problems on stderr, the rest on stdout."""
    from buyin.report_text import Reporter

    return Reporter(
        click.echo,
        lambda line: click.echo(line, err=True),
        verbose=detail > 0 or (ctx.find_root().obj or {}).get("verbose", 0) > 0,
        quiet=quiet,
        show_metrics=show_metrics,
    )


def _exit_run(report: SyncReport) -> NoReturn:
    """A run's exit: its error shown (what to do), else the exit table's code."""
    if report.error is not None:
        fail(report.error)
    sys.exit(report.exit_code)


@main.command(epilog=EXIT_CODES)
@click.option("--dry-run", is_flag=True, help="Plan and print; change nothing in Moodle.")
@click.option("--program", help="Only this programme id.")
@output_options
@click.pass_context
@friendly
def sync(
    ctx: click.Context,
    dry_run: bool,
    program: str | None,
    detail: int,
    quiet: bool,
    show_metrics: bool,
) -> None:
    """One incremental pass over every programme (for cron: `buyin sync --quiet`)."""
    from buyin.logsetup import redact_secret
    from buyin.sync import run_sync

    settings = _settings(ctx)
    redact_secret(settings.token.reveal())
    _quiet_logs(ctx, quiet, detail)
    reporter = _reporter(ctx, quiet=quiet, detail=detail, show_metrics=show_metrics)
    with stopping_on_signals():
        report = run_sync(settings, dry_run=dry_run, program=program)
    # a first sync's dry run says what it leaves as history, and how to send it
    reporter.run(report, backfill_hint_too=True)
    _exit_run(report)


def _day(value: str, option: str, *, end: bool = False) -> int:
    """A YYYY-MM-DD date as a unix time (UTC), the end of that day with ``end``."""
    try:
        start = parse_day(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date like 2026-09-30", param_hint=option
        ) from None
    return start + (DAY - 1 if end else 0)


@main.command(epilog=EXIT_CODES)
@click.option("--since", required=True, help="First day of the window (YYYY-MM-DD).")
@click.option("--until", help="Last day of the window (YYYY-MM-DD); default today.")
@click.option("--program", help="Only this programme id.")
@click.option("--dry-run", is_flag=True, help="Plan and print; change nothing in Moodle.")
@click.option(
    "--precheck", is_flag=True, help="Send the results of pre-checks taken inside the window."
)
@click.option(
    "--followup",
    is_flag=True,
    help="Follow up completions inside the window (job aid, refresher, manager note).",
)
@click.option(
    "--insights",
    is_flag=True,
    help="Tell learners who completed inside the window what they gained.",
)
@click.option(
    "--kickoff", is_flag=True, help="Also welcome learners who started inside the window."
)
@output_options
@click.pass_context
@friendly
def backfill(
    ctx: click.Context,
    since: str,
    until: str | None,
    program: str | None,
    dry_run: bool,
    precheck: bool,
    followup: bool,
    insights: bool,
    kickoff: bool,
    detail: int,
    quiet: bool,
    show_metrics: bool,
) -> None:
    """Send, once, the news of events inside a window that sync left as history.

    Pre-checks, completions and starts before a programme's start line (mapped_since,
    by default its first sync) are history: sync completes tested-out activities but
    tells nobody. Choose what to send: --precheck, --followup, --insights, --kickoff
    (without any of the first three: --followup --insights). Safe to interrupt and run
    again: what was sent is not sent twice.
    """
    from buyin.logsetup import redact_secret
    from buyin.sync import run_sync, system_clock

    start = _day(since, "--since")
    end = _day(until, "--until", end=True) if until else system_clock()
    if end < start:
        raise click.BadParameter("--until is before --since", param_hint="--until")
    settings = _settings(ctx)
    redact_secret(settings.token.reveal())
    _quiet_logs(ctx, quiet, detail)
    chosen = {
        k
        for k, on in (("precheck", precheck), ("followup", followup), ("insights", insights))
        if on
    }
    kinds = frozenset(chosen or {"followup", "insights"}) | ({"kickoff"} if kickoff else set())
    reporter = _reporter(ctx, quiet=quiet, detail=detail, show_metrics=show_metrics)
    if sys.stdout.isatty():
        with click.progressbar(length=1, label="learners", show_pos=True) as bar:

            def progress(done: int, total: int) -> None:
                bar.length = total
                bar.update(done - bar.pos)

            reporter.progress = progress
            report = run_sync(
                settings,
                dry_run=dry_run,
                program=program,
                window=(start, end),
                progress=reporter.progress,
                kinds=kinds,
            )
    else:  # under cron: no progress bar
        report = run_sync(
            settings, dry_run=dry_run, program=program, window=(start, end), kinds=kinds
        )
    reporter.run(report)
    _exit_run(report)


def _existing_state(settings: Settings, absent: str) -> State | None:
    """The state file where one exists; else says ``absent`` and why, and None."""
    from buyin.state import State

    if not settings.state_path.exists():
        click.echo(f"{absent} (state file {settings.state_path} does not exist)")
        return None
    return State(settings.state_path)


@main.command()
@click.option("--limit", default=10, show_default=True, help="How many runs to list.")
@click.pass_context
@friendly
def status(ctx: click.Context, limit: int) -> None:
    """Last runs, pending and failed actions, undecided learners and why."""
    from buyin.report_text import last_run_warnings, print_status, print_warnings

    settings = _settings(ctx)
    state = _existing_state(settings, "no runs yet")
    if state is None:
        return
    try:
        print_status(
            state,
            click.echo,
            limit=limit,
            give_up_after=settings.retry_failed_runs,
            sync_running=_sync_running(settings.state_path),
        )
        print_warnings(last_run_warnings(state), click.echo)
    finally:
        state.close()


def _sync_running(path: Path) -> bool:
    from buyin.errors import LockedError
    from buyin.state import RunLock

    try:
        with RunLock(path):
            return False
    except LockedError:
        return True


@main.command("release-lease")
@click.option("--program", help="Only this programme.")
@click.option(
    "--force",
    is_flag=True,
    help="Remove the lease whoever holds it: another agent gone for good, or the copy "
    "of this state that last ran (its runs are then refused in their turn).",
)
@click.pass_context
@friendly
def release_lease(ctx: click.Context, program: str | None, force: bool) -> None:
    """Give up this agent's leases of its programmes in Moodle (local_buyin, or the
    agent's preferences on core Moodle), so an agent with another state file (a new
    machine) may run them."""
    from buyin.sync import release_leases

    settings = _settings(ctx)
    released = release_leases(settings, program, force=force)
    if released is None:
        click.echo(
            "the site keeps no leases (neither local_buyin's lease functions nor "
            "core_user_update_user_preferences and core_user_get_user_preferences are in "
            "the service)"
        )
        return
    for programme, held in released:
        if held:
            click.echo(f"{programme}: released")
        else:
            click.echo(f"{programme}: " + ("no lease" if force else "this agent held no lease"))


@main.command()
@click.option("--program", help="Only this programme's failed actions.")
@click.argument("keys", nargs=-1)
@click.pass_context
@friendly
def retry(ctx: click.Context, program: str | None, keys: tuple[str, ...]) -> None:
    """Try failed actions again on the next sync (all, a programme's, or these KEYS)."""
    settings = _settings(ctx)
    state = _existing_state(settings, "nothing to retry")
    if state is None:
        return
    try:
        reset = state.retry(program, keys)
    finally:
        state.close()
    unknown = sorted(set(keys) - set(reset))
    for key in reset:
        click.echo(f"will retry {key}")
    click.echo(
        f"{len(reset)} failed {'action' if len(reset) == 1 else 'actions'} will be tried "
        "again by the next sync"
    )
    if unknown:
        raise click.UsageError(
            f"no failed action {', '.join(unknown)}"
            + (f" in programme {program}" if program else "")
            + "; `buyin status` lists the failed actions and their keys"
        )


@main.command()
@click.option("--learners", default=24, show_default=True, help="Size of the simulated cohort.")
@click.option("--keep", type=click.Path(path_type=Path), help="Keep the demo's state here.")
@click.option(
    "--weeks",
    type=click.IntRange(1, 52),
    help="Live the programme for this many weeks of daily syncs, people acting, and "
    "print what a learner and a manager read (default learners: 240).",
)
@click.option(
    "--inbox",
    type=click.Path(path_type=Path, dir_okay=False),
    help="With --weeks: write every message sent as JSON lines.",
)
@click.option(
    "--events",
    type=click.Path(path_type=Path, dir_okay=False),
    help="With --weeks: write what the simulated people did as JSON lines.",
)
@click.pass_context
@friendly
def demo(
    ctx: click.Context,
    learners: int,
    keep: Path | None,
    weeks: int | None,
    inbox: Path | None,
    events: Path | None,
) -> None:
    """The whole pipeline against a built-in simulated Moodle."""
    from buyin.demo import run_demo, run_weeks

    if weeks is None:
        if inbox is not None or events is not None:
            raise click.UsageError("--inbox and --events need --weeks")
        sys.exit(run_demo(click.echo, learners=learners, keep=keep))
    source = ctx.get_parameter_source("learners")
    count = 240 if source == click.core.ParameterSource.DEFAULT else learners
    sys.exit(
        run_weeks(click.echo, weeks=weeks, learners=count, inbox=inbox, events=events, keep=keep)
    )


@main.command()
@click.argument("course")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="File to write (default: <id>.toml)."
)
@click.option("--quiz", help="The pre-check quiz: course module id or name.")
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
@click.pass_context
@friendly
def init(
    ctx: click.Context, course: str, output: Path | None, quiz: str | None, force: bool
) -> None:
    """Read COURSE (id or shortname) and write a starter programme mapping for it."""
    from buyin.logsetup import redact_secret
    from buyin.moodle.client import MoodleClient
    from buyin.starter import as_ref, build_starter, refuse_overwrite, write_starter

    settings = _settings(ctx)
    if output is not None:
        refuse_overwrite(output, force)  # before any call to Moodle
    redact_secret(settings.token.reveal())
    starter = build_starter(
        MoodleClient.from_settings(settings),
        as_ref(course),
        as_ref(quiz) if quiz is not None else None,
    )
    if output is None:
        directory = settings.mapping_dir if settings.mapping_dir.is_dir() else Path.cwd()
        output = directory / f"{starter.programme}.toml"
    write_starter(starter, output, force=force)
    click.echo(
        f"wrote {output} for {starter.course.shortname} "
        f'"{starter.course.fullname}" (course {starter.course.id})'
    )
    for guess in starter.guesses:
        click.echo(f"  {guess}")
    click.echo("Check every `review = true` in the file against the course, then remove it.")


# the `buyin report` commands live in buyin.cli.report; importing it registers them
from buyin.cli import report as _report_commands  # noqa: E402,F401
