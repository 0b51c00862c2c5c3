"""Which functions exist on the site, which the buyin service holds, which
write, and the human names of the capabilities they need."""

from __future__ import annotations

import json
from functools import cache

from ..resources import data_path

#: every web-service function the lab site knows (from the captures and signatures);
#: a function outside this set answers "invalidrecordunknown", one outside the
#: service "accessexception"
KNOWN_FUNCTIONS: frozenset[str] = frozenset(
    [
        "core_badges_get_user_badges",
        "core_calendar_create_calendar_events",
        "core_calendar_get_calendar_events",
        "core_cohort_add_cohort_members",
        "core_cohort_get_cohort_members",
        "core_cohort_get_cohorts",
        "core_cohort_search_cohorts",
        "core_competency_add_competency_to_plan",
        "core_competency_create_plan",
        "core_competency_create_user_evidence_competency",
        "core_competency_delete_evidence",
        "core_competency_delete_user_evidence",
        "core_competency_delete_user_evidence_competency",
        "core_competency_grade_competency",
        "core_competency_grade_competency_in_course",
        "core_competency_grade_competency_in_plan",
        "core_competency_list_competencies",
        "core_competency_list_competency_frameworks",
        "core_competency_list_course_competencies",
        "core_competency_list_course_module_competencies",
        "core_competency_list_plan_competencies",
        "core_competency_list_user_plans",
        "core_competency_read_competency",
        "core_competency_read_plan",
        "core_competency_read_user_evidence",
        "core_competency_request_review_of_user_evidence_linked_competencies",
        "core_competency_user_competency_cancel_review_request",
        "core_competency_user_competency_plan_viewed",
        "core_competency_user_competency_request_review",
        "core_competency_user_competency_start_review",
        "core_competency_user_competency_stop_review",
        "core_competency_user_competency_viewed",
        "core_competency_user_competency_viewed_in_course",
        "core_competency_user_competency_viewed_in_plan",
        "core_completion_get_activities_completion_status",
        "core_completion_get_course_completion_status",
        "core_completion_mark_course_self_completed",
        "core_completion_override_activity_completion_status",
        "core_completion_update_activity_completion_status_manually",
        "core_course_check_updates",
        "core_course_get_categories",
        "core_course_get_contents",
        "core_course_get_course_module",
        "core_course_get_courses",
        "core_course_get_courses_by_field",
        "core_course_get_updates_since",
        "core_enrol_get_course_enrolment_methods",
        "core_enrol_get_enrolled_users",
        "core_enrol_get_users_courses",
        "core_grades_get_gradeitems",
        "core_group_add_group_members",
        "core_group_create_groups",
        "core_group_get_course_groups",
        "core_group_get_course_user_groups",
        "core_group_get_group_members",
        "core_message_get_messages",
        "core_message_send_instant_messages",
        "core_notes_create_notes",
        "core_notes_get_course_notes",
        "core_reportbuilder_list_reports",
        "core_reportbuilder_retrieve_report",
        "core_role_assign_roles",
        "core_role_unassign_roles",
        "core_user_create_users",
        "core_user_get_course_user_profiles",
        "core_user_get_user_preferences",
        "core_user_update_user_preferences",
        "core_user_get_users",
        "core_user_get_users_by_field",
        "core_user_update_users",
        "core_webservice_get_site_info",
        "enrol_manual_enrol_users",
        "enrol_manual_unenrol_users",
        "gradereport_overview_get_course_grades",
        "gradereport_user_get_grade_items",
        "gradereport_user_get_grades_table",
        "mod_feedback_get_analysis",
        "mod_feedback_get_feedback_access_information",
        "mod_feedback_get_feedbacks_by_courses",
        "mod_feedback_get_items",
        "mod_feedback_get_non_respondents",
        "mod_feedback_get_responses_analysis",
        "mod_quiz_delete_overrides",
        "mod_quiz_get_attempt_review",
        "mod_quiz_get_attempt_summary",
        "mod_quiz_get_edit_grading_page_data",
        "mod_quiz_get_overrides",
        "mod_quiz_get_quiz_feedback_for_grade",
        "mod_quiz_get_quizzes_by_courses",
        "mod_quiz_get_user_attempts",
        "mod_quiz_get_user_best_grade",
        "mod_quiz_get_user_quiz_attempts",
        "mod_quiz_save_overrides",
        "report_competency_data_for_report",
        "tool_lp_data_for_user_competency_summary",
        "tool_lp_data_for_user_competency_summary_in_course",
        "tool_lp_data_for_user_evidence_list_page",
    ]
)

