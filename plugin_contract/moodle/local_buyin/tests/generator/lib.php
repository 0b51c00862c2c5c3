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

/**
 * Data generator of local_buyin.
 *
 * @package    local_buyin
 * @category   test
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class local_buyin_generator extends component_generator_base {

    /**
     * A course with completion enabled whose criteria are "Manual completion by others"
     * by the given role (editingteacher by default).
     *
     * @param array $courserecord extra course fields
     * @param string $roleshortname the sign-off role
     * @return array [course, criterion id, role id]
     */
    public function create_signoff_course(array $courserecord = [], string $roleshortname = 'editingteacher'): array {
        global $CFG, $DB;
        require_once($CFG->libdir . '/completionlib.php');

        set_config('enablecompletion', COMPLETION_ENABLED);
        $course = $this->datagenerator->create_course(['enablecompletion' => COMPLETION_ENABLED] + $courserecord);
        $roleid = (int) $DB->get_field('role', 'id', ['shortname' => $roleshortname], MUST_EXIST);
        $criterionid = (int) $DB->insert_record('course_completion_criteria', (object) [
            'course' => $course->id,
            'criteriatype' => COMPLETION_CRITERIA_TYPE_ROLE,
            'role' => $roleid,
        ]);
        return [$course, $criterionid, $roleid];
    }

    /**
     * A user holding local/buyin:agent in the system context (as the agent's web-service user).
     *
     * @return stdClass the user
     */
    public function create_agent_user(): stdClass {
        $user = $this->datagenerator->create_user();
        $context = context_system::instance();
        $roleid = $this->datagenerator->create_role(['shortname' => 'buyinagent' . $user->id]);
        assign_capability('local/buyin:agent', CAP_ALLOW, $roleid, $context->id, true);
        role_assign($roleid, $user->id, $context->id);
        accesslib_clear_all_caches_for_unit_testing();
        return $user;
    }

    /**
     * A sign-off request row.
     *
     * @param array $record courseid, userid, managerid required; other fields optional
     * @return stdClass the row
     */
    public function create_signoff(array $record): stdClass {
        global $DB;
        foreach (['courseid', 'userid', 'managerid'] as $field) {
            if (empty($record[$field])) {
                throw new coding_exception("create_signoff() needs $field");
            }
        }
        $now = time();
        $row = (object) ($record + [
            'status' => 'requested',
            'timerequested' => $now,
            'timedecided' => null,
            'decidedby' => null,
            'comment' => null,
            'timemodified' => $record['timerequested'] ?? $now,
        ]);
        $row->id = $DB->insert_record('local_buyin_signoff', $row);
        return $DB->get_record('local_buyin_signoff', ['id' => $row->id], '*', MUST_EXIST);
    }

    /**
     * A row of figures, as local_buyin_save_figures stores it.
     *
     * @param int $courseid
     * @param int $userid
     * @param array $figures
     * @param int $managerid
     * @param string $role learner or manager
     * @return stdClass the row
     */
    public function create_figures(int $courseid, int $userid, array $figures, int $managerid = 0,
            string $role = 'learner'): stdClass {
        return \local_buyin\figures_manager::save($courseid, $userid, $role, $managerid, $figures);
    }
}
