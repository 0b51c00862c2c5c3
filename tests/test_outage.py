"""Moodle failing temporarily past the client's one retry policy: the run saves what
it did and exits 75; nothing is sent twice, and the next run finishes the job
(buyin.moodle.client's policy, buyin.push, buyin.sync)."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from pathlib import Path

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buyin.errors import EXIT_UNREACHABLE, TransientError
from buyin.model.actions import Action
from buyin.model.ledger import Status
from buyin.moodle.client import MoodleClient
from buyin.plan import Plan
from buyin.push import Pusher
from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.simulator.faults import Fault
from buyin.state import State
from support import WRITES, Clock, moodle_state, sync_once
from test_push import ANNA, BEN, message

SEND = "core_message_send_instant_messages"
READ_BACK = "core_message_get_messages"


class Outage:
    """Every call after the first write fails temporarily: reads before Moodle sees
    them, writes before or after Moodle applied them (the answer lost)."""

    def __init__(self, site: SimulatedMoodle) -> None:
        self.down = False
        self.struck = 0
        self._kinds = itertools.cycle(["timeout", "http500", "http503", "connection"])
        self._lock = threading.Lock()
        site.faults.draw = self.draw  # type: ignore[method-assign]

    def draw(self, function: str) -> Fault | None:
        with self._lock:
            if not self.down:
                self.down = function in WRITES  # this first write goes through
                return None
            self.struck += 1
            kind = next(self._kinds)
            lost_answer = function in WRITES and kind in ("timeout", "http500")
            return Fault(kind, "after" if lost_answer and self.struck % 2 else "before")


def test_an_outage_after_the_first_write_exits_75_and_the_next_run_finishes(
    tmp_path: Path, clock: Clock
) -> None:
    calm = SimulatedMoodle(generate_scenario(), clock=clock)
    site = SimulatedMoodle(generate_scenario(), clock=clock)
    sync_once(calm, tmp_path / "calm", clock, since="2026-01-01")
    outage = Outage(site)

    report = sync_once(site, tmp_path / "run", clock, since="2026-01-01", retries=3)

    assert outage.struck > 0
    assert report.exit_code == EXIT_UNREACHABLE == 75
    [outcome] = report.outcomes
    assert isinstance(outcome.pushed and outcome.pushed.stopped_by, TransientError)
    # what it did is saved: the first write is applied in the ledger, the run recorded
    state = State(tmp_path / "run" / "state.sqlite")
    try:
        assert state.entries(Status.APPLIED)
        assert state.runs(1)[0].outcome == "exit 75"
        assert state.programme("cc101").mapped_at is not None
    finally:
        state.close()

    site.faults.draw = lambda _function: None  # type: ignore[method-assign]
    again = sync_once(site, tmp_path / "run", clock)

    assert again.exit_code == 0
    # the job is done, each message once: Moodle holds what one calm run leaves
    assert moodle_state(site) == moodle_state(calm)
    sends = Counter(
        m["text"] for fn, params in site.calls if fn == SEND for m in params["messages"]
    )
    assert sends and max(sends.values()) == 1, sends.most_common(3)


RETRIES = 4
FAULT = st.tuples(
    st.sampled_from([SEND, READ_BACK]),
    st.sampled_from(["timeout", "http500", "http503", "http429", "connection"]),
    st.sampled_from(["before", "after"]),
)


def push_run(site: SimulatedMoodle, db: State, clock: Clock, batch: list[Action]) -> int:
    """One run's push of what the ledger does not hold as applied; the sends it made."""
    client = MoodleClient(site.url, site.token, retries=RETRIES, sleep=lambda _s: None)
    ledger = db.ledger("cc101")
    pusher = Pusher(
        client,
        db,
        db.start_run("sync", clock()),
        clock(),
        agent_userid=site.state.agent_userid,
        previously_planned=ledger.in_doubt(),
    )
    planned = [a for a in batch if ledger.status(a.key) != Status.APPLIED]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        site.register(rsps)
        pusher.push(Plan(program="cc101", actions=planned))
    return client.metrics.calls[SEND]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(faults=st.lists(FAULT, max_size=12))
def test_a_message_batch_is_sent_at_most_once_per_run_whatever_fails(
    faults: list[tuple[str, str, str]], tmp_path_factory: pytest.TempPathFactory, clock: Clock
) -> None:
    site = SimulatedMoodle(generate_scenario(), clock=clock)
    for function, kind, when in faults:
        # a transport fault after Moodle applied a write is a lost answer; a refused
        # connection or a busy answer never reached it (what the client relies on)
        if when == "after" and kind in ("http503", "http429", "connection"):
            when = "before"
        site.faults.queue(function, kind, when=when)
    batch = [message(ANNA, "message:a"), message(BEN, "message:b"), message(ANNA, "message:c")]
    db = State(tmp_path_factory.mktemp("outage") / "state.sqlite")
    try:
        for _run in range(2):  # the next run takes over what an outage left
            # one policy: the batch goes at most RETRIES times in a run (not 25)
            assert push_run(site, db, clock, batch) <= RETRIES
        site.faults.clear()
        push_run(site, db, clock, batch)
        assert all(db.ledger("cc101").status(a.key) == Status.APPLIED for a in batch)
    finally:
        db.close()
    texts = sorted(m.text for uid in (ANNA, BEN) for m in site.messages_to(uid))
    # each message delivered exactly once, whatever failed in between
    assert texts == sorted(f"<p>Hello {a.key}</p>" for a in batch)
