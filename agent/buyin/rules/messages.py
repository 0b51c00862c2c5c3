"""Message templates: defaults, overridable per programme in the mapping.

Templates use ``{placeholders}``; values are HTML-escaped before they are filled in
(messages are sent as HTML, textformat 1).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from buyin.model.actions import Action, Kind, MessageParams
from buyin.model.snapshot import Person


class _Escaped(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(
    template: str, values: Mapping[str, Any], *, raw: Mapping[str, str] | None = None
) -> str:
    """Fill a template; ``values`` are escaped, ``raw`` are trusted HTML fragments."""
    filled = _Escaped({k: html.escape(str(v)) for k, v in values.items()})
    filled.update(raw or {})
    return template.format_map(filled)


def message(
    program: str,
    key: str,
    to: Person,
    summary: str,
    text: str,
    reason: Mapping[str, Any],
    requires: tuple[str, ...] = (),
) -> Action:
    """The one shape of a message action: an HTML personal message to ``to``."""
    return Action(
        key=key,
        kind=Kind.MESSAGE,
        program=program,
        userid=to.id,
        target=to.username,
        params=MessageParams(touserid=to.id, summary=summary, text=text),
        reason=reason,
        requires=requires,
    )


def html_list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def link(url: str, text: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(text)}</a>'


def percent(fraction: float) -> str:
    return f"{round(fraction * 100):d}%"
