"""local_buyin (the agent's own plugin, once installed): sign-off requests,
their changes, decisions; a page of a course's progress; bulk completion overrides;
leases of programmes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import logic
from ..errors import WsError, invalid
from ..functions import CAPABILITY_NAMES
from ..lookups import course_activities, get_course, groups_of, missing
from ..model import COMPLETION_INCOMPLETE, Activity, Attempt, Message, Quiz
from ..notifications import KINDS, MAX_ITEMS, PAGES, Notification, Renderer, strings
from . import completion, feedback
from .quiz import attempt_dict
from .user import customfields

if TYPE_CHECKING:
    from ..site import SimulatedMoodle


def request_signoffs(site: SimulatedMoodle, requests: list[dict[str, Any]]) -> dict[str, Any]:
    now = site.time()
    out = []
    warnings = []
    for item in requests:
        if (item["userid"], item["courseid"]) not in site.state.enrolments:
            warnings.append(
                {
                    "item": "user",
                    "itemid": item["userid"],
                    "warningcode": "notenrolled",
                    "message": "The learner is not enrolled in the course",
                }
            )
            continue
        out.append(
            site.plugin.upsert(item["courseid"], item["userid"], item["managerid"], now).brief()
        )
    return {"requests": out, "warnings": warnings}


def acquire_lease(
    site: SimulatedMoodle,
    programme: str,
    holder: str,
    seconds: int,
    token: str = "",
    expected: str = "",
) -> dict[str, Any]:
    if not programme or not holder.strip():
        raise invalid("programme and holder must not be empty")
    lease, acquired = site.plugin.acquire_lease(
        programme, holder, seconds, site.time(), token, expected
    )
    return {
        "acquired": acquired,
        "programme": lease.programme,
        "holder": lease.holder,
        "timeacquired": lease.timeacquired,
        "timeexpires": lease.timeexpires,
    }


def release_lease(
    site: SimulatedMoodle, programme: str, holder: str, force: bool = False
) -> dict[str, Any]:
    return {"released": site.plugin.release_lease(programme, holder, force)}


def get_signoffs(
    site: SimulatedMoodle,
    since: int,
    courseid: int,
    limitfrom: int,
    limitnumber: int,
    afterid: int = 0,
) -> dict[str, Any]:
    rows, more = site.plugin.changes(since, courseid, limitfrom, limitnumber, afterid)
    return {"signoffs": [r.full() for r in rows], "hasmore": more, "warnings": []}


def get_non_respondents(site: SimulatedMoodle, feedbackid: int) -> dict[str, Any]:
    """Who may answer and has not, by id, in one call (as mod_feedback_get_non_respondents
    lists them: feedback_get_incomplete_users)."""
    found = feedback.non_respondents(site, feedback.get_feedback(site, feedbackid))
    return {"userids": found, "total": len(found), "warnings": []}


def record_signoff(
    site: SimulatedMoodle, courseid: int, userid: int, decision: str, comment: str
) -> dict[str, Any]:
    request = site.plugin.requests.get((courseid, userid))
    if request is None:
        raise missing(site, "local_buyin_signoff", userid)
    site.plugin_decide(userid, courseid, request.managerid, decision, comment)
    return {"status": True, "signoff": request.full(), "warnings": []}


#: criterion kinds of logic.criteria_status as Moodle's COMPLETION_CRITERIA_TYPE_*
_CRITERIA_TYPES = {"activity": 4, "role": 7}
_MAX_LIMIT = 1000


@dataclass(frozen=True)
class _Attempts:
    """A learner's attempts at the named quizzes, looked up when asked (by the state's
    index of attempts per quiz and user), not sorted out of everyone's for each page."""

    site: SimulatedMoodle
    quizids: tuple[int, ...]

    def get(self, userid: int, default: list[Attempt]) -> list[Attempt]:
        found = [a for q in self.quizids for a in logic.attempts_of(self.site.state, q, userid)]
        return found or default


