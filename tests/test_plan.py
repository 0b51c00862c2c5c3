"""The planner: desired actions against the ledger and Moodle's state (buyin.plan)."""

from __future__ import annotations

import pytest

from builders import done, entry, learner, ledger, snapshot
from buyin.model.actions import Action, Kind, MessageParams, OverrideParams, params_to_json
from buyin.model.ledger import LedgerEntry, Status
from buyin.model.snapshot import Snapshot
from buyin.plan import MAX_ATTEMPTS, Plan, make_plan


def override(cmid: int = 1, uid: int = 20) -> Action:
    return Action(
        key=f"override:u{uid}:cm{cmid}",
        kind=Kind.OVERRIDE,
        program="cc101",
        userid=uid,
        target=f"learner{uid} · Activity {cmid}",
        params=OverrideParams(cmid=cmid),
        reason={"rule": "precheck"},
    )


def hello(uid: int = 20) -> Action:
    return Action(
        key=f"message:kickoff:u{uid}:pcc101",
        kind=Kind.MESSAGE,
        program="cc101",
        userid=uid,
        target=f"learner{uid}",
        params=MessageParams(touserid=uid, summary="kickoff", text="<p>Welcome</p>"),
        reason={"rule": "kickoff"},
    )


def recorded(action: Action, status: Status, attempts: int = 1) -> LedgerEntry:
    """The ledger row an earlier run left for ``action``."""
    return entry(
        action.key,
        kind=action.kind,
        status=status,
        userid=action.userid,
        payload=params_to_json(action.params),
        reason=action.reason,
        attempts=attempts,
    )


def moodle(*complete: int) -> Snapshot:
    """Moodle with learner 20 holding these activities complete."""
    return snapshot(learner(activities={cmid: done() for cmid in complete}))


def where(plan: Plan) -> dict[str, list[str]]:
    """Each action key by the plan's bucket it fell in."""
    return {
        "push": [a.key for a in plan.actions],
        "satisfied": [a.key for a, _ in plan.satisfied],
        "verified": [a.key for a in plan.verified],
        "given_up": [a.key for a in plan.given_up],
        "stale": [a.key for a, _ in plan.stale],
    }


def only(bucket: str, *keys: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {
        b: [] for b in ("push", "satisfied", "verified", "given_up", "stale")
    }
    out[bucket] = list(keys)
    return out


KEY = "override:u20:cm1"


@pytest.mark.parametrize(
    ("earlier", "complete", "expected", "done_count"),
    [
        pytest.param(None, (), only("push", KEY), 0, id="new and not in Moodle: pushed"),
        pytest.param(Status.APPLIED, (), only("push"), 1, id="applied before: done, not again"),
        pytest.param(
            Status.SKIPPED, (), only("push"), 1, id="skipped before (Moodle had it): done"
        ),
        pytest.param(
            None, (1,), only("satisfied", KEY), 0, id="new but Moodle already holds it: satisfied"
        ),
        pytest.param(
            Status.PLANNED,
            (1,),
            only("verified", KEY),
            0,
            id="planned by a killed run and now true in Moodle: verified",
        ),
        pytest.param(
            Status.PLANNED,
            (),
            only("push", KEY),
            0,
            id="planned by a killed run and not true in Moodle: pushed again",
        ),
        pytest.param(
            Status.FAILED, (), only("push", KEY), 0, id="failed fewer times than the limit: retried"
        ),
    ],
)
def test_desired_action(
    earlier: Status | None,
    complete: tuple[int, ...],
    expected: dict[str, list[str]],
    done_count: int,
) -> None:
    action = override()
    history = ledger(recorded(action, earlier)) if earlier else ledger()

    plan = make_plan("cc101", [action], history, moodle(*complete))

    assert where(plan) == expected
    assert plan.done == done_count


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        pytest.param(MAX_ATTEMPTS - 1, only("push", KEY), id="one attempt left: retried"),
        pytest.param(MAX_ATTEMPTS, only("given_up", KEY), id="failed MAX_ATTEMPTS times: given up"),
        pytest.param(MAX_ATTEMPTS + 3, only("given_up", KEY), id="failed more often: given up"),
    ],
)
def test_given_up_after_max_attempts(attempts: int, expected: dict[str, list[str]]) -> None:
    action = override()

    plan = make_plan("cc101", [action], ledger(recorded(action, Status.FAILED, attempts)), moodle())

    assert where(plan) == expected


def test_a_given_up_action_that_moodle_now_holds_is_settled_not_stuck() -> None:
    """Someone did it by hand (or the site now allows it): no longer reported as stuck."""
    action = override()

    plan = make_plan(
        "cc101", [action], ledger(recorded(action, Status.FAILED, MAX_ATTEMPTS)), moodle(1)
    )

    assert where(plan) == only("satisfied", KEY)


@pytest.mark.parametrize(
    ("status", "complete", "expected"),
    [
        pytest.param(
            Status.PLANNED,
            (),
            only("stale", "override:u20:cm2"),
            id="planned by a killed run, no longer desired, not in Moodle: stale",
        ),
        pytest.param(
            Status.PLANNED,
            (2,),
            only("verified", "override:u20:cm2"),
            id="planned by a killed run, no longer desired, but in Moodle: verified",
        ),
        pytest.param(
            Status.FAILED, (), only("push"), id="failed and no longer desired: left as it is"
        ),
        pytest.param(Status.APPLIED, (), only("push"), id="applied and no longer desired: history"),
    ],
)
def test_ledger_rows_the_rules_no_longer_ask_for(
    status: Status, complete: tuple[int, ...], expected: dict[str, list[str]]
) -> None:
    plan = make_plan("cc101", [], ledger(recorded(override(2), status)), moodle(*complete))

    assert where(plan) == expected


def test_a_stale_action_is_rebuilt_typed_from_its_ledger_row() -> None:
    plan = make_plan("cc101", [], ledger(recorded(override(2), Status.PLANNED)), moodle())

    [(orphan, why)] = plan.stale
    assert (orphan.kind, orphan.userid, orphan.params) == (Kind.OVERRIDE, 20, OverrideParams(2))
    assert orphan.reason == {"rule": "precheck"}
    assert why == "no longer needed"


def test_a_satisfied_action_carries_why() -> None:
    plan = make_plan("cc101", [override()], ledger(), moodle(1))

    assert plan.satisfied == [(override(), "activity already complete")]


def test_a_message_left_planned_is_pushed_for_read_back_not_verified() -> None:
    """Moodle's snapshot cannot tell a message was sent: the pusher reads it back."""
    message = hello()

    plan = make_plan("cc101", [message], ledger(recorded(message, Status.PLANNED)), moodle())

    assert where(plan) == only("push", message.key)


def test_an_action_desired_twice_is_planned_once() -> None:
    plan = make_plan("cc101", [override(), override(), hello()], ledger(), moodle())

    assert where(plan)["push"] == [KEY, "message:kickoff:u20:pcc101"]
