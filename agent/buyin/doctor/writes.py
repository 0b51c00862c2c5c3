"""doctor's write checks: every capability a write of `sync` needs, in each mapped course,
proven with calls that change nothing in Moodle.

No web-service function says what the token's user may do (local_buyin has none either:
plugin_contract/local_buyin.signatures.json), so each check makes the very call sync
makes, shaped so Moodle checks the capability and then changes nothing (read in Moodle's
code, the function named in each probe):

- overrides: a learner's activity overridden to the state it already has
  (completion_info::update_state checks moodle/course:overridecompletion first, then
  returns when the state is unchanged); with local_buyin, its bulk function, the same way;
- enrolments: a batch of two, the enrolment sync makes and one into the site course
  (enrol_manual_external::enrol_users checks enrol/manual:enrol and "Allow role
  assignments" for the first, then refuses the second, wsnoinstance: the site course has
  no manual enrolment; the batch is one transaction, rolled back);
- role assignments: someone who holds the role given it again (role_assign returns the
  assignment it finds);
- messages: one message to user 0 (send_instant_messages checks moodle/site:sendmessage,
  then answers "user doesn't exist" for it and sends nothing);
- team groups: the course's groups read; a batch of two groups of one new name (the
  second refused as a duplicate after the first passed moodle/course:managegroups; rolled
  back); a member added to an existing group with a second item for group 0 (refused
  after the first passed; rolled back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from buyin.doctor.report import DoctorReport
from buyin.errors import (
    BuyinError,
    InvalidParameterError,
    MissingPermissionError,
    MoodleError,
    NotFoundError,
    RoleNotAssignableError,
    TransientError,
)
from buyin.mapping import Programme
from buyin.model.snapshot import Activity, Course, Person
from buyin.moodle.client import MoodleClient
from buyin.moodle.fetch import SiteInfo

#: Moodle's front page course: it never has a manual enrolment instance
SITE_COURSE = 1
#: the group name the group probe creates inside a transaction Moodle rolls back
PROBE_GROUP = "moodle-buyin doctor probe (never kept)"

GRANT = (
    "Grant {capability} to the agent's role (Site administration > Users > Permissions > "
    "Define roles > the agent's role), then run doctor again."
)
ALLOW_ASSIGN = (
    "In Site administration > Users > Permissions > Define roles > the agent's role > "
    "Allow role assignments, tick {role}; then run doctor again."
)


@dataclass(frozen=True)
class Mapped:
    """What the write checks need to know of one mapped course."""

    where: str
    course: Course
    people: list[Person]
    roles: dict[str, int]
    activities: list[Activity]


def _expected(exc: BuyinError, refusal: Callable[[BuyinError], bool]) -> bool:
    return not isinstance(exc, MissingPermissionError) and refusal(exc)


def _probe(
    report: DoctorReport,
    name: str,
    capability: str,
    call: Callable[[], Any],
    *,
    refusal: Callable[[BuyinError], bool] | None = None,
    how: str,
    role_label: str = "",
    affected: str = "",
) -> None:
    """One check: the call passes (or Moodle refuses its deliberately invalid part,
    ``refusal``) → ok; a missing capability or role permission → FAIL naming it."""
    try:
        call()
    except TransientError:
        raise
    except RoleNotAssignableError as exc:
        detail = f"refused: {exc.what}"
        if role_label and affected:
            detail += f"; approvers affected: {affected}"
        elif role_label and affected == "":
            detail += "; every approver holds it already, but a new one could not be given it"
        report.add(name, False, detail, ALLOW_ASSIGN.format(role=role_label or "the role"))
        return
    except BuyinError as exc:
        if refusal is not None and _expected(exc, refusal):
            report.add(name, True, f"{capability}: allowed ({how})")
            return
        if isinstance(exc, MissingPermissionError):
            report.add(
                name,
                False,
                f"needs {capability}; Moodle answered: {exc.what}",
                GRANT.format(capability=capability),
            )
            return
        report.add(name, False, str(exc), exc.hint or GRANT.format(capability=capability))
        return
    report.add(name, True, f"{capability}: allowed ({how})")


def _completion_states(client: MoodleClient, courseid: int, userid: int) -> dict[int, int]:
    answer = client.call(
        "core_completion_get_activities_completion_status", courseid=courseid, userid=userid
    )
    return {int(s["cmid"]): int(s["state"]) for s in answer.get("statuses") or []}


def check_overrides(
    client: MoodleClient,
    site: SiteInfo,
    c: Mapped,
    learner: Person,
    report: DoctorReport,
    exclude: frozenset[int] = frozenset(),
) -> None:
    tracked = [
        a for a in c.activities if a.completion and a.modname != "quiz" and a.cmid not in exclude
    ]
    if not tracked:
        return
    states = _completion_states(client, c.course.id, learner.id)
    activity = tracked[0]
    same = 1 if states.get(activity.cmid, 0) else 0  # the state it has: nothing changes
    how = f"{learner.username}'s {activity.name!r} set to the state it has"
    if site.bulk_overrides:
        name = f"{c.where}: may complete activities (local_buyin_complete_activities)"

        def bulk() -> None:
            answer = client.call(
                "local_buyin_complete_activities",
                items=[{"userid": learner.id, "cmid": activity.cmid, "newstate": same}],
            )
            for item in answer.get("items") or []:
                if item.get("warningcode") == "nopermissions":
                    raise MissingPermissionError(
                        "local_buyin_complete_activities", str(item.get("message") or ""), ""
                    )

        _probe(report, name, "moodle/course:overridecompletion", bulk, how=how)
        return
    _probe(
        report,
        f"{c.where}: may complete activities (core_completion_override_activity_completion_status)",
        "moodle/course:overridecompletion",
        lambda: client.call(
            "core_completion_override_activity_completion_status",
            userid=learner.id,
            cmid=activity.cmid,
            newstate=same,
        ),
        how=how,
    )


def _no_instance(exc: BuyinError) -> bool:
    return isinstance(exc, MoodleError) and exc.errorcode == "wsnoinstance"


def check_enrolment(
    client: MoodleClient,
    c: Mapped,
    courseid: int,
    course_label: str,
    roleid: int,
    role_label: str,
    person: Person,
    report: DoctorReport,
    *,
    affected: str = "",
) -> None:
    """Enrolling with ``roleid`` in ``courseid``: enrol/manual:enrol, moodle/role:assign
    and the role ticked in "Allow role assignments"; rolled back by Moodle."""
    _probe(
        report,
        f"{c.where}: may enrol in {course_label} as {role_label} (enrol_manual_enrol_users)",
        "enrol/manual:enrol, moodle/role:assign",
        lambda: client.call(
            "enrol_manual_enrol_users",
            enrolments=[
                {"roleid": roleid, "userid": person.id, "courseid": courseid},
                {"roleid": roleid, "userid": person.id, "courseid": SITE_COURSE},
            ],
        ),
        refusal=_no_instance,
        how="a batch Moodle rolled back: nothing enrolled",
        role_label=role_label,
        affected=affected,
    )


def check_role_assign(
    client: MoodleClient,
    c: Mapped,
    roleid: int,
    role_label: str,
    holder: Person | None,
    report: DoctorReport,
    *,
    affected: str = "",
) -> None:
    name = f"{c.where}: may give the role {role_label} (core_role_assign_roles)"
    if holder is None:
        report.add(
            name,
            True,
            f"not checked: nobody holds {role_label} in {c.course.shortname} yet "
            "(the enrolment check above covers the same permission)",
        )
        return

    def assign() -> None:
        try:
            client.call(
                "core_role_assign_roles",
                assignments=[
                    {
                        "roleid": roleid,
                        "userid": holder.id,
                        "contextlevel": "course",
                        "instanceid": c.course.id,
                    }
                ],
            )
        except InvalidParameterError:  # Moodle's answer when the role is not assignable
            raise RoleNotAssignableError(
                "core_role_assign_roles",
                f"the agent may not assign the role {role_label} in {c.course.shortname}",
            ) from None

    _probe(
        report,
        name,
        "moodle/role:assign",
        assign,
        how=f"{holder.username} given the role they hold",
        role_label=role_label,
        affected=affected,
    )


def check_messages(client: MoodleClient, report: DoctorReport) -> None:
    def send() -> None:
        client.call(
            "core_message_send_instant_messages",
            messages=[{"touserid": 0, "text": "moodle-buyin doctor", "textformat": 1}],
        )

    name = "may send messages (core_message_send_instant_messages)"
    try:
        send()
    except TransientError:
        raise
    except MoodleError as exc:
        if exc.errorcode == "disabled":
            report.add(
                name,
                False,
                "messaging is disabled on the site",
                "Site administration > General > Messaging: Enable messaging system.",
            )
            return
        report.add(name, False, str(exc), exc.hint or "")
        return
    except MissingPermissionError as exc:
        report.add(
            name,
            False,
            f"needs moodle/site:sendmessage; Moodle answered: {exc.what}",
            GRANT.format(capability="moodle/site:sendmessage"),
        )
        return
    report.add(name, True, "moodle/site:sendmessage: allowed (a message to no one: nothing sent)")


def check_groups(client: MoodleClient, c: Mapped, member: Person, report: DoctorReport) -> None:
    capability = "moodle/course:managegroups"
    groups: list[dict[str, Any]] = []

    def read() -> None:
        groups.extend(client.call("core_group_get_course_groups", courseid=c.course.id) or [])

    _probe(
        report,
        f"{c.where}: may read the team groups (core_group_get_course_groups)",
        capability,
        read,
        how="read",
    )
    probe = {"courseid": c.course.id, "name": PROBE_GROUP, "description": ""}
    _probe(
        report,
        f"{c.where}: may create team groups (core_group_create_groups)",
        capability,
        lambda: client.call("core_group_create_groups", groups=[probe, probe]),
        # Moodle checks the name once managegroups passed: the second item's duplicate is
        # refused as invalidparameter, its detail only with debugging on (the real site's
        # answer, tests/live; the simulator used to answer groupexistforcourse)
        refusal=lambda exc: (
            isinstance(exc, InvalidParameterError) or "already exists" in str(exc).lower()
        ),
        how="a batch Moodle rolled back: no group created",
    )
    name = f"{c.where}: may add team members (core_group_add_group_members)"
    if not groups:
        report.add(
            name,
            True,
            f"not checked: {c.course.shortname} has no group yet (the first sync creates them "
            f"with the same capability, {capability})",
        )
        return
    _probe(
        report,
        name,
        capability,
        lambda: client.call(
            "core_group_add_group_members",
            members=[
                {"groupid": int(groups[0]["id"]), "userid": member.id},
                {"groupid": 0, "userid": member.id},
            ],
        ),
        refusal=lambda exc: isinstance(exc, NotFoundError | InvalidParameterError),
        how="a batch Moodle rolled back: nobody added",
    )


def approvers_without(programme: Programme, people: list[Person], roleid: int) -> str:
    """Who sync would ask to sign off and who lacks the sign-off role in the course: the
    learners' managers (profile field) and the fallback approver."""
    signoff = programme.signoff
    if signoff is None:
        return ""
    holders = {getattr(p, signoff.match_by, "") for p in people if roleid in p.roles}
    wanted = {p.custom.get(signoff.manager_field, "").strip() for p in people}
    if signoff.fallback_approver:
        wanted.add(signoff.fallback_approver)
    missing = sorted(v for v in wanted if v and v not in holders)
    shown = ", ".join(missing[:10]) + (
        f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    )
    return shown


