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
use core_user;
use local_buyin\local\item_results;
use local_buyin\notification_manager;

/**
 * local_buyin_send_notifications: the agent's notifications, rendered and sent by Moodle.
 *
 * Each item is an intent (see notification_manager): rendered with get_string in the
 * recipient's language, sent with message_send() through the message provider `kind`, from
 * the programme's sender (`sender`, a username; the no-reply user where empty), linked to
 * the page it is about. Each idempotency key is sent once: a key recorded before (the same
 * batch sent again after a lost answer) is not sent again and comes back `duplicate`.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class send_notifications extends external_api {

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'sender' => new external_value(PARAM_USERNAME,
                'Username of whom the notifications are from (empty: the site\'s no-reply address)', VALUE_DEFAULT, ''),
            'notifications' => new external_multiple_structure(new external_single_structure([
                'idempotencykey' => new external_value(PARAM_ALPHANUMEXT, 'The agent\'s key: a key is sent once'),
                'userid' => new external_value(PARAM_INT, 'The recipient'),
                'kind' => new external_value(PARAM_ALPHA, 'The message provider (db/messages.php)'),
                'template' => new external_value(PARAM_TEXT, 'The agent\'s template id'),
                'data' => new external_value(PARAM_RAW, 'The notification as a JSON object (see notification_manager)'),
            ], 'One notification'), 'Notifications to send (at most 200)'),
        ]);
    }

    /**
     * Send the notifications.
     *
     * @param string $sender
     * @param array $notifications
     * @return array
     */
    public static function execute(string $sender, array $notifications): array {
        $params = self::validate_parameters(self::execute_parameters(),
            ['sender' => $sender, 'notifications' => $notifications]);
        if (count($params['notifications']) > notification_manager::MAX_ITEMS) {
            throw new \invalid_parameter_exception('At most ' . notification_manager::MAX_ITEMS
                . ' notifications in one call; send the rest in another');
        }
        $context = context_system::instance();
        self::validate_context($context);
        require_capability('local/buyin:agent', $context);
        $from = notification_manager::sender((string) $params['sender']);
        $results = [];
        foreach ($params['notifications'] as $item) {
            $results[] = self::send_one($item, $from);
        }
        return ['items' => $results];
    }

    /**
     * One notification, with its own result.
     *
     * @param array $item
     * @param \stdClass $from
     * @return array
     */
    protected static function send_one(array $item, \stdClass $from): array {
        $key = (string) $item['idempotencykey'];
        $base = ['idempotencykey' => $key, 'userid' => (int) $item['userid'], 'duplicate' => false, 'messageid' => 0];
        if (!in_array($item['kind'], notification_manager::KINDS, true)) {
            return item_results::refused($base, 'unknownkind', "No message provider '{$item['kind']}' in local_buyin");
        }
        $data = json_decode((string) $item['data'], true);
        if (!is_array($data)) {
            return item_results::refused($base, 'invaliddata', 'The data is not a JSON object');
        }
        $recipient = core_user::get_user((int) $item['userid']);
        if (!$recipient || $recipient->deleted) {
            return item_results::refused($base, 'unknownuser', "No user with id {$item['userid']}");
        }
        return item_results::run($base, function() use ($key, $recipient, $item, $data, $from): array {
            try {
                [$sent, $messageid] = notification_manager::send_once($key, $recipient, (string) $item['kind'],
                    (string) $item['template'], $data, $from);
            } catch (\dml_write_exception $e) {
                // A concurrent call sent this key first.
                [$sent, $messageid] = [false, 0];
            }
            return ['duplicate' => !$sent, 'messageid' => $messageid];
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
                'idempotencykey' => new external_value(PARAM_ALPHANUMEXT, 'The item\'s key', VALUE_REQUIRED, null,
                    NULL_NOT_ALLOWED),
                'userid' => new external_value(PARAM_INT, 'The recipient', VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'duplicate' => new external_value(PARAM_BOOL, 'True when the key was sent before: nothing sent now',
                    VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
                'messageid' => new external_value(PARAM_INT, 'The notification\'s id in Moodle (0: not known)',
                    VALUE_REQUIRED, null, NULL_NOT_ALLOWED),
            ], 'True when the notification is sent, now or before')),
        ]);
    }
}
