"""`buyin report`: insights as HTML (charts), CSV or JSON (SPEC §4.5)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import click

from buyin.cli import _settings, fail, friendly, main

# -- buyin report (insights, SPEC §4.5) ----------------------------------------------

REPORT_FORMATS = click.Choice(["html", "csv", "json"])


def _write_report(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        from buyin.errors import ConfigurationError

        fail(ConfigurationError(f"cannot write {output}: {exc.strerror}"))
    click.echo(f"wrote {output}", err=True)


def _csv(rows: list[dict[str, Any]]) -> str:

    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


# options both reports take
report_format = click.option(
    "--format", "fmt", type=REPORT_FORMATS, default="html", show_default=True
)
report_output = click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="File to write (default: stdout)."
)
stuck_days = click.option(
    "--stuck-days",
    type=float,
    default=14,
    show_default=True,
    help="No progress for this many days counts as stuck.",
)


@main.group()
def report() -> None:
    """Insights: programme and team reports as HTML (charts), CSV or JSON."""


@report.command("program")
@click.argument("program_id")
@report_format
@report_output
@click.option(
    "--table",
    type=click.Choice(["summary", "learners"]),
    help="CSV/JSON: 'learners' = one row per learner with their latest figures (the CSV "
    "default); 'summary' = the programme figures (the JSON default; as CSV one row per "
    "figure: figure, topic, value, n, and low/high/method for pilot − baseline). HTML is "
    "always the summary.",
)
@click.option(
    "--pilot", help="Pilot cohort: group:NAME, enrolled:YYYY-MM-DD..YYYY-MM-DD or cohort:ID."
)
@click.option("--baseline", help="Baseline cohort, selected the same way (with --pilot).")
@stuck_days
@click.pass_context
@friendly
def report_program(
    ctx: click.Context,
    program_id: str,
    fmt: str,
    output: Path | None,
    table: str | None,
    pilot: str | None,
    baseline: str | None,
    stuck_days: float,
) -> None:
    """The programme report for PROGRAM_ID, as of its latest sync.

    Opens with the finding in plain words: with --pilot/--baseline (or the mapping's
    [insights.pilot]) the clearest difference (pilot − baseline) with its 95%
    confidence interval, or "no clear difference" when the interval spans zero (means:
    Welch t; proportions: Newcombe hybrid score); a cohort under 5 learners is a
    sentence, not a chart. enrolled: windows read Moodle's enrolment start where the
    history has it, else the day the agent first saw the learner (the page says so).
    Then the funnel, days to complete and sign-off latency (completers only), hours
    saved (and the minutes-per-activity assumption), week-by-week started, finished
    and signed off, pre-check/post/improvement/retention per topic. Champions are
    named only when the mapping opts in (insights.champions = true).
    """
    import json

    from buyin.moodle.client import MoodleClient
    from buyin.moodle.cohorts import fetch_cohort_members, fetch_cohort_names
    from buyin.report.export import learner_rows, learners_json, programme_json, summary_rows
    from buyin.report.load import ReportUsageError, build_programme_report

    settings = _settings(ctx)
    try:
        figures = build_programme_report(
            settings,
            program_id,
            pilot=pilot,
            baseline=baseline,
            stuck_days=stuck_days,
            # cohort:ID selections: the command line asks Moodle, the loader never does
            cohort_members=lambda ids: fetch_cohort_members(
                MoodleClient.from_settings(settings), ids
            ),
            cohort_names=lambda ids: fetch_cohort_names(MoodleClient.from_settings(settings), ids),
        )
    except ReportUsageError as exc:
        raise click.UsageError(str(exc)) from None
    chosen = table or ("learners" if fmt == "csv" else "summary")
    if fmt == "html":
        from buyin.report.html import programme_html

        text = programme_html(figures)
    elif fmt == "json":
        data = programme_json(figures) if chosen == "summary" else learners_json(figures)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    elif chosen == "summary":
        text = _csv(summary_rows(figures))
    else:
        text = _csv(learner_rows(figures.learners, [t.topic for t in figures.topics]))
    _write_report(text, output)


@report.command("team")
@click.argument("manager")
@report_format
@report_output
@click.option("--program", help="Only this programme id (default: every programme).")
@stuck_days
@click.pass_context
@friendly
def report_team(
    ctx: click.Context,
    manager: str,
    fmt: str,
    output: Path | None,
    program: str | None,
    stuck_days: float,
) -> None:
    """The team of MANAGER (username or user id): each direct report by name, the
    team's pre-check, post and retention scores over time (on a calendar axis), who
    waits for sign-off with the link where the manager signs (local_buyin's page, or
    the course completion report filtered to the team's group), and who is stuck.
    CSV: one row per direct report per programme."""
    import json

    from buyin.report.export import team_json, team_rows
    from buyin.report.load import ReportUsageError, build_team_report

    settings = _settings(ctx)
    try:
        figures = build_team_report(settings, manager, program=program, stuck_days=stuck_days)
    except ReportUsageError as exc:
        raise click.UsageError(str(exc)) from None
    if fmt == "html":
        from buyin.report.html import team_html

        text = team_html(figures)
    elif fmt == "json":
        text = json.dumps(team_json(figures), indent=2, ensure_ascii=False) + "\n"
    else:
        text = _csv(team_rows(figures))
    _write_report(text, output)
