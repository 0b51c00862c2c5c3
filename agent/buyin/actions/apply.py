"""How each kind is applied in Moodle: one function per kind, taking a batch and
returning each action's own outcome.

A function raises only for what stops the whole batch (the site unreachable, or
a refusal: enrol_manual_enrol_users, core_role_assign_roles and
core_group_add_group_members are all-or-nothing in Moodle, one refused item
refuses the call). The pusher then splits the batch to find the refused items
(:meth:`buyin.push.Pusher._batched`), so each action gets its own outcome.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from buyin.errors import InvalidParameterError, RoleNotAssignableError
from buyin.model.actions import (
    Action,
    EnrolParams,
    FiguresParams,
    GroupAddParams,
    GroupCreateParams,
    MessageParams,
    OverrideParams,
    RoleAssignParams,
    SignoffRequestParams,
)
from buyin.moodle.encoding import items_per_call

if TYPE_CHECKING:  # the plan reads the registry without loading the HTTP stack
    from buyin.moodle.client import MoodleClient

log = logging.getLogger("buyin.push")


@dataclass(frozen=True)
class Outcome:
    """What became of one action: applied (``error`` None) or failed with Moodle's reason."""

    action: Action
    error: str | None = None
    #: False where nothing was sent this time (found already delivered)
    attempted: bool = True


@dataclass
class ApplyContext:
    client: MoodleClient
    agent_userid: int
    #: keys a killed run left planned, or messages whose failure may have hidden a delivery
    previously_planned: set[str] = field(default_factory=set)
    #: the text an earlier run planned for such a message (it may read differently now)
    planned_texts: dict[str, str] = field(default_factory=dict)
    #: (courseid, idnumber) -> group id, for groups created (or found) during this push
    group_ids: dict[tuple[int, str], int] = field(default_factory=dict)


def client_message_id(key: str) -> str:
    return "buyin-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _plain(text: str) -> str:
    words = re.sub(r"<[^>]+>", " ", html.unescape(text))
    return re.sub(r"\W+", " ", words).strip().casefold()


def override(ctx: ApplyContext, batch: list[Action]) -> list[Outcome]:
    outcomes = []
    for action in batch:
        p = action.params
        assert isinstance(p, OverrideParams)
        answer = ctx.client.call(
            "core_completion_override_activity_completion_status",
            userid=action.userid,
            cmid=p.cmid,
            newstate=p.newstate,
        )
        kept = int(answer.get("state", 0)) == 0
        outcomes.append(Outcome(action, "Moodle kept the activity incomplete" if kept else None))
    return outcomes


def override_bulk(ctx: ApplyContext, batch: list[Action]) -> list[Outcome]:
    """local_buyin_complete_activities: the batch in one call, each with its own result
    (the plugin applies one learner's items one after another)."""
    items = []
    for action in batch:
        p = action.params
        assert isinstance(p, OverrideParams)
        items.append({"userid": action.userid, "cmid": p.cmid, "newstate": p.newstate})
    answer = ctx.client.call("local_buyin_complete_activities", items=items)
    return _item_outcomes(
        batch,
        answer,
        "local_buyin_complete_activities",
        "Moodle refused the override",
        lambda result: (
            "Moodle kept the activity incomplete" if int(result.get("state") or 0) == 0 else None
        ),
    )


def _item_outcomes(
    batch: list[Action],
    answer: Mapping[str, Any],
    function: str,
    refused: str,
    check: Callable[[Mapping[str, Any]], str | None] = lambda _result: None,
) -> list[Outcome]:
    """Each action's outcome from a bulk function's ``items`` (one result per item, in
    order, each with ``status``, ``warningcode`` and ``message``)."""
    results = answer.get("items") or []
    outcomes = []
    for i, action in enumerate(batch):
        result = results[i] if i < len(results) else None
        if result is None:
            error: str | None = f"{function} gave no result for this item"
        elif not result.get("status"):
            error = (
                f"{refused} ({result.get('warningcode') or 'no reason given'}): "
                f"{result.get('message') or ''}".rstrip(": ")
            )
        else:
            error = check(result)
        outcomes.append(Outcome(action, error))
    return outcomes


