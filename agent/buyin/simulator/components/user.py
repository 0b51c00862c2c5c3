"""core_user: users by field, with their custom profile fields."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import invalid
from ..lookups import picture
from ..model import User

if TYPE_CHECKING:
    from ..site import SimulatedMoodle


def customfields(site: SimulatedMoodle, user: User, display: bool) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for pf in site.state.profile_fields:
        value = user.profile.get(pf.shortname)
        if not value:
            continue
        item: dict[str, Any] = {"type": pf.datatype, "value": value}
        if display:
            item["displayvalue"] = value
        item["name"] = pf.name
        item["shortname"] = pf.shortname
        result.append(item)
    return result


def get_users_by_field(
    site: SimulatedMoodle, field: str, values: list[str]
) -> list[dict[str, Any]]:
    if field not in ("id", "idnumber", "username", "email"):
        raise invalid("Invalid field name")
    if field == "id":
        if any(not re.match(r"^-?\d+$", v) for v in values):
            raise invalid("Invalid parameter value detected")
        wanted = {int(v) for v in values}
        users = [u for u in site.state.users.values() if u.id in wanted]
    else:
        wanted_s = {v.strip().lower() if field in ("email", "username") else v for v in values}
        users = [
            u
            for u in site.state.users.values()
            if (getattr(u, field).lower() if field in ("email", "username") else getattr(u, field))
            in wanted_s
        ]
    result = []
    for user in sorted(users, key=lambda u: u.id):
        out: dict[str, Any] = {
            "id": user.id,
            "username": user.username,
            "firstname": user.firstname,
            "lastname": user.lastname,
            "fullname": user.fullname,
            "email": user.email,
        }
        for name, value in (
            ("department", user.department),
            ("institution", user.institution),
            ("idnumber", user.idnumber),
        ):
            if value:
                out[name] = value
        out.update(
            {
                "firstaccess": user.firstaccess,
                "lastaccess": user.lastaccess,
                "auth": user.auth,
                "suspended": user.suspended,
                "confirmed": True,
                "lang": user.lang,
                "theme": "",
                "timezone": user.timezone,
                "mailformat": 1,
                "trackforums": 0,
            }
        )
        for name, value in (("city", user.city), ("country", user.country)):
            if value:
                out[name] = value
        out["profileimageurlsmall"] = picture(site, small=True)
        out["profileimageurl"] = picture(site)
        custom = customfields(site, user, display=True)
        if custom:
            out["customfields"] = custom
        result.append(out)
    return result
