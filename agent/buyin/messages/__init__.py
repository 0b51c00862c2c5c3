"""Messages: the rules' intents (template id and data) rendered into summary and HTML.

:mod:`~buyin.messages.templates` holds every template (one table per language);
:mod:`~buyin.messages.render` is the one renderer; :mod:`~buyin.messages.intent` the
same message as a tree of lang strings, for local_buyin to render in the recipient's
language. Imports only :mod:`buyin.model`.
"""

from collections.abc import Mapping
from dataclasses import replace

from buyin.messages.intent import intent
from buyin.messages.render import render as render_text
from buyin.messages.templates import overrides
from buyin.model.actions import MessageParams

__all__ = ["overrides", "render"]


def render(
    params: MessageParams,
    own: Mapping[str, Mapping[str, str]] | None = None,
    *,
    language: str = "en",
) -> MessageParams:
    """``params`` with its summary, its English HTML text (the core path sends it) and its
    intent (local_buyin renders it), all from its template and data."""
    rendered = render_text(params, own, language=language)
    return replace(rendered, intent=intent(params, own, language=language))
