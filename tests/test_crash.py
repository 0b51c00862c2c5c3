"""Exactly once, whatever fails (issue 15): `buyin sync` runs as a subprocess against the
simulated site served over HTTP on loopback and is killed with SIGKILL right after
Moodle applied each kind of write (before the answer left) and at random moments;
the rerun must leave the site holding exactly what an uninterrupted run leaves:
every user's messages with their exact texts, none twice, none lost, none reworded,
and the same overrides, enrolments, roles, groups and sign-off requests.

Faults on a send and on its read-back, and an enrolment whose answer is lost, end
the same way. tools/crash_campaign.py runs 100 random and 30 targeted points.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from buyin.simulator.faults import DROPPED
from crash_harness import (
    COPIED_WANT,
    SEND,
    VARIANTS,
    WRITES,
    Agent,
    Holding,
    KillPoint,
    Run,
    build_site,
    compare,
    copied_state,
    crash,
    holding,
    interrupt,
    random_points,
    signal_points,
    uninterrupted,
)

NOW = int(time.time())
LEARNER01 = 9
REFRESHER_OPEN = "your refresher"

TARGETED = [
    KillPoint("core", "override", 1),
    KillPoint("core", "override", 6),
    KillPoint("core", "enrolment"),
    KillPoint("core", "role"),
    KillPoint("core", "group", 1),  # the team group created, not yet filled
    KillPoint("core", "group", 2),
    KillPoint("core", "messages"),
    KillPoint("plugin", "override"),
    KillPoint("plugin", "enrolment"),
    KillPoint("plugin", "role"),
    KillPoint("plugin", "group", 1),
    KillPoint("plugin", "group", 2),
    KillPoint("plugin", "signoff-request"),
    KillPoint("plugin", "messages"),
    # killed after local_buyin sent (and recorded) a batch: the rerun sends it again and
    # the plugin, holding each key, delivers nothing twice
    KillPoint("notify", "messages"),
]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Holding, Run]]:
    """Each variant's uninterrupted run (and what the site holds after it)."""
    return {
        variant: uninterrupted(variant, tmp_path_factory.mktemp(f"reference-{variant}"), NOW)
        for variant in VARIANTS
    }


def assert_same_as_uninterrupted(
    point: KillPoint, tmp_path: Path, reference: dict[str, tuple[Holding, Run]]
) -> None:
    outcome = crash(point, tmp_path, NOW, reference[point.variant][0])
    assert outcome.killed, f"{point}: the agent finished before the kill"
    assert outcome.reruns == [0], f"{point}: the rerun exited {outcome.reruns}"
    assert outcome.tracebacks == 0
    assert outcome.diff.same, f"{point}: {outcome.diff}"


@pytest.mark.parametrize("point", TARGETED, ids=str)
def test_killed_right_after_a_write_the_rerun_ends_as_an_uninterrupted_run(
    point: KillPoint, tmp_path: Path, reference: dict[str, tuple[Holding, Run]]
) -> None:
    made = [c for c in reference[point.variant][1].calls if c in WRITES[point.write or ""]]
    assert len(made) >= point.nth, f"the uninterrupted run makes no {point.write} #{point.nth}"
    assert_same_as_uninterrupted(point, tmp_path, reference)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(8))
def test_killed_at_a_random_moment_the_rerun_ends_as_an_uninterrupted_run(
    index: int, tmp_path: Path, reference: dict[str, tuple[Holding, Run]]
) -> None:
    runs = {variant: run for variant, (_held, run) in reference.items()}
    point = random_points(runs, 8, seed=15)[index]
    assert_same_as_uninterrupted(point, tmp_path, reference)


def test_a_lost_send_whose_read_back_fails_is_sent_once(
    tmp_path: Path, reference: dict[str, tuple[Holding, Run]]
) -> None:
    site = build_site("core", NOW)
    # Moodle stores the batch but its answer is lost; every read-back then fails
    site.faults.queue(SEND, "timeout", when="after")
    site.faults.queue("core_message_get_messages", "connection", count=500)
    with Agent(site, tmp_path) as agent:
        env = agent.env(BUYIN_RETRIES="1")
        first = agent.sync(env=env)
        assert first.code != 0
        assert agent.sync(env=env).code != 0
        failed_reads = [f for f, _, _ in site.faults.history if f == "core_message_get_messages"]
        assert failed_reads, "the read-back was tried, and failed"
        site.faults.clear()
        assert agent.sync().code == 0
        held = holding(site, agent.server.url)
    diff = compare(held, reference["core"][0])
    assert (diff.twice, diff.lost, diff.reworded, diff.extra) == (0, 0, 0, 0)
    assert diff.same, diff


