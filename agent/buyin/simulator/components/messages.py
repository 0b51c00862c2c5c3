"""core_message: sending instant messages and reading them back."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ..errors import invalid
from ..lookups import get_user, picture
from ..model import Message
from ..render import html_to_text

_LINK = re.compile(r"<a\b([^>]*)>", re.IGNORECASE)
_REL = re.compile(r'\brel="([^"]*)"')


def blank_target(html: str) -> str:
    """Moodle's message_format_message_text (format_text with blanktarget): every link
    opens in a new tab without a referrer. A sent message is stored as sent; its text
    in the answers of send_instant_messages and get_messages is formatted this way."""

    def link(match: re.Match[str]) -> str:
        attrs = match.group(1)
        if re.search(r"\btarget\s*=", attrs):
            return match.group(0)
        rel = _REL.search(attrs)
        if rel is None:
            return f'<a{attrs} target="_blank" rel="noreferrer">'
        if "noreferrer" not in rel.group(1):
            attrs = attrs.replace(rel.group(0), f'rel="{(rel.group(1) + " noreferrer").strip()}"')
        return f'<a{attrs} target="_blank">'

    return _LINK.sub(link, html)


if TYPE_CHECKING:
    from ..site import SimulatedMoodle


def _conversation(site: SimulatedMoodle, a: int, b: int) -> int:
    key = (min(a, b), max(a, b))
    if key not in site.state.conversations:
        site.state.conversations[key] = site.state.new_id("conversation")
    return site.state.conversations[key]


def send_instant_messages(
    site: SimulatedMoodle, messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    sender = site.state.agent_userid
    now = site.time()
    results: list[dict[str, Any]] = []
    for item in messages:
        touser = site.state.users.get(item["touserid"])
        error: str | None = None
        if touser is None:
            error = (
                f"You cannot send a message to a user ID ({item['touserid']}) that doesn't exist."
            )
        elif touser.suspended:
            error = f"You can't message {touser.fullname} due to their message preferences. Try adding them as a contact."
        result: dict[str, Any]
        if error is not None:
            result = {"msgid": -1}
            if "clientmsgid" in item:
                result["clientmsgid"] = item["clientmsgid"]
            result["errormessage"] = error
            result["candeletemessagesforallusers"] = False
            results.append(result)
            continue
        assert touser is not None
        message = Message(
            id=site.state.new_id("message"),
            useridfrom=sender,
            useridto=touser.id,
            text=item["text"],
            textformat=item["textformat"],
            timecreated=now,
            conversationid=_conversation(site, sender, touser.id),
            clientmsgid=item.get("clientmsgid"),
        )
        site.state.messages.append(message)
        result = {"msgid": message.id}
        if message.clientmsgid is not None:
            result["clientmsgid"] = message.clientmsgid
        result.update(
            {
                "text": blank_target(message.text),
                "timecreated": message.timecreated,
                "conversationid": message.conversationid,
                "useridfrom": sender,
                "candeletemessagesforallusers": True,
            }
        )
        results.append(result)
    return results


def _message_dict(site: SimulatedMoodle, message: Message) -> dict[str, Any]:
    sender = site.state.users.get(message.useridfrom)
    recipient = site.state.users.get(message.useridto)
    fromname = sender.fullname if sender else ""
    customdata = json.dumps(
        {
            "notificationiconurl": picture(site),
            "actionbuttons": {"send": "Send"},
            "placeholders": {"send": "Write a message..."},
            "courseid": 1,
        },
        separators=(",", ":"),
    ).replace("/", "\\/")
    return {
        "id": message.id,
        "useridfrom": message.useridfrom,
        "useridto": message.useridto,
        "subject": f"New message from {fromname}",
        "text": blank_target(message.text),
        "fullmessage": html_to_text(message.text),
        "fullmessageformat": message.textformat,
        "fullmessagehtml": message.text,
        "smallmessage": message.text,
        "notification": 0,
        "contexturl": "",
        "contexturlname": "",
        "timecreated": message.timecreated,
        "timeread": message.timeread,
        "usertofullname": recipient.fullname if recipient else "",
        "userfromfullname": fromname,
        "customdata": customdata,
    }


def get_messages(
    site: SimulatedMoodle,
    useridto: int,
    useridfrom: int,
    type: str,
    read: int,
    newestfirst: bool,
    limitfrom: int,
    limitnum: int,
) -> dict[str, Any]:
    if type not in ("both", "conversations", "notifications"):
        raise invalid("Invalid type")
    if not useridto and not useridfrom:
        raise invalid("useridto and useridfrom cannot both be 0")
    if useridto:
        get_user(site, useridto)
    found = []
    if type != "notifications":
        for message in site.state.messages:
            if useridto and message.useridto != useridto:
                continue
            if useridfrom and message.useridfrom != useridfrom:
                continue
            is_read = message.timeread is not None
            if (read == 0 and is_read) or (read == 1 and not is_read):
                continue
            found.append(message)
    found.sort(key=lambda m: (m.timecreated, m.id), reverse=newestfirst)
    if limitfrom > 0:
        found = found[limitfrom:]
    if limitnum > 0:
        found = found[:limitnum]
    return {"messages": [_message_dict(site, m) for m in found], "warnings": []}
