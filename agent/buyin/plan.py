"""Planning: desired actions (from the rules) against the ledger and Moodle's state.

Pure: no I/O. Every action has a stable idempotency key. What the ledger says was
applied is never done again; what Moodle already holds is not done at all; an
action a killed run left ``planned`` is verified against the fresh snapshot (or,
for messages, by reading the recipient's messages at push time) before it is
repeated.

A message is composed here, once: the rules' intent is rendered into its summary
and text, unless the ledger already holds it (planned by a run that was killed, or
failed with its delivery in doubt): then the stored text, frozen when it was first
planned, is what is sent and what the read-back looks for, never a re-rendering.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from buyin.actions import spec
from buyin.messages import overrides, render
from buyin.model.actions import Action, Kind, MessageParams, params_from_json, params_to_json
from buyin.model.ledger import DONE, UNSETTLED, LedgerEntry, Status
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


def compose(
    action: Action, entry: LedgerEntry | None, own: Mapping[str, Mapping[str, str]]
) -> Action:
    """A message action with its text: as stored, where the ledger holds it unsettled
    (with the reason it was stored with); else rendered from its intent now."""
    if action.kind != Kind.MESSAGE:
        return action
    if entry is not None and entry.status in UNSETTLED and entry.payload.get("text"):
        stored = params_from_json(Kind.MESSAGE, entry.payload)
        return replace(action, params=stored, reason=entry.reason)
    assert isinstance(action.params, MessageParams)
    if action.params.text:
        return action  # composed already (by whoever built the action)
    return replace(action, params=render(action.params, own))


def make_plan(
    program: str,
    desired: list[Action],
    ledger: Mapping[str, LedgerEntry],
    snapshot: Snapshot,
    *,
    give_up_after: int = MAX_ATTEMPTS,
) -> Plan:
    plan = Plan(program=program)
    own = overrides(snapshot.programme)
    seen: set[str] = set()
    for desired_action in desired:
        if desired_action.key in seen:
            continue
        seen.add(desired_action.key)
        entry = ledger.get(desired_action.key)
        action = compose(desired_action, entry, own)
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
        elif orphan.kind == Kind.MESSAGE and entry.payload.get("text"):
            # composed from what was true then, frozen before that run applied anything:
            # sent as stored (the push reads the recipient's messages back first), even
            # though this run's rules, seeing the killed run's writes, would not ask for it
            plan.actions.append(orphan)
        else:
            plan.stale.append((orphan, "no longer needed"))
    return plan
