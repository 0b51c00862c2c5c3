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

namespace local_buyin\local;

use core_external\external_single_structure;
use core_external\external_value;

/**
 * The per-item result of local_buyin's bulk functions, in one place.
 *
 * Every bulk function checks each item on its own: a failing item does not stop the
 * others, and every item gets its result, `status` (true when applied), `warningcode`
 * (why it failed) and `message` (what failed), beside the keys naming the item.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class item_results {

    /**
     * Run one item: `$apply` returns the result's own keys; a moodle_exception becomes the
     * item's failure (its errorcode and message), so the next item goes on.
     *
     * @param array $result the keys naming the item
     * @param callable $apply function(): array, the keys it adds (status true unless it says)
     * @return array
     */
    public static function run(array $result, callable $apply): array {
        $result += ['status' => false, 'warningcode' => '', 'message' => ''];
        try {
            return array_merge($result, ['status' => true], $apply());
        } catch (\moodle_exception $e) {
            // Some core exceptions carry a sentence as their code.
            $result['warningcode'] = clean_param(str_replace(' ', '', (string) $e->errorcode), PARAM_ALPHANUMEXT)
                ?: 'error';
            $result['message'] = $e->getMessage();
            return $result;
        }
    }

    /**
     * A refusal of one item, without an exception.
     *
     * @param array $result the keys naming the item
     * @param string $warningcode
     * @param string $message
     * @return array
     */
    public static function refused(array $result, string $warningcode, string $message): array {
        return array_merge($result, ['status' => false, 'warningcode' => $warningcode, 'message' => $message]);
    }

    /**
     * The result structure: the item's own keys, then status, warningcode and message.
     *
     * @param array $keys name => external_value naming the item
     * @param string $status what status true means
     * @return external_single_structure
     */
    public static function structure(array $keys, string $status): external_single_structure {
        return new external_single_structure($keys + [
            'status' => new external_value(PARAM_BOOL, $status, VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'warningcode' => new external_value(PARAM_ALPHANUMEXT, 'Why the item failed, empty if it did not',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            'message' => new external_value(PARAM_RAW, 'What failed, empty if nothing',
                VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
        ], 'The result of one item, in the order of the items');
    }
}
