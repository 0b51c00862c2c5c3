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

namespace local_buyin\privacy;

use core_privacy\local\metadata\collection;
use core_privacy\local\request\contextlist;
use core_privacy\local\request\transform;
use core_privacy\local\request\userlist;
use core_privacy\local\request\writer;
use local_buyin\notification_manager;

/**
 * The privacy of local_buyin_notification and of the notifications themselves, called by
 * the plugin's provider.
 *
 * A row records that a notification was sent to its recipient (userid): its key, kind,
 * the agent's template and when. Its context is the recipient's user context. The
 * notifications are Moodle's (core_message exports and deletes them); deleting a user's
 * data deletes their rows here.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class notification_data {

    /**
     * Describe the table and the messaging subsystem the notifications go through.
     *
     * @param collection $collection
     */
    public static function add_metadata(collection $collection): void {
        $collection->add_database_table(notification_manager::TABLE, [
            'userid' => 'privacy:metadata:local_buyin_notification:userid',
            'kind' => 'privacy:metadata:local_buyin_notification:kind',
            'template' => 'privacy:metadata:local_buyin_notification:template',
            'timecreated' => 'privacy:metadata:local_buyin_notification:timecreated',
        ], 'privacy:metadata:local_buyin_notification');
        $collection->link_subsystem('core_message', 'privacy:metadata:core_message');
    }

    /**
     * The user's own context, where they were sent a notification.
     *
     * @param contextlist $contextlist
     * @param int $userid
     */
    public static function add_contexts(contextlist $contextlist, int $userid): void {
        $sql = "SELECT ctx.id
                  FROM {context} ctx
                  JOIN {local_buyin_notification} n ON n.userid = ctx.instanceid AND ctx.contextlevel = :contextlevel
                 WHERE n.userid = :userid";
        $contextlist->add_from_sql($sql, ['contextlevel' => CONTEXT_USER, 'userid' => $userid]);
    }

    /**
     * The user of a user context, where they were sent a notification.
     *
     * @param userlist $userlist
     * @param int $userid the context's user
     */
    public static function add_users(userlist $userlist, int $userid): void {
        $userlist->add_from_sql('userid', "SELECT userid FROM {local_buyin_notification} WHERE userid = :userid",
            ['userid' => $userid]);
    }

    /**
     * Export the notifications sent to the user.
     *
     * @param \context_user $context
     */
    public static function export(\context_user $context): void {
        global $DB;
        $rows = $DB->get_records(notification_manager::TABLE, ['userid' => $context->instanceid], 'id ASC');
        if (!$rows) {
            return;
        }
        $data = [];
        foreach ($rows as $row) {
            $data[] = (object) [
                'kind' => get_string('messageprovider:' . $row->kind, 'local_buyin'),
                'template' => $row->template,
                'timecreated' => transform::datetime($row->timecreated),
            ];
        }
        writer::with_context($context)->export_data([get_string('privacy:path:notifications', 'local_buyin')],
            (object) ['notifications' => $data]);
    }

    /**
     * Delete the rows of a user.
     *
     * @param int $userid
     */
    public static function delete_user(int $userid): void {
        global $DB;
        $DB->delete_records(notification_manager::TABLE, ['userid' => $userid]);
    }
}
