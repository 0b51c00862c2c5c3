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

namespace local_buyin\output;

use local_buyin\figures_manager;
use local_buyin\signoff_manager;
use moodle_url;

/**
 * What the plugin's pages read, in a fixed number of queries whatever the team's size:
 * every course, person, request and figures row of a page in one query each.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class loader {

    /**
     * Courses' names (formatted in their context) and links, by id; one query.
     *
     * @param int[] $courseids
     * @return array courseid => [name, url]
     */
    public static function courses(array $courseids): array {
        global $DB;
        $courseids = array_values(array_unique(array_map('intval', $courseids)));
        if (!$courseids) {
            return [];
        }
        [$in, $params] = $DB->get_in_or_equal($courseids, SQL_PARAMS_NAMED);
        $ctxfields = \context_helper::get_preload_record_columns_sql('ctx');
        $sql = "SELECT c.id, c.fullname, $ctxfields
                  FROM {course} c
                  JOIN {context} ctx ON ctx.instanceid = c.id AND ctx.contextlevel = :contextlevel
                 WHERE c.id $in";
        $out = [];
        foreach ($DB->get_records_sql($sql, $params + ['contextlevel' => CONTEXT_COURSE]) as $course) {
            \context_helper::preload_from_record($course);
            $context = \context_course::instance($course->id);
            $out[(int) $course->id] = [
                format_string($course->fullname, true, ['context' => $context]),
                (new moodle_url('/course/view.php', ['id' => $course->id]))->out(false),
            ];
        }
        return $out;
    }

    /**
     * People's full names, by id; one query.
     *
     * @param int[] $userids
     * @return array userid => full name
     */
    public static function names(array $userids): array {
        global $DB;
        $userids = array_values(array_unique(array_map('intval', $userids)));
        if (!$userids) {
            return [];
        }
        $fields = 'id, ' . implode(', ', \core_user\fields::get_name_fields());
        $out = [];
        foreach ($DB->get_records_list('user', 'id', $userids, '', $fields) as $user) {
            $out[(int) $user->id] = fullname($user);
        }
        return $out;
    }

    /**
     * The sign-off requests waiting for a manager, by "courseid:userid"; one query.
     *
     * @param int $managerid
     * @return array
     */
    public static function pending(int $managerid): array {
        $out = [];
        foreach (signoff_manager::get_pending_for_manager($managerid) as $request) {
            $out[$request->courseid . ':' . $request->userid] = $request;
        }
        return $out;
    }

    /**
     * Learners' figures rows for some (course, learner) pairs, by "courseid:userid"; one query.
     *
     * @param array $pairs list of [courseid, userid]
     * @return array
     */
    public static function learner_figures(array $pairs): array {
        global $DB;
        if (!$pairs) {
            return [];
        }
        $userids = array_values(array_unique(array_map(fn($p) => (int) $p[1], $pairs)));
        [$in, $params] = $DB->get_in_or_equal($userids, SQL_PARAMS_NAMED);
        $rows = $DB->get_records_select(figures_manager::TABLE, "role = :role AND userid $in",
            $params + ['role' => figures_manager::ROLE_LEARNER]);
        $wanted = array_flip(array_map(fn($p) => $p[0] . ':' . $p[1], $pairs));
        $out = [];
        foreach ($rows as $row) {
            $key = $row->courseid . ':' . $row->userid;
            if (isset($wanted[$key])) {
                $out[$key] = figures_manager::figures($row);
            }
        }
        return $out;
    }

    /**
     * A manager's own poll answers, by course; one query.
     *
     * @param int $managerid
     * @return array courseid => figures
     */
    public static function manager_answers(int $managerid): array {
        global $DB;
        $out = [];
        $rows = $DB->get_records(figures_manager::TABLE, ['userid' => $managerid, 'role' => figures_manager::ROLE_MANAGER]);
        foreach ($rows as $row) {
            $out[(int) $row->courseid] = figures_manager::figures($row);
        }
        return $out;
    }

    /**
     * The links between the plugin's pages a person may see (the current one marked); three
     * queries.
     *
     * @param int $userid
     * @param string $current myresults, myteam or signoff
     * @return array template data: links (list of name, url, current)
     */
    public static function nav(int $userid, string $current): array {
        [$results, $team] = figures_manager::has_pages($userid);
        $pending = signoff_manager::count_pending_for_manager($userid);
        $pages = [
            'myresults' => [$results, '/local/buyin/myresults.php', get_string('myresults', 'local_buyin')],
            'myteam' => [$team, '/local/buyin/myteam.php', get_string('myteam', 'local_buyin')],
            'signoff' => [$pending > 0 || $current === 'signoff', '/local/buyin/index.php',
                $pending > 0 ? get_string('usermenuitem', 'local_buyin', $pending) : get_string('pendingtitle', 'local_buyin')],
        ];
        $links = [];
        foreach ($pages as $name => [$show, $path, $label]) {
            if ($show || $name === $current) {
                $links[] = ['name' => $label, 'url' => (new moodle_url($path))->out(false), 'current' => $name === $current];
            }
        }
        return ['links' => $links, 'haslinks' => count($links) > 1];
    }
}
