"""The sign-off records `status` and the reports read (SPEC §4.2): per learner, the
request as the ledger (delivered digests) and Moodle (the criterion) show it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from buyin.model.ledger import LedgerEntry
from buyin.model.snapshot import CRITERIA_ROLE, Snapshot
from buyin.rules.signoff import (
    REJECTED,
    Delivered,
    Pending,
    SignoffChannel,
    awaiting_since,
    channel_for,
    classify,
    delivered_digests,
    first_asked,
    resolve_approver,
    signer_of,
)


@dataclass
class SignoffRecord:
    userid: int
    #: awaiting | requested | reminded | escalated | signed | rejected | cancelled | undecided
    status: str
    approver: int | None = None
    awaiting_since: int | None = None
    requested_at: int | None = None
    reminders: int = 0
    escalated_to: int | None = None
    escalated_at: int | None = None
    signed_at: int | None = None
    signed_by: int | None = None
    latency_seconds: int | None = None
    note: str = ""
    extra: dict[str, int] = field(default_factory=dict)


def records(
    snapshot: Snapshot,
    ledger: Mapping[str, LedgerEntry],
    now: int,
    channel: SignoffChannel | None = None,
) -> dict[int, SignoffRecord]:
    """Per learner, the sign-off request as the ledger and Moodle show it."""
    cfg = snapshot.programme.signoff
    if cfg is None:
        return {}
    channel = channel or channel_for(snapshot)
    digests = delivered_digests(ledger, snapshot.course.id)
    out: dict[int, SignoffRecord] = {}
    requested: dict[int, list[Delivered]] = {}
    escalated: dict[int, Delivered] = {}
    for d in digests:
        for uid, how in d.learners.items():
            if how == "direct":
                requested.setdefault(uid, []).append(d)
            else:
                escalated.setdefault(uid, d)
    classified = classify(snapshot, cfg, now, channel, first_asked(digests), digests)
    notes = {
        learner.id: item.note if isinstance(item, Pending) else item
        for learner, item in classified
        if item != "signed"
    }
    rejected = {learner.id for learner, item in classified if item == REJECTED}
    for uid, learner in snapshot.learners.items():
        signed = channel.signed_at(learner)
        since = awaiting_since(learner)
        if signed is None and since is None:
            continue
        if signed is not None:
            completion = learner.data.completion
            others = [
                c.timecompleted
                for c in (completion.criteria if completion else ())
                if c.type != CRITERIA_ROLE and c.timecompleted
            ]
            start = max(others) if others else None
            approver, _ = resolve_approver(snapshot, learner.person, cfg)
            out[uid] = SignoffRecord(
                userid=uid,
                status="signed",
                approver=approver.person.id if approver else None,
                awaiting_since=start,
                requested_at=requested[uid][0].at if uid in requested else None,
                reminders=max(0, len(requested.get(uid, [])) - 1),
                escalated_to=escalated[uid].recipient if uid in escalated else None,
                escalated_at=escalated[uid].at if uid in escalated else None,
                signed_at=signed,
                signed_by=signer_of(channel, learner),
                latency_seconds=signed - start if start else None,
            )
            continue
        approver, problem = resolve_approver(snapshot, learner.person, cfg)
        sent = requested.get(uid, [])
        row = channel.rejection(learner)
        if uid in rejected and row is not None:
            comment = (row.comment or "").strip()
            out[uid] = SignoffRecord(
                userid=uid,
                status=REJECTED,
                approver=row.decidedby or (approver.person.id if approver else None),
                awaiting_since=since,
                requested_at=sent[0].at if sent else None,
                reminders=max(0, len(sent) - 1),
                note=f"the manager wrote: {comment}" if comment else "no comment from the manager",
                extra={"rejected_at": int(row.timedecided or 0)},
            )
            continue
        status = "escalated" if uid in escalated else "reminded" if len(sent) > 1 else "requested"
        out[uid] = SignoffRecord(
            userid=uid,
            status=status if sent else "awaiting" if approver else "undecided",
            approver=approver.person.id if approver else None,
            awaiting_since=since,
            requested_at=sent[0].at if sent else None,
            reminders=max(0, len(sent) - 1),
            escalated_to=escalated[uid].recipient if uid in escalated else None,
            escalated_at=escalated[uid].at if uid in escalated else None,
            note=notes.get(uid, approver.note if approver else problem),
        )
    for uid in set(requested) - set(snapshot.learners):
        out[uid] = SignoffRecord(userid=uid, status="cancelled", note="learner unenrolled")
    for uid in set(requested) & set(snapshot.learners):
        if uid not in out:
            out[uid] = SignoffRecord(
                userid=uid, status="cancelled", note="criteria no longer met (course reset?)"
            )
    return out