@dataclass(frozen=True)
class _Page:
    """What one get_progress call reads once, not per learner (as the plugin's queries)."""

    courseid: int
    cmids: tuple[int, ...]
    tracked: tuple[Activity, ...]
    quizzes: dict[int, Quiz]
    #: userid -> their attempts at the named quizzes, in quiz and attempt order
    attempts: _Attempts
    #: the custom profile fields named
    profilefields: list[str]


def _page(
    site: SimulatedMoodle, courseid: int, quizzes: list[Quiz], profilefields: list[str]
) -> _Page:
    activities = course_activities(site, courseid)
    named = {q.id: q for q in quizzes}
    return _Page(
        courseid,
        tuple(a.cmid for a in activities),
        # the plugin reads course_modules ordered by id (not the course page's order)
        tuple(sorted((a for a in activities if a.completion), key=lambda a: a.cmid)),
        named,
        _Attempts(site, tuple(sorted(named))),
        profilefields,
    )


def _changed(site: SimulatedMoodle, page: _Page, userid: int, since: int) -> bool:
    """Whether the learner has anything at or after ``since`` (the plugin's query 1)."""
    state = site.state
    courseid = page.courseid
    enrolment = state.enrolments[(userid, courseid)]
    times = [
        enrolment.timecreated,
        state.lastcourseaccess.get((userid, courseid), 0),
        site.user_changed.get(userid, 0),
        state.course_completions.get((userid, courseid), 0),
    ]
    for cmid in page.cmids:
        rec = state.activity_completions.get((userid, cmid))
        if rec is not None:
            times.append(rec.timecompleted)
    times += [when or 0 for _, _, _, when in logic.criteria_status(state, userid, courseid)]
    times += [a.timemodified for a in page.attempts.get(userid, [])]
    return max(times) >= since


def _person(site: SimulatedMoodle, courseid: int, userid: int, fields: list[str]) -> dict[str, Any]:
    """Who the learner is (the plugin's queries 2 and 11 to 13): as core_enrol_get_enrolled_users."""
    state = site.state
    user = state.users[userid]
    enrolment = state.enrolments[(userid, courseid)]
    return {
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "fullname": user.fullname,
        "email": user.email,
        "idnumber": user.idnumber,
        "roles": [
            {"roleid": rid, "shortname": state.roles[rid].shortname if rid in state.roles else ""}
            for rid in enrolment.roleids
        ],
        "groups": [{"id": g.id, "name": g.name} for g in groups_of(site, courseid, userid)],
        "customfields": [
            {"shortname": f["shortname"], "value": f["value"]}
            for f in customfields(site, user, display=False)
            if f["shortname"] in fields
        ],
    }


def _learner(site: SimulatedMoodle, page: _Page, userid: int) -> dict[str, Any]:
    state = site.state
    courseid = page.courseid
    enrolment = state.enrolments[(userid, courseid)]
    activities = []
    for activity in page.tracked:
        rec = state.activity_completions.get((userid, activity.cmid))
        activities.append(
            {
                "cmid": activity.cmid,
                "tracking": activity.completion,
                "state": rec.state if rec else COMPLETION_INCOMPLETE,
                "timecompleted": rec.timecompleted if rec else 0,
                "overrideby": rec.overrideby if rec else None,
            }
        )
    criteria = [
        {"criteriaid": cid, "criteriatype": _CRITERIA_TYPES[kind], "timecompleted": when}
        for kind, cid, _, when in logic.criteria_status(state, userid, courseid)
    ]
    attempts = []
    for attempt in page.attempts.get(userid, []):
        full = attempt_dict(site, page.quizzes[attempt.quiz], attempt)
        marks = full.get("gradeitemmarks", []) if attempt.state == "finished" else []
        keys = ("id", "quiz", "attempt", "state", "timestart", "timefinish", "timemodified")
        attempts.append(
            {k: full[k] for k in keys} | {"sumgrades": full["sumgrades"], "gradeitemmarks": marks}
        )
    return {
        "userid": userid,
        **_person(site, courseid, userid, page.profilefields),
        "suspended": state.users[userid].suspended,
        "lang": state.users[userid].lang,
        "timezone": state.users[userid].timezone,
        "lastcourseaccess": state.lastcourseaccess.get((userid, courseid), 0),
        "enrolments": [
            {
                "enrol": "manual",
                "status": enrolment.status,
                "enrolstatus": 0,
                "timestart": enrolment.timestart,
                "timeend": enrolment.timeend,
                "timecreated": enrolment.timecreated,
            }
        ],
        "activities": activities,
        "completion": {
            "timecompleted": state.course_completions.get((userid, courseid)),
            "criteria": criteria,
        },
        "attempts": attempts,
    }


