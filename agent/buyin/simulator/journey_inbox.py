"""What a journey's people received, as they read it: each message as plain text with
its links (and the words each link is written as), and what the simulated people did.
The rows of ``buyin demo --inbox`` and ``--events``. Standard library and the model only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from buyin.model.actions import Action, MessageParams
from buyin.model.week import zone
from buyin.rules.inbox import MANAGER_TEMPLATES


@dataclass(frozen=True)
class Event:
    """What a simulated person did (``buyin demo --events``)."""

    at: int
    zone: str
    who: str
    action: str  # attempt | finish | sign | reject | manager_change
    learner: str
    comment: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "at": datetime.fromtimestamp(self.at, zone(self.zone)).isoformat(),
            "who": self.who,
            "action": self.action,
            "learner": self.learner,
        }
        if self.action == "reject":
            out["comment"] = self.comment
        return out


@dataclass(frozen=True)
class Received:
    """One message as its recipient got it (``buyin demo --inbox``)."""

    to: str
    role: str  # learner | manager | approver | sponsor
    programme: str
    sent_at: int
    zone: str
    #: the template ids of its parts ("signoff.digest", or several joined by "+")
    kind: str
    about: tuple[str, ...]
    subject: str
    text: str
    links: tuple[str, ...]
    #: each link with the words it is written as (not in the JSON lines)
    anchors: tuple[tuple[str, str], ...] = ()
    #: the learners its sign-off part asks about: username -> "direct" (their own
    #: approver) or "escalated" (not in the JSON lines)
    signoff: tuple[tuple[str, str], ...] = ()

    def asks_about(self, learner: str, how: str) -> bool:
        return (learner, how) in self.signoff

    @property
    def kinds(self) -> list[str]:
        return self.kind.split("+")

    def local(self) -> datetime:
        return datetime.fromtimestamp(self.sent_at, zone(self.zone))

    def to_json(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "role": self.role,
            "programme": self.programme,
            "sent_at": self.local().isoformat(),
            "kind": self.kind,
            "about": list(self.about),
            "subject": self.subject,
            "text": self.text,
            "links": list(self.links),
        }


class _Plain(HTMLParser):
    """A message's HTML as plain text (what a reader sees) and its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.links: list[str] = []
        self.anchors: list[tuple[str, str]] = []
        self._words: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self.out.append("\n- ")
        elif tag in ("p", "blockquote", "ul", "br"):
            self.out.append("\n")
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)
                self._words = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "blockquote", "ul"):
            self.out.append("\n")
        if tag == "a" and self._words is not None:
            self.anchors.append(("".join(self._words).strip(), self.links[-1]))
            self._words = None

    def handle_data(self, data: str) -> None:
        self.out.append(data)
        if self._words is not None:
            self._words.append(data)


def anchors(text: str) -> list[tuple[str, str]]:
    """Each link of an HTML text with its words."""
    parser = _Plain()
    parser.feed(text)
    return parser.anchors


def plain(text: str) -> tuple[str, list[str]]:
    parser = _Plain()
    parser.feed(text)
    lines = [re.sub(r"[ \t]+", " ", x).strip() for x in "".join(parser.out).split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip(), parser.links


def parts_of(message: Action) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(template, data, reason) of each part of a delivered message."""
    assert isinstance(message.params, MessageParams)
    template = message.params.template
    data = dict(message.params.data)
    if template == "inbox":
        reasons = [dict(p.get("reason") or {}) for p in message.reason.get("parts", [])]
        parts = list(data.get("parts", []))
        return [
            (str(p["template"]), dict(p["data"]), reasons[i] if i < len(reasons) else {})
            for i, p in enumerate(parts)
        ]
    return [(template, data, dict(message.reason))]


def about_of(parts: list[tuple[str, dict[str, Any], dict[str, Any]]], to: int) -> set[int]:
    about: set[int] = set()
    for template, _, reason in parts:
        if template not in MANAGER_TEMPLATES:
            about.add(to)
            continue
        learners = reason.get("learners") or reason.get("team") or ()
        about.update(int(uid) for uid in learners)
        if reason.get("learner") is not None:
            about.add(int(reason["learner"]))
    return about
