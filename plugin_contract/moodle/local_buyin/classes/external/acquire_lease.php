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
 * local_buyin_acquire_lease: an agent takes, renews or (once it expired) takes over the
 * lease of a programme; refused (acquired false, with the current holder and its expiry)
 * while another holder's lease runs, or (with a token, 0.4.0) while the lease's current
 * token is not the one the caller expects (a copy or an old backup of an agent's state).
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class acquire_lease extends external_api {

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'programme' => new external_value(PARAM_ALPHANUMEXT, 'The programme key (the mapping id)'),
            'holder' => new external_value(PARAM_TEXT, 'Who asks: the agent\'s id (its state file and host)'),
            'seconds' => new external_value(PARAM_INT, 'How long the lease lasts from now (60 to 2592000)'),
            'token' => new external_value(PARAM_ALPHANUM, 'The caller\'s new fencing token (0.4.0; empty: none)',
                VALUE_DEFAULT, ''),
            'expected' => new external_value(PARAM_ALPHANUM,
                'The token the caller\'s last granted run got (0.4.0; empty: none)', VALUE_DEFAULT, ''),
        ]);
    }

    /**
     * Take or renew the lease.
     *
     * @param string $programme
     * @param string $holder
     * @param int $seconds
     * @param string $token
     * @param string $expected
     * @return array
     */
    public static function execute(string $programme, string $holder, int $seconds, string $token = '',
            string $expected = ''): array {
        $params = self::validate_parameters(self::execute_parameters(), ['programme' => $programme,
            'holder' => $holder, 'seconds' => $seconds, 'token' => $token, 'expected' => $expected]);

        $context = context_system::instance();
        self::validate_context($context);
        require_capability('local/buyin:agent', $context);

        if ($params['programme'] === '' || trim($params['holder']) === '') {
            throw new \invalid_parameter_exception('programme and holder must not be empty');
        }
        $row = lease_manager::acquire($params['programme'], $params['holder'], (int) $params['seconds'], time(),
            $params['token'], $params['expected']);
        return [
            'acquired' => (bool) $row->acquired,
            'programme' => $row->programme,
            'holder' => $row->holder,
            'timeacquired' => (int) $row->timeacquired,
            'timeexpires' => (int) $row->timeexpires,
        ];
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'acquired' => new external_value(PARAM_BOOL, 'Whether the caller holds the lease now',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'programme' => new external_value(PARAM_ALPHANUMEXT, 'The programme key',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'holder' => new external_value(PARAM_TEXT, 'Who holds the lease (the caller, or the agent that refused it)',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'timeacquired' => new external_value(PARAM_INT, 'When the holder took the lease',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'timeexpires' => new external_value(PARAM_INT, 'When the lease lapses unless renewed',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
        ]);
    }
}
