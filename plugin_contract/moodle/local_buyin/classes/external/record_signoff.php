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
use core_external\external_single_structure;
use core_external\external_value;
use core_external\external_warnings;
use local_buyin\signoff_manager;

/**
 * local_buyin_record_signoff: a manager signs off or rejects a learner's course completion.
 *
 * Only the manager named on the request (holding local/buyin:signoff) or a site
 * administrator may decide. 'signed' marks the course's "Manual completion by others"
 * criterion complete for the learner through Moodle's completion API, as
 * course/togglecompletion.php does, and records who decided and when.
 *
 * The context validated is the system context, not the course: a line manager need not
 * be able to enter the course (they may hold the capability in the learner's user
 * context); signoff_manager::can_decide() makes the real check.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class record_signoff extends external_api {

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'courseid' => new external_value(PARAM_INT, 'Course id'),
            'userid' => new external_value(PARAM_INT, 'Learner user id'),
            'decision' => new external_value(PARAM_ALPHA, 'signed or rejected'),
            'comment' => new external_value(PARAM_TEXT, 'Comment of the manager', VALUE_DEFAULT, ''),
        ]);
    }

    /**
     * Record the decision.
     *
     * @param int $courseid
     * @param int $userid
     * @param string $decision
     * @param string $comment
     * @return array
     */
    public static function execute(int $courseid, int $userid, string $decision, string $comment = ''): array {
        global $USER;
        $params = self::validate_parameters(self::execute_parameters(), [
            'courseid' => $courseid,
            'userid' => $userid,
            'decision' => $decision,
            'comment' => $comment,
        ]);
        if ($params['decision'] !== signoff_manager::STATUS_SIGNED
                && $params['decision'] !== signoff_manager::STATUS_REJECTED) {
            throw new \invalid_parameter_exception("decision must be 'signed' or 'rejected'");
        }

        $context = context_system::instance();
        self::validate_context($context);

        [$row, $warnings] = signoff_manager::record_decision((int) $params['courseid'], (int) $params['userid'],
            $params['decision'], trim((string) $params['comment']), (int) $USER->id);

        return [
            'status' => true,
            'signoff' => signoff_manager::export_row($row),
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
            'status' => new external_value(PARAM_BOOL, 'True when the decision is recorded',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'signoff' => get_signoffs::signoff_structure(),
            'warnings' => new external_warnings(),
        ]);
    }
}
