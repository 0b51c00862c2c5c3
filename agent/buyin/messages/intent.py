"""A message as Moodle renders it: which lang strings, with what, in what order.

With local_buyin 0.4.0 the agent sends no text: ``local_buyin_send_notifications``
takes, per notification, a tree the plugin renders with ``get_string`` in the
recipient's language (so a language pack or the language customisation page changes
every word). The tree comes from the very composers that write the English text
(:mod:`buyin.messages.render`): they run once more with :class:`_Recorder`, whose
fragments, links and dates leave a marker in the text and a node in a list, and the
marked text is cut into parts.

The tree (documented for the plugin in ``classes/notification_manager.php``)::

    {"body": parts, "page": "myresults" | "myteam" | "signoff", "course": "Course name"}

``parts`` is a list of HTML the agent built (separators, values it escaped) and nodes:

- ``{"s": "msg:<template>:<fragment>", "f": "<the English fragment>", "a": {name: parts}}``:
  a lang string of local_buyin (``tools/gen_lang.py`` writes them from the templates), and
  the words to use where the plugin lacks it; a fragment the programme's mapping overrides
  has no ``s``: its own words ``f`` are used;
- ``{"date": unix time}``: a day, written by Moodle's ``userdate()`` in the recipient's
  language and time zone;
- ``{"link": url, "text": parts}``;
- ``{"continued": parts, "firstname": parts}``: a later part of a merged message, whose
  greeting Moodle takes off once it is in words.

Plurals are chosen here, as the composers choose between ``..._one`` and ``..._many``
fragments; numbers go as their values (``{n} days``), percentages through the
``percent`` string. Standard library and the model only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, tzinfo
from typing import Any

from buyin.messages.render import COMPOSERS, Words, reader
from buyin.messages.templates import LANGUAGES
from buyin.model.actions import MessageParams

#: the template of a merged message (:mod:`buyin.rules.inbox`)
INBOX = "inbox"
#: common fragments Moodle does itself: a date is a timestamp written by userdate()
NATIVE_COMMON = frozenset({"date", "weekdays", "months"})

#: the message provider (local_buyin's db/messages.php) of each template, by prefix:
#: the first that matches
KINDS: tuple[tuple[str, str], ...] = (
    ("signoff.digest", "signoff"),
    ("signoff.", "signoffdecision"),
    ("precheck.", "precheck"),
    ("kickoff.", "kickoff"),
    ("followup.manager_note", "recognition"),
    ("followup.", "followup"),
    ("insights.team", "teamdigest"),
    ("insights.", "progress"),
    ("poll.", "poll"),
)
#: the page of local_buyin a notification links to, by template prefix
PAGES: tuple[tuple[str, str], ...] = (
    ("signoff.digest", "signoff"),
    ("kickoff.manager", "myteam"),
    ("followup.manager_note", "myteam"),
    ("insights.team", "myteam"),
    ("poll.", "myteam"),
    ("", "myresults"),
)

Part = str | dict[str, Any]
_MARK = re.compile("\ue000(\\d+)\ue001")


def string_id(template: str, fragment: str) -> str:
    """The lang string of a template's fragment in local_buyin."""
    return f"msg:{template}:{fragment}"


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\w+)\}")


def to_moodle(fragment: str) -> str:
    """A template fragment as a Moodle lang string: ``{name}`` → ``{$a->name}``, and
    Python's ``{{``/``}}`` a plain brace."""

    def one(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]
        return "{$a->" + match.group(1) + "}"

    return _PLACEHOLDER.sub(one, fragment)


def lang_strings(language: str = "en") -> dict[str, str]:
    """Every message string of local_buyin (id → Moodle text) from the templates: what
    ``tools/gen_lang.py`` writes into the plugin's lang file."""
    out: dict[str, str] = {}
    for template, fragments in LANGUAGES[language].items():
        for name, fragment in fragments.items():
            if template == "common" and name in NATIVE_COMMON:
                continue
            out[string_id(template, name)] = to_moodle(fragment)
    return out


