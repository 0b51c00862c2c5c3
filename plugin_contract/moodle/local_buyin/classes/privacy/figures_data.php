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
use local_buyin\figures_manager;

/**
 * The privacy of local_buyin_figures, called by the plugin's provider.
 *
 * A row concerns its user (the learner, or the manager whose poll answer it is) and, for a
 * learner's row, their manager (managerid). Its context is the context of its course.
 * Deleting a user's data deletes their own rows; where they are someone's manager, managerid
 * becomes 0 (the learner's figures stay theirs; the agent names the manager again when it
 * next pushes that learner's figures).
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class figures_data {

    /**
     * Describe the table.
     *
     * @param collection $collection
     */
    public static function add_metadata(collection $collection): void {
        $collection->add_database_table(figures_manager::TABLE, [
            'courseid' => 'privacy:metadata:local_buyin_figures:courseid',
            'userid' => 'privacy:metadata:local_buyin_figures:userid',
            'role' => 'privacy:metadata:local_buyin_figures:role',
            'managerid' => 'privacy:metadata:local_buyin_figures:managerid',
            'figures' => 'privacy:metadata:local_buyin_figures:figures',
            'timecreated' => 'privacy:metadata:local_buyin_figures:timecreated',
            'timemodified' => 'privacy:metadata:local_buyin_figures:timemodified',
        ], 'privacy:metadata:local_buyin_figures');
    }

    /**
     * The course contexts where the user has a row or is a learner's manager.
     *
     * @param contextlist $contextlist
     * @param int $userid
     */
    public static function add_contexts(contextlist $contextlist, int $userid): void {
        $sql = "SELECT ctx.id
                  FROM {context} ctx
                  JOIN {local_buyin_figures} f ON f.courseid = ctx.instanceid AND ctx.contextlevel = :contextlevel
                 WHERE f.userid = :userid OR f.managerid = :managerid";
        $contextlist->add_from_sql($sql, ['contextlevel' => CONTEXT_COURSE, 'userid' => $userid, 'managerid' => $userid]);
    }

    /**
     * The users with data in a course context.
     *
     * @param userlist $userlist
     * @param int $courseid
     */
    public static function add_users(userlist $userlist, int $courseid): void {
        $params = ['courseid' => $courseid];
        $userlist->add_from_sql('userid', "SELECT userid FROM {local_buyin_figures} WHERE courseid = :courseid", $params);
        $userlist->add_from_sql('managerid',
            "SELECT managerid FROM {local_buyin_figures} WHERE courseid = :courseid AND managerid > 0", $params);
    }

    /**
     * Export the user's rows in a course, and the rows of the learners they manage there.
     *
     * @param \context_course $context
     * @param int $userid
     */
    public static function export(\context_course $context, int $userid): void {
        global $DB;
        $rows = $DB->get_records_select(figures_manager::TABLE,
            'courseid = :courseid AND (userid = :userid OR managerid = :managerid)',
            ['courseid' => $context->instanceid, 'userid' => $userid, 'managerid' => $userid], 'id ASC');
        if (!$rows) {
            return;
        }
        $data = [];
        foreach ($rows as $row) {
            $own = (int) $row->userid === $userid;
            $data[] = (object) [
                'yourrole' => get_string($own && $row->role === figures_manager::ROLE_LEARNER ? 'privacy:role:learner'
                    : 'privacy:role:manager', 'local_buyin'),
                'user' => transform::user($row->userid),
                'role' => $row->role,
                'manager' => $row->managerid ? transform::user($row->managerid) : null,
                // A manager gets the figures of their reports as they saw them on My team.
                'figures' => figures_manager::figures($row),
                'timecreated' => transform::datetime($row->timecreated),
                'timemodified' => transform::datetime($row->timemodified),
            ];
        }
        writer::with_context($context)->export_data([get_string('privacy:path:figures', 'local_buyin')],
            (object) ['figures' => $data]);
    }

    /**
     * Delete every row of a course.
     *
     * @param int $courseid
     */
    public static function delete_course(int $courseid): void {
        global $DB;
        $DB->delete_records(figures_manager::TABLE, ['courseid' => $courseid]);
    }

    /**
     * Delete a user's rows in a course (or every course), and unname them as manager.
     *
     * @param int $userid
     * @param int $courseid 0 for every course
     */
    public static function delete_user(int $userid, int $courseid = 0): void {
        global $DB;
        $params = ['userid' => $userid];
        $coursesql = '';
        if ($courseid) {
            $coursesql = ' AND courseid = :courseid';
            $params['courseid'] = $courseid;
        }
        $DB->delete_records_select(figures_manager::TABLE, 'userid = :userid' . $coursesql, $params);
        $DB->execute("UPDATE {local_buyin_figures} SET managerid = 0, timemodified = :now
                       WHERE managerid = :managerid" . $coursesql,
            ['now' => time(), 'managerid' => $userid] + array_diff_key($params, ['userid' => 1]));
    }
}
