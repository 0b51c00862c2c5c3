"""History points: per learner per programme per sync, the figures insights read.

Pure: built from the snapshot, the ledger after the push, the sign-off records
and the rules' own facts. Every sync appends one point per learner, so "over
time" in the reports is real history, not a recomputation. What a point holds is
:class:`buyin.model.history.HistoryPoint`; the state stores it as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from buyin.model.history import HistoryPoint
from buyin.model.ledger import Ledger, LedgerEntry
from buyin.model.snapshot import Snapshot


def learner_points(
    snapshot: Snapshot,
    ledger: Mapping[str, LedgerEntry],
    signoffs: Mapping[int, Mapping[str, Any]],
    rule_facts: Mapping[int, Mapping[str, Any]],
) -> dict[int, dict[str, Any]]:
    """:func:`history_points` as the state stores them (JSON)."""
    points = history_points(snapshot, ledger, signoffs, rule_facts)
    return {uid: point.to_json() for uid, point in points.items()}


def history_points(
    snapshot: Snapshot,
    ledger: Mapping[str, LedgerEntry],
    signoffs: Mapping[int, Mapping[str, Any]],
    rule_facts: Mapping[int, Mapping[str, Any]],
) -> dict[int, HistoryPoint]:
    """One point per learner; a figure the rules found (``rule_facts``: pre-check and
    post scores, retention, completion, awaiting sign-off, refresher start) wins."""
    quiz_cmid = snapshot.quiz.cmid if snapshot.quiz else None
    tracked = [a.cmid for a in snapshot.activities if a.completion and a.cmid != quiz_cmid]
    overrides = Ledger.of(ledger).applied("override")
    points: dict[int, HistoryPoint] = {}
    for uid, learner in snapshot.learners.items():
        data = learner.data
        done = [cm for cm in tracked if (s := data.activities.get(cm)) is not None and s.complete]
        times = [
            s.timecompleted for s in data.activities.values() if s.complete and s.timecompleted
        ]
        times += [a.timestart for a in data.attempts if a.timestart]
        moves = times + [a.timefinish for a in data.attempts if a.timefinish]
        completion = data.completion
        record = signoffs.get(uid, {})
        mine = overrides.get(uid, [])
        boss = snapshot.line_manager(learner.person)
        approver = snapshot.person(record["approver"]) if record.get("approver") else None
        # the rules' own tested_out lists what they meant to override, not what was applied
        facts = rule_facts.get(uid, {})
        points[uid] = HistoryPoint(
            enrolled=True,
            enrolled_at=learner.person.enrolled_at,
            first_seen=learner.first_seen,
            username=learner.person.username,
            fullname=learner.person.fullname,
            groups=tuple(name for _, name in learner.person.groups),
            group_ids=tuple(gid for gid, _ in learner.person.groups),
            manager=record.get("approver"),
            manager_name=approver.fullname if approver else None,
            line_manager=boss.id if boss else None,
            line_manager_username=boss.username if boss else None,
            line_manager_name=boss.fullname if boss else None,
            activities_done=len(done),
            activities_total=len(tracked),
            tested_out=tuple(sorted(int(e.payload.get("cmid", 0)) for e in mine)),
            minutes_saved=sum(float(e.reason.get("minutes_saved", 0)) for e in mine),
            precheck=facts.get("precheck", {}),
            precheck_attempt=facts.get("precheck_attempt"),
            post=facts.get("post", {}),
            retention=facts.get("retention", {}),
            started_at=min(times) if times else None,
            completed_at=facts.get("completed_at", completion.completed_at if completion else None),
            awaiting_since=facts.get("awaiting_since", record.get("awaiting_since")),
            signed_at=record.get("signed_at"),
            signoff_latency_seconds=record.get("latency_seconds"),
            refresher_start=facts.get("refresher_start"),
            rejected_at=(record.get("extra") or {}).get("rejected_at")
            if record.get("status") == "rejected"
            else None,
            last_progress_at=max(moves) if moves else None,
        )
    return points