def test_an_enrolment_whose_answer_is_lost_still_gets_its_refresher_message_once(
    tmp_path: Path, reference: dict[str, tuple[Holding, Run]]
) -> None:
    site = build_site("core", NOW)
    # Moodle applies the refresher enrolment; every answer is lost (5 times)
    site.faults.queue("enrol_manual_enrol_users", "connection", 5, when="after")
    with Agent(site, tmp_path) as agent:
        env = agent.env(BUYIN_RETRIES="1")
        assert agent.sync(env=env).code != 0
        assert site.enrolment(LEARNER01, 3) is not None
        for _ in range(2):
            assert agent.sync(env=env).code == 0
        held = holding(site, agent.server.url)
    opened = [
        t
        for t, n in held.messages[LEARNER01].items()
        for _ in range(n)
        if REFRESHER_OPEN in t.casefold()
    ]
    assert len(opened) == 1
    assert compare(held, reference["core"][0]).same


@pytest.mark.slow
@pytest.mark.parametrize("index", range(20))
def test_sigint_at_a_random_moment_exits_130_with_one_line_and_the_rerun_finishes(
    index: int, tmp_path: Path, reference: dict[str, tuple[Holding, Run]]
) -> None:
    """From the agent's first line to its exit (start-up, the run, the summary)."""
    runs = {variant: run for variant, (_held, run) in reference.items()}
    point = signal_points(runs, 20, seed=25)[index]
    outcome = interrupt(point, tmp_path, NOW, reference[point.variant][0])
    assert outcome.delivered, f"{point}: the agent finished before the signal"
    assert outcome.code == 130, f"{point}: exit {outcome.code}"
    assert len(outcome.error_lines) == 1, outcome.error_lines
    assert outcome.error_lines[0].startswith("error: interrupted by SIGINT")
    assert outcome.tracebacks == 0
    assert outcome.reruns == [0]
    assert outcome.diff.same, f"{point}: {outcome.diff}"


DROPPED_WRITES = [
    ("core", "enrolment", "enrol_manual_enrol_users"),
    ("core", "override", "core_completion_override_activity_completion_status"),
    ("plugin", "override", "local_buyin_complete_activities"),
    ("plugin", "signoff-request", "local_buyin_request_signoffs"),
]


@pytest.mark.parametrize(("variant", "write", "function"), DROPPED_WRITES)
def test_a_write_moodle_acknowledged_but_dropped_is_redone_once_on_the_next_run(
    variant: str,
    write: str,
    function: str,
    tmp_path: Path,
    reference: dict[str, tuple[Holding, Run]],
) -> None:
    site = build_site(variant, NOW)
    # Moodle answers the call's success and keeps nothing of it
    site.faults.queue(function, DROPPED)
    with Agent(site, tmp_path) as agent:
        first = agent.sync()
        assert first.code == 0, first.err
        assert (function, DROPPED, "before") in site.faults.history
        short = compare(holding(site, agent.server.url), reference[variant][0])
        assert short.rest, "the dropped write is missing after the first run"
        second = agent.sync()
        assert second.code == 0, second.err
        assert "acknowledged" in second.out + second.err
        assert "but does not hold it: planned again" in second.out + second.err
        redone = [c for c in second.calls if c in WRITES[write]]
        third = agent.sync()
        assert third.code == 0, third.err
        assert not [c for c in third.calls if c in WRITES[write]]
        held = holding(site, agent.server.url)
    assert len(redone) == 1  # planned again once: one call
    diff = compare(held, reference[variant][0])
    assert diff.same, diff


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_copied_state_folder_over_http_is_refused_then_the_original_after_the_lease_moves(
    variant: str, tmp_path: Path, reference: dict[str, tuple[Holding, Run]]
) -> None:
    copied = copied_state(variant, tmp_path, NOW, reference[variant][0])
    assert copied.codes == COPIED_WANT
    assert copied.tracebacks == 0
    assert copied.diff.same, copied.diff  # no message sent twice, none lost
