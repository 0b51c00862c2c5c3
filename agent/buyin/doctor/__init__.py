"""`buyin doctor`: the site checked against the contract, as a checklist.

Each check says what it looked at, whether it passed, and if not what to do.
The run exits 0 when every check passed, 75 when Moodle could not be reached,
and 78 naming each missing piece otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from buyin.actions.apply import NOTIFY_FUNCTION
from buyin.doctor.report import Check, DoctorReport
from buyin.doctor.writes import Mapped, check_messages, check_writes
from buyin.errors import BuyinError, ConfigurationError, TransientError
from buyin.mapping import Programme
from buyin.model.snapshot import CRITERIA_ROLE
from buyin.moodle.client import MoodleClient
from buyin.moodle.contract import load_service
from buyin.moodle.fetch import (
    SiteInfo,
    fetch_activities,
    fetch_enrolled,
    fetch_quiz,
    resolve_course,
    resolve_role,
)
from buyin.moodle.lease import offers_leases, offers_preference_leases
from buyin.moodle.parse import parse_course_completion
from buyin.moodle.poll import find_feedback, map_questions


def _version_number(version: str) -> float:
    try:
        return float(version)
    except ValueError:
        return 0.0


def check_site(client: MoodleClient, report: DoctorReport) -> SiteInfo | None:
    try:
        site = SiteInfo.fetch(client)
    except TransientError as exc:
        report.fatal = exc
        report.add("site reachable", False, str(exc), exc.hint)
        return None
    except BuyinError as exc:
        report.fatal = exc
        report.add("site reachable and token valid", False, str(exc), exc.hint)
        return None
    report.add("site reachable and token valid", True, f"{client.url} as user id {site.userid}")
    service = load_service()
    minimum = service["minimum_moodle"]
    ok = _version_number(site.version) >= float(minimum["version"])
    report.add(
        "Moodle version",
        ok,
        f"{site.release} ({site.version}); minimum {minimum['release']}",
        "" if ok else f"Upgrade Moodle to {minimum['release']} or later.",
    )
    missing = []
    for fn in service["functions"]:
        if not fn.get("required"):
            continue
        if fn["name"] not in site.functions:
            missing.append(fn["name"])
    alternatives = [f["name"] for f in service["functions"] if f.get("alternative_of")]
    if alternatives and not any(name in site.functions for name in alternatives):
        missing.append(" or ".join(alternatives))
    report.add(
        "functions in the token's service",
        not missing,
        "all present" if not missing else "missing: " + ", ".join(missing),
        ""
        if not missing
        else "Add them to the service (Site administration > Server > Web services > "
        "External services > Functions), or install local_buyin which predefines the service.",
    )
    plugin = site.plugin_version
    report.add(
        "local_buyin plugin",
        True,
        f"version {plugin}: sign-off requests go through the plugin's page"
        if plugin
        else "not installed: managers sign off in the course completion report",
    )
    report.add("programme leases", True, leases_line(site.functions))
    notify = NOTIFY_FUNCTION in site.functions
    report.add(
        "messages",
        True,
        "sent as local_buyin notifications, in each recipient's language"
        if notify
        else "sent as personal messages from the agent's account, in English; local_buyin "
        "0.4.0 would send them as Moodle notifications instead: in the notification bell, "
        "by e-mail and in the Moodle app as each person's notification preferences say (one "
        "line per kind), in each recipient's language (language packs and the language "
        "customisation page change the words), linked to the page they are about, each "
        "sent once whatever fails",
    )
    for name in missing:
        report.add(
            f"function {name}",
            False,
            "not in the token's service",
            f"Add {name} to the external service used by the token.",
        )
    if "core_message_send_instant_messages" in site.functions:
        check_messages(client, report)
    return site


def leases_line(functions: frozenset[str]) -> str:
    """Where the site keeps the programmes' leases (buyin.fencing), or that it keeps none."""
    if offers_leases(functions):
        where = "local_buyin"
    elif offers_preference_leases(functions):
        where = "the agent's preferences"
    else:
        return (
            "not kept: nothing in Moodle stops a second agent, or a copy of this agent's "
            "state, from running a programme (install local_buyin, or add "
            "core_user_get_user_preferences and core_user_update_user_preferences to the "
            "service)"
        )
    return f"kept in Moodle ({where}): a second agent, or a copy of this state, is refused"


def _try(report: DoctorReport, name: str, probe: Any) -> Any:
    try:
        return probe()
    except TransientError:
        raise
    except BuyinError as exc:
        report.add(name, False, str(exc), exc.hint)
        return None


