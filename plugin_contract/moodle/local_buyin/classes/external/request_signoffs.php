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
 * local_buyin_request_signoffs: the agent creates or updates sign-off requests in bulk.
 *
 * Idempotent: an open request keeps its timerequested; a changed manager replaces the
 * old one; a decided request is returned as it is. An item that cannot be stored is
 * skipped with a warning (itemid = its index in the list), the others go on.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class request_signoffs extends external_api {

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'requests' => new external_multiple_structure(
                new external_single_structure([
                    'courseid' => new external_value(PARAM_INT, 'Course id'),
                    'userid' => new external_value(PARAM_INT, 'Learner user id'),
                    'managerid' => new external_value(PARAM_INT, 'User id of the manager who may sign off'),
                ], 'A sign-off request'),
                'Sign-off requests to create or update'
            ),
        ]);
    }

    /**
     * Create or update the requests.
     *
     * @param array $requests list of [courseid, userid, managerid]
     * @return array
     */
    public static function execute(array $requests): array {
        $params = self::validate_parameters(self::execute_parameters(), ['requests' => $requests]);

        $context = context_system::instance();
        self::validate_context($context);
        require_capability('local/buyin:agent', $context);

        $now = time();
        $result = [];
        $warnings = [];
        foreach ($params['requests'] as $index => $item) {
            $courseid = (int) $item['courseid'];
            $userid = (int) $item['userid'];
            $managerid = (int) $item['managerid'];
            $problem = signoff_manager::validate_request_item($courseid, $userid, $managerid);
            if ($problem) {
                [$code, $message] = $problem;
                $warnings[] = [
                    'item' => 'requests',
                    'itemid' => $index,
                    'warningcode' => $code,
                    'message' => $message,
                ];
                continue;
            }
            $row = signoff_manager::upsert_request($courseid, $userid, $managerid, $now);
            $exported = signoff_manager::export_row($row);
            $result[] = [
                'id' => $exported['id'],
                'courseid' => $exported['courseid'],
                'userid' => $exported['userid'],
                'managerid' => $exported['managerid'],
                'status' => $exported['status'],
                'timerequested' => $exported['timerequested'],
            ];
        }
        return ['requests' => $result, 'warnings' => $warnings];
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'requests' => new external_multiple_structure(
                new external_single_structure([
                    'id' => new external_value(PARAM_INT, 'Request id',
                        VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                    'courseid' => new external_value(PARAM_INT, 'Course id',
                        VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                    'userid' => new external_value(PARAM_INT, 'Learner user id',
                        VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                    'managerid' => new external_value(PARAM_INT, 'User id of the manager who may sign off',
                        VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                    'status' => new external_value(PARAM_ALPHA, 'requested, signed, rejected or cancelled',
                        VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                    'timerequested' => new external_value(PARAM_INT, 'When the request was first made',
                        VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                ], 'A sign-off request as stored'),
                'The stored requests, in the order of the valid items'
            ),
            'warnings' => new external_warnings(),
        ]);
    }
}
