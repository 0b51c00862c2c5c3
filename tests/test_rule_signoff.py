"""The sign-off rule as table tests on built snapshots (SPEC §4.2).

Messages are checked by recipient and key only (their wording is the templates').
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

import pytest

from builders import (
    DAY,
    HOUR,
    NOW,
    SIGNOFF_ROLE,
    completion,
    digest_entry,
    learner,
    ledger,
    managers,
    programme,
    signoff,
    signoff_row,
    snapshot,
)
from builders import messages as shared_messages
from buyin.model.actions import (
    EnrolParams,
    Kind,
    RoleAssignParams,
    SignoffRequestParams,
)
from buyin.model.ledger import Ledger, LedgerEntry
from buyin.model.programme import Programme, Signoff
from buyin.model.snapshot import CourseCompletion, Learner, Person, Snapshot
from buyin.rules import History, RuleResult
from buyin.rules import signoff as rule

TODAY = "2026-11-18"


def awaiting(uid: int = 20, *, manager: str | None = "mgr", days: float = 1) -> Learner:
    """A learner who met every criterion but the sign-off ``days`` ago."""
    return learner(
        uid, manager=manager, completion=completion(signed=False, at=NOW - int(days * DAY))
    )


def run(snap: Snapshot, history: Ledger | None = None) -> RuleResult:
    return rule.evaluate(snap, History(ledger=history or Ledger()), NOW)


#: the shared helper, as this rule's tests read it
messages = partial(shared_messages, to_subject=True)


def digest(recipient: int) -> tuple[str, int]:
    return (f"message:signoff-request:u{recipient}:c2:{TODAY}", recipient)


def with_signoff(**cfg: Any) -> Programme:
    return programme(signoff=signoff(**cfg))


# -- who signs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("manager", "people", "approver"),
    [
        pytest.param("mgr", managers(), 5, id="the learner's own manager signs"),
        pytest.param(
            "MGR@example.com ",
            managers(),
            6,
            id="a reference by another field than match_by is unknown: the fallback signs",
        ),
        pytest.param(None, managers(), 6, id="no manager in the profile: the fallback signs"),
        pytest.param("ghost", managers(), 6, id="an unknown manager: the fallback signs"),
        pytest.param(
            "mgr", managers(mgr_suspended=True), 6, id="a suspended manager: the fallback signs"
        ),
        pytest.param(
            "learner20",
            managers(),
            6,
            id="the learner named as their own manager: the fallback signs",
        ),
    ],
)
def test_approver_resolution(manager: str | None, people: list[Person], approver: int) -> None:
    snap = snapshot(awaiting(manager=manager), people=people, programme=with_signoff())

    result = run(snap)

    assert messages(result) == [digest(approver)]
    assert result.undecided == {}
    assert result.facts[20]["awaiting_since"] == NOW - DAY


@pytest.mark.parametrize(
    ("manager", "fallback", "people", "why"),
    [
        pytest.param(
            None,
            None,
            managers(),
            "no manager in profile field 'manager', and no fallback approver",
            id="no manager and no fallback: undecided",
        ),
        pytest.param(
            "ghost",
            "nobody",
            managers(),
            "manager 'ghost' is unknown, and fallback approver 'nobody' is unknown or suspended",
            id="unknown manager and unknown fallback: undecided",
        ),
        pytest.param(
            "mgr",
            "mgr",
            managers(mgr_suspended=True),
            "manager mgr is suspended, and fallback approver 'mgr' is unknown or suspended",
            id="suspended manager who is also the fallback: undecided",
        ),
    ],
)
def test_no_approver_leaves_the_learner_undecided(
    manager: str | None, fallback: str | None, people: list[Person], why: str
) -> None:
    snap = snapshot(
        awaiting(manager=manager), people=people, programme=with_signoff(fallback_approver=fallback)
    )

    result = run(snap)

    assert result.actions == []
    assert result.undecided == {20: f"awaiting sign-off, but {why}"}


@pytest.mark.parametrize(
    "subject",
    [
        pytest.param(learner(), id="no completion data: not concerned"),
        pytest.param(
            learner(completion=completion(activities_met=False, signed=False)),
            id="activities not all met: not awaiting yet",
        ),
        pytest.param(
            learner(completion=completion(signed=None)),
            id="a course without the role criterion: no sign-off",
        ),
    ],
)
def test_learners_not_awaiting_sign_off_get_nothing(subject: Learner) -> None:
    result = run(snapshot(subject, programme=with_signoff()))

    assert result.actions == []
    assert result.undecided == {}


def test_aggregation_any_needs_no_sign_off() -> None:
    done = completion(signed=False)
    any_of = CourseCompletion(completed=False, aggregation=2, criteria=done.criteria)
    result = run(snapshot(learner(completion=any_of), programme=with_signoff()))

    assert result.actions == []
    assert result.undecided == {
        20: "course completion aggregation is ANY: sign-off is not required"
    }


# -- how often the approver hears ------------------------------------------------------


@pytest.mark.parametrize(
    ("last_digest", "expected"),
    [
        pytest.param(None, [digest(5)], id="never asked: a digest today"),
        pytest.param(NOW - HOUR, [], id="asked earlier today: nothing more today"),
        pytest.param(NOW - DAY, [], id="asked yesterday: no reminder before remind_every_days"),
        pytest.param(
            NOW - 3 * DAY, [digest(5)], id="asked remind_every_days ago: a reminder today"
        ),
    ],
)
def test_digest_once_a_day_and_reminder_cadence(
    last_digest: int | None, expected: list[tuple[str, int]]
) -> None:
    snap = snapshot(
        awaiting(days=4),
        people=managers(signoff_role=True),
        programme=with_signoff(escalate_after_days=30),
    )
    history = ledger(digest_entry(5, {20: "direct"}, at=last_digest)) if last_digest else None

    assert messages(run(snap, history)) == expected


def test_a_new_learner_makes_the_digest_due_again() -> None:
    snap = snapshot(
        awaiting(20, days=4),
        awaiting(21),
        people=managers(signoff_role=True),
        programme=with_signoff(),
    )
    history = ledger(digest_entry(5, {20: "direct"}, at=NOW - DAY))

    assert messages(run(snap, history)) == [digest(5)]


def test_one_digest_per_approver_lists_all_their_learners() -> None:
    snap = snapshot(
        awaiting(20), awaiting(21), awaiting(22, manager=None), programme=with_signoff()
    )

    result = run(snap)

    assert messages(result) == [digest(5), digest(6)]


# -- escalation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "earlier", "expected"),
    [
        pytest.param(
            6, [], [digest(5)], id="waiting less than escalate_after_days: the approver only"
        ),
        pytest.param(
            30, [], [digest(5)], id="waiting long but never asked: the first request, no escalation"
        ),
        pytest.param(
            8,
            [digest_entry(5, {20: "direct"}, at=NOW - 8 * DAY)],
            [digest(4)],
            id="asked escalate_after_days ago: the approver's own manager hears, no more reminder",
        ),
        pytest.param(
            8,
            [digest_entry(6, {20: "direct"}, at=NOW - 8 * DAY)],
            [digest(5)],
            id="another approver was asked: this one's clock starts now",
        ),
        pytest.param(
            8,
            [
                digest_entry(4, {20: "escalated"}, at=NOW - DAY),
                digest_entry(5, {20: "direct"}, at=NOW - DAY),
            ],
            [],
            id="escalated once already: never again, and no reminder before its time",
        ),
        pytest.param(
            8,
            [
                digest_entry(4, {20: "escalated"}, at=NOW - 3 * DAY),
                digest_entry(5, {20: "direct"}, at=NOW - 3 * DAY),
            ],
            [],
            id="escalated once already: nothing more but the weekly digest",
        ),
    ],
)
def test_escalation(
    days: float, earlier: list[LedgerEntry], expected: list[tuple[str, int]]
) -> None:
    snap = snapshot(
        awaiting(days=days), people=managers(signoff_role=True), programme=with_signoff()
    )

    result = run(snap, ledger(*earlier))

    assert messages(result) == expected


def test_escalation_from_the_fallback_without_a_manager_goes_nowhere() -> None:
    snap = snapshot(
        awaiting(manager=None, days=8), people=managers(signoff_role=True), programme=with_signoff()
    )

    assert messages(run(snap)) == [digest(6)]


# -- the channel: how the approver is made able to sign --------------------------------


@pytest.mark.parametrize(
    ("people", "directory", "expected"),
    [
        pytest.param(
            managers(),
            [],
            [("role:u5:c2:r10", Kind.ROLE_ASSIGN, RoleAssignParams(2, SIGNOFF_ROLE))],
            id="enrolled without the sign-off role: the role is added, not re-enrolled",
        ),
        pytest.param(
            [],
            managers(),
            [("enrol:u5:c2:r10", Kind.ENROL, EnrolParams(2, SIGNOFF_ROLE))],
            id="not enrolled: enrolled with the sign-off role",
        ),
        pytest.param(
            managers(signoff_role=True),
            [],
            [],
            id="holding the sign-off role already: nothing to prepare",
        ),
    ],
)
def test_completion_report_channel(
    people: list[Person], directory: list[Person], expected: list[tuple[str, Kind, object]]
) -> None:
    snap = snapshot(awaiting(), people=people, directory=directory, programme=with_signoff())

    result = run(snap)

    prepared = [(a.key, a.kind, a.params) for a in result.actions if a.kind != Kind.MESSAGE]
    assert prepared == expected
    assert all(a.userid == 5 for a in result.actions)
    assert messages(result) == [digest(5)]


def test_plugin_channel_requests_sign_off_in_local_buyin() -> None:
    snap = snapshot(
        awaiting(20),
        awaiting(21),
        people=managers(signoff_role=True),
        programme=with_signoff(),
        plugin_signoffs={},
    )

    result = run(snap)

    requests = [
        (a.key, a.userid, a.params) for a in result.actions if a.kind == Kind.SIGNOFF_REQUEST
    ]
    assert requests == [
        ("signoff-request:u20:c2:m5", 20, SignoffRequestParams(courseid=2, managerid=5)),
        ("signoff-request:u21:c2:m5", 21, SignoffRequestParams(courseid=2, managerid=5)),
    ]
    assert messages(result) == [digest(5)]


# -- when it is signed ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plugin", "asked_before", "expected"),
    [
        pytest.param(
            False,
            True,
            [("message:signoff-done:u20:c2", 20)],
            id="completion report: signed after our request, the learner is told",
        ),
        pytest.param(
            False, False, [], id="completion report: signed without our request, nothing to say"
        ),
        pytest.param(
            True,
            True,
            [("message:signoff-done:u20:c2", 20)],
            id="plugin: signed after our request, the learner is told",
        ),
    ],
)
def test_signed_learner_is_told_once_asked(
    plugin: bool, asked_before: bool, expected: list[tuple[str, int]]
) -> None:
    if plugin:
        subject = awaiting()  # the plugin's row decides, not the role criterion
        rows = {20: signoff_row(20, status="signed", decided=NOW - HOUR)}
    else:
        subject = learner(completion=completion(signed=True, at=NOW - 2 * DAY))
        rows = None
    history = ledger(digest_entry(5, {20: "direct"}, at=NOW - 2 * DAY)) if asked_before else None
    snap = snapshot(subject, programme=with_signoff(), plugin_signoffs=rows)

    result = run(snap, history)

    assert messages(result) == expected
    assert [a.kind for a in result.actions] == [Kind.MESSAGE] * len(expected)
    if expected:
        assert result.actions[0].reason["approver"] == 5


def test_plugin_signer_is_named_even_when_not_the_approver_asked() -> None:
    rows = {20: signoff_row(20, managerid=6, status="signed", decided=NOW - HOUR)}
    snap = snapshot(awaiting(), programme=with_signoff(), plugin_signoffs=rows)

    result = run(snap, ledger(digest_entry(5, {20: "direct"}, at=NOW - 2 * DAY)))

    assert messages(result) == [("message:signoff-done:u20:c2", 20)]
    assert result.actions[0].reason["approver"] == 6


def test_custom_signoff_config_is_honoured() -> None:
    cfg = Signoff(role=SIGNOFF_ROLE, manager_field="boss_ref", match_by="email")
    subject = awaiting(manager=None)
    subject = replace(
        subject, person=replace(subject.person, custom={"boss_ref": "MGR@example.com"})
    )
    snap = snapshot(subject, people=managers(signoff_role=True), programme=programme(signoff=cfg))

    assert messages(run(snap)) == [digest(5)]


@pytest.mark.parametrize(
    ("reminded", "max_reminders", "expected"),
    [
        pytest.param(1, 2, [digest(5)], id="one reminder of two: the second is due"),
        pytest.param(2, 2, [], id="max_reminders sent: no third one"),
        pytest.param(0, 0, [], id="max_reminders = 0: the request alone"),
    ],
)
def test_reminders_stop_at_max_reminders(
    reminded: int, max_reminders: int, expected: list[tuple[str, int]]
) -> None:
    # asked 20 days ago, reminded every 3 days since; escalation far off (escalate_after_days)
    sent = [
        digest_entry(5, {20: "direct"}, at=NOW - (20 - 3 * i) * DAY) for i in range(reminded + 1)
    ]
    snap = snapshot(
        awaiting(days=21),
        people=managers(signoff_role=True),
        programme=with_signoff(escalate_after_days=60, max_reminders=max_reminders),
    )

    assert messages(run(snap, ledger(*sent))) == expected


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        pytest.param("", [], id="the holiday in UTC: the request waits"),
        pytest.param("Europe/Berlin", [], id="the holiday in Berlin too: it waits"),
        pytest.param("Pacific/Honolulu", [digest(5)], id="still the day before in Honolulu"),
    ],
)
def test_a_first_request_goes_out_on_the_recipient_s_working_day(
    zone: str, expected: list[tuple[str, int]]
) -> None:
    """Every message, first requests included, waits for a working day where its
    reader is: a holiday (or weekend) is counted in their time zone."""
    from buyin.rules import evaluate

    people = [replace(p, timezone=zone) if p.id == 5 else p for p in managers(signoff_role=True)]
    snap = snapshot(
        awaiting(days=2),
        people=people,
        programme=replace(with_signoff(), holidays=(TODAY,), kickoff=None, followup=None),
    )

    result = evaluate(snap, History(), NOW)

    assert messages(result) == expected
