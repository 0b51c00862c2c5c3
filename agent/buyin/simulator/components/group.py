"""core_group: course groups, creating groups and adding members."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import logic
from ..errors import invalid, moodle_error
from ..lookups import get_course, get_user, missing
from ..model import Group

if TYPE_CHECKING:
    from ..site import SimulatedMoodle


def _group_dict(group: Group) -> dict[str, Any]:
    return {
        "id": group.id,
        "courseid": group.courseid,
        "name": group.name,
        "description": group.description,
        "descriptionformat": 1 if group.descriptionformat == 0 else group.descriptionformat,
        "enrolmentkey": group.enrolmentkey,
        "idnumber": group.idnumber,
        "visibility": group.visibility,
        "participation": group.participation,
    }


def group_brief(group: Group) -> dict[str, Any]:
    if group.descriptionformat == 0:
        return {
            "id": group.id,
            "name": group.name,
            "description": f'<div class="text_to_html">{group.description}</div>',
            "descriptionformat": 0,
        }
    return {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "descriptionformat": group.descriptionformat,
    }


def get_course_groups(site: SimulatedMoodle, courseid: int) -> list[dict[str, Any]]:
    get_course(site, courseid)
    groups = sorted(
        (g for g in site.state.groups.values() if g.courseid == courseid), key=lambda g: g.name
    )
    return [_group_dict(g) for g in groups]


def create_groups(site: SimulatedMoodle, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names: set[tuple[int, str]] = {(g.courseid, g.name) for g in site.state.groups.values()}
    idnumbers: set[tuple[int, str]] = {
        (g.courseid, g.idnumber) for g in site.state.groups.values() if g.idnumber
    }
    for item in groups:
        get_course(site, item["courseid"])
        if (item["courseid"], item["name"]) in names:
            # core_group_external checks the name before creating (also against a group
            # earlier in the same call): invalidparameter, as the real site answers
            raise invalid("Group with the same name already exists in the course")
        names.add((item["courseid"], item["name"]))
        idnumber = item.get("idnumber") or ""
        if idnumber and (item["courseid"], idnumber) in idnumbers:
            raise moodle_error("idnumbertaken", "This ID number is already taken")
        if idnumber:
            idnumbers.add((item["courseid"], idnumber))
    created = []
    for item in groups:
        group = Group(
            id=site.state.new_id("group"),
            courseid=item["courseid"],
            name=item["name"],
            description=item["description"],
            descriptionformat=item["descriptionformat"],
            idnumber=item.get("idnumber") or "",
            enrolmentkey=item.get("enrolmentkey"),
            visibility=item.get("visibility", 0),
            participation=item.get("participation", True),
        )
        site.state.groups[group.id] = group
        created.append(
            {
                "id": group.id,
                "courseid": group.courseid,
                "name": group.name,
                "description": group.description,
                "descriptionformat": group.descriptionformat,
                "enrolmentkey": group.enrolmentkey or "",
                "idnumber": group.idnumber,
                "visibility": group.visibility,
                "participation": group.participation,
            }
        )
    return created


def add_group_members(site: SimulatedMoodle, members: list[dict[str, Any]]) -> None:
    for item in members:
        group = site.state.groups.get(item["groupid"])
        if group is None:
            raise missing(site, "groups", item["groupid"])
        get_course(site, group.courseid)
        get_user(site, item["userid"])
        if not logic.is_enrolled(site.state, item["userid"], group.courseid):
            raise invalid("Only enrolled users may be members of groups")
    for item in members:
        group = site.state.groups[item["groupid"]]
        if item["userid"] not in group.members:
            group.members.append(item["userid"])
            # groups_members.timeadded (local_buyin's "since")
            site.user_changed[item["userid"]] = site.time()
    return None