def kind_of(template: str) -> str:
    """The message provider a template's notifications go through."""
    return next((kind for prefix, kind in KINDS if template.startswith(prefix)), "progress")


def page_of(template: str) -> str:
    return next(page for prefix, page in PAGES if template.startswith(prefix))


class _Recorder(Words):
    """Words whose every fragment, link and date is a node, marked in the text."""

    def __init__(
        self, template: str, language: str, own: Mapping[str, str], zone: tzinfo = UTC
    ) -> None:
        super().__init__(template, language, own, zone)
        self.template = template
        self.own = own
        self.table = LANGUAGES[language][template]
        self.nodes: list[dict[str, Any]] = []

    def _mark(self, node: dict[str, Any]) -> str:
        self.nodes.append(node)
        return f"\ue000{len(self.nodes) - 1}\ue001"

    def parts(self, text: str) -> list[Part]:
        """Marked text cut into HTML and nodes."""
        out: list[Part] = []
        at = 0
        for match in _MARK.finditer(text):
            if match.start() > at:
                out.append(text[at : match.start()])
            out.append(self.nodes[int(match.group(1))])
            at = match.end()
        if at < len(text):
            out.append(text[at:])
        return out

    def _node(self, name: str, raw: Mapping[str, str], values: Mapping[str, Any]) -> str:
        fragment = self.fragments.get(name, self.common.get(name))
        if fragment is None:
            raise KeyError(f"message fragment {name!r} is missing from the templates")
        args = {k: self.parts(html.escape(str(v))) for k, v in values.items()}
        args.update({k: self.parts(v) for k, v in raw.items()})
        node: dict[str, Any] = {"f": fragment, "a": args}
        if name not in self.own:
            node["s"] = string_id(self.template if name in self.table else "common", name)
        return self._mark(node)

    def __call__(
        self, fragment_name: str, /, raw: Mapping[str, str] | None = None, **values: Any
    ) -> str:
        return self._node(fragment_name, raw or {}, values)

    def plain(self, name: str, **values: Any) -> str:
        return self._node(name, {}, values)

    def link(self, target: Mapping[str, Any]) -> str:
        text = self.parts(html.escape(str(target["name"])))
        return self._mark({"link": str(target["url"]), "text": text})

    def date(self, ts: int) -> str:
        return self._mark({"date": int(ts)})


def _course_name(data: Mapping[str, Any]) -> str:
    course = data.get("course")
    if isinstance(course, Mapping):
        return str(course.get("name") or "")
    return str(course or "")


def intent(
    params: MessageParams,
    own: Mapping[str, Mapping[str, str]] | None = None,
    *,
    language: str = "en",
) -> dict[str, Any]:
    """The tree local_buyin renders for ``params`` (see the module's docstring)."""
    own = own or {}
    language, zone = reader(params.data, language)
    if params.template == INBOX:
        pieces = [(str(p["template"]), p["data"]) for p in params.data["parts"]]
    else:
        pieces = [(params.template, params.data)]
    body: list[Part] = []
    for i, (template, data) in enumerate(pieces):
        if template not in COMPOSERS:
            raise KeyError(f"no message template {template!r}")
        words = _Recorder(template, language, own.get(template, {}), zone)
        _summary, text = COMPOSERS[template](words, {**data, "more": i > 0})
        parts = words.parts(text)
        if i == 0:
            body += parts
        else:
            firstname = words.parts(html.escape(str(data.get("firstname", ""))))
            body.append({"continued": parts, "firstname": firstname})
    if params.data.get("sender"):
        common = _Recorder("common", language, {})
        body += common.parts(common("from", sender=params.data["sender"]))
    first_template, first_data = pieces[0]
    return {
        "body": body,
        "page": page_of(first_template),
        "course": _course_name(first_data),
        "kind": kind_of(first_template),
        # whom Moodle sends it from: the programme's sender (local_buyin's no-reply user
        # where the programme names none)
        "sender": str(params.data.get("sender_username") or ""),
    }
