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
use local_buyin\lease_manager;

/**
 * local_buyin_release_lease: an agent gives up its lease of a programme (another
 * holder's lease is left as it is).
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class release_lease extends external_api {

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'programme' => new external_value(PARAM_ALPHANUMEXT, 'The programme key (the mapping id)'),
            'holder' => new external_value(PARAM_TEXT, 'The agent giving it up'),
            'force' => new external_value(PARAM_BOOL, 'Remove the lease whoever holds it (0.4.0)', VALUE_DEFAULT, false),
        ]);
    }

    /**
     * Give the lease up.
     *
     * @param string $programme
     * @param string $holder
     * @param bool $force
     * @return array
     */
    public static function execute(string $programme, string $holder, bool $force = false): array {
        $params = self::validate_parameters(self::execute_parameters(),
            ['programme' => $programme, 'holder' => $holder, 'force' => $force]);

        $context = context_system::instance();
        self::validate_context($context);
        require_capability('local/buyin:agent', $context);

        return ['released' => lease_manager::release($params['programme'], $params['holder'], (bool) $params['force'])];
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'released' => new external_value(PARAM_BOOL, 'Whether the caller\'s lease was removed',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
        ]);
    }
}
