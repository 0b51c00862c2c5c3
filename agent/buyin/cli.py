"""The `buyin` command line: thin click commands over the library.

Results go to stdout, logs to stderr (``-v`` for debug). Every error a user can
meet is rendered by :func:`fail` (message, what to do, exit code from
:func:`buyin.errors.exit_code_for`): never a traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from buyin import __version__
from buyin.config import Settings, load_settings
from buyin.errors import BuyinError, exit_code_for
from buyin.logsetup import setup_logging

F = TypeVar("F", bound=Callable[..., Any])


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

    return wrapper  # type: ignore[return-value]


def _settings(ctx: click.Context, **flags: Any) -> Settings:
    obj = ctx.find_root().obj or {}
    merged = {**obj.get("flags", {}), **{k: v for k, v in flags.items() if v is not None}}
    return load_settings(merged, config_file=obj.get("config"))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    ctx.obj = {
        "config": config,
        "flags": {"url": url, "state_path": state_path, "mapping_dir": mapping_dir},
    }


@main.command()
@click.option(
    "--probe-writes",
    is_flag=True,
    help="Also check that the agent may assign the sign-off role, by re-enrolling (manual "
    "enrolment) an approver who already holds it: a write that leaves their enrolment "
    "active with no start or end date.",
)
@click.pass_context
@friendly
def doctor(ctx: click.Context, probe_writes: bool) -> None:
    """Check the site against the contract: a checklist, exit 78 when not ready."""
    from buyin.doctor import run_doctor
    from buyin.logsetup import redact_secret
    from buyin.mapping import load_programmes
    from buyin.sync import make_client

    settings = _settings(ctx)
    programmes = load_programmes(settings.mapping_dir)
    redact_secret(settings.token.reveal())
    report = run_doctor(make_client(settings), programmes, probe_writes=probe_writes)
    for check in report.checks:
        mark = "ok  " if check.ok else "FAIL"
        line = f"[{mark}] {check.name}"
        if check.detail:
            line += f": {check.detail}"
        click.echo(line)
        if not check.ok and check.hint:
            click.echo(f"       what to do: {check.hint}")
    failed = sum(1 for c in report.checks if not c.ok)
    click.echo(f"{len(report.checks) - failed} passed, {failed} failed")
    sys.exit(report.exit_code)


@main.command()
@click.option("--dry-run", is_flag=True, help="Plan and print; change nothing in Moodle.")
@click.option("--program", help="Only this programme id.")
@click.pass_context
@friendly
def sync(ctx: click.Context, dry_run: bool, program: str | None) -> None:
    """One incremental pass over every programme (for cron)."""
    from buyin.logsetup import redact_secret
    from buyin.report_text import print_sync_report
    from buyin.sync import run_sync

    settings = _settings(ctx)
    redact_secret(settings.token.reveal())
    report = run_sync(settings, dry_run=dry_run, program=program)
    print_sync_report(report, click.echo)
    logging.getLogger("buyin.metrics").info(report.metrics_line())
    click.echo(report.metrics_line(), err=True)
    if report.error is not None:
        fail(report.error)
    sys.exit(report.exit_code)


@main.command()
@click.option("--limit", default=10, show_default=True, help="How many runs to list.")
@click.pass_context
@friendly
def status(ctx: click.Context, limit: int) -> None:
    """Last runs, pending and failed actions, undecided learners and why."""
    from buyin.report_text import print_status
    from buyin.state import State

    settings = _settings(ctx)
    if not settings.state_path.exists():
        click.echo(f"no runs yet (state file {settings.state_path} does not exist)")
        return
    state = State(settings.state_path)
    try:
        print_status(state, click.echo, limit=limit)
    finally:
        state.close()


@main.command()
@click.option("--learners", default=24, show_default=True, help="Size of the simulated cohort.")
@click.option("--keep", type=click.Path(path_type=Path), help="Keep the demo's state here.")
@friendly
def demo(learners: int, keep: Path | None) -> None:
    """The whole pipeline against a built-in simulated Moodle."""
    from buyin.demo import run_demo

    sys.exit(run_demo(click.echo, learners=learners, keep=keep))


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
    from buyin.starter import as_ref, build_starter, refuse_overwrite, write_starter
    from buyin.sync import make_client

    settings = _settings(ctx)
    if output is not None:
        refuse_overwrite(output, force)  # before any call to Moodle
    redact_secret(settings.token.reveal())
    starter = build_starter(
        make_client(settings), as_ref(course), as_ref(quiz) if quiz is not None else None
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
