"""The thin dispatcher: which handler answers which web-service function, and the
checks Moodle makes before any handler runs (token, function, service, parameters,
capability)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .components import (
    cohort,
    completion,
    course,
    enrol,
    feedback,
    grades,
    group,
    local_buyin,
    messages,
    preferences,
    quiz,
    role,
    user,
    webservice,
)
from .errors import WsError, invalid
from .functions import CAPABILITY_NAMES, KNOWN_FUNCTIONS
from .params import SPECS, ParamError, validate
from .render import Answer, error_answer, result_answer

if TYPE_CHECKING:
    from .site import SimulatedMoodle

Handler = Callable[..., Any]
"""``handler(site, **params)``: a function's answer, from its validated parameters."""

#: every function the simulator serves, by wsfunction name
HANDLERS: dict[str, Handler] = {
    "core_webservice_get_site_info": webservice.get_site_info,
    "core_course_get_courses_by_field": course.get_courses_by_field,
    "core_course_get_contents": course.get_contents,
    "mod_quiz_get_quizzes_by_courses": quiz.get_quizzes_by_courses,
    "mod_quiz_get_user_quiz_attempts": quiz.get_user_quiz_attempts,
    "mod_quiz_get_user_attempts": quiz.get_user_attempts,
    "mod_quiz_get_attempt_review": quiz.get_attempt_review,
    "mod_quiz_get_edit_grading_page_data": quiz.get_edit_grading_page_data,
    "core_enrol_get_enrolled_users": enrol.get_enrolled_users,
    "enrol_manual_enrol_users": enrol.manual_enrol_users,
    "enrol_manual_unenrol_users": enrol.manual_unenrol_users,
    "gradereport_user_get_grade_items": grades.get_grade_items,
    "core_completion_get_activities_completion_status": completion.get_activities_completion_status,
    "core_completion_get_course_completion_status": completion.get_course_completion_status,
    "core_completion_override_activity_completion_status": completion.override_activity_completion_status,
    "core_message_send_instant_messages": messages.send_instant_messages,
    "core_message_get_messages": messages.get_messages,
    "core_role_assign_roles": role.assign_roles,
    "core_user_get_users_by_field": user.get_users_by_field,
    "core_user_get_user_preferences": preferences.get_user_preferences,
    "core_user_update_user_preferences": preferences.update_user_preferences,
    "core_group_get_course_groups": group.get_course_groups,
    "core_group_create_groups": group.create_groups,
    "core_group_add_group_members": group.add_group_members,
    "core_cohort_get_cohort_members": cohort.get_cohort_members,
    "mod_feedback_get_feedbacks_by_courses": feedback.get_feedbacks_by_courses,
    "mod_feedback_get_feedback_access_information": feedback.get_feedback_access_information,
    "mod_feedback_get_items": feedback.get_items,
    "mod_feedback_get_non_respondents": feedback.get_non_respondents,
    "mod_feedback_get_responses_analysis": feedback.get_responses_analysis,
    "mod_feedback_get_analysis": feedback.get_analysis,
    "local_buyin_request_signoffs": local_buyin.request_signoffs,
    "local_buyin_get_signoffs": local_buyin.get_signoffs,
    "local_buyin_record_signoff": local_buyin.record_signoff,
    "local_buyin_get_progress": local_buyin.get_progress,
    "local_buyin_complete_activities": local_buyin.complete_activities,
    "local_buyin_save_figures": local_buyin.save_figures,
    "local_buyin_acquire_lease": local_buyin.acquire_lease,
    "local_buyin_release_lease": local_buyin.release_lease,
    "local_buyin_get_non_respondents": local_buyin.get_non_respondents,
    "local_buyin_send_notifications": local_buyin.send_notifications,
}


def process(site: SimulatedMoodle, fields: dict[str, Any], function: str, as_json: bool) -> Answer:
    """Answer one call the faults let through.

    The handler is looked up on the site (``site._fn_<function>``, bound from
    :data:`HANDLERS`), so a test may replace one site's handler.
    """
    raw = {
        k: v for k, v in fields.items() if k not in ("wstoken", "wsfunction", "moodlewsrestformat")
    }
    try:
        if fields.get("wstoken") != site.token:
            raise WsError(
                "core\\exception\\moodle_exception",
                "invalidtoken",
                "Invalid token - token not found",
            )
        if function not in KNOWN_FUNCTIONS and function not in site.service_functions:
            raise WsError(
                "dml_missing_record_exception",
                "invalidrecordunknown",
                "Can't find data record in database.",
                "SELECT * FROM {external_functions} WHERE name = ?\n[array (\n  0 => '"
                + function
                + "',\n)]",
            )
        if function not in site.service_functions:
            raise WsError(
                "webservice_access_exception", "accessexception", "Access control exception"
            )
        spec = SPECS.get(function)
        params: dict[str, Any] = raw
        if spec is not None:
            try:
                params = validate(spec, raw)
            except ParamError as error:
                site.calls.append((function, raw))
                raise invalid(error.detail) from None
        site.calls.append((function, params))
        denied = site.denied_capabilities.get(function)
        if denied is not None:
            name = CAPABILITY_NAMES.get(denied, denied)
            raise WsError(
                "core\\exception\\required_capability_exception",
                "nopermissions",
                f"Sorry, but you do not currently have permissions to do that ({name}).",
            )
        handler = getattr(site, "_fn_" + function, None)
        if handler is None:
            raise WsError(
                "core\\exception\\coding_exception",
                "codingerror",
                f"Coding error detected, it must be fixed by a programmer: the simulator does not implement {function}",
            )
        result = handler(**params)
    except WsError as error:
        return error_answer(error, as_json, site.debug)
    return result_answer(result, as_json)
