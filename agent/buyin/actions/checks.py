"""How to tell Moodle already holds what an action would do, per kind (pure)."""

from __future__ import annotations

from buyin.model.actions import (
    Action,
    EnrolParams,
    GroupAddParams,
    OverrideParams,
    RoleAssignParams,
    SignoffRequestParams,
)
from buyin.model.snapshot import Snapshot


def never(action: Action, snapshot: Snapshot) -> str | None:
    """Moodle offers nothing to tell (messages are verified by reading them back)."""
    return None


def activity_complete(action: Action, snapshot: Snapshot) -> str | None:
    assert isinstance(action.params, OverrideParams)
    learner = snapshot.learners.get(action.userid)
    if learner is not None:
        state = learner.data.activities.get(action.params.cmid)
        if state is not None and state.state != 0:
            return "activity already complete"
    return None


def holds_role(action: Action, snapshot: Snapshot) -> str | None:
    assert isinstance(action.params, EnrolParams | RoleAssignParams)
    courseid, roleid = action.params.courseid, action.params.roleid
    person = snapshot.people.get(action.userid)
    if courseid == snapshot.course.id and person is not None and roleid in person.roles:
        return f"already enrolled in course {courseid} with role {roleid}"
    refresher = snapshot.refresher
    if (
        refresher is not None
        and courseid == refresher.id
        and snapshot.refresher_enrolled is not None
        and action.userid in snapshot.refresher_enrolled
    ):
        return f"already enrolled in {refresher.shortname}: left as is"
    poll = snapshot.poll
    if (
        poll is not None
        and courseid == poll.courseid
        and roleid in poll.enrolled.get(action.userid, ())
    ):
        return f"already able to answer the poll in course {courseid} (role {roleid})"
    return None


def signoff_requested(action: Action, snapshot: Snapshot) -> str | None:
    assert isinstance(action.params, SignoffRequestParams)
    if snapshot.plugin_signoffs is None:
        return None
    row = snapshot.plugin_signoffs.get(action.userid)
    if (
        row is not None
        and row.status in ("requested", "signed")
        and row.managerid == action.params.managerid
    ):
        return "already requested in local_buyin"
    return None


def in_group(action: Action, snapshot: Snapshot) -> str | None:
    assert isinstance(action.params, GroupAddParams)
    person = snapshot.people.get(action.userid)
    groupid = action.params.groupid
    if person is not None and groupid and groupid in {g for g, _ in person.groups}:
        return "already in the group"
    return None
