"""core_role: assigning roles in course contexts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import invalid
from ..lookups import get_course, get_user

if TYPE_CHECKING:
    from ..site import SimulatedMoodle


def assign_roles(site: SimulatedMoodle, assignments: list[dict[str, Any]]) -> None:
    """Role assignment in a course context (contextlevel=course, instanceid=course id).

    Like core_role_external::assign_roles: a role the agent may not assign is an
    invalid_parameter_exception ("Can not assign roleid=R in contextid=C", in
    debuginfo only)."""
    for item in assignments:
        if item.get("contextlevel") != "course" or "instanceid" not in item:
            raise invalid("the simulator assigns roles in course contexts only")
        get_course(site, item["instanceid"])
        get_user(site, item["userid"])
        if item["roleid"] not in site.assignable_roles or item["roleid"] not in site.state.roles:
            # Moodle 5.1's message names no context (its contextid is empty), as seen on the
            # real site (tests/live)
            raise invalid(f"Can not assign roleid={item['roleid']} in contextid=")
    for item in assignments:
        enrolment = site.state.enrolments.get((item["userid"], item["instanceid"]))
        if enrolment is not None and item["roleid"] not in enrolment.roleids:
            enrolment.roleids.append(item["roleid"])
            # role_assignments.timemodified (local_buyin's "since")
            site.user_changed[item["userid"]] = site.time()
