<?php
// This file is part of Moodle - http://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <http://www.gnu.org/licenses/>.

/**
 * Web-service functions of local_buyin and the predefined service of the moodle-buyin agent.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$functions = [
    'local_buyin_request_signoffs' => [
        'classname' => 'local_buyin\external\request_signoffs',
        'methodname' => 'execute',
        'description' => 'Create or update manager sign-off requests for course completion, in bulk and idempotently.',
        'type' => 'write',
        'capabilities' => 'local/buyin:agent',
        'ajax' => false,
        'loginrequired' => true,
    ],
    'local_buyin_get_signoffs' => [
        'classname' => 'local_buyin\external\get_signoffs',
        'methodname' => 'execute',
        'description' => 'Sign-off requests changed since a time, oldest change first.',
        'type' => 'read',
        'capabilities' => 'local/buyin:agent',
        'ajax' => false,
        'loginrequired' => true,
    ],
    'local_buyin_get_non_respondents' => [
        'classname' => 'local_buyin\external\get_non_respondents',
        'methodname' => 'execute',
        'description' => 'Who may answer a Feedback and has not, as user ids, in one call.',
        'type' => 'read',
        'capabilities' => 'local/buyin:agent, mod/feedback:viewreports',
        'ajax' => false,
        'loginrequired' => true,
    ],
    'local_buyin_record_signoff' => [
        'classname' => 'local_buyin\external\record_signoff',
        'methodname' => 'execute',
        'description' => 'Record a manager\'s decision on a sign-off request; signing marks the course\'s '
            . '"Manual completion by others" criterion complete for the learner.',
        'type' => 'write',
        'capabilities' => 'local/buyin:signoff',
        'ajax' => false,
        'loginrequired' => true,
        // The Moodle app's sign-off page (db/mobile.php) calls it as the manager.
        'services' => [MOODLE_OFFICIAL_MOBILE_SERVICE],
    ],
    'local_buyin_get_progress' => [
        'classname' => 'local_buyin\external\get_progress',
        'methodname' => 'execute',
        'description' => 'A page of one course\'s learners: enrolments, last access, activity and course completion, '
            . 'finished quiz attempts with marks per grade item; a fixed number of queries per page.',
        'type' => 'read',
        'capabilities' => 'local/buyin:agent',
        'ajax' => false,
        'loginrequired' => true,
    ],
    'local_buyin_complete_activities' => [
        'classname' => 'local_buyin\external\complete_activities',
        'methodname' => 'execute',
        'description' => 'Many activity completion overrides in one call, each checked as core checks it, each with its result.',
        'type' => 'write',
        'capabilities' => 'moodle/course:overridecompletion',
        'ajax' => false,
        'loginrequired' => true,
    ],
    'local_buyin_save_figures' => [
        'classname' => 'local_buyin\external\save_figures',
        'methodname' => 'execute',
        'description' => 'Store the figures local_buyin\'s My team and My results pages show, per person per course, '
            . 'in bulk; each item with its result.',
        'type' => 'write',
        'capabilities' => 'local/buyin:agent',
        'ajax' => false,
        'loginrequired' => true,
    ],
    'local_buyin_acquire_lease' => [
        'classname' => 'local_buyin\external\acquire_lease',
        'methodname' => 'execute',
        'description' => 'Take, renew or take over (once expired) the lease of a programme: one agent at a time per programme.',
        'type' => 'write',
        'capabilities' => 'local/buyin:agent',
        'ajax' => false,
        'loginrequired' => true,
    ],
    'local_buyin_send_notifications' => [
        'classname' => 'local_buyin\external\send_notifications',
        'methodname' => 'execute',
        'description' => 'Notifications rendered in Moodle from the agent\'s intents, in each recipient\'s language, '
            . 'through local_buyin\'s message providers; each idempotency key sent once.',
        'type' => 'write',
        'capabilities' => 'local/buyin:agent',
        'ajax' => false,
        'loginrequired' => true,
    ],
    'local_buyin_release_lease' => [
        'classname' => 'local_buyin\external\release_lease',
        'methodname' => 'execute',
        'description' => 'Give up the caller\'s lease of a programme.',
        'type' => 'write',
        'capabilities' => 'local/buyin:agent',
        'ajax' => false,
        'loginrequired' => true,
    ],
];

// The service the agent's token belongs to: exactly the functions of
// plugin_contract/service.json plus this plugin's own (tests/test_plugin.py checks it),
// so the admin does not hand-pick them.
// - enabled 0: a predefined service is created at install; it stays off until the admin
//   has created the agent's user and role and switches it on (Site administration >
//   Server > Web services > External services), so installing the plugin never opens a
//   door by itself.
// - restrictedusers 1: only users the admin authorises for this service may get a token.
// - mod_quiz_get_user_quiz_attempts is new in Moodle 5.0: on 4.5 the name is stored in
//   the service but matches no function, which Moodle ignores (the agent then uses
//   mod_quiz_get_user_attempts); after an upgrade to 5.x it becomes available by itself.
$services = [
    'moodle-buyin' => [
        'shortname' => 'local_buyin',
        'functions' => [
            'core_webservice_get_site_info',
            'core_course_get_courses_by_field',
            'core_course_get_contents',
            'mod_quiz_get_quizzes_by_courses',
            'core_enrol_get_enrolled_users',
            'gradereport_user_get_grade_items',
            'mod_quiz_get_user_quiz_attempts',
            'mod_quiz_get_user_attempts',
            'mod_quiz_get_attempt_review',
            'core_completion_get_activities_completion_status',
            'core_completion_get_course_completion_status',
            'core_completion_override_activity_completion_status',
            'core_message_send_instant_messages',
            'core_message_get_messages',
            'enrol_manual_enrol_users',
            'core_role_assign_roles',
            'core_user_get_users_by_field',
            'core_group_get_course_groups',
            'core_group_create_groups',
            'core_group_add_group_members',
            'core_cohort_get_cohort_members',
            'mod_feedback_get_feedbacks_by_courses',
            'mod_feedback_get_feedback_access_information',
            'mod_feedback_get_items',
            'mod_feedback_get_non_respondents',
            'mod_feedback_get_responses_analysis',
            'mod_feedback_get_analysis',
            'local_buyin_request_signoffs',
            'local_buyin_get_signoffs',
            'local_buyin_record_signoff',
            'local_buyin_get_progress',
            'local_buyin_complete_activities',
            'local_buyin_save_figures',
            'local_buyin_acquire_lease',
            'local_buyin_release_lease',
            'local_buyin_get_non_respondents',
            'local_buyin_send_notifications',
        ],
        'requiredcapability' => '',
        'restrictedusers' => 1,
        'enabled' => 0,
        'downloadfiles' => 0,
        'uploadfiles' => 0,
    ],
];
