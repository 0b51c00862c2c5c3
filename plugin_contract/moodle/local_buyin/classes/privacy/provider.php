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
use core_privacy\local\request\approved_contextlist;
use core_privacy\local\request\approved_userlist;
use core_privacy\local\request\contextlist;
use core_privacy\local\request\transform;
use core_privacy\local\request\userlist;
use core_privacy\local\request\writer;
use local_buyin\signoff_manager;

/**
 * Privacy provider of local_buyin.
 *
 * The plugin stores sign-off requests (local_buyin_signoff) and the figures of the My results
 * and My team pages (local_buyin_figures, see figures_data).
 * Sign-off requests (local_buyin_signoff): A row concerns three users:
 * the learner (userid), the manager who may sign (managerid) and who decided (decidedby,
 * with their comment). Its context is the context of its course.
 *
 * The notifications sent (local_buyin_notification, see notification_data) are in the
 * recipient's user context; the notifications themselves are core_message's.
 *
 * The leases of programmes (local_buyin_lease) hold no personal data: a programme key,
 * an agent's id (its state file and host name) and times. Nothing to declare, export or
 * delete for a user.
 *
 * Deleting a user's data: rows where they are the learner are deleted; where they are
 * the manager, managerid becomes 0 (the agent names a new manager on its next run);
 * where they decided, decidedby and their comment are emptied, the decision stays.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class provider implements
        \core_privacy\local\metadata\provider,
        \core_privacy\local\request\plugin\provider,
        \core_privacy\local\request\core_userlist_provider {

    /**
     * Describe the personal data the plugin stores.
     *
     * @param collection $collection
     * @return collection
     */
    public static function get_metadata(collection $collection): collection {
        $collection->add_database_table(signoff_manager::TABLE, [
            'courseid' => 'privacy:metadata:local_buyin_signoff:courseid',
            'userid' => 'privacy:metadata:local_buyin_signoff:userid',
            'managerid' => 'privacy:metadata:local_buyin_signoff:managerid',
            'status' => 'privacy:metadata:local_buyin_signoff:status',
            'timerequested' => 'privacy:metadata:local_buyin_signoff:timerequested',
            'timedecided' => 'privacy:metadata:local_buyin_signoff:timedecided',
            'decidedby' => 'privacy:metadata:local_buyin_signoff:decidedby',
            'comment' => 'privacy:metadata:local_buyin_signoff:comment',
            'timemodified' => 'privacy:metadata:local_buyin_signoff:timemodified',
        ], 'privacy:metadata:local_buyin_signoff');
        // The core course completion data written on a sign-off belongs to core_completion.
        $collection->link_subsystem('core_completion', 'privacy:metadata:core_completion');
        figures_data::add_metadata($collection);
        notification_data::add_metadata($collection);
        return $collection;
    }

    /**
     * The course contexts where the user is a learner, manager or decider of a request.
     *
     * @param int $userid
     * @return contextlist
     */
    public static function get_contexts_for_userid(int $userid): contextlist {
        $sql = "SELECT ctx.id
                  FROM {context} ctx
                  JOIN {local_buyin_signoff} s ON s.courseid = ctx.instanceid AND ctx.contextlevel = :contextlevel
                 WHERE s.userid = :userid OR s.managerid = :managerid OR s.decidedby = :decidedby";
        $params = [
            'contextlevel' => CONTEXT_COURSE,
            'userid' => $userid,
            'managerid' => $userid,
            'decidedby' => $userid,
        ];
        $contextlist = new contextlist();
        $contextlist->add_from_sql($sql, $params);
        figures_data::add_contexts($contextlist, $userid);
        notification_data::add_contexts($contextlist, $userid);
        return $contextlist;
    }

    /**
     * The users who have data in a course context.
     *
     * @param userlist $userlist
     */
    public static function get_users_in_context(userlist $userlist) {
        $context = $userlist->get_context();
        if ($context instanceof \context_user) {
            notification_data::add_users($userlist, (int) $context->instanceid);
            return;
        }
        if (!$context instanceof \context_course) {
            return;
        }
        $params = ['courseid' => $context->instanceid];
        $userlist->add_from_sql('userid',
            "SELECT userid FROM {local_buyin_signoff} WHERE courseid = :courseid", $params);
        $userlist->add_from_sql('managerid',
            "SELECT managerid FROM {local_buyin_signoff} WHERE courseid = :courseid AND managerid > 0", $params);
        $userlist->add_from_sql('decidedby',
            "SELECT decidedby FROM {local_buyin_signoff} WHERE courseid = :courseid AND decidedby IS NOT NULL", $params);
        figures_data::add_users($userlist, (int) $context->instanceid);
    }

    /**
     * Export the requests the user is part of, per course.
     *
     * @param approved_contextlist $contextlist
     */
    public static function export_user_data(approved_contextlist $contextlist) {
        global $DB;
        $userid = (int) $contextlist->get_user()->id;

        foreach ($contextlist->get_contexts() as $context) {
            if ($context instanceof \context_user && (int) $context->instanceid === $userid) {
                notification_data::export($context);
                continue;
            }
            if (!$context instanceof \context_course) {
                continue;
            }
            figures_data::export($context, $userid);
            $select = 'courseid = :courseid AND (userid = :userid OR managerid = :managerid OR decidedby = :decidedby)';
            $params = [
                'courseid' => $context->instanceid,
                'userid' => $userid,
                'managerid' => $userid,
                'decidedby' => $userid,
            ];
            $rows = $DB->get_records_select(signoff_manager::TABLE, $select, $params, 'id ASC');
            if (!$rows) {
                continue;
            }
            $data = [];
            foreach ($rows as $row) {
                $roles = [];
                if ((int) $row->userid === $userid) {
                    $roles[] = get_string('privacy:role:learner', 'local_buyin');
                }
                if ((int) $row->managerid === $userid) {
                    $roles[] = get_string('privacy:role:manager', 'local_buyin');
                }
                if ($row->decidedby !== null && (int) $row->decidedby === $userid) {
                    $roles[] = get_string('privacy:role:decider', 'local_buyin');
                }
                $data[] = (object) [
                    'yourrole' => implode(', ', $roles),
                    'learner' => transform::user($row->userid),
                    'manager' => transform::user($row->managerid),
                    'status' => $row->status,
                    'timerequested' => transform::datetime($row->timerequested),
                    'timedecided' => $row->timedecided ? transform::datetime($row->timedecided) : null,
                    'decidedby' => $row->decidedby !== null ? transform::user($row->decidedby) : null,
                    'comment' => $row->comment,
                    'timemodified' => transform::datetime($row->timemodified),
                ];
            }
            writer::with_context($context)->export_data(
                [get_string('privacy:path', 'local_buyin')],
                (object) ['signoffs' => $data]
            );
        }
    }

    /**
     * Delete every request of a course.
     *
     * @param \context $context
     */
    public static function delete_data_for_all_users_in_context(\context $context) {
        global $DB;
        if ($context instanceof \context_user) {
            notification_data::delete_user((int) $context->instanceid);
            return;
        }
        if (!$context instanceof \context_course) {
            return;
        }
        $DB->delete_records(signoff_manager::TABLE, ['courseid' => $context->instanceid]);
        figures_data::delete_course((int) $context->instanceid);
    }

    /**
     * Delete the user's data in the approved course contexts.
     *
     * @param approved_contextlist $contextlist
     */
    public static function delete_data_for_user(approved_contextlist $contextlist) {
        $userid = (int) $contextlist->get_user()->id;
        foreach ($contextlist->get_contexts() as $context) {
            if ($context instanceof \context_course) {
                self::delete_user_from_requests($userid, (int) $context->instanceid);
            } else if ($context instanceof \context_user && (int) $context->instanceid === $userid) {
                notification_data::delete_user($userid);
            }
        }
    }

    /**
     * Delete the data of several users in one course context.
     *
     * @param approved_userlist $userlist
     */
    public static function delete_data_for_users(approved_userlist $userlist) {
        $context = $userlist->get_context();
        if ($context instanceof \context_user) {
            if (in_array((int) $context->instanceid, array_map('intval', $userlist->get_userids()), true)) {
                notification_data::delete_user((int) $context->instanceid);
            }
            return;
        }
        if (!$context instanceof \context_course) {
            return;
        }
        foreach ($userlist->get_userids() as $userid) {
            self::delete_user_from_requests((int) $userid, (int) $context->instanceid);
        }
    }

    /**
     * Remove a user from the requests of one course, or of every course.
     *
     * @param int $userid
     * @param int $courseid 0 for every course
     */
    public static function delete_user_from_requests(int $userid, int $courseid = 0): void {
        global $DB;
        figures_data::delete_user($userid, $courseid);
        $now = time();
        $coursesql = '';
        $courseparams = [];
        if ($courseid) {
            $coursesql = ' AND courseid = :courseid';
            $courseparams = ['courseid' => $courseid];
        }

        // As learner: the request is theirs alone.
        $DB->delete_records_select(signoff_manager::TABLE, 'userid = :userid' . $coursesql, ['userid' => $userid] + $courseparams);

        // As manager: the request stays, without them.
        $DB->execute("UPDATE {local_buyin_signoff} SET managerid = 0, timemodified = :now
                       WHERE managerid = :managerid" . $coursesql,
            ['now' => $now, 'managerid' => $userid] + $courseparams);

        // As decider: the decision stays, who made it and what they wrote go.
        $DB->execute("UPDATE {local_buyin_signoff} SET decidedby = NULL, comment = NULL, timemodified = :now
                       WHERE decidedby = :decidedby" . $coursesql,
            ['now' => $now, 'decidedby' => $userid] + $courseparams);
    }
}
