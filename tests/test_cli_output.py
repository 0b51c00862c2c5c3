"""What `sync` and `status` print for an admin and for cron: one line with --quiet on
an unchanged site, names and dates instead of ids and unix times, undecided learners
counted by reason, and a stopped run whose counts agree with its metrics."""

from __future__ import annotations

import re

from click.testing import Result

from buyin.config import Settings
from buyin.simulator import SimulatedMoodle
from test_cli import invoke

OVERRIDE = "core_completion_override_activity_completion_status"


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def metrics_failures(result: Result) -> int:
    line = next(x for x in result.stdout.splitlines() if x.startswith("metrics "))
    found = re.search(r"\bfailures=(\d+)", line)
    assert found is not None
    return int(found.group(1))


def test_quiet_sync_on_an_unchanged_site_prints_one_line(
    site: SimulatedMoodle, settings: Settings
) -> None:
    assert invoke(settings, "sync").exit_code == 0
    result = invoke(settings, "sync", "--quiet")
    assert result.exit_code == 0, result.output
    assert lines(result.output) == [
        "sync run 2: nothing to do; 1 programme; 8 learners undecided (exit 0)"
    ]
    assert result.stderr == ""


def test_sync_on_an_unchanged_site_prints_a_few_lines_and_no_metrics(
    site: SimulatedMoodle, settings: Settings
) -> None:
    invoke(settings, "sync")
    result = invoke(settings, "sync")
    assert result.exit_code == 0
    assert lines(result.stdout) == [
        "sync (run 2)",
        "  cc101: nothing to do (3 done before)",
        "    8 learners undecided: 7 no pre-check attempt yet, "
        "1 pre-check attempt in progress (`-v` lists them)",
        "sync run 2: nothing to do; 1 programme; 8 learners undecided (exit 0)",
    ]
    assert result.stderr == ""  # cron mails nothing


def test_verbose_lists_each_undecided_learner_by_name_and_the_metrics(
    site: SimulatedMoodle, settings: Settings
) -> None:
    invoke(settings, "sync")
    result = invoke(settings, "sync", "-v")
    assert "      learner17 (Qian Ruan): pre-check attempt in progress" in result.stdout
    assert "      learner24 (Yara Zaman): no pre-check attempt yet" in result.stdout
    assert sum(x.startswith("metrics run=2 ") for x in result.stdout.splitlines()) == 1


def test_first_sync_names_people_courses_roles_and_dates(
    site: SimulatedMoodle, settings: Settings
) -> None:
    result = invoke(settings, "sync", "-v")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "complete Question bank (article) for learner10 (Jonas Keller)" in out
    # learner07 finished before the start line: their follow-up is sent by a backfill
    backfill = invoke(settings, "backfill", "--since", "2026-01-01", "--followup", "-v")
    assert backfill.exit_code == 0, backfill.output
    out += backfill.stdout
    enrol = next(x for x in out.splitlines() if "enrol learner07" in x)
    assert re.fullmatch(
        r"    enrol learner07 \(Grace Hughes\) in CC201 as student from \d{1,2} \w{3} \d{4}", enrol
    ), enrol
    assert not re.search(r"\b(course|role|user) \d+\b|\b\d{9,}\b", out.split("metrics run=")[0])


def test_quiet_sync_with_failures_puts_them_on_stderr_grouped_with_the_fix(
    site: SimulatedMoodle, settings: Settings
) -> None:
    site.deny_capability(OVERRIDE, "moodle/course:overridecompletion")
    result = invoke(settings, "sync", "--quiet", "--metrics")
    assert result.exit_code == 1
    summary = [x for x in result.stdout.splitlines() if not x.startswith("metrics ")]
    assert summary == [
        "sync run 1: applied 8, failed 11; 3 waiting for an action they require; "
        "1 programme; 8 learners undecided (exit 1)"
    ]
    err = result.stderr
    assert err.count("actions failed:") == 1  # one group: one cause
    assert "cc101: 11 actions failed: " in err and "Override activity completion" in err
    assert "Grant the capability" in err
    assert "… and 6 more (`buyin sync -v` lists them)" in err
    assert "WARNING" not in err  # each failure is said once
    assert metrics_failures(result) == 11


def test_a_stopped_run_shows_what_to_do_and_counts_what_its_metrics_count(
    site: SimulatedMoodle, settings: Settings
) -> None:
    """A push stopped part-way (the function left the service) records each call that
    failed as a failed action: "failed N" agrees with metrics failures=N."""
    site.faults.queue(OVERRIDE, "accessexception", 50)
    result = invoke(settings, "sync", "--metrics")
    assert result.exit_code == 78, result.output
    failures = metrics_failures(result)
    assert failures >= 1
    assert f"failed {failures}" in result.stdout
    assert "stopped: " in result.stderr and "what to do: " in result.stderr
    assert "not tried: the next sync tries them" in result.stderr
    status = invoke(settings, "status")
    assert f"failed {failures}" in status.stdout


def status_after_a_busy_run(site: SimulatedMoodle, settings: Settings) -> str:
    site.deny_capability(OVERRIDE, "moodle/course:overridecompletion")
    invoke(settings, "sync")
    return invoke(settings, "status").stdout


def test_status_shows_no_raw_ids_unix_times_or_keys_but_where_retry_takes_them(
    site: SimulatedMoodle, settings: Settings
) -> None:
    out = status_after_a_busy_run(site, settings)
    for line in out.splitlines():
        if "(key: " in line:  # `buyin retry` takes it; the line says so above
            line = line.split("(key: ")[0]
        assert not re.search(r"\b(user|course|role|approver|id) \d+\b", line), line
        assert not re.search(r"\b\d{9,}\b", line), line  # unix times
        assert not re.search(r"\b\w+:u\d+:", line), line  # ledger keys
    assert "`buyin retry --program ID KEY` takes the key shown" in out


def test_status_names_approvers_learners_and_dates(
    site: SimulatedMoodle, settings: Settings
) -> None:
    site.deny_capability(OVERRIDE, "moodle/course:overridecompletion")
    invoke(settings, "sync")
    # learner07's follow-up (before the start line) is sent by a backfill: it schedules
    # the refresher-open message
    invoke(settings, "backfill", "--since", "2026-01-01", "--followup")
    out = invoke(settings, "status").stdout
    assert "  cc101: approver mgr2 (Omar Haddad):" in out
    # no escalation on the first sync: the clock starts when the approver is first asked
    assert "learner08 (Hiro Ito), requested, waiting 12 days" in out
    assert "cc101: pre-check attempt in progress (1): learner17 (Qian Ruan)" in out
    assert re.search(
        r"cc101: message to learner07 \(Grace Hughes\): refresher open \(CC201\), "
        r"due \d{1,2} \w{3} \d{4}",
        out,
    )
    assert re.search(
        r"complete Question bank \(article\) for learner10 \(Jonas Keller\), 2 attempts "
        r"\(key: override:u18:cm4\)",  # the sync's and the backfill's
        out,
    )
