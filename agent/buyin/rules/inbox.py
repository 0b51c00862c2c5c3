"""One message per person per programme per working day, and a manager's week (SPEC §4.7).

The rules each say what someone should hear; this puts it together: a person who
already had a message of this programme today hears the rest on a later day (the
rules ask again: what they say holds until it is delivered), and several messages
for one person in one run become one message (template ``"inbox"``) carrying each
intent as a part, in the order a reader wants them (who signed off, the job aid,
what they gained, ...). The merged message's ledger entry keeps each part's key and
reason (``reason.parts``), so every question asked of the ledger about a part (was
it delivered, when, listing whom) is answered as if it had been sent alone.

Every message waits for the recipient's working day (the programme's ``working_days``
and ``holidays``, counted in the recipient's time zone), and a manager (anyone a
manager's template is for) hears from a programme at most ``manager_weekly_limit``
times in any seven days: what waits is asked for again by the rules on the next run
and merged into the next message that goes out.

A message the ledger holds unsettled (left planned by a killed run, or failed) is
sent again as stored, never merged into something else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import tzinfo

from buyin.model.actions import Action, Kind, MessageParams, params_from_json
from buyin.model.clock import DAY, WORKING_DAYS, day_of
from buyin.model.ledger import DONE, UNSETTLED, LedgerEntry, Status
from buyin.model.week import is_working_day, local_day, zone
from buyin.rules import History

INBOX = "inbox"
#: the order of parts in a merged message, the most important news first (templates
#: not named go last, as given): a decision about them, then what they finished, then
#: the welcome before what the pre-check found; for managers what they must act on first
ORDER = (
    "signoff.rejected",
    "signoff.signed",
    "followup.job_aid",
    "insights.complete",
    "kickoff.learner",
    "precheck.result",
    "precheck.completed",
    "followup.refresher_open",
    "signoff.digest",
    "followup.manager_note",
    "kickoff.manager",
    "insights.team",
    "poll.answer",
    "poll.invite",
    "poll.remind",
)
#: the templates written to managers (what ``manager_weekly_limit`` counts)
MANAGER_TEMPLATES = frozenset(
    {
        "signoff.digest",
        "followup.manager_note",
        "kickoff.manager",
        "insights.team",
        "poll.invite",
        "poll.remind",
        "poll.answer",
    }
)


@dataclass(frozen=True)
class Pacing:
    """When a programme's messages may go out (the mapping's settings)."""

    working_days: tuple[str, ...] = WORKING_DAYS
    holidays: tuple[str, ...] = ()
    #: messages to one manager in any seven days (0: no limit)
    manager_weekly_limit: int = 0


def templates_of(action: Action) -> list[str]:
    """The templates a message carries (a merged message: each of its parts')."""
    assert isinstance(action.params, MessageParams)
    if action.params.template == INBOX:
        return [str(p["template"]) for p in action.params.data.get("parts", ())]
    return [action.params.template]


def recipient_zone(action: Action) -> tzinfo:
    assert isinstance(action.params, MessageParams)
    who = action.params.data.get("recipient") or {}
    return zone(str(who.get("timezone") or ""))


def delivered_times(ledger: Iterable[LedgerEntry]) -> dict[int, list[int]]:
    """Per recipient, when messages of this programme were delivered to them."""
    out: dict[int, list[int]] = {}
    for e in ledger:
        if e.kind == Kind.MESSAGE and e.status == Status.APPLIED and e.applied_at is not None:
            out.setdefault(e.userid, []).append(e.applied_at)
    return out


def waits(messages: list[Action], sent: list[int], now: int, pacing: Pacing) -> bool:
    """Whether the recipient of ``messages`` hears nothing from this programme today:
    not their working day, a message today already (``sent``: when they heard from
    it), or (a manager) their week is full."""
    first = messages[0]
    where = recipient_zone(first)
    if not is_working_day(now, where, pacing.working_days, pacing.holidays):
        return True
    today = local_day(now, where)
    if any(local_day(at, where) == today for at in sent):
        return True
    to_manager = any(t in MANAGER_TEMPLATES for m in messages for t in templates_of(m))
    if to_manager and pacing.manager_weekly_limit:
        this_week = [at for at in sent if now - at < 7 * DAY]
        return len(this_week) >= pacing.manager_weekly_limit
    return False


def _rank(action: Action) -> int:
    assert isinstance(action.params, MessageParams)
    template = action.params.template
    return ORDER.index(template) if template in ORDER else len(ORDER)


def gather(
    actions: list[Action],
    history: History,
    now: int,
    sender: str = "",
    pacing: Pacing | None = None,
) -> list[Action]:
    """``actions`` with their messages at most one per recipient today, on their working
    day and within a manager's week (``pacing``); ``sender``: who they are from (named
    in the text), where the programme names someone."""
    pacing = pacing or Pacing()
    ledger = history.ledger
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
    sent = delivered_times(ledger.values()) if fresh else {}
    for to, messages in fresh.items():
        if to in busy or waits(messages, sent.get(to, []), now, pacing):
            continue  # not today: the rules ask again, and it goes out merged with the rest
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
