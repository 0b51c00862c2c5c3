"""The one shape of a message action the rules emit: an intent, never text.

A rule names a template (``"precheck.result"``) and gives its data: JSON-able facts
(names, scores as fractions, ``{"name", "url"}`` links, timestamps as ints). The
planner renders it once with :mod:`buyin.messages`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from buyin.model.actions import Action, Kind, MessageParams
from buyin.model.snapshot import Course, Person, Snapshot


def message(
    program: str,
    key: str,
    to: Person,
    template: str,
    data: Mapping[str, Any],
    reason: Mapping[str, Any],
    requires: tuple[str, ...] = (),
) -> Action:
    """A message to ``to``: template ``template`` with ``data`` (and, where Moodle told
    them, the recipient's language and time zone, for the dates it shows)."""
    facts = dict(data)
    if to.lang or to.timezone:
        facts["recipient"] = {"lang": to.lang, "timezone": to.timezone}
    return Action(
        key=key,
        kind=Kind.MESSAGE,
        program=program,
        userid=to.id,
        target=to.username,
        params=MessageParams(touserid=to.id, template=template, data=facts),
        reason=reason,
        requires=requires,
    )


def first_name(person: Person) -> str:
    return person.firstname or person.fullname


def plugin_page(snapshot: Snapshot, page: str) -> dict[str, str] | None:
    """local_buyin's page (``myresults``, ``myteam``) where the site has the plugin."""
    if snapshot.plugin_signoffs is None:
        return None
    return {"url": f"{snapshot.site_url}/local/buyin/{page}.php"}


def course_link(course: Course) -> dict[str, str]:
    return {"name": course.fullname, "url": course.url}
