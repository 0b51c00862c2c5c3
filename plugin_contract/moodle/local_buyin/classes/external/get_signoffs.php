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

use context_system;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use core_external\external_warnings;
use local_buyin\signoff_manager;

/**
 * local_buyin_get_signoffs: sign-off requests changed since a time.
 *
 * Ordered by timemodified, then id. "since" alone is inclusive: a client that remembers
 * the largest timemodified it has seen gets that second's rows again and must
 * de-duplicate by id. With "afterid" (since 2026120402) the position (since, afterid) is
 * exclusive: only rows after it in (timemodified, id) order, so a client that keeps the
 * last row it read as settled never reads a row twice.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_signoffs extends external_api {

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'since' => new external_value(PARAM_INT, 'Requests changed at or after this time (unix time)'),
            'courseid' => new external_value(PARAM_INT, 'Only this course; 0 for all courses', VALUE_DEFAULT, 0),
            'limitfrom' => new external_value(PARAM_INT, 'Skip this many rows', VALUE_DEFAULT, 0),
            'limitnumber' => new external_value(PARAM_INT, 'Return at most this many rows (at most 1000)',
                VALUE_DEFAULT, 500),
            'afterid' => new external_value(PARAM_INT,
                'With since: only requests after (since, afterid) in (timemodified, id) order; 0: none',
                VALUE_DEFAULT, 0),
        ]);
    }

    /**
     * The changed requests.
     *
     * @param int $since
     * @param int $courseid
     * @param int $limitfrom
     * @param int $limitnumber
     * @param int $afterid
     * @return array
     */
    public static function execute(int $since, int $courseid = 0, int $limitfrom = 0, int $limitnumber = 500,
            int $afterid = 0): array {
        global $DB;
        $params = self::validate_parameters(self::execute_parameters(), [
            'since' => $since,
            'courseid' => $courseid,
            'limitfrom' => $limitfrom,
            'limitnumber' => $limitnumber,
            'afterid' => $afterid,
        ]);

        $context = context_system::instance();
        self::validate_context($context);
        require_capability('local/buyin:agent', $context);

        $warnings = [];
        if ($params['courseid'] && !$DB->record_exists('course', ['id' => $params['courseid']])) {
            $warnings[] = [
                'item' => 'course',
                'itemid' => $params['courseid'],
                'warningcode' => 'invalidcourseid',
                'message' => 'No course with id ' . $params['courseid'],
            ];
        }
        if ($params['limitnumber'] < 1 || $params['limitnumber'] > signoff_manager::MAX_LIMIT) {
            $warnings[] = [
                'item' => 'limitnumber',
                'itemid' => $params['limitnumber'],
                'warningcode' => 'limitnumberclamped',
                'message' => 'limitnumber must be between 1 and ' . signoff_manager::MAX_LIMIT,
            ];
        }

        [$rows, $hasmore] = signoff_manager::get_changes((int) $params['since'], (int) $params['courseid'],
            (int) $params['limitfrom'], (int) $params['limitnumber'], (int) $params['afterid']);

        return [
            'signoffs' => array_map([signoff_manager::class, 'export_row'], $rows),
            'hasmore' => $hasmore,
            'warnings' => $warnings,
        ];
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'signoffs' => new external_multiple_structure(
                self::signoff_structure(),
                'Requests changed since the time, oldest change first'
            ),
            'hasmore' => new external_value(PARAM_BOOL, 'Whether more rows follow (ask again with limitfrom + count)',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'warnings' => new external_warnings(),
        ]);
    }

    /**
     * One sign-off request, as get_signoffs and record_signoff return it.
     *
     * @param int $required VALUE_REQUIRED or VALUE_OPTIONAL
     * @return external_single_structure
     */
    public static function signoff_structure(int $required = VALUE_REQUIRED): external_single_structure {
        return new external_single_structure([
            'id' => new external_value(PARAM_INT, 'Request id', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'courseid' => new external_value(PARAM_INT, 'Course id', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'userid' => new external_value(PARAM_INT, 'Learner user id',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'managerid' => new external_value(PARAM_INT, 'User id of the manager who may sign off (0: none)',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'status' => new external_value(PARAM_ALPHA, 'requested, signed, rejected or cancelled',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'timerequested' => new external_value(PARAM_INT, 'When the request was first made',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'timedecided' => new external_value(PARAM_INT, 'When it was signed or rejected, null before'),
            'decidedby' => new external_value(PARAM_INT, 'Who signed or rejected it, null before'),
            'comment' => new external_value(PARAM_TEXT, 'The decider\'s comment, null if none'),
            'timemodified' => new external_value(PARAM_INT, 'Last change of the request',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
        ], 'A sign-off request', $required);
    }
}
