"""The kickoff rule as table tests on built snapshots (SPEC §4.4).

Messages are checked by recipient and key only (their wording is the templates').
"""

from __future__ import annotations

from functools import partial

import pytest

from builders import DAY, NOW, attempt, done, entry, learner, ledger, programme, signoff, snapshot
from builders import messages as shared_messages
from buyin.model.ledger import LedgerEntry, Status
from buyin.model.programme import Kickoff
from buyin.model.snapshot import ActivityState, Learner
from buyin.rules import History, RuleResult
from buyin.rules import kickoff as rule

MAPPED_AT = NOW - 10 * DAY
WELCOME = ("message:kickoff:u20:pcc101", 20)
MANAGER = ("message:kickoff-manager:u5:pcc101:2026-11-18", 5)


def run(
    *learners: Learner,
    history: History | None = None,
    mapped_since: str | None = None,
    with_fallback: bool = False,
) -> RuleResult:
    snap = snapshot(
        *learners,
        programme=programme(
            kickoff=Kickoff(),
            mapped_since=mapped_since,
            signoff=signoff() if with_fallback else None,
        ),
    )
    return rule.evaluate(snap, history or History(mapped_at=MAPPED_AT), NOW)


#: the shared helper, as this rule's tests read it
messages = partial(shared_messages, only_messages=True)


def started(days_ago: float) -> dict[int, ActivityState]:
    return {1: done(NOW - int(days_ago * DAY))}


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        pytest.param(
            learner(first_seen=NOW - DAY),
            [WELCOME, MANAGER],
            id="enrolled after the programme was mapped: learner and manager hear",
        ),
        pytest.param(
            learner(first_seen=NOW - DAY, activities=started(0.5)),
            [WELCOME, MANAGER],
            id="new since mapping and already started: still welcomed",
        ),
        pytest.param(
            learner(first_seen=NOW - 30 * DAY),
            [WELCOME, MANAGER],
            id="there at mapping but not started yet: welcomed",
        ),
        pytest.param(
            learner(first_seen=NOW - 30 * DAY, activities=started(20)),
            [],
            id="already started when the programme was mapped: never welcomed",
        ),
        pytest.param(
            learner(first_seen=NOW - 30 * DAY, attempts=[attempt(at=NOW - 20 * DAY)]),
            [],
            id="a pre-check attempt before mapping counts as started",
        ),
        pytest.param(
            learner(first_seen=NOW - DAY, active=False),
            [],
            id="an inactive enrolment: nobody hears",
        ),
        pytest.param(
            learner(first_seen=NOW - DAY, manager=None),
            [WELCOME],
            id="no manager: the learner is welcomed, no manager to tell",
        ),
    ],
)
def test_new_versus_already_started(subject: Learner, expected: list[tuple[str, int]]) -> None:
    assert messages(run(subject)) == expected


def test_a_fallback_approver_is_not_told_as_the_manager() -> None:
    result = run(learner(first_seen=NOW - DAY, manager=None), with_fallback=True)

    assert messages(result) == [WELCOME]


def test_started_before_mapped_since_is_never_welcomed() -> None:
    subject = learner(first_seen=NOW - DAY, activities=started(5))

    assert messages(run(subject, mapped_since="2026-11-15")) == []
    assert messages(run(subject, mapped_since="2026-11-10")) == [WELCOME, MANAGER]


def test_backfill_kickoff_welcomes_starts_inside_its_window() -> None:
    subject = learner(first_seen=NOW - 30 * DAY, activities=started(20))
    window = (NOW - 25 * DAY, NOW - 15 * DAY)

    inside = History(mapped_at=MAPPED_AT, window=window, retro_kickoff=True)
    without_flag = History(mapped_at=MAPPED_AT, window=window)

    assert messages(run(subject, history=inside)) == [WELCOME, MANAGER]
    assert messages(run(subject, history=without_flag)) == []


def welcomed(status: Status = Status.APPLIED) -> LedgerEntry:
    return entry(WELCOME[0], status=status, reason={"rule": "kickoff", "manager": 5})


def manager_told(*learners: int) -> LedgerEntry:
    return entry(
        "message:kickoff-manager:u5:pcc101:2026-11-17",
        userid=5,
        reason={"rule": "kickoff-manager", "learners": list(learners)},
    )


@pytest.mark.parametrize(
    ("earlier", "expected"),
    [
        pytest.param([welcomed(), manager_told(20)], [], id="welcomed and manager told: once only"),
        pytest.param(
            [welcomed()], [MANAGER], id="welcomed but the manager not told yet: the manager only"
        ),
        pytest.param(
            [welcomed(Status.FAILED), manager_told(20)],
            [WELCOME],
            id="a failed welcome is asked for again",
        ),
    ],
)
def test_once_per_learner(earlier: list[LedgerEntry], expected: list[tuple[str, int]]) -> None:
    # started before mapping: only an attempt already in the ledger keeps them in scope
    subject = learner(first_seen=NOW - 30 * DAY, activities=started(20))
    history = History(ledger=ledger(*earlier), mapped_at=MAPPED_AT)

    assert messages(run(subject, history=history)) == expected


def test_one_manager_message_lists_every_starter() -> None:
    result = run(learner(20, first_seen=NOW - DAY), learner(21, first_seen=NOW - DAY))

    assert messages(result) == [WELCOME, ("message:kickoff:u21:pcc101", 21), MANAGER]
    assert result.actions[-1].reason["learners"] == [20, 21]