def enrol(ctx: ApplyContext, batch: list[Action]) -> list[Outcome]:
    enrolments = []
    for action in batch:
        p = action.params
        assert isinstance(p, EnrolParams)
        item = {"roleid": p.roleid, "userid": action.userid, "courseid": p.courseid}
        if p.timestart:
            item["timestart"] = p.timestart
        if p.timeend:
            item["timeend"] = p.timeend
        enrolments.append(item)
    ctx.client.call("enrol_manual_enrol_users", enrolments=enrolments)
    return [Outcome(a) for a in batch]


def assign_roles(ctx: ApplyContext, batch: list[Action]) -> list[Outcome]:
    params = [a.params for a in batch]
    assert all(isinstance(p, RoleAssignParams) for p in params)
    try:
        ctx.client.call(
            "core_role_assign_roles",
            assignments=[
                {
                    "roleid": p.roleid,
                    "userid": a.userid,
                    "contextlevel": "course",
                    "instanceid": p.courseid,
                }
                for a in batch
                if isinstance(p := a.params, RoleAssignParams)
            ],
        )
    except InvalidParameterError:
        # Moodle's answer when the role is not assignable by the agent's role
        roles = sorted({p.roleid for p in params if isinstance(p, RoleAssignParams)})
        first = params[0]
        course = first.courseid if isinstance(first, RoleAssignParams) else "?"
        raise RoleNotAssignableError(
            "core_role_assign_roles",
            f"the agent may not assign role {', '.join(map(str, roles))} in course {course}",
        ) from None
    return [Outcome(a) for a in batch]


def create_groups(ctx: ApplyContext, batch: list[Action]) -> list[Outcome]:
    """Create the groups; one a killed run may have created (an empty group is not in
    the snapshot, which sees groups through their members) is looked up first."""
    groups = []
    found: list[Outcome] = []
    for action in batch:
        p = action.params
        assert isinstance(p, GroupCreateParams)
        if action.key in ctx.previously_planned and _group_id(ctx, p.courseid, p.idnumber):
            found.append(Outcome(action, attempted=False))
            continue
        groups.append(
            {
                "courseid": p.courseid,
                "name": p.name,
                "description": "Kept by moodle-buyin: a manager and their reports",
                "idnumber": p.idnumber,
            }
        )
    if not groups:
        return found
    created = ctx.client.call("core_group_create_groups", groups=groups)
    for group in created or []:
        ctx.group_ids[(int(group["courseid"]), str(group.get("idnumber") or ""))] = int(group["id"])
    done = {o.action.key for o in found}
    return found + [Outcome(a) for a in batch if a.key not in done]


def _group_id(ctx: ApplyContext, courseid: int, idnumber: str) -> int | None:
    if (courseid, idnumber) not in ctx.group_ids:
        for group in ctx.client.call("core_group_get_course_groups", courseid=courseid):
            if group.get("idnumber"):
                ctx.group_ids[(courseid, str(group["idnumber"]))] = int(group["id"])
    return ctx.group_ids.get((courseid, idnumber))


