"""core_enrol and enrol_manual: enrolled users, manual enrolment and unenrolment."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .. import logic
from ..errors import invalid, moodle_error
from ..lookups import get_course, get_user, groups_of, picture
from ..model import ENROL_ACTIVE, ENROL_SUSPENDED, Enrolment, User
from .group import group_brief
from .user import customfields

if TYPE_CHECKING:
    from ..site import SimulatedMoodle


def _enrolled_user_dict(
    site: SimulatedMoodle, user: User, courseid: int, fields: set[str] | None
) -> dict[str, Any]:
    def want(name: str) -> bool:
        return fields is None or name in fields

    enrolment = site.state.enrolments[(user.id, courseid)]
    out: dict[str, Any] = {"id": user.id}
    simple: list[tuple[str, Any]] = [
        ("username", user.username),
        ("firstname", user.firstname),
        ("lastname", user.lastname),
        ("fullname", user.fullname),
        ("email", user.email),
        ("department", user.department),
        ("institution", user.institution),
        ("idnumber", user.idnumber),
    ]
    for name, value in simple:
        # id and fullname are always there (user_get_user_details; both required returns)
        if (want(name) or name == "fullname") and value != "":
            out[name] = value
    if want("firstaccess"):
        out["firstaccess"] = user.firstaccess
    if want("lastaccess"):
        out["lastaccess"] = user.lastaccess
    if want("lastcourseaccess"):
        out["lastcourseaccess"] = site.state.lastcourseaccess.get((user.id, courseid), 0)
    for name, value in (("city", user.city), ("country", user.country)):
        if want(name) and value:
            out[name] = value
    if want("profileimageurlsmall"):
        out["profileimageurlsmall"] = picture(site, small=True)
    if want("profileimageurl"):
        out["profileimageurl"] = picture(site)
    if want("customfields"):
        custom = customfields(site, user, display=False)
        if custom:
            out["customfields"] = custom
    if want("groups"):
        groups = groups_of(site, courseid, user.id)
        if groups:
            out["groups"] = [group_brief(g) for g in groups]
    if want("roles"):
        out["roles"] = [
            {
                "roleid": rid,
                "name": site.state.roles[rid].name if rid in site.state.roles else "",
                "shortname": site.state.roles[rid].shortname if rid in site.state.roles else "",
                "sortorder": 0,
            }
            for rid in enrolment.roleids
        ]
    if want("enrolledcourses"):
        courses = sorted(
            (site.state.courses[c] for (u, c) in site.state.enrolments if u == user.id),
            key=lambda c: c.sortorder,
        )
        out["enrolledcourses"] = [
            {"id": c.id, "fullname": c.fullname, "shortname": c.shortname} for c in courses
        ]
    return out


def get_enrolled_users(
    site: SimulatedMoodle, courseid: int, options: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    get_course(site, courseid)
    opts = {o["name"].lower(): str(o["value"]) for o in options}

    def intopt(name: str, default: int) -> int:
        raw = opts.get(name)
        if raw is None or raw == "":
            return default
        if not re.match(r"^-?\d+$", raw):
            raise invalid(f"{name} => Invalid parameter value detected")
        return int(raw)

    fields: set[str] | None = None
    if "userfields" in opts:
        fields = {f.strip() for f in opts["userfields"].split(",") if f.strip()}
    sortby = opts.get("sortby", "id")
    if sortby not in ("id", "firstname", "lastname", "siteorder"):
        raise invalid(f"Invalid value for sortby parameter (value: {sortby})")
    direction = opts.get("sortdirection", "ASC").upper()
    if direction not in ("ASC", "DESC"):
        raise invalid(f"Invalid value for sortdirection parameter (value: {direction})")
    onlyactive = intopt("onlyactive", 0)
    onlysuspended = intopt("onlysuspended", 0)
    groupid = intopt("groupid", 0)
    limitfrom, limitnumber = intopt("limitfrom", 0), intopt("limitnumber", 0)
    now = site.time()
    users = []
    for (userid, cid), _enrolment in site.state.enrolments.items():
        if cid != courseid:
            continue
        user = site.state.users.get(userid)
        if user is None:
            continue
        active = logic.is_active_enrolment(site.state, userid, courseid, now)
        if onlyactive and not active:
            continue
        if onlysuspended and active:
            continue
        if groupid:
            group = site.state.groups.get(groupid)
            if group is None or userid not in group.members:
                continue
        users.append(user)

    def key(u: User) -> tuple[Any, ...]:
        if sortby == "firstname":
            return (u.firstname, u.id)
        if sortby == "lastname":
            return (u.lastname, u.id)
        return (u.id,)

    users.sort(key=key, reverse=direction == "DESC")
    if limitfrom > 0:
        users = users[limitfrom:]
    if limitnumber > 0:
        users = users[:limitnumber]
    return [_enrolled_user_dict(site, u, courseid, fields) for u in users]


#: Moodle's front page course (SITEID): it has no enrolment instances
SITE_COURSE = 1


def manual_enrol_users(site: SimulatedMoodle, enrolments: list[dict[str, Any]]) -> None:
    """All-or-nothing, like enrol_manual_external::enrol_users (one transaction): every
    item is checked before any is applied."""
    for item in enrolments:
        if item["courseid"] != SITE_COURSE:
            get_course(site, item["courseid"])
        if item["roleid"] not in site.assignable_roles or item["roleid"] not in site.state.roles:
            raise moodle_error(
                "wsusercannotassign",
                f"You don't have the permission to assign this role ({item['roleid']}) to this user "
                f"({item['userid']}) in this course ({item['courseid']}).",
            )
        if item["courseid"] == SITE_COURSE:
            raise moodle_error(
                "wsnoinstance",
                "Manual enrolment plugin instance doesn't exist or is disabled for the course "
                f"(id = {item['courseid']})",
            )
        get_user(site, item["userid"])
    now = site.time()
    for item in enrolments:
        key = (item["userid"], item["courseid"])
        status = ENROL_SUSPENDED if item.get("suspend") else ENROL_ACTIVE
        existing = site.state.enrolments.get(key)
        if existing is None:
            site.state.enrolments[key] = Enrolment(
                item["userid"],
                item["courseid"],
                [item["roleid"]],
                item.get("timestart", 0),
                item.get("timeend", 0),
                status,
                now,
            )
        else:
            existing.timestart = item.get("timestart", 0)
            existing.timeend = item.get("timeend", 0)
            existing.status = status
            site.user_changed[existing.userid] = site.time()
            if item["roleid"] not in existing.roleids:
                existing.roleids.append(item["roleid"])
    return None


def manual_unenrol_users(site: SimulatedMoodle, enrolments: list[dict[str, Any]]) -> None:
    for item in enrolments:
        get_course(site, item["courseid"])
        get_user(site, item["userid"])
    for item in enrolments:
        unenrol(site, item["userid"], item["courseid"])
    return None


def unenrol(site: SimulatedMoodle, userid: int, courseid: int) -> None:
    site.state.enrolments.pop((userid, courseid), None)
    site.state.lastcourseaccess.pop((userid, courseid), None)
    for group in site.state.groups.values():
        if group.courseid == courseid and userid in group.members:
            group.members.remove(userid)