def get_progress(
    site: SimulatedMoodle,
    courseid: int,
    quizids: list[int],
    since: int,
    cursor: int,
    limit: int,
    profilefields: list[str] | None = None,
) -> dict[str, Any]:
    """local_buyin_get_progress: a page of the course's learners, by user id after ``cursor``."""
    course = get_course(site, courseid)
    warnings = []
    quizzes = []
    for quizid in dict.fromkeys(quizids):
        quiz = site.state.quizzes.get(quizid)
        if quiz is None or quiz.course != course.id:
            warnings.append(
                {
                    "item": "quiz",
                    "itemid": quizid,
                    "warningcode": "invalidquizid",
                    "message": f"No quiz with id {quizid} in the course with id {course.id}",
                }
            )
        else:
            quizzes.append(quiz)
    if not 1 <= limit <= _MAX_LIMIT:
        warnings.append(
            {
                "item": "limit",
                "itemid": limit,
                "warningcode": "limitclamped",
                "message": f"limit must be between 1 and {_MAX_LIMIT}",
            }
        )
        limit = max(1, min(_MAX_LIMIT, limit))
    page = _page(site, course.id, quizzes, list(profilefields or []))
    enrolled = [uid for uid, cid in site.state.enrolments if cid == course.id]
    ids = sorted(
        uid
        for uid, cid in site.state.enrolments
        if cid == course.id and uid > cursor and (since <= 0 or _changed(site, page, uid, since))
    )
    chosen = ids[:limit]
    return {
        "aggregation": course.completion.aggregation,
        "enrolled": len(enrolled),
        "learners": [_learner(site, page, uid) for uid in chosen],
        "nextcursor": chosen[-1] if len(ids) > limit else 0,
        "warnings": warnings,
    }


def complete_activities(site: SimulatedMoodle, items: list[dict[str, Any]]) -> dict[str, Any]:
    """local_buyin_complete_activities: each item as core's override, one after another."""
    if len(items) > 500:
        raise invalid("At most 500 items in one call; send the rest in another")
    results = []
    for item in items:
        userid, cmid = item["userid"], item["cmid"]
        result: dict[str, Any] = {
            "userid": userid,
            "cmid": cmid,
            "status": False,
            "state": None,
            "timecompleted": None,
            "overrideby": None,
            "tracking": None,
            "warningcode": "",
            "message": "",
        }
        activity = site.state.activities.get(cmid)
        denied = site.denied_capabilities.get("core_completion_override_activity_completion_status")
        if activity is not None and not activity.completion:
            result |= {
                "tracking": 0,
                "warningcode": "nottracked",
                "message": f"Completion is not tracked for the activity with cmid {cmid}",
            }
        elif denied is not None:
            name = CAPABILITY_NAMES.get(denied, denied)
            result |= {
                "warningcode": "nopermissions",
                "message": f"Sorry, but you do not currently have permissions to do that ({name}).",
            }
        else:
            try:
                done = completion.override_activity_completion_status(
                    site, userid, cmid, item["newstate"]
                )
            except WsError as error:
                result |= {"warningcode": error.errorcode, "message": error.message}
            else:
                result |= {k: done[k] for k in ("state", "timecompleted", "overrideby", "tracking")}
                result["status"] = True
        results.append(result)
    return {"items": results}


#: items per local_buyin_save_figures call (figures_manager::MAX_ITEMS)
_MAX_FIGURES = 500