def add_to_groups(ctx: ApplyContext, batch: list[Action]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    members = []
    ready = []
    for action in batch:
        p = action.params
        assert isinstance(p, GroupAddParams)
        groupid = p.groupid or _group_id(ctx, p.courseid, p.idnumber)
        if groupid is None:
            outcomes.append(Outcome(action, f"group {p.idnumber} does not exist"))
            continue
        members.append({"groupid": groupid, "userid": action.userid})
        ready.append(action)
    if members:
        ctx.client.call("core_group_add_group_members", members=members)
    return outcomes + [Outcome(a) for a in ready]


def request_signoffs(ctx: ApplyContext, batch: list[Action]) -> list[Outcome]:
    """Upsert sign-off requests in local_buyin (idempotent on course and learner)."""
    requests = []
    for action in batch:
        p = action.params
        assert isinstance(p, SignoffRequestParams)
        requests.append({"courseid": p.courseid, "userid": action.userid, "managerid": p.managerid})
    answer = ctx.client.call("local_buyin_request_signoffs", requests=requests)
    stored = {(int(r["userid"]), int(r["managerid"])) for r in answer.get("requests") or []}
    warnings = {
        int(w.get("itemid") or 0): str(w.get("message")) for w in answer.get("warnings") or []
    }
    outcomes = []
    for action, request in zip(batch, requests, strict=True):
        if (action.userid, request["managerid"]) in stored:
            outcomes.append(Outcome(action))
        else:
            outcomes.append(
                Outcome(action, warnings.get(action.userid, "local_buyin did not store it"))
            )
    return outcomes


def save_figures(ctx: ApplyContext, batch: list[Action]) -> list[Outcome]:
    """local_buyin_save_figures: the figures of the plugin's pages, each with its own result."""
    items = []
    for action in batch:
        p = action.params
        assert isinstance(p, FiguresParams)
        items.append(
            {
                "courseid": p.courseid,
                "userid": action.userid,
                "role": p.role,
                "managerid": p.managerid,
                "figures": json.dumps(p.figures, sort_keys=True, separators=(",", ":")),
            }
        )
    answer = ctx.client.call("local_buyin_save_figures", items=items)
    return _item_outcomes(
        batch, answer, "local_buyin_save_figures", "local_buyin refused the figures"
    )


def _message(action: Action) -> MessageParams:
    assert isinstance(action.params, MessageParams)
    return action.params


def _delivered(ctx: ApplyContext, actions: list[Action]) -> set[str]:
    """Keys of messages Moodle already holds (read back from the recipients' messages)."""
    found: set[str] = set()
    for userid in sorted({_message(a).touserid for a in actions}):
        answer = ctx.client.call(
            "core_message_get_messages",
            useridto=userid,
            useridfrom=ctx.agent_userid,
            type="conversations",
            read=2,  # read and unread
            newestfirst=1,
            limitfrom=0,
            limitnum=50,
        )
        texts = {
            _plain(str(m.get("text") or m.get("fullmessage") or ""))
            for m in answer.get("messages") or []
        }
        for action in actions:
            p = _message(action)
            sent = {_plain(p.text), _plain(ctx.planned_texts.get(action.key, p.text))}
            if p.touserid == userid and sent & texts:
                found.add(action.key)
    return found


def send_messages(ctx: ApplyContext, batch: list[Action]) -> list[Outcome]:
    """Send a batch; never twice: after any doubt, read the recipients' messages first.

    A message is not idempotent. Doubt comes from a run that died after planning it
    (read back here, before the send), or from an ambiguous failure of the send
    itself (timeout, HTTP 5xx) that may have happened after Moodle stored it: the
    client's one retry policy then calls the verify hook before the next attempt.

    Where local_buyin 0.4.0 is in the service, the batch goes as notifications
    (:func:`send_notifications`): Moodle itself sends each key once.
    """
    if ctx.client.known_functions is not None and NOTIFY_FUNCTION in ctx.client.known_functions:
        return send_notifications(ctx, batch)
    doubtful = [a for a in batch if a.key in ctx.previously_planned]
    delivered = _delivered(ctx, doubtful) if doubtful else set()
    outcomes = [Outcome(a, attempted=False) for a in doubtful if a.key in delivered]
    batch = [a for a in batch if a.key not in delivered]
    return outcomes + _send(ctx, batch) if batch else outcomes


#: local_buyin 0.4.0: notifications rendered in Moodle (issue #22)
NOTIFY_FUNCTION = "local_buyin_send_notifications"
#: notifications[i][idempotencykey, userid, kind, template, data] and sender;
#: local_buyin takes at most 200 (notification_manager::MAX_ITEMS)
NOTIFY_BATCH = items_per_call(6, cap=200)


def notification_key(key: str) -> str:
    """The idempotency key local_buyin records for a message action (one per action key)."""
    return "buyin-" + hashlib.sha256(key.encode()).hexdigest()[:40]


def _notification(action: Action) -> tuple[str, dict[str, Any]]:
    """The sender's username and the item of local_buyin_send_notifications for ``action``.

    A message frozen before the agent knew intents (no ``intent``) goes as its frozen
    English text."""
    p = _message(action)
    tree = dict(p.intent) if p.intent else {"body": [p.text], "page": "", "kind": "progress"}
    sender = str(tree.pop("sender", "") or "")
    kind = str(tree.pop("kind", "") or "progress")
    item = {
        "idempotencykey": notification_key(action.key),
        "userid": p.touserid,
        "kind": kind,
        "template": p.template or "text",
        "data": json.dumps(tree, sort_keys=True, separators=(",", ":")),
    }
    return sender, item


def send_notifications(ctx: ApplyContext, batch: list[Action]) -> list[Outcome]:
    """Messages as local_buyin notifications: Moodle renders each in its recipient's
    language and records its key, so a batch sent again (after a lost answer, or by the
    next run after a kill) sends nothing twice; retried like any idempotent write."""
    by_sender: dict[str, list[tuple[Action, dict[str, Any]]]] = {}
    for action in batch:
        sender, item = _notification(action)
        by_sender.setdefault(sender, []).append((action, item))
    outcomes: list[Outcome] = []
    for sender, pairs in by_sender.items():
        for start in range(0, len(pairs), NOTIFY_BATCH):
            chunk = pairs[start : start + NOTIFY_BATCH]
            answer = ctx.client.call(
                NOTIFY_FUNCTION, sender=sender, notifications=[item for _a, item in chunk]
            )
            results = answer.get("items") or []
            for i, (action, _item) in enumerate(chunk):
                result = results[i] if i < len(results) else None
                if result is None:
                    outcomes.append(Outcome(action, f"{NOTIFY_FUNCTION} gave no result"))
                elif not result.get("status"):
                    code = result.get("warningcode") or "no reason given"
                    why = f"local_buyin refused the notification ({code})"
                    outcomes.append(Outcome(action, f"{why}: {result.get('message') or ''}"))
                else:
                    # a key Moodle held already: delivered by an earlier call
                    outcomes.append(Outcome(action, attempted=not result.get("duplicate")))
    return outcomes


def _send(ctx: ApplyContext, batch: list[Action]) -> list[Outcome]:
    by_client_id = {client_message_id(a.key): a for a in batch}
    found: set[str] = set()  # delivered though the answer was lost (found by verify)

    def verify(params: dict[str, Any]) -> dict[str, Any] | None:
        pending = [by_client_id[str(m["clientmsgid"])] for m in params["messages"]]
        log.warning("message batch failed ambiguously; verifying before a retry")
        found.update(_delivered(ctx, pending))
        left = [m for m in params["messages"] if by_client_id[m["clientmsgid"]].key not in found]
        return {**params, "messages": left} if left else None

    messages = [
        {
            "touserid": _message(a).touserid,
            "text": _message(a).text,
            "textformat": 1,
            "clientmsgid": client_message_id(a.key),
        }
        for a in batch
    ]
    answer = ctx.client.call(
        "core_message_send_instant_messages", idempotent=False, verify=verify, messages=messages
    )
    answered = {str(m.get("clientmsgid")): m for m in answer or []}
    outcomes = []
    for action in batch:
        sent = answered.get(client_message_id(action.key))
        if action.key in found:
            outcomes.append(Outcome(action))
        elif sent is None:
            outcomes.append(Outcome(action, "Moodle did not acknowledge the message"))
        elif int(sent.get("msgid", -1)) == -1:
            outcomes.append(Outcome(action, str(sent.get("errormessage") or "message refused")))
        else:
            outcomes.append(Outcome(action))
    return outcomes