WRITE_FUNCTIONS: frozenset[str] = frozenset(
    {
        "core_completion_override_activity_completion_status",
        "core_completion_update_activity_completion_status_manually",
        "local_buyin_complete_activities",
        "local_buyin_save_figures",
        "local_buyin_send_notifications",
        "core_message_send_instant_messages",
        "enrol_manual_enrol_users",
        "enrol_manual_unenrol_users",
        "core_group_create_groups",
        "core_group_add_group_members",
        "core_role_assign_roles",
        "core_role_unassign_roles",
        "core_user_update_users",
        "core_user_create_users",
        "core_user_update_user_preferences",
    }
)

#: Moodle's human names of capabilities, as nopermissions messages show them
CAPABILITY_NAMES: dict[str, str] = {
    "moodle/course:view": "View courses without participation",
    "moodle/course:viewhiddenactivities": "View hidden activities",
    "mod/quiz:view": "View quiz information",
    "mod/quiz:viewreports": "View quiz reports",
    "mod/quiz:manage": "Edit quizzes",
    "moodle/course:viewparticipants": "View participants",
    "moodle/user:viewdetails": "View user profiles",
    "moodle/user:viewhiddendetails": "View hidden user fields",
    "moodle/course:useremail": "Enable/disable email address",
    "moodle/site:accessallgroups": "Access all groups",
    "gradereport/user:view": "View your own grade report",
    "moodle/grade:viewall": "View grades of other users",
    "report/progress:view": "View activity completion reports",
    "report/completion:view": "View course completion report",
    "moodle/course:overridecompletion": "Override activity completion status",
    "moodle/site:sendmessage": "Send messages to any user",
    "enrol/manual:enrol": "Enrol users",
    "moodle/role:assign": "Assign roles to users",
    "moodle/course:managegroups": "Manage groups",
    "moodle/cohort:view": "View site-wide cohorts",
    "moodle/user:update": "Update user profiles",
    "mod/feedback:view": "View a feedback",
    "mod/feedback:viewreports": "View reports",
    "mod/feedback:viewanalysepage": "View the analysis page after submit",
}

_FALLBACK_SERVICE: tuple[str, ...] = (
    "core_webservice_get_site_info",
    "core_course_get_courses_by_field",
    "core_course_get_contents",
    "mod_quiz_get_quizzes_by_courses",
    "core_enrol_get_enrolled_users",
    "gradereport_user_get_grade_items",
    "mod_quiz_get_user_quiz_attempts",
    "mod_quiz_get_user_attempts",
    "mod_quiz_get_attempt_review",
    "core_completion_get_activities_completion_status",
    "core_completion_get_course_completion_status",
    "core_completion_override_activity_completion_status",
    "core_message_send_instant_messages",
    "core_message_get_messages",
    "enrol_manual_enrol_users",
    "core_role_assign_roles",
    "core_user_get_users_by_field",
    "core_group_get_course_groups",
    "core_group_create_groups",
    "core_group_add_group_members",
    "core_cohort_get_cohort_members",
)


@cache
def service_functions() -> tuple[str, ...]:
    """The buyin service's functions, in plugin_contract/service.json's order."""
    try:
        with data_path("plugin_contract/service.json").open(encoding="utf-8") as handle:
            service = json.load(handle)
        return tuple(str(f["name"]) for f in service["functions"])
    except (FileNotFoundError, KeyError, ValueError):
        return _FALLBACK_SERVICE
