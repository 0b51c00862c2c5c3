"""One message per person per programme per day (SPEC §4.7).

The rules each say what someone should hear; this puts it together: a person who
already had a message of this programme today hears the rest on a later day (the
rules ask again: what they say holds until it is delivered), and several messages
for one person in one run become one message (template ``"inbox"``) carrying each
intent as a part, in the order a reader wants them (who signed off, the job aid,
what they gained, ...). The merged message's ledger entry keeps each part's key and
reason (``reason.parts``), so every question asked of the ledger about a part (was
it delivered, when, listing whom) is answered as if it had been sent alone.

A message the ledger holds unsettled (left planned by a killed run, or failed) is
sent again as stored, never merged into something else.
"""

from __future__ import annotations

from dataclasses import replace

from buyin.model.actions import Action, Kind, MessageParams, params_from_json
from buyin.model.clock import day_of
from buyin.model.ledger import DONE, UNSETTLED, LedgerEntry
from buyin.rules import History

INBOX = "inbox"
#: the order of parts in a merged message (templates not named go last, as given)
ORDER = (
    "signoff.signed",
    "followup.job_aid",
    "insights.complete",
    "precheck.result",
    "precheck.completed",
    "kickoff.learner",
    "followup.refresher_open",
    "signoff.digest",
    "followup.manager_note",
    "kickoff.manager",
    "insights.team",
    "poll.answer",
    "poll.invite",
    "poll.remind",
)


def _rank(action: Action) -> int:
    assert isinstance(action.params, MessageParams)
    template = action.params.template
    return ORDER.index(template) if template in ORDER else len(ORDER)


def gather(actions: list[Action], history: History, now: int, sender: str = "") -> list[Action]:
    """``actions`` with their messages at most one per recipient today; ``sender``: who
    they are from (named in the text), where the programme names someone."""
    ledger = history.ledger
    today = day_of(now)
    out: list[Action] = []
    fresh: dict[int, list[Action]] = {}
    busy: set[int] = set()
    resend: dict[str, LedgerEntry] = {}
    for action in actions:
        if action.kind != Kind.MESSAGE:
            out.append(action)
            continue
        assert isinstance(action.params, MessageParams)
        to = action.params.touserid
        merged = ledger.part(action.key)
        if merged is not None:
            # carried by a merged message: done, or to be sent again as that message
            if merged.status in UNSETTLED:
                holder = ledger.merged_into(action.key)
                assert holder is not None
                resend[holder.key] = holder
                busy.add(to)
            continue
        status = ledger.status(action.key)
        if status in DONE:
            out.append(action)  # the plan counts it done
        elif status is not None:
            out.append(action)  # unsettled: sent again as stored
            busy.add(to)
        else:
            fresh.setdefault(to, []).append(action)
    for entry in resend.values():
        out.append(
            Action(
                key=entry.key,
                kind=Kind.MESSAGE,
                program=entry.program,
                userid=entry.userid,
                target=entry.target,
                params=params_from_json(Kind.MESSAGE, entry.payload),
                reason=entry.reason,
            )
        )
    for to, messages in fresh.items():
        if to in busy or ledger.messages_on(to, today, day_of):
            continue  # they heard from this programme today: the rest waits for a later day
        one = messages[0] if len(messages) == 1 else merge(messages, now)
        if sender:
            assert isinstance(one.params, MessageParams)
            data = {**one.params.data, "sender": sender}
            one = replace(one, params=replace(one.params, data=data))
        out.append(one)
    return out


def merge(messages: list[Action], now: int) -> Action:
    """Several messages for one person as one (template ``"inbox"``)."""
    ordered = sorted(messages, key=_rank)
    first = ordered[0]
    assert isinstance(first.params, MessageParams)
    to = first.params.touserid
    parts = []
    for action in ordered:
        assert isinstance(action.params, MessageParams)
        parts.append({"template": action.params.template, "data": dict(action.params.data)})
    return Action(
        key=f"message:{INBOX}:u{to}:p{first.program}:{day_of(now)}",
        kind=Kind.MESSAGE,
        program=first.program,
        userid=first.userid,
        target=first.target,
        params=MessageParams(touserid=to, template=INBOX, data={"parts": parts}),
        reason={
            "rule": INBOX,
            "parts": [{"key": a.key, "reason": dict(a.reason)} for a in ordered],
        },
        requires=tuple(dict.fromkeys(r for a in ordered for r in a.requires)),
    )
