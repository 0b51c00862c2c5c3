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

namespace local_buyin\external;

use context_course;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use core_external\external_warnings;
use local_buyin\progress_reader;

/**
 * local_buyin_get_progress: a page of one course's learners with everything the agent reads.
 *
 * Per learner what core serves one learner at a time: the identity, roles, groups, named
 * profile fields, last course access and enrolments (core_enrol_get_enrolled_users), activity completion
 * (core_completion_get_activities_completion_status), course completion criteria
 * (core_completion_get_course_completion_status) and the attempts of the named
 * quizzes with gradeitemmarks (mod_quiz_get_user_quiz_attempts). A fixed number of SQL
 * queries per page: see \local_buyin\progress_reader.
 *
 * Learners are users with an enrolment (any status) in the course, by user id. Page with
 * cursor = the nextcursor of the previous page until it is 0. "enrolled" counts them all, whatever
 * "since": fewer than the caller knows of means some were unenrolled since its last full read.
 * The e-mail address and ID number are given where the caller may see them in the course
 * (moodle/course:useremail, moodle/user:viewhiddendetails), empty otherwise.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_progress extends external_api {

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'courseid' => new external_value(PARAM_INT, 'Course id'),
            'quizids' => new external_multiple_structure(
                new external_value(PARAM_INT, 'Quiz id (quiz.id, not the course module)'),
                'Quizzes of this course whose attempts are wanted', VALUE_DEFAULT, []),
            'since' => new external_value(PARAM_INT, 'Only learners with a change at or after this time; 0 for all',
                VALUE_DEFAULT, 0),
            'cursor' => new external_value(PARAM_INT, 'Learners with a user id above this one (nextcursor of the previous page)',
                VALUE_DEFAULT, 0),
            'limit' => new external_value(PARAM_INT, 'At most this many learners (1 to 1000)', VALUE_DEFAULT, 500),
            'profilefields' => new external_multiple_structure(
                new external_value(PARAM_ALPHANUMEXT, 'Shortname of a custom user profile field'),
                'Custom profile fields whose values are wanted', VALUE_DEFAULT, []),
        ]);
    }

    /**
     * The page.
     *
     * @param int $courseid
     * @param array $quizids
     * @param int $since
     * @param int $cursor
     * @param int $limit
     * @param array $profilefields
     * @return array
     */
    public static function execute(int $courseid, array $quizids = [], int $since = 0, int $cursor = 0,
            int $limit = 500, array $profilefields = []): array {
        global $DB;
        $params = self::validate_parameters(self::execute_parameters(), [
            'courseid' => $courseid, 'quizids' => $quizids, 'since' => $since, 'cursor' => $cursor, 'limit' => $limit,
            'profilefields' => $profilefields,
        ]);
        $course = get_course($params['courseid']);
        $context = context_course::instance($course->id);
        self::validate_context($context);
        require_capability('local/buyin:agent', $context);

        $warnings = [];
        $wanted = array_values(array_unique(array_map('intval', $params['quizids'])));
        $known = [];
        if ($wanted) {
            [$qsql, $qparams] = $DB->get_in_or_equal($wanted, SQL_PARAMS_NAMED);
            $known = array_map('intval', $DB->get_fieldset_select('quiz', 'id', "course = :courseid AND id $qsql",
                ['courseid' => $course->id] + $qparams));
        }
        foreach (array_diff($wanted, $known) as $quizid) {
            $warnings[] = ['item' => 'quiz', 'itemid' => $quizid, 'warningcode' => 'invalidquizid',
                'message' => "No quiz with id $quizid in the course with id {$course->id}"];
        }
        if ($params['limit'] < 1 || $params['limit'] > progress_reader::MAX_LIMIT) {
            $warnings[] = ['item' => 'limit', 'itemid' => $params['limit'], 'warningcode' => 'limitclamped',
                'message' => 'limit must be between 1 and ' . progress_reader::MAX_LIMIT];
        }
        $identity = [
            'email' => has_capability('moodle/course:useremail', $context),
            'idnumber' => has_capability('moodle/user:viewhiddendetails', $context),
            'viewfullnames' => has_capability('moodle/site:viewfullnames', $context),
        ];
        [$learners, $next] = progress_reader::page((int) $course->id, array_values($known), (int) $params['since'],
            (int) $params['cursor'], (int) $params['limit'], $params['profilefields'], $identity);
        return ['aggregation' => progress_reader::aggregation((int) $course->id),
            'enrolled' => progress_reader::enrolled_count((int) $course->id), 'learners' => $learners,
            'nextcursor' => $next, 'warnings' => $warnings];
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        $int = fn(string $desc) => new external_value(PARAM_INT, $desc, VALUE_REQUIRED, null, NULL_NOT_ALLOWED);
        return new external_single_structure([
            'aggregation' => $int('Course completion aggregation: 1 all criteria, 2 any'),
            'enrolled' => $int('Users with an enrolment in the course, on every page, whatever since'),
            'learners' => new external_multiple_structure(new external_single_structure([
                'userid' => $int('Learner user id'),
                'username' => new external_value(PARAM_RAW, 'Username', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'firstname' => new external_value(PARAM_RAW, 'First name', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'lastname' => new external_value(PARAM_RAW, 'Last name', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'fullname' => new external_value(PARAM_RAW, 'Full name, as fullname() shows it to the caller',
                    VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'email' => new external_value(PARAM_RAW, 'E-mail address (empty where the caller may not see it)',
                    VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'idnumber' => new external_value(PARAM_RAW, 'ID number (empty where the caller may not see it)',
                    VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'suspended' => new external_value(PARAM_BOOL, 'The account is suspended',
                    VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'lang' => new external_value(PARAM_RAW, 'Preferred language (user.lang)',
                    VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'timezone' => new external_value(PARAM_RAW, 'Time zone (user.timezone; 99: the site default)',
                    VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'lastcourseaccess' => $int('Last access to the course (0: never)'),
                'roles' => new external_multiple_structure(new external_single_structure([
                    'roleid' => $int('Role id'),
                    'shortname' => new external_value(PARAM_ALPHANUMEXT, 'Role shortname', VALUE_REQUIRED, null,
                        NULL_NOT_ALLOWED),
                ], 'A role assigned in the course context')),
                'groups' => new external_multiple_structure(new external_single_structure([
                    'id' => $int('Group id'),
                    'name' => new external_value(PARAM_RAW, 'Group name', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                ], 'A group of the course the learner is in')),
                'customfields' => new external_multiple_structure(new external_single_structure([
                    'shortname' => new external_value(PARAM_ALPHANUMEXT, 'Profile field shortname', VALUE_REQUIRED, null,
                        NULL_NOT_ALLOWED),
                    'value' => new external_value(PARAM_RAW, 'The stored value', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                ], 'A named profile field with a value (left out where empty)')),
                'enrolments' => new external_multiple_structure(new external_single_structure([
                    'enrol' => new external_value(PARAM_PLUGIN, 'Enrolment method (manual, self ...)',
                        VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                    'status' => $int('user_enrolments.status: 0 active, 1 suspended'),
                    'enrolstatus' => $int('enrol.status of the method: 0 enabled, 1 disabled'),
                    'timestart' => $int('Enrolment start (0: none)'),
                    'timeend' => $int('Enrolment end (0: none)'),
                    'timecreated' => $int('When the enrolment was created'),
                ], 'An enrolment of the learner in the course')),
                'activities' => new external_multiple_structure(new external_single_structure([
                    'cmid' => $int('Course module id'),
                    'tracking' => $int('0 none, 1 manual, 2 automatic'),
                    'state' => $int('0 incomplete, 1 complete, 2 complete pass, 3 complete fail'),
                    'timecompleted' => $int('Time of the state (0: none)'),
                    'overrideby' => new external_value(PARAM_INT, 'Who overrode the state, null if nobody'),
                ], 'A tracked activity, as core_completion_get_activities_completion_status')),
                'completion' => new external_single_structure([
                    'timecompleted' => new external_value(PARAM_INT, 'Course completion time, null if not complete'),
                    'criteria' => new external_multiple_structure(new external_single_structure([
                        'criteriaid' => $int('course_completion_criteria id'),
                        'criteriatype' => $int('COMPLETION_CRITERIA_TYPE_* (4 activity, 7 role ...)'),
                        'timecompleted' => new external_value(PARAM_INT, 'When the learner met it, null if not yet'),
                    ], 'A criterion of the course')),
                ], 'Course completion'),
                'attempts' => new external_multiple_structure(new external_single_structure([
                    'id' => $int('Attempt id'),
                    'quiz' => $int('Quiz id'),
                    'attempt' => $int('Attempt number'),
                    'state' => new external_value(PARAM_ALPHA, 'inprogress, overdue, finished or abandoned',
                        VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                    'timestart' => $int('Start'),
                    'timefinish' => $int('Submission'),
                    'timemodified' => $int('Last change'),
                    'sumgrades' => new external_value(PARAM_FLOAT, 'Total marks, null if not graded yet'),
                    'gradeitemmarks' => new external_multiple_structure(new external_single_structure([
                        'name' => new external_value(PARAM_RAW, 'The name of this grade item.'),
                        'grade' => new external_value(PARAM_FLOAT, 'The grade this attempt earned for this item.'),
                        'maxgrade' => new external_value(PARAM_FLOAT, 'The total this grade is out of.'),
                    ], 'The grade for each grade item.'), 'As mod_quiz_get_user_quiz_attempts; empty unless finished'),
                ], 'An attempt of a named quiz (previews left out)')),
            ], 'A learner')),
            'nextcursor' => $int('Cursor of the next page; 0 when this was the last'),
            'warnings' => new external_warnings(),
        ]);
    }
}
