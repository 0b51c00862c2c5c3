"""The follow-up rule as table tests on built snapshots (SPEC §4.3).

Messages are checked by recipient and key only (their wording is the templates').
"""

from __future__ import annotations

import pytest

from builders import (
    DAY,
    NOW,
    STUDENT,
    completion,
    course,
    entry,
    followup,
    learner,
    ledger,
    messages,
    programme,
    snapshot,
)
from buyin.model.actions import EnrolParams, Kind
from buyin.model.ledger import Status
from buyin.model.programme import Followup
from buyin.model.snapshot import Learner
from buyin.rules import History, RuleResult
from buyin.rules import followup as rule

DONE_AT = NOW - 2 * DAY
JOB_AID = ("message:jobaid:u20:pcc101", 20)
ENROL = "enrol:u20:c3:r5"
OPEN = "message:refresher-open:u20:c3"


def completed(uid: int = 20) -> Learner:
    """A learner whose every criterion was met at DONE_AT."""
    return learner(uid, completion=completion(signed=True, at=DONE_AT - 3600))


def run(
    subject: Learner,
    cfg: Followup,
    history: History | None = None,
    *,
    mapped_since: str | None = None,
    refresher_known: bool = True,
) -> RuleResult:
    snap = snapshot(
        subject,
        programme=programme(followup=cfg, mapped_since=mapped_since),
        refresher=course(3, "CC201") if refresher_known else None,
    )
    return rule.evaluate(snap, history or History(), NOW)


def enrolments(result: RuleResult) -> list[tuple[str, int, EnrolParams]]:
    out = []
    for action in result.actions:
        if action.kind == Kind.ENROL:
            assert isinstance(action.params, EnrolParams)
            out.append((action.key, action.userid, action.params))
    return out


def test_job_aid_is_sent_on_completion() -> None:
    result = run(completed(), followup(refresher=False))

    assert messages(result) == [JOB_AID]
    assert enrolments(result) == []
    assert result.facts[20]["completed_at"] == DONE_AT


@pytest.mark.parametrize(
    ("delay", "duration", "timestart", "timeend"),
    [
        pytest.param(
            30, None, DONE_AT + 30 * DAY, 0, id="opens delay_days after completion, no end"
        ),
        pytest.param(
            30, 14, DONE_AT + 30 * DAY, DONE_AT + 44 * DAY, id="ends duration_days after it opens"
        ),
        pytest.param(0.5, 1, DONE_AT + DAY // 2, DONE_AT + 3 * DAY // 2, id="fractional days"),
    ],
)
def test_refresher_enrolment_dates(
    delay: float, duration: float | None, timestart: int, timeend: int
) -> None:
    cfg = followup(job_aid=False, delay_days=delay, duration_days=duration)

    result = run(completed(), cfg)

    assert enrolments(result) == [
        (ENROL, 20, EnrolParams(courseid=3, roleid=STUDENT, timestart=timestart, timeend=timeend))
    ]
    assert result.facts[20]["refresher_start"] == timestart


@pytest.mark.parametrize(
    ("delay", "earlier", "scheduled", "sent"),
    [
        pytest.param(
            30, None, True, False, id="before the refresher opens: the message is scheduled"
        ),
        pytest.param(1, None, False, True, id="once it opens: the message waits for the enrolment"),
        pytest.param(
            1,
            Status.SKIPPED,
            False,
            False,
            id="already enrolled there before we tried (skipped, no attempt): nothing announced",
        ),
        pytest.param(
            1,
            Status.FAILED,
            False,
            True,
            id="our enrolment whose answer was lost (failed): the message waits for it",
        ),
    ],
)
def test_refresher_open_message(
    delay: float, earlier: Status | None, scheduled: bool, sent: bool
) -> None:
    # an enrolment Moodle held before the agent tried is skipped with no attempt
    attempts = 0 if earlier == Status.SKIPPED else 1
    history = History(
        ledger=ledger(entry(ENROL, kind=Kind.ENROL, status=earlier, attempts=attempts))
        if earlier
        else ledger()
    )

    result = run(completed(), followup(job_aid=False, delay_days=delay), history)

    assert (OPEN in result.schedule) == scheduled
    if scheduled:
        assert result.schedule[OPEN] == (20, DONE_AT + 30 * DAY, {"course": 3})
    opened = [a for a in result.actions if a.key == OPEN]
    assert messages(result) == ([(OPEN, 20)] if sent else [])
    if sent:
        assert opened[0].requires == (ENROL,)


def test_no_refresher_enrolment_when_the_course_was_not_found() -> None:
    result = run(completed(), followup(), refresher_known=False)

    assert enrolments(result) == []
    assert messages(result) == [JOB_AID]


def test_manager_note_on_completion() -> None:
    result = run(completed(), followup(job_aid=False, refresher=False, notify_manager=True))

    assert messages(result) == [("message:followup-manager:u5:u20:pcc101", 5)]


@pytest.mark.parametrize(
    ("subject", "mapped_since", "history", "expected"),
    [
        pytest.param(
            completed(),
            "2026-11-01",
            History(),
            [JOB_AID],
            id="completed after mapped_since: followed up",
        ),
        pytest.param(
            completed(), "2026-11-17", History(), [], id="completed before mapped_since: left alone"
        ),
        pytest.param(
            completed(),
            "2026-11-17",
            History(window=(DONE_AT - DAY, DONE_AT + DAY)),
            [JOB_AID],
            id="before mapped_since but inside a backfill window: followed up",
        ),
        pytest.param(
            completed(),
            None,
            History(window=(NOW - 30 * DAY, NOW - 20 * DAY)),
            [],
            id="outside a backfill window: left alone",
        ),
        pytest.param(
            learner(completion=completion(signed=False, at=DONE_AT)),
            None,
            History(),
            [],
            id="awaiting sign-off is not complete yet",
        ),
    ],
)
def test_which_completions_are_followed_up(
    subject: Learner, mapped_since: str | None, history: History, expected: list[tuple[str, int]]
) -> None:
    result = run(subject, followup(refresher=False), history, mapped_since=mapped_since)

    assert messages(result) == expected
