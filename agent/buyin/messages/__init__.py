"""Messages: the rules' intents (template id and data) rendered into summary and HTML.

:mod:`~buyin.messages.templates` holds every template (one table per language);
:mod:`~buyin.messages.render` is the one renderer. Imports only :mod:`buyin.model`.
"""

from buyin.messages.render import render
from buyin.messages.templates import overrides

__all__ = ["overrides", "render"]
