"""The insight rule as table tests on built snapshots (SPEC §4.5).

Messages are checked by recipient and key only (their wording is the templates').
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from builders import (
    DAY,
    NOW,
    attempt,
    completion,
    entry,
    learner,
    ledger,
    precheck,
    programme,
    snapshot,
)
from builders import messages as shared_messages
from buyin.model.actions import Kind
from buyin.model.ledger import Status
from buyin.model.snapshot import Learner
from buyin.rules import History, RuleResult
from buyin.rules import insights as rule

DONE_AT = NOW - 2 * DAY
SUMMARY = "message:insight-complete:u20:pcc101"


def saved_overrides(*uids: int) -> list[Any]:
    """Applied test-out overrides: time saved, something gained to tell."""
    return [
        entry(f"override:u{u}:cm1", kind=Kind.OVERRIDE, userid=u, reason={"minutes_saved": 15})
        for u in uids
    ]


SAVED = History(ledger=ledger(*saved_overrides(20)))


def completed(uid: int = 20, **overrides: Any) -> Learner:
    return learner(uid, completion=completion(signed=True, at=DONE_AT - 3600), **overrides)


def run(
    *learners: Learner,
    history: History | None = None,
    mapped_since: str | None = None,
    insights: dict[str, Any] | None = None,
) -> RuleResult:
    snap = snapshot(
        *learners,
        programme=programme(precheck=precheck(), mapped_since=mapped_since, insights=insights),
    )
    return rule.evaluate(snap, history or History(), NOW)


#: the shared helper, as this rule's tests read it
messages = partial(shared_messages, only_messages=True)


@pytest.mark.parametrize(
    ("subject", "history", "mapped_since", "insights", "expected"),
    [
        pytest.param(
            completed(), SAVED, None, None, [(SUMMARY, 20)], id="a completion earns one summary"
        ),
        pytest.param(
            completed(attempts=[attempt()]),
            SAVED,
            None,
            None,
            [(SUMMARY, 20)],
            id="with pre-check scores: still one summary",
        ),
        pytest.param(
            completed(attempts=[attempt()]),
            History(),
            None,
            None,
            [],
            id="no post-assessment, retention or time saved: nothing gained to tell, none",
        ),
        pytest.param(
            completed(),
            History(ledger=ledger(entry(SUMMARY))),
            None,
            None,
            [],
            id="already delivered: never again",
        ),
        pytest.param(
            completed(),
            History(ledger=ledger(entry(SUMMARY, status=Status.FAILED), *saved_overrides(20))),
            None,
            None,
            [(SUMMARY, 20)],
            id="a failed delivery is asked for again",
        ),
        pytest.param(
            learner(completion=completion(signed=False, at=DONE_AT)),
            History(),
            None,
            None,
            [],
            id="awaiting sign-off is not a completion",
        ),
        pytest.param(
            completed(), SAVED, "2026-11-17", None, [], id="completed before mapped_since: none"
        ),
        pytest.param(
            completed(),
            SAVED,
            None,
            {"learner_summary": False},
            [],
            id="learner_summary off: none",
        ),
    ],
)
def test_completion_message_once(
    subject: Learner,
    history: History,
    mapped_since: str | None,
    insights: dict[str, Any] | None,
    expected: list[tuple[str, int]],
) -> None:
    result = run(subject, history=history, mapped_since=mapped_since, insights=insights)

    assert messages(result) == expected


def test_every_completed_learner_gets_their_own_summary() -> None:
    result = run(
        completed(20),
        completed(21),
        learner(22),
        history=History(ledger=ledger(*saved_overrides(20, 21))),
    )

    assert messages(result) == [(SUMMARY, 20), ("message:insight-complete:u21:pcc101", 21)]


@pytest.mark.parametrize(
    ("weekday", "expected"),
    [
        pytest.param(
            "monday",
            [("message:insight-team:u5:pcc101:2026-W47", 5)],
            id="on or after the digest weekday: the manager gets this week's digest",
        ),
        pytest.param(
            "wednesday", [("message:insight-team:u5:pcc101:2026-W47", 5)], id="on the day"
        ),
        pytest.param("friday", [], id="before the digest weekday: nothing yet"),
    ],
)
def test_manager_digest_weekday(weekday: str, expected: list[tuple[str, int]]) -> None:
    result = run(
        learner(20),
        learner(21, active=False),
        insights={"learner_summary": False, "manager_digest_weekday": weekday},
    )

    assert messages(result) == expected
    if expected:
        assert result.actions[0].reason["learners"] == [20]


def test_no_weekly_digest_once_the_whole_team_has_finished() -> None:
    digest = {"learner_summary": False, "manager_digest_weekday": "monday"}
    in_progress = run(completed(20), learner(21), insights=digest)
    finished = run(completed(20), completed(21), insights=digest)

    assert messages(in_progress) == [("message:insight-team:u5:pcc101:2026-W47", 5)]
    assert messages(finished) == []  # nothing in progress, nothing awaiting: nothing to follow
