"""local_buyin's notifications, as the simulated site renders and keeps them.

Mirrors plugin_contract/moodle/local_buyin/classes/notification_manager.php: each
item's tree (:mod:`buyin.messages.intent`) is rendered with the plugin's lang strings
(those ``tools/gen_lang.py`` writes, plus any the site customised), a date as
Moodle's ``strftimedaydate`` in English, and kept once per idempotency key.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from buyin.messages.intent import lang_strings

#: the message providers of db/messages.php
KINDS = (
    "signoff",
    "signoffdecision",
    "precheck",
    "kickoff",
    "followup",
    "progress",
    "teamdigest",
    "poll",
    "recognition",
)
#: page name -> (path, its name as the link shows it)
PAGES = {
    "myresults": ("/local/buyin/myresults.php", "My results"),
    "myteam": ("/local/buyin/myteam.php", "My team"),
    "signoff": ("/local/buyin/index.php", "Sign-off requests"),
}
#: notification_manager::MAX_ITEMS
MAX_ITEMS = 200
_A = re.compile(r"\{\$a->(\w+)\}")
_F = re.compile(r"\{(\w+)\}")


@dataclass
class Notification:
    """A row of Moodle's notifications table sent by local_buyin."""

    id: int
    key: str
    useridfrom: int
    useridto: int
    kind: str
    template: str
    html: str
    contexturl: str
    contexturlname: str
    timecreated: int


class Renderer:
    """The tree of one notification in words, with the site's strings."""

    def __init__(self, strings: Mapping[str, str]) -> None:
        self.strings = strings

    def parts(self, parts: Any) -> str:
        out = []
        for part in parts if isinstance(parts, list) else []:
            if isinstance(part, str | int | float):
                out.append(str(part))
            elif isinstance(part, dict):
                out.append(self.node(part))
        return "".join(out)

    def node(self, node: Mapping[str, Any]) -> str:
        if "date" in node:
            moment = datetime.fromtimestamp(int(node["date"]), UTC)
            return f"{moment:%A}, {moment.day} {moment:%B} {moment.year}"
        if "continued" in node:
            text = self.parts(node["continued"])
            firstname = self.parts(node.get("firstname"))
            greeting = "<p>" + self.string("msg:common:hi", {"firstname": firstname})
            if text.startswith(greeting + "</p>"):
                return text[len(greeting) + 4 :]
            if text.startswith(greeting + " "):
                rest = text[len(greeting) + 1 :]
                return "<p>" + rest[:1].upper() + rest[1:]
            return text
        if "link" in node:
            url = html.escape(str(node["link"]), quote=True)
            return f'<a href="{url}">{self.parts(node.get("text"))}</a>'
        args = {
            k: self.parts(v) if isinstance(v, list) else html.escape(str(v))
            for k, v in (node.get("a") or {}).items()
        }
        sid = str(node.get("s") or "")
        if sid in self.strings:
            return self.string(sid, args)
        return _F.sub(lambda m: args.get(m.group(1), m.group(0)), str(node.get("f") or ""))

    def string(self, sid: str, args: Mapping[str, str]) -> str:
        return _A.sub(lambda m: args.get(m.group(1), m.group(0)), self.strings[sid])


def strings(custom: Mapping[str, str]) -> dict[str, str]:
    """The plugin's message strings, with the site's customisations on top."""
    return {**lang_strings("en"), **custom}