def save_figures(site: SimulatedMoodle, items: list[dict[str, Any]]) -> dict[str, Any]:
    """local_buyin_save_figures: each item stored (replacing that person's row), or refused
    with its reason, as classes/external/save_figures.php does."""
    if len(items) > _MAX_FIGURES:
        raise invalid(f"At most {_MAX_FIGURES} items in one call; send the rest in another")
    now = site.time()
    results = []
    for item in items:
        courseid, userid, role = item["courseid"], item["userid"], item["role"]
        result: dict[str, Any] = {
            "courseid": courseid,
            "userid": userid,
            "role": role,
            "status": False,
            "warningcode": "",
            "message": "",
        }
        try:
            figures = json.loads(item["figures"])
        except ValueError:
            figures = None
        if courseid not in site.state.courses:
            result |= {"warningcode": "invalidcourseid", "message": f"No course with id {courseid}"}
        elif userid not in site.state.users:
            result |= {"warningcode": "invaliduserid", "message": f"No user with id {userid}"}
        elif role not in ("learner", "manager"):
            result |= {"warningcode": "invalidrole", "message": "role must be learner or manager"}
        elif not isinstance(figures, dict):
            result |= {"warningcode": "invalidfigures", "message": "figures must be a JSON object"}
        else:
            site.plugin.save_figures(courseid, userid, role, item["managerid"], figures, now)
            result["status"] = True
        results.append(result)
    return {"items": results}


#: Moodle's no-reply user (core_user::NOREPLY_USER)
NOREPLY_USERID = -10


def send_notifications(
    site: SimulatedMoodle, sender: str, notifications: list[dict[str, Any]]
) -> dict[str, Any]:
    """local_buyin_send_notifications: each item rendered with the plugin's strings (and
    the site's customisations) and kept, once per idempotency key, as
    classes/external/send_notifications.php does. A notification is also one of the
    messages the recipient holds (``state.messages``), from the sender."""
    if len(notifications) > MAX_ITEMS:
        raise invalid(f"At most {MAX_ITEMS} notifications in one call; send the rest in another")
    fromid = NOREPLY_USERID
    if sender:
        user = next((u for u in site.state.users.values() if u.username == sender), None)
        if user is None or user.suspended:
            raise invalid(f"The sender '{sender}' is not an active user of this site")
        fromid = user.id
    renderer = Renderer(strings(site.plugin.custom_strings))
    now = site.time()
    results = []
    for item in notifications:
        key, userid = item["idempotencykey"], item["userid"]
        result: dict[str, Any] = {
            "idempotencykey": key,
            "userid": userid,
            "duplicate": False,
            "messageid": 0,
            "status": False,
            "warningcode": "",
            "message": "",
        }
        try:
            data = json.loads(item["data"])
        except ValueError:
            data = None
        before = site.plugin.notification_keys.get(key)
        if item["kind"] not in KINDS:
            result |= {
                "warningcode": "unknownkind",
                "message": f"No message provider '{item['kind']}'",
            }
        elif not isinstance(data, dict):
            result |= {"warningcode": "invaliddata", "message": "The data is not a JSON object"}
        elif userid not in site.state.users:
            result |= {"warningcode": "unknownuser", "message": f"No user with id {userid}"}
        elif before is not None:
            result |= {"status": True, "duplicate": True, "messageid": before.id}
        else:
            url, urlname = PAGES.get(str(data.get("page") or ""), ("", ""))
            sent = Notification(
                id=site.state.new_id("notification"),
                key=key,
                useridfrom=fromid,
                useridto=userid,
                kind=item["kind"],
                template=item["template"],
                html=renderer.parts(data.get("body")),
                contexturl=site.url + url if url else "",
                contexturlname=urlname,
                timecreated=now,
            )
            site.plugin.notifications.append(sent)
            site.plugin.notification_keys[key] = sent
            site.state.messages.append(
                Message(
                    id=site.state.new_id("message"),
                    useridfrom=fromid,
                    useridto=userid,
                    text=sent.html,
                    textformat=1,
                    timecreated=now,
                    conversationid=0,
                )
            )
            result |= {"status": True, "messageid": sent.id}
        results.append(result)
    return {"items": results}
