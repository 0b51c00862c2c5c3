"""Planning: desired actions (from the rules) against the ledger and Moodle's state.

Pure: no I/O. Every action has a stable idempotency key. What the ledger says was
applied is never done again; what Moodle already holds is not done at all; an
action a killed run left ``planned`` is verified against the fresh snapshot (or,
for messages, by reading the recipient's messages at push time) before it is
repeated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from buyin.model.ledger import DONE, LedgerEntry, Status
from buyin.model.snapshot import Snapshot

#: a failed action is tried again on later runs, up to this many attempts in all
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Action:
    key: str
    kind: str
    program: str
    userid: int
    #: who or what it is about, for people: "learner03 · Why listening matters"
    target: str
    params: Mapping[str, Any]
    reason: Mapping[str, Any] = field(default_factory=dict)
    #: keys of actions that must be done first (else this one waits for a later run)
    requires: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "override":
            return f"complete activity {self.params['cmid']} for {self.target}"
        if self.kind == "message":
            return f"message {self.target}: {self.params.get('summary', '')}".rstrip(": ")
        if self.kind == "enrol":
            return (
                f"enrol {self.target} in course {self.params['courseid']} "
                f"(role {self.params['roleid']}, from {self.params.get('timestart', 0)})"
            )
        return f"{self.kind} {self.target}"


@dataclass
class Plan:
    program: str
    #: to push now
    actions: list[Action] = field(default_factory=list)
    #: already true in Moodle: recorded as skipped with the reason, not pushed
    satisfied: list[tuple[Action, str]] = field(default_factory=list)
    #: planned by an earlier run that did not finish, and verified as done in Moodle
    verified: list[Action] = field(default_factory=list)
    #: applied before (ledger); nothing to do
    done: int = 0
    #: failed too often; reported, not retried
    given_up: list[Action] = field(default_factory=list)
    #: planned by an earlier run, no longer desired and not true in Moodle: dropped
    stale: list[tuple[Action, str]] = field(default_factory=list)


def already_true(action: Action, snapshot: Snapshot) -> str | None:
    """Why Moodle already holds what the action would do, or None."""
    learner = snapshot.learners.get(action.userid)
    if action.kind == "override" and learner is not None:
        state = learner.data.activities.get(int(action.params["cmid"]))
        if state is not None and state.state != 0:
            return "activity already complete"
    if action.kind in ("enrol", "role_assign"):
        courseid = int(action.params["courseid"])
        roleid = int(action.params["roleid"])
        person = snapshot.people.get(action.userid)
        if courseid == snapshot.course.id and person is not None and roleid in person.roles:
            return f"already enrolled in course {courseid} with role {roleid}"
        refresher = snapshot.refresher
        if (
            refresher is not None
            and courseid == refresher.id
            and snapshot.refresher_enrolled is not None
            and action.userid in snapshot.refresher_enrolled
        ):
            return f"already enrolled in {refresher.shortname}: left as is"
    if action.kind == "signoff_request" and snapshot.plugin_signoffs is not None:
        row = snapshot.plugin_signoffs.get(action.userid)
        if (
            row is not None
            and row.status in ("requested", "signed")
            and row.managerid == int(action.params["managerid"])
        ):
            return "already requested in local_buyin"
    if action.kind == "group_add":
        person = snapshot.people.get(action.userid)
        groupid = int(action.params.get("groupid") or 0)
        if person is not None and groupid and groupid in {g for g, _ in person.groups}:
            return "already in the group"
    return None


def make_plan(
    program: str,
    desired: list[Action],
    ledger: Mapping[str, LedgerEntry],
    snapshot: Snapshot,
) -> Plan:
    plan = Plan(program=program)
    seen: set[str] = set()
    for action in desired:
        if action.key in seen:
            continue
        seen.add(action.key)
        entry = ledger.get(action.key)
        if entry is not None and entry.status in DONE:
            plan.done += 1
            continue
        if entry is not None and entry.status == Status.FAILED and entry.attempts >= MAX_ATTEMPTS:
            plan.given_up.append(action)
            continue
        why = already_true(action, snapshot)
        if why is not None:
            if entry is not None and entry.status == Status.PLANNED:
                plan.verified.append(action)
            else:
                plan.satisfied.append((action, why))
            continue
        plan.actions.append(action)
    # actions a killed run left planned that the rules no longer ask for (e.g. the
    # activity became complete meanwhile): settle them from Moodle's state
    for key, entry in sorted(ledger.items()):
        if entry.status != Status.PLANNED or key in seen:
            continue
        orphan = Action(
            key=key,
            kind=entry.kind,
            program=entry.program,
            userid=entry.userid,
            target=entry.target,
            params=entry.payload,
            reason=entry.reason,
        )
        if already_true(orphan, snapshot) is not None:
            plan.verified.append(orphan)
        else:
            plan.stale.append((orphan, "no longer needed"))
    return plan
