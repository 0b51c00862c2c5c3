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

use context_module;
use context_system;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use core_external\external_warnings;

/**
 * local_buyin_get_non_respondents: who may answer a Feedback and has not, as user ids,
 * in one call (mod_feedback_get_non_respondents pages them 100 at a time with names).
 *
 * The same list Moodle's own function and the Feedback's "Show non-respondents" page use:
 * feedback_get_incomplete_users() (holders of mod/feedback:complete in the activity who
 * can see it and have no completed response).
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_non_respondents extends external_api {

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'feedbackid' => new external_value(PARAM_INT, 'The Feedback activity\'s instance id'),
        ]);
    }

    /**
     * Who has not answered.
     *
     * @param int $feedbackid
     * @return array
     */
    public static function execute(int $feedbackid): array {
        global $CFG, $DB;
        require_once($CFG->dirroot . '/mod/feedback/lib.php');
        $params = self::validate_parameters(self::execute_parameters(), ['feedbackid' => $feedbackid]);

        self::validate_context(context_system::instance());
        require_capability('local/buyin:agent', context_system::instance());

        $feedback = $DB->get_record('feedback', ['id' => $params['feedbackid']], '*', MUST_EXIST);
        [$course, $cm] = get_course_and_cm_from_instance($feedback, 'feedback');
        $context = context_module::instance($cm->id);
        self::validate_context($context);
        require_capability('mod/feedback:viewreports', $context);

        $userids = array_map('intval', array_values(feedback_get_incomplete_users($cm)));
        sort($userids);
        return ['userids' => $userids, 'total' => count($userids), 'warnings' => []];
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'userids' => new external_multiple_structure(
                new external_value(PARAM_INT, 'A user who may answer and has not',
                    VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'Who may answer and has not, by id'
            ),
            'total' => new external_value(PARAM_INT, 'How many', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'warnings' => new external_warnings(),
        ]);
    }
}
