"""The pusher against the simulated Moodle: what Moodle ends up holding and what
the ledger says, when calls fail (buyin.push)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from buyin.errors import ContractError
from buyin.model.actions import Action, EnrolParams, Kind, MessageParams, OverrideParams
from buyin.model.ledger import Status
from buyin.moodle.client import MoodleClient
from buyin.moodle.encoding import flatten
from buyin.plan import Plan
from buyin.push import Pusher, PushResult
from buyin.simulator import SimulatedMoodle
from buyin.state import State
from support import Clock

SEND = "core_message_send_instant_messages"
ENROL = "enrol_manual_enrol_users"
RETRIES = 4
#: learners of CC101 (course 2) in the simulated scenario; CC201 (course 3) has nobody
ANNA, BEN = 9, 10
#: a learner of CC101 with no activity complete
CARL = 14
CC101, CC201, STUDENT = 2, 3, 5


@pytest.fixture
def db(tmp_path: Path) -> Iterator[State]:
    state = State(tmp_path / "state.sqlite")
    yield state
    state.close()


def push(
    site: SimulatedMoodle, db: State, clock: Clock, *actions: Action, plan: Plan | None = None
) -> PushResult:
    """Push these actions (or ``plan``) as one run would, the client never sleeping."""
    client = MoodleClient(site.url, site.token, retries=RETRIES, sleep=lambda _s: None)
    now = clock()
    run_id = db.start_run("sync", now)
    pusher = Pusher(client, db, run_id, now, agent_userid=site.state.agent_userid)
    return pusher.push(plan or Plan(program="cc101", actions=list(actions)))


def status(db: State, key: str) -> Status | None:
    """What the ledger says of one action (None: not recorded)."""
    entry = db.entry(key)
    return None if entry is None else entry.status


def message(uid: int, key: str, requires: tuple[str, ...] = ()) -> Action:
    return Action(
        key=key,
        kind=Kind.MESSAGE,
        program="cc101",
        userid=uid,
        target=f"user{uid}",
        params=MessageParams(touserid=uid, summary="test", text=f"<p>Hello {key}</p>"),
        reason={"rule": "test"},
        requires=requires,
    )


def enrol(uid: int) -> Action:
    return Action(
        key=f"enrol:u{uid}:c{CC201}:r{STUDENT}",
        kind=Kind.ENROL,
        program="cc101",
        userid=uid,
        target=f"user{uid} → CC201",
        params=EnrolParams(courseid=CC201, roleid=STUDENT),
        reason={"rule": "followup"},
    )


def override(uid: int, cmid: int) -> Action:
    return Action(
        key=f"override:u{uid}:cm{cmid}",
        kind=Kind.OVERRIDE,
        program="cc101",
        userid=uid,
        target=f"user{uid} · {cmid}",
        params=OverrideParams(cmid=cmid),
        reason={"rule": "precheck"},
    )


def texts_to(site: SimulatedMoodle, uid: int) -> list[str]:
    return [m.text for m in site.messages_to(uid)]


# -- the in-run message retry ---------------------------------------------------------


@pytest.mark.parametrize(
    "when",
    [
        pytest.param(
            "after", id="the send reached Moodle but its answer was lost: found, not resent"
        ),
        pytest.param("before", id="the send never reached Moodle: read back, then sent"),
    ],
)
@pytest.mark.parametrize("kind", ["timeout", "http500"])
def test_an_ambiguous_send_is_verified_and_the_message_sent_once(
    site: SimulatedMoodle, db: State, clock: Clock, when: str, kind: str
) -> None:
    hello = message(ANNA, "message:kickoff:u9:pcc101")
    site.faults.queue(SEND, kind, when=when)

    result = push(site, db, clock, hello)

    assert texts_to(site, ANNA) == ["<p>Hello message:kickoff:u9:pcc101</p>"]
    assert [a.key for a in result.applied] == [hello.key]
    assert result.failed == []
    entry = db.entry(hello.key)
    assert entry is not None
    assert (entry.status, entry.last_error) == (Status.APPLIED, None)


def test_a_batch_with_one_lost_answer_sends_every_message_once(
    site: SimulatedMoodle, db: State, clock: Clock
) -> None:
    batch = [message(ANNA, "message:a"), message(BEN, "message:b"), message(ANNA, "message:c")]
    site.faults.queue(SEND, "timeout", when="after")

    push(site, db, clock, *batch)

    assert texts_to(site, ANNA) == ["<p>Hello message:a</p>", "<p>Hello message:c</p>"]
    assert texts_to(site, BEN) == ["<p>Hello message:b</p>"]
    assert [status(db, a.key) for a in batch] == [Status.APPLIED] * 3


def test_a_send_failing_every_time_is_recorded_failed_and_nothing_is_delivered(
    site: SimulatedMoodle, db: State, clock: Clock
) -> None:
    hello = message(ANNA, "message:kickoff:u9:pcc101")
    site.faults.queue(SEND, "timeout", count=RETRIES)

    result = push(site, db, clock, hello)

    assert texts_to(site, ANNA) == []
    assert [a.key for a, _ in result.failed] == [hello.key]
    entry = db.entry(hello.key)
    assert entry is not None and entry.status == Status.FAILED
    assert entry.last_error is not None and SEND in entry.last_error
    # the next run reads the recipient's messages back before sending it again
    assert hello.key in db.ledger("cc101").in_doubt()


# -- a batch write failing ----------------------------------------------------------------


def test_a_failing_batch_write_records_each_action_failed_with_the_error(
    site: SimulatedMoodle, db: State, clock: Clock
) -> None:
    batch = [enrol(ANNA), enrol(BEN)]
    # the course has no manual enrolment instance: the batch, and each half of it
    # once split to find the refused item, are refused alike
    site.faults.queue(ENROL, "wsnoinstance", count=3)

    result = push(site, db, clock, *batch)

    assert site.enrolment(ANNA, CC201) is None
    assert site.enrolment(BEN, CC201) is None
    assert [a.key for a, _ in result.failed] == [a.key for a in batch]
    for action in batch:
        entry = db.entry(action.key)
        assert entry is not None
        assert entry.status == Status.FAILED
        assert entry.attempts == 1
        assert entry.last_error is not None and "wsnoinstance" in entry.last_error
    assert result.stopped_by is None


def test_a_batch_write_failing_once_is_retried_by_the_client(
    site: SimulatedMoodle, db: State, clock: Clock
) -> None:
    site.faults.queue(ENROL, "http503", when="after")

    result = push(site, db, clock, enrol(ANNA))

    enrolment = site.enrolment(ANNA, CC201)
    assert enrolment is not None and STUDENT in enrolment.roleids
    assert [a.key for a in result.applied] == [enrol(ANNA).key]
    assert status(db, enrol(ANNA).key) == Status.APPLIED


# -- dependent messages -------------------------------------------------------------------


def test_a_message_waits_when_the_action_it_requires_failed(
    site: SimulatedMoodle, db: State, clock: Clock
) -> None:
    assert site.activity_state(CARL, 1) == 0
    opened = message(ANNA, "message:refresher-open:u9:c3", requires=(enrol(ANNA).key,))
    results = message(CARL, "message:precheck:u14:a1", requires=(override(CARL, 1).key,))
    site.faults.queue(ENROL, "wsnoinstance")

    result = push(site, db, clock, enrol(ANNA), opened, override(CARL, 1), results)

    # the enrolment failed: its message is deferred, not sent and not in the ledger
    assert [a.key for a in result.deferred] == [opened.key]
    assert texts_to(site, ANNA) == []
    assert status(db, opened.key) is None
    assert status(db, enrol(ANNA).key) == Status.FAILED
    # the override went through: its message is sent
    assert site.activity_state(CARL, 1) == 1
    assert texts_to(site, CARL) == ["<p>Hello message:precheck:u14:a1</p>"]
    assert status(db, results.key) == Status.APPLIED


def test_a_message_waits_for_a_requirement_skipped_as_already_enrolled(
    site: SimulatedMoodle, db: State, clock: Clock
) -> None:
    """An enrolment skipped because they were enrolled already was not ours to announce."""
    already = enrol(ANNA)
    opened = message(ANNA, "message:refresher-open:u9:c3", requires=(already.key,))
    plan = Plan(program="cc101", actions=[opened], satisfied=[(already, "already enrolled")])

    result = push(site, db, clock, plan=plan)

    assert status(db, already.key) == Status.SKIPPED
    assert [a.key for a in result.deferred] == [opened.key]
    assert texts_to(site, ANNA) == []


# -- batch sizes from the field budget ---------------------------------------------------


def test_messages_go_in_as_few_calls_as_the_field_budget_allows_and_none_is_lost(
    site: SimulatedMoodle, db: State, clock: Clock
) -> None:
    # 4 fields a message, 4,000 fields a call: 1,000 messages a call
    batch = [message(ANNA if i % 2 else BEN, f"message:bulk:{i}") for i in range(1001)]
    before = len(site.calls)

    result = push(site, db, clock, *batch)

    sends = [fields for function, fields in site.calls[before:] if function == SEND]
    assert [len(fields["messages"]) for fields in sends] == [1000, 1]
    assert site.truncated_requests == 0
    assert len(result.applied) == 1001
    assert sorted(texts_to(site, ANNA) + texts_to(site, BEN)) == sorted(
        f"<p>Hello message:bulk:{i}</p>" for i in range(1001)
    )


def test_a_site_drops_the_fields_past_max_input_vars_as_php_does(site: SimulatedMoodle) -> None:
    """Why the budget matters: 1,300 messages (5,203 fields) lose their tail silently."""
    messages = [
        {"touserid": ANNA, "text": f"m{i}", "textformat": 1, "clientmsgid": f"c{i}"}
        for i in range(1300)
    ]
    body = urlencode(
        [
            ("wstoken", site.token),
            ("wsfunction", SEND),
            ("moodlewsrestformat", "json"),
            *flatten({"messages": messages}),
        ]
    )

    status_code, _headers, _text = site.handle(body)

    assert status_code == 200 and site.truncated_requests == 1
    assert len(texts_to(site, ANNA)) < 1300


def test_the_client_never_sends_more_fields_than_php_keeps(site: SimulatedMoodle) -> None:
    client = MoodleClient(site.url, site.token, retries=RETRIES, sleep=lambda _s: None)
    too_many = [{"touserid": ANNA, "text": "x", "textformat": 1, "clientmsgid": "c"}] * 1250

    with pytest.raises(ContractError, match="max_input_vars"):
        client.call(SEND, idempotent=False, messages=too_many)

    assert [f for f, _ in site.calls if f == SEND] == []