def probe_role_assignment(
    client: MoodleClient, courseid: int, roleid: int, holder: int, label: str, report: DoctorReport
) -> None:
    """Re-enrol someone who already holds the role: the only way to learn whether the
    agent may assign it (no web-service function reads "Allow role assignments").
    Moodle keeps their role; their manual enrolment is left active, without dates."""
    name = f"{label}: the agent may assign role {roleid}"
    try:
        client.call(
            "enrol_manual_enrol_users",
            enrolments=[{"roleid": roleid, "userid": holder, "courseid": courseid}],
        )
    except TransientError:
        raise
    except BuyinError as exc:
        report.add(name, False, str(exc), exc.hint)
        return
    report.add(name, True, f"probed with user {holder}")


def check_programme(
    client: MoodleClient,
    site: SiteInfo,
    programme: Programme,
    report: DoctorReport,
    *,
    probe_writes: bool = False,
) -> None:
    where = f"{programme.id} ({programme.source.name})"
    course = _try(
        report,
        f"{where}: course {programme.course!r}",
        lambda: resolve_course(client, programme.course, str(programme.source)),
    )
    if course is None:
        return
    report.add(f"{where}: course {programme.course!r}", True, f"{course.fullname} (id {course.id})")
    if programme.signoff is not None and programme.signoff.channel == "plugin":
        ok = site.plugin_version is not None
        report.add(
            f"{where}: sign-off channel 'plugin'",
            ok,
            "local_buyin is installed" if ok else "local_buyin's functions are not in the service",
            "" if ok else "Install local_buyin (see README) or set signoff.channel = 'auto'.",
        )
    report.add(
        f"{where}: completion tracking enabled",
        course.enablecompletion,
        "" if course.enablecompletion else f"completion is off in {course.shortname}",
        "" if course.enablecompletion else "Enable completion tracking in the course settings.",
    )
    activities = _try(report, f"{where}: course contents", lambda: fetch_activities(client, course))
    roles: dict[str, int] = {}
    people = _try(
        report, f"{where}: enrolled users", lambda: fetch_enrolled(client, course.id, 1000, roles)
    )
    if activities is not None and programme.precheck is not None:
        quiz = _try(
            report,
            f"{where}: pre-check quiz {programme.precheck.quiz!r}",
            lambda: fetch_quiz(
                client, course, activities, programme.precheck.quiz, str(programme.source)
            ),
        )
        if quiz is not None:
            report.add(f"{where}: pre-check quiz {programme.precheck.quiz!r}", True, quiz.name)
        names = {a.section_name.strip().casefold() for a in activities}
        for topic in programme.precheck.topics:
            if topic.activities is not None:
                unknown = [c for c in topic.activities if c not in {a.cmid for a in activities}]
                report.add(
                    f"{where}: topic {topic.name!r} activities",
                    not unknown,
                    f"unknown cmids {unknown}" if unknown else "",
                    "Fix the activity ids in the mapping." if unknown else "",
                )
            else:
                ok = topic.section.strip().casefold() in names
                report.add(
                    f"{where}: section {topic.section!r}",
                    ok,
                    "" if ok else "no course section of that name",
                    ""
                    if ok
                    else "Rename the section or set section/activities "
                    "for the topic in the mapping.",
                )
    if people is not None:
        for label, ref in _role_refs(programme):
            role = _try(
                report,
                f"{where}: role {ref!r} ({label})",
                lambda ref=ref: resolve_role(ref, roles, str(programme.source)),
            )
            if role is not None:
                report.add(f"{where}: role {ref!r} ({label})", True, f"id {role}")
                holder = next((p.id for p in people if role in p.roles), None)
                if label == "sign-off" and probe_writes and holder is not None:
                    probe_role_assignment(client, course.id, role, holder, where, report)
        if activities is not None:
            check_writes(
                client,
                site,
                programme,
                Mapped(where, course, people, roles, list(activities)),
                report,
                lambda ref: _try(
                    report,
                    f"{where}: course {ref!r}",
                    lambda: resolve_course(client, ref, str(programme.source)),
                ),
            )
        if programme.signoff is not None:
            field_name = programme.signoff.manager_field
            seen = any(field_name in p.custom for p in people)
            report.add(
                f"{where}: profile field {field_name!r}",
                seen,
                "" if seen else "no enrolled user has a value in it",
                ""
                if seen
                else "Create the custom profile field and fill it for learners, "
                "or set signoff.manager_field.",
            )
            learner_role = roles.get(str(programme.learner_role), programme.learner_role)
            learner = next((p for p in people if learner_role in p.roles), None)
            if learner is not None:
                completion = _try(
                    report,
                    f"{where}: course completion criteria",
                    lambda: parse_course_completion(
                        client.call(
                            "core_completion_get_course_completion_status",
                            courseid=course.id,
                            userid=learner.id,
                        )
                    ),
                )
                if completion is not None:
                    has_role = any(c.type == CRITERIA_ROLE for c in completion.criteria)
                    ok = has_role and completion.aggregation == 1
                    report.add(
                        f"{where}: sign-off criterion",
                        ok,
                        "'Manual completion by others' with ALL aggregation"
                        if ok
                        else (
                            "no 'Manual completion by others' criterion"
                            if not has_role
                            else "course completion aggregation is ANY"
                        ),
                        ""
                        if ok
                        else "In Course completion settings, require all criteria and "
                        "add 'Manual completion by others' for the sign-off role.",
                    )


