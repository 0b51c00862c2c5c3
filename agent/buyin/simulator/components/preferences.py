"""core_user's preferences, as Moodle 5.1 keeps them.

``core_user_update_user_preferences`` keeps only a preference some component defines
and lets the caller edit (``core_user::can_edit_preference``); any other name is
dropped without a word and the call answers ``null`` all the same (seen on the real
site). Of the definitions, the free-text one a user may set for themselves is
block_myoverview's custom-field grouping value: the lease of the core path lives
there (buyin.moodle.lease).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import WsError

if TYPE_CHECKING:
    from ..site import SimulatedMoodle

#: defined preferences the agent's own user may set (a few of Moodle's; values as text)
EDITABLE = frozenset(
    {
        "block_myoverview_user_grouping_customfieldvalue_preference",
        "block_myoverview_user_sort_preference",
        "message_entertosend",
    }
)


def get_user_preferences(site: SimulatedMoodle, name: str = "", userid: int = 0) -> dict[str, Any]:
    userid = userid or site.state.agent_userid
    if userid != site.state.agent_userid:  # someone else's: moodle/site:config (captured)
        raise WsError(
            "core\\exception\\required_capability_exception",
            "nopermissions",
            "Sorry, but you do not currently have permissions to do that "
            "(Change site configuration).",
        )
    held = site.preferences.setdefault(userid, {})
    if name:
        return {"preferences": [{"name": name, "value": held.get(name)}], "warnings": []}
    return {
        "preferences": [{"name": k, "value": v} for k, v in sorted(held.items())],
        "warnings": [],
    }


def update_user_preferences(
    site: SimulatedMoodle,
    userid: int = 0,
    emailstop: Any = None,
    preferences: list[dict[str, Any]] | None = None,
) -> None:
    userid = userid or site.state.agent_userid
    held = site.preferences.setdefault(userid, {})
    for preference in preferences or []:
        name = str(preference["type"])
        if name not in EDITABLE or userid != site.state.agent_userid:
            continue  # as Moodle: not defined, or not the caller's to edit: dropped silently
        value = preference.get("value")
        if value is None:
            held.pop(name, None)
        else:
            held[name] = str(value)
    return None
