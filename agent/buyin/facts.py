"""History points: per learner per programme per sync, the figures insights read.

Pure: built from the snapshot, the ledger after the push, the sign-off records
and the rules' own facts. Every sync appends one point per learner, so "over
time" in the reports is real history, not a recomputation.

A point (JSON) holds:

- ``enrolled`` (bool), ``first_seen`` (unix time), ``manager`` (approver user id or
  null), ``groups`` (course group names);
- ``activities_done``, ``activities_total`` (tracked activities, the quiz excluded);
- ``precheck`` ({topic: fraction}), ``precheck_attempt`` (attempt id);
- ``post`` ({topic: fraction}) where a post-assessment quiz is mapped;
- ``retention`` ({"overall" or topic: fraction}) from the refresher's quiz;
- ``tested_out`` ([cmid]) and ``minutes_saved`` (from applied overrides);
- ``started_at``, ``completed_at`` (every criterion met: the latest criterion time),
  ``awaiting_since``, ``signed_at``, ``signoff_latency_seconds``, ``refresher_start``
  (unix times or null);
- ``username``, ``fullname``, ``group_ids`` (course group ids), ``line_manager`` (the
  learner's own manager from the profile field: user id or null; ``manager`` is who
  is asked to sign off, possibly the fallback approver), ``line_manager_username``,
  ``line_manager_name``, ``manager_name`` (the approver's full name),
  ``last_progress_at`` (the latest activity completion or quiz attempt time, or null).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from buyin.snapshot import Person, Snapshot
from buyin.state import LedgerEntry


def line_manager(snapshot: Snapshot, person: Person) -> Person | None:
    """The learner's own manager from the profile field (the sign-off settings' field and
    matching where the programme has sign-off; ``manager`` by username otherwise)."""
    cfg = snapshot.programme.signoff
    field_name = cfg.manager_field if cfg else "manager"
    match_by = cfg.match_by if cfg else "username"
    ref = person.custom.get(field_name, "").strip()
    boss = snapshot.find(match_by, ref) if ref else None
    return boss if boss is not None and boss.id != person.id else None


def learner_points(
    snapshot: Snapshot,
    ledger: Mapping[str, LedgerEntry],
    signoffs: Mapping[int, Mapping[str, Any]],
    rule_facts: Mapping[int, Mapping[str, Any]],
) -> dict[int, dict[str, Any]]:
    quiz_cmid = snapshot.quiz.cmid if snapshot.quiz else None
    tracked = [a.cmid for a in snapshot.activities if a.completion and a.cmid != quiz_cmid]
    overrides: dict[int, list[LedgerEntry]] = {}
    for entry in ledger.values():
        if entry.kind == "override" and entry.status == "applied":
            overrides.setdefault(entry.userid, []).append(entry)
    points: dict[int, dict[str, Any]] = {}
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
        point: dict[str, Any] = {
            "enrolled": True,
            "first_seen": learner.first_seen,
            "manager": record.get("approver"),
            "groups": [name for _, name in learner.person.groups],
            "activities_done": len(done),
            "activities_total": len(tracked),
            "tested_out": sorted(int(e.payload.get("cmid", 0)) for e in mine),
            "minutes_saved": sum(float(e.reason.get("minutes_saved", 0)) for e in mine),
            "started_at": min(times) if times else None,
            "completed_at": completion.completion_time if completion else None,
            "awaiting_since": record.get("awaiting_since"),
            "signed_at": record.get("signed_at"),
            "signoff_latency_seconds": record.get("latency_seconds"),
            "username": learner.person.username,
            "fullname": learner.person.fullname,
            "group_ids": [gid for gid, _ in learner.person.groups],
            "last_progress_at": max(moves) if moves else None,
        }
        boss = line_manager(snapshot, learner.person)
        approver = snapshot.person(record["approver"]) if record.get("approver") else None
        point["line_manager"] = boss.id if boss else None
        point["line_manager_username"] = boss.username if boss else None
        point["line_manager_name"] = boss.fullname if boss else None
        point["manager_name"] = approver.fullname if approver else None
        for key, value in rule_facts.get(uid, {}).items():
            if key not in ("tested_out",):
                point[key] = value
        points[uid] = point
    return points