__all__ = ["Check", "DoctorReport", "run_doctor"]

POLL_FUNCTIONS = (
    "mod_feedback_get_feedbacks_by_courses",
    "mod_feedback_get_feedback_access_information",
    "mod_feedback_get_items",
    "mod_feedback_get_non_respondents",
    "mod_feedback_get_responses_analysis",
    "mod_feedback_get_analysis",
)


def check_poll(
    client: MoodleClient, site: SiteInfo, programme: Programme, report: DoctorReport
) -> None:
    """The manager poll: its functions, the Feedback, its questions, not anonymous, and
    its responses readable by the agent."""
    poll = programme.poll
    if poll is None:
        return
    where = f"{programme.id} ({programme.source.name})"
    missing = [f for f in POLL_FUNCTIONS if f not in site.functions]
    report.add(
        f"{where}: poll functions in the token's service",
        not missing,
        "all present" if not missing else "missing: " + ", ".join(missing),
        "" if not missing else "Add them to the service, or reinstall local_buyin's service.",
    )
    if missing:
        return
    source = str(programme.source)
    name = f"{where}: poll activity {poll.activity!r} in {poll.course!r}"
    course = _try(report, name, lambda: resolve_course(client, poll.course, f"{source}: poll"))
    if course is None:
        return
    feedback = _try(report, name, lambda: find_feedback(client, course.id, poll.activity, source))
    if feedback is None:
        return
    report.add(name, True, f"Feedback {feedback.name!r} (id {feedback.id}, cmid {feedback.cmid})")
    items = _try(
        report,
        f"{where}: poll questions",
        lambda: map_questions(
            client.call("mod_feedback_get_items", feedbackid=feedback.id).get("items") or [],
            poll,
            source,
        ),
    )
    if items is not None:
        report.add(
            f"{where}: poll questions",
            True,
            f"{poll.question!r} has {items.option_count} options, {len(poll.options)} mapped",
        )
    access = _try(
        report,
        f"{where}: poll access",
        lambda: client.call("mod_feedback_get_feedback_access_information", feedbackid=feedback.id),
    )
    if access is None:
        return
    anonymous = bool(access.get("isanonymous"))
    report.add(
        f"{where}: poll not anonymous",
        not anonymous,
        "answers carry the manager"
        if not anonymous
        else "anonymous: Moodle gives aggregate counts only, so nobody can be reminded "
        "and the report shows no manager's own answer",
        ""
        if not anonymous
        else "In the Feedback's settings set 'Record user names' to show names with answers.",
    )
    readable = bool(access.get("canviewreports"))
    if readable and not anonymous:
        readable = (
            _try(
                report,
                f"{where}: poll responses readable",
                lambda: client.call(
                    "mod_feedback_get_responses_analysis", feedbackid=feedback.id, perpage=1
                ),
            )
            is not None
        )
        if not readable:
            return
    report.add(
        f"{where}: poll responses readable",
        readable,
        "" if readable else "the agent cannot view the Feedback's responses",
        "" if readable else "Give the agent's role mod/feedback:viewreports in the poll's course.",
    )


def _role_refs(programme: Programme) -> Iterator[tuple[str, Any]]:
    yield "learners", programme.learner_role
    if programme.signoff is not None:
        yield "sign-off", programme.signoff.role


def run_doctor(
    client: MoodleClient, programmes: list[Programme], *, probe_writes: bool = False
) -> DoctorReport:
    report = DoctorReport()
    site = check_site(client, report)
    if site is None:
        return report
    try:
        for programme in programmes:
            check_programme(client, site, programme, report, probe_writes=probe_writes)
            check_poll(client, site, programme, report)
    except TransientError as exc:
        report.fatal = exc
        report.add("site reachable", False, str(exc), exc.hint)
    except ConfigurationError as exc:
        report.add("configuration", False, str(exc), exc.hint)
    return report
