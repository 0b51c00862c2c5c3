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
use context_system;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use local_buyin\local\item_results;

/**
 * local_buyin_complete_activities: many activity completion overrides in one call.
 *
 * Each item is checked and applied as core_completion_override_activity_completion_status
 * does (the module context validated, completion enabled in the course,
 * completion_info::update_state($cm, $newstate, $userid, true), which requires
 * moodle/course:overridecompletion in the course), plus: the activity must be tracked
 * (core silently does nothing otherwise). Every item gets its own result; a failing item
 * does not stop the others. Items are applied one after another in the order given, so one
 * learner's completion aggregation never runs twice at once.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class complete_activities extends external_api {

    /** @var int The most items in one call. */
    public const MAX_ITEMS = 500;

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'items' => new external_multiple_structure(new external_single_structure([
                'userid' => new external_value(PARAM_INT, 'Learner user id'),
                'cmid' => new external_value(PARAM_INT, 'Course module id'),
                'newstate' => new external_value(PARAM_INT, 'The new activity completion state (0 or 1)'),
            ]), 'Overrides, applied in this order (at most 500)'),
        ]);
    }

    /**
     * Apply the overrides.
     *
     * @param array $items
     * @return array
     */
    public static function execute(array $items): array {
        global $CFG;
        require_once($CFG->libdir . '/completionlib.php');
        $params = self::validate_parameters(self::execute_parameters(), ['items' => $items]);
        // The agent's function: a course's teacher (who may override completion in Moodle's
        // own report) must not reach it through this service (found by tests/live).
        $systemcontext = context_system::instance();
        self::validate_context($systemcontext);
        require_capability('local/buyin:agent', $systemcontext);
        if (count($params['items']) > self::MAX_ITEMS) {
            throw new \invalid_parameter_exception('At most ' . self::MAX_ITEMS . ' items in one call; send the rest in another');
        }
        $results = [];
        foreach ($params['items'] as $item) {
            $results[] = self::apply_one((int) $item['userid'], (int) $item['cmid'], (int) $item['newstate']);
        }
        return ['items' => $results];
    }

    /**
     * One override, with its own result.
     *
     * @param int $userid
     * @param int $cmid
     * @param int $newstate
     * @return array
     */
    protected static function apply_one(int $userid, int $cmid, int $newstate): array {
        $result = ['userid' => $userid, 'cmid' => $cmid, 'status' => false, 'state' => null,
            'timecompleted' => null, 'overrideby' => null, 'tracking' => null];
        return item_results::run($result, function() use ($userid, $cmid, $newstate): array {
            if ($newstate !== COMPLETION_COMPLETE && $newstate !== COMPLETION_INCOMPLETE) {
                throw new \moodle_exception('invalidparameter', 'debug', '', null, 'newstate must be 0 or 1');
            }
            $context = \context_module::instance($cmid);
            self::validate_context($context);
            [$course, $cm] = get_course_and_cm_from_cmid($cmid);
            $completion = new \completion_info($course);
            if (!$completion->is_enabled()) {
                throw new \moodle_exception('completionnotenabled', 'completion');
            }
            if (!$completion->is_enabled($cm)) {
                return ['status' => false, 'warningcode' => 'nottracked', 'tracking' => COMPLETION_TRACKING_NONE,
                    'message' => "Completion is not tracked for the activity with cmid $cmid"];
            }
            require_capability('moodle/course:overridecompletion', context_course::instance($course->id));
            $completion->update_state($cm, $newstate, $userid, true);
            $data = $completion->get_data($cm, false, $userid);
            return ['state' => (int) $data->completionstate, 'timecompleted' => (int) $data->timemodified,
                'overrideby' => $data->overrideby === null ? null : (int) $data->overrideby,
                'tracking' => (int) $completion->is_enabled($cm)];
        });
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'items' => new external_multiple_structure(new external_single_structure([
                'userid' => new external_value(PARAM_INT, 'Learner user id', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'cmid' => new external_value(PARAM_INT, 'Course module id', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'status' => new external_value(PARAM_BOOL, 'True when the override is applied',
                    VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'state' => new external_value(PARAM_INT, 'The current state, null if the item failed'),
                'timecompleted' => new external_value(PARAM_INT, 'Time of the state, null if the item failed'),
                'overrideby' => new external_value(PARAM_INT, 'Who overrode the state, null if nobody'),
                'tracking' => new external_value(PARAM_INT, '0 none, 1 manual, 2 automatic; null if unknown'),
                'warningcode' => new external_value(PARAM_ALPHANUMEXT, 'Why the item failed, empty if it did not',
                    VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'message' => new external_value(PARAM_RAW, 'What failed, empty if nothing',
                    VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            ], 'The result of one item, in the order of the items')),
        ]);
    }
}
