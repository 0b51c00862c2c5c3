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
use local_buyin\figures_manager;
use local_buyin\local\item_results;

/**
 * local_buyin_save_figures: the figures of the My results and My team pages, in bulk.
 *
 * The moodle-buyin agent pushes them after each sync, only those that changed. Each item is
 * checked on its own: the course context is validated and local/buyin:agent required there
 * (checked once per course), the course, the user and the manager must exist, the figures
 * must be a JSON object. A failing item does not stop the others; every item gets its result.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class save_figures extends external_api {

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'items' => new external_multiple_structure(new external_single_structure([
                'courseid' => new external_value(PARAM_INT, 'Course id of the programme'),
                'userid' => new external_value(PARAM_INT, 'The learner, or the manager for a manager\'s row'),
                'role' => new external_value(PARAM_ALPHA,
                    'learner (a learner\'s figures) or manager (a manager\'s own poll answer)'),
                'managerid' => new external_value(PARAM_INT,
                    'The learner\'s manager, who may see the row on My team (0: none)', VALUE_DEFAULT, 0),
                'figures' => new external_value(PARAM_RAW, 'The figures, a JSON object'),
            ], 'One person\'s figures in one course'), 'Figures to store, replacing the person\'s row (at most 500)'),
        ]);
    }

    /**
     * Store the figures.
     *
     * @param array $items
     * @return array
     */
    public static function execute(array $items): array {
        $params = self::validate_parameters(self::execute_parameters(), ['items' => $items]);
        if (count($params['items']) > figures_manager::MAX_ITEMS) {
            throw new \invalid_parameter_exception(
                'At most ' . figures_manager::MAX_ITEMS . ' items in one call; send the rest in another');
        }
        $allowed = [];
        $results = [];
        foreach ($params['items'] as $item) {
            $results[] = self::save_one($item, $allowed);
        }
        return ['items' => $results];
    }

    /**
     * One item, with its own result.
     *
     * @param array $item
     * @param array $allowed courseid => true|moodle_exception, the context checks done so far
     * @return array
     */
    protected static function save_one(array $item, array &$allowed): array {
        $courseid = (int) $item['courseid'];
        $userid = (int) $item['userid'];
        $base = ['courseid' => $courseid, 'userid' => $userid, 'role' => (string) $item['role']];
        return item_results::run($base, function() use ($item, $courseid, $userid, &$allowed): array {
            if (!array_key_exists($courseid, $allowed)) {
                $allowed[$courseid] = true;
                try {
                    $context = context_course::instance($courseid);
                    self::validate_context($context);
                    require_capability('local/buyin:agent', $context);
                } catch (\moodle_exception $e) {
                    $allowed[$courseid] = $e;
                }
            }
            if ($allowed[$courseid] instanceof \moodle_exception) {
                throw $allowed[$courseid];
            }
            $figures = json_decode((string) $item['figures'], true);
            $invalid = figures_manager::validate_item($courseid, $userid, (string) $item['role'],
                (int) $item['managerid'], $figures);
            if ($invalid !== null) {
                return ['status' => false, 'warningcode' => $invalid[0], 'message' => $invalid[1]];
            }
            figures_manager::save($courseid, $userid, (string) $item['role'], (int) $item['managerid'], $figures);
            return [];
        });
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'items' => new external_multiple_structure(item_results::structure([
                'courseid' => new external_value(PARAM_INT, 'Course id', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'userid' => new external_value(PARAM_INT, 'User id', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'role' => new external_value(PARAM_ALPHA, 'learner or manager', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            ], 'True when the figures are stored')),
        ]);
    }
}
