"""Planning: desired actions (from the rules) against the ledger and Moodle's state.

Pure: no I/O. Every action has a stable idempotency key. What the ledger says was
applied is never done again; what Moodle already holds is not done at all; an
action a killed run left ``planned`` is verified against the fresh snapshot (or,
for messages, by reading the recipient's messages at push time) before it is
repeated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from buyin.actions import spec
from buyin.model.actions import Action, Kind, params_from_json, params_to_json
from buyin.model.ledger import DONE, LedgerEntry, Status
from buyin.model.snapshot import Snapshot

#: a failed action is tried again on later runs, up to this many attempts in all
#: (the setting ``retry_failed_runs``); then not until its parameters change (the
#: mapping), Moodle holds it anyway, or ``buyin retry`` resets it
MAX_ATTEMPTS = 3


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
    return spec(action.kind).already_true(action, snapshot)


def _given_up(action: Action, entry: LedgerEntry | None, give_up_after: int) -> bool:
    """Failed on too many runs with the same parameters (a changed mapping tries again)."""
    return (
        entry is not None
        and entry.status == Status.FAILED
        and entry.attempts >= give_up_after
        and entry.payload == json.loads(json.dumps(params_to_json(action.params)))
    )


def make_plan(
    program: str,
    desired: list[Action],
    ledger: Mapping[str, LedgerEntry],
    snapshot: Snapshot,
    *,
    give_up_after: int = MAX_ATTEMPTS,
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
        why = already_true(action, snapshot)
        if why is None and _given_up(action, entry, give_up_after):
            plan.given_up.append(action)
            continue
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
            kind=Kind(entry.kind),
            program=entry.program,
            userid=entry.userid,
            target=entry.target,
            params=params_from_json(entry.kind, entry.payload),
            reason=entry.reason,
        )
        if already_true(orphan, snapshot) is not None:
            plan.verified.append(orphan)
        else:
            plan.stale.append((orphan, "no longer needed"))
    return plan