def check_writes(
    client: MoodleClient,
    site: SiteInfo,
    programme: Programme,
    mapped: Mapped,
    report: DoctorReport,
    resolve_course: Callable[[Any], Course | None],
) -> None:
    """Every write sync makes for ``programme``, checked in its course (and the
    refresher's and the poll's)."""
    learner_role = mapped.roles.get(str(programme.learner_role), programme.learner_role)
    learner = next((p for p in mapped.people if learner_role in p.roles), None)
    if learner is None:
        return  # doctor's role check already says nobody holds the learners' role
    if programme.precheck is not None:
        check_overrides(client, site, mapped, learner, report, programme.precheck.exclude)
    signoff = programme.signoff
    if signoff is not None:
        roleid = mapped.roles.get(str(signoff.role), signoff.role)
        if isinstance(roleid, int):
            label = f"{signoff.role!s}" if not isinstance(signoff.role, int) else f"role {roleid}"
            affected = approvers_without(programme, mapped.people, roleid)
            check_enrolment(
                client,
                mapped,
                mapped.course.id,
                mapped.course.shortname,
                roleid,
                label,
                learner,
                report,
                affected=affected,
            )
            holder = next((p for p in mapped.people if roleid in p.roles), None)
            check_role_assign(client, mapped, roleid, label, holder, report, affected=affected)
        if signoff.team_groups:
            check_groups(client, mapped, learner, report)
    refresher = programme.followup.refresher if programme.followup else None
    if refresher is not None:
        target = resolve_course(refresher.course)
        roleid = mapped.roles.get(str(refresher.role), refresher.role)
        if target is not None and isinstance(roleid, int):
            check_enrolment(
                client,
                mapped,
                target.id,
                target.shortname,
                roleid,
                str(refresher.role),
                learner,
                report,
            )
