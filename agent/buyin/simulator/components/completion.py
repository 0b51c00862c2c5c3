"""core_completion: activity and course completion status, overriding an
activity's completion."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from .. import logic
from ..errors import invalid, moodle_error
from ..lookups import course_activities, get_course, get_user, missing
from ..model import (
    COMPLETION_COMPLETE,
    COMPLETION_COMPLETE_FAIL,
    COMPLETION_COMPLETE_PASS,
    COMPLETION_INCOMPLETE,
    Activity,
    ActivityCompletion,
)

if TYPE_CHECKING:
    from ..site import SimulatedMoodle


def _completion_details(activity: Activity, rec: ActivityCompletion | None) -> list[dict[str, Any]]:
    state = rec.state if rec else COMPLETION_INCOMPLETE
    if activity.completion != 2:
        return []
    if activity.modname == "quiz":
        usegrade = {
            COMPLETION_COMPLETE_PASS: 2,
            COMPLETION_COMPLETE_FAIL: 1,
            COMPLETION_COMPLETE: 1,
        }.get(state, 0)
        passgrade = state if state in (COMPLETION_COMPLETE_PASS, COMPLETION_COMPLETE_FAIL) else 0
        return [
            {
                "rulename": "completionusegrade",
                "rulevalue": {"status": usegrade, "description": "Receive a grade"},
            },
            {
                "rulename": "completionpassgrade",
                "rulevalue": {"status": passgrade, "description": "Receive a passing grade"},
            },
        ]
    done = 1 if state in (COMPLETION_COMPLETE, COMPLETION_COMPLETE_PASS) else 0
    return [{"rulename": "completionview", "rulevalue": {"status": done, "description": "View"}}]


def completion_data(
    site: SimulatedMoodle, activity: Activity, userid: int, tracked: bool
) -> dict[str, Any]:
    rec = site.state.activity_completions.get((userid, activity.cmid)) if tracked else None
    state = rec.state if rec else COMPLETION_INCOMPLETE
    return {
        "state": state,
        "timecompleted": rec.timecompleted if rec else 0,
        "overrideby": rec.overrideby if rec else None,
        "valueused": False,
        "hascompletion": True,
        "isautomatic": activity.completion == 2,
        "istrackeduser": tracked,
        "uservisible": True,
        "details": _completion_details(activity, rec),
        "isoverallcomplete": state in (COMPLETION_COMPLETE, COMPLETION_COMPLETE_PASS),
    }


def get_activities_completion_status(
    site: SimulatedMoodle, courseid: int, userid: int
) -> dict[str, Any]:
    get_course(site, courseid)
    get_user(site, userid)
    tracked = logic.is_tracked(site.state, userid, courseid)
    statuses = []
    for activity in course_activities(site, courseid):
        if not activity.completion:
            continue
        data = completion_data(site, activity, userid, tracked)
        statuses.append(
            {
                "cmid": activity.cmid,
                "modname": activity.modname,
                "instance": activity.instance,
                "state": data["state"],
                "timecompleted": data["timecompleted"],
                "tracking": activity.completion,
                "overrideby": data["overrideby"],
                **{
                    k: data[k]
                    for k in ("valueused", "hascompletion", "isautomatic", "istrackeduser")
                },
                "uservisible": True,
                "details": data["details"],
                "isoverallcomplete": data["isoverallcomplete"],
            }
        )
    return {"statuses": statuses, "warnings": []}


def _requirement(activity: Activity) -> str:
    if activity.completion == 1:
        return "Marking yourself complete"
    if activity.modname == "quiz":
        return "Achieving grade, Achieving passing grade"
    return f"Viewing the {activity.modname}"


def _role_name(site: SimulatedMoodle, roleid: int) -> str:
    role = site.state.roles.get(roleid)
    if role is None:
        return str(roleid)
    return role.name or role.shortname.capitalize()


def get_course_completion_status(
    site: SimulatedMoodle, courseid: int, userid: int
) -> dict[str, Any]:
    course = get_course(site, courseid)
    get_user(site, userid)
    if not course.enablecompletion:
        raise moodle_error("completionnotenabled", "Completion is not enabled for this site")
    if not logic.is_tracked(site.state, userid, courseid):
        raise moodle_error(
            "nottracked", "You are currently not being tracked by completion in this course"
        )
    criteria = logic.criteria_status(site.state, userid, courseid)
    if not criteria:
        raise moodle_error("nocriteriaset", "No completion criteria set for this course")
    completions = []
    by_id = {c.id: c for c in course.completion.activities}
    for kind, cid, complete, when in criteria:
        if kind == "activity":
            activity = site.state.activities[by_id[cid].cmid]
            link = f"{site.url}/mod/{activity.modname}/view.php?id={activity.cmid}"
            completions.append(
                {
                    "type": 4,
                    "title": "Activity completion",
                    "status": "Yes" if complete else "No",
                    "complete": complete,
                    "timecompleted": when,
                    "details": {
                        "type": "Activity completion",
                        "criteria": f'<a href="{link}">{html.escape(activity.name, quote=False)}</a>',
                        "requirement": _requirement(activity),
                        "status": "",
                    },
                }
            )
        else:
            assert course.completion.role is not None
            name = _role_name(site, course.completion.role.roleid)
            completions.append(
                {
                    "type": 7,
                    "title": name,
                    "status": "Yes" if complete else "No",
                    "complete": complete,
                    "timecompleted": when,
                    "details": {
                        "type": "Manual completion by others",
                        "criteria": name,
                        "requirement": f"Marked complete by {name}",
                        "status": "",
                    },
                }
            )
    return {
        "completionstatus": {
            "completed": (userid, courseid) in site.state.course_completions,
            "aggregation": course.completion.aggregation,
            "completions": completions,
        },
        "warnings": [],
    }


def override_activity_completion_status(
    site: SimulatedMoodle, userid: int, cmid: int, newstate: int
) -> dict[str, Any]:
    activity = site.state.activities.get(cmid)
    if activity is None:
        raise missing(site, "course_modules", cmid)
    course = get_course(site, activity.course)
    get_user(site, userid)
    if newstate not in (COMPLETION_INCOMPLETE, COMPLETION_COMPLETE):
        raise invalid("newstate => Invalid parameter value detected")
    if not course.enablecompletion:
        raise moodle_error("completionnotenabled", "Completion is not enabled for this site")
    if not logic.is_tracked(site.state, userid, course.id):
        raise moodle_error(
            "nottracked", "You are currently not being tracked by completion in this course"
        )
    if not activity.completion:
        raise moodle_error(
            "nocompletiontracking", "Completion tracking is not enabled for this activity"
        )
    current = site.state.activity_completions.get((userid, cmid))
    state = current.state if current is not None else COMPLETION_INCOMPLETE
    if newstate == state or (newstate == COMPLETION_COMPLETE and state in (2, 3)):
        # completion_info::update_state returns when the state would not change:
        # nothing is written, the answer is the data as it is
        return {
            "cmid": cmid,
            "userid": userid,
            "state": state,
            "timecompleted": current.timecompleted if current is not None else None,
            "overrideby": current.overrideby if current is not None else None,
            "tracking": activity.completion,
        }
    now = site.time()
    site.state.activity_completions[(userid, cmid)] = ActivityCompletion(
        newstate, now, site.state.agent_userid
    )
    logic.aggregate_course(site.state, userid, course.id)
    return {
        "cmid": cmid,
        "userid": userid,
        "state": newstate,
        "timecompleted": now,
        "overrideby": site.state.agent_userid,
        "tracking": activity.completion,
    }
