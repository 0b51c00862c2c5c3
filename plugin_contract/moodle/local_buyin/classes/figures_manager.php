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

namespace local_buyin;

use stdClass;

/**
 * The figures of the My results and My team pages, as the moodle-buyin agent pushes them.
 *
 * One row of local_buyin_figures per (course, user, role):
 * - role 'learner': the learner's figures in the programme of that course (stage, scores per
 *   topic and their history, time saved by testing out, retention, where they stand);
 *   managerid is the learner's manager as the agent knows them, the only other person who
 *   may see the row (on My team).
 * - role 'manager': a manager's own answer to the programme's manager poll and what moved
 *   for their team on the topics they named; only that manager sees it.
 *
 * Who sees what is decided here, from the stored rows and the viewer's own id, never from
 * an id a request names (see can_view()).
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class figures_manager {

    /** @var string Table name. */
    public const TABLE = 'local_buyin_figures';

    /** @var string A learner's figures. */
    public const ROLE_LEARNER = 'learner';
    /** @var string A manager's own poll answer. */
    public const ROLE_MANAGER = 'manager';

    /** @var int Items per local_buyin_save_figures call. */
    public const MAX_ITEMS = 500;

    /** @var string A learner who left the programme: shown to nobody. */
    public const STAGE_LEFT = 'left';

    /**
     * Why an item cannot be stored, or null when it can.
     *
     * @param int $courseid
     * @param int $userid
     * @param string $role
     * @param int $managerid
     * @param mixed $figures the decoded figures
     * @return array|null [warningcode, message] or null
     */
    public static function validate_item(int $courseid, int $userid, string $role, int $managerid, $figures): ?array {
        global $DB;
        if ($courseid == SITEID || !$DB->record_exists('course', ['id' => $courseid])) {
            return ['invalidcourseid', "No course with id $courseid"];
        }
        if (!$DB->record_exists('user', ['id' => $userid, 'deleted' => 0])) {
            return ['invaliduserid', "No user with id $userid"];
        }
        if ($role !== self::ROLE_LEARNER && $role !== self::ROLE_MANAGER) {
            return ['invalidrole', 'role must be learner or manager'];
        }
        if ($managerid && ($managerid == $userid || !$DB->record_exists('user', ['id' => $managerid, 'deleted' => 0]))) {
            return ['invalidmanagerid', "No other user with id $managerid"];
        }
        if (!is_array($figures) || array_is_list($figures) && $figures !== []) {
            return ['invalidfigures', 'figures must be a JSON object'];
        }
        return null;
    }

    /**
     * Store a person's figures in a course, replacing what was there.
     *
     * @param int $courseid
     * @param int $userid
     * @param string $role
     * @param int $managerid 0 for none (and for a manager's own row)
     * @param array $figures
     * @param int|null $now
     * @return stdClass the stored row
     */
    public static function save(int $courseid, int $userid, string $role, int $managerid, array $figures,
            ?int $now = null): stdClass {
        global $DB;
        $now = $now ?? time();
        $json = json_encode($figures);
        $row = $DB->get_record(self::TABLE, ['courseid' => $courseid, 'userid' => $userid, 'role' => $role]);
        if ($row) {
            $row->managerid = $role === self::ROLE_LEARNER ? $managerid : 0;
            $row->figures = $json;
            $row->timemodified = $now;
            $DB->update_record(self::TABLE, $row);
            return $row;
        }
        $row = (object) [
            'courseid' => $courseid,
            'userid' => $userid,
            'role' => $role,
            'managerid' => $role === self::ROLE_LEARNER ? $managerid : 0,
            'figures' => $json,
            'timecreated' => $now,
            'timemodified' => $now,
        ];
        $row->id = $DB->insert_record(self::TABLE, $row);
        return $row;
    }

    /**
     * The decoded figures of a row (an empty array when unreadable).
     *
     * @param stdClass $row
     * @return array
     */
    public static function figures(stdClass $row): array {
        $figures = json_decode((string) $row->figures, true);
        return is_array($figures) ? $figures : [];
    }

    /**
     * Whether a user may see a row: their own, or a learner's row naming them as manager.
     *
     * @param stdClass $row
     * @param int $viewerid
     * @return bool
     */
    public static function can_view(stdClass $row, int $viewerid): bool {
        if ($viewerid <= 0) {
            return false;
        }
        if ((int) $row->userid === $viewerid) {
            return true;
        }
        return $row->role === self::ROLE_LEARNER && (int) $row->managerid === $viewerid;
    }

    /**
     * The user's own figures as a learner, per course (My results).
     *
     * @param int $userid
     * @return stdClass[] rows by course id, left programmes excluded
     */
    public static function get_own(int $userid): array {
        global $DB;
        $rows = $DB->get_records(self::TABLE, ['userid' => $userid, 'role' => self::ROLE_LEARNER], 'courseid ASC');
        return self::visible($rows, $userid, 'courseid');
    }

    /**
     * The figures of the manager's reports (My team): learner rows naming them as manager.
     *
     * @param int $managerid
     * @return stdClass[] rows, by course then learner
     */
    public static function get_team(int $managerid): array {
        global $DB;
        if ($managerid <= 0) {
            return [];
        }
        $sql = "SELECT f.*
                  FROM {" . self::TABLE . "} f
                  JOIN {user} u ON u.id = f.userid AND u.deleted = 0
                 WHERE f.managerid = :managerid AND f.role = :role
              ORDER BY f.courseid ASC, u.lastname ASC, u.firstname ASC, f.userid ASC";
        $rows = $DB->get_records_sql($sql, ['managerid' => $managerid, 'role' => self::ROLE_LEARNER]);
        return self::visible($rows, $managerid, 'id');
    }

    /**
     * The manager's own poll answer in a course, or null.
     *
     * @param int $courseid
     * @param int $managerid
     * @return array|null the figures
     */
    public static function get_manager_answer(int $courseid, int $managerid): ?array {
        global $DB;
        $row = $DB->get_record(self::TABLE,
            ['courseid' => $courseid, 'userid' => $managerid, 'role' => self::ROLE_MANAGER]);
        return $row && self::can_view($row, $managerid) ? self::figures($row) : null;
    }

    /**
     * A learner's figures in a course for someone who may see them, or null.
     *
     * @param int $courseid
     * @param int $userid the learner
     * @param int $viewerid
     * @return array|null
     */
    public static function get_learner(int $courseid, int $userid, int $viewerid): ?array {
        global $DB;
        $row = $DB->get_record(self::TABLE, ['courseid' => $courseid, 'userid' => $userid, 'role' => self::ROLE_LEARNER]);
        return $row && self::can_view($row, $viewerid) ? self::figures($row) : null;
    }

    /**
     * Whether the user has anything to see on My results and on My team (the user menu).
     *
     * @param int $userid
     * @return bool[] [results, team]
     */
    public static function has_pages(int $userid): array {
        global $DB;
        return [
            $DB->record_exists(self::TABLE, ['userid' => $userid, 'role' => self::ROLE_LEARNER]),
            $DB->record_exists(self::TABLE, ['managerid' => $userid, 'role' => self::ROLE_LEARNER]),
        ];
    }

    /**
     * Rows the viewer may see and that are not of a programme the learner left, keyed by a field.
     *
     * @param stdClass[] $rows
     * @param int $viewerid
     * @param string $key
     * @return stdClass[]
     */
    protected static function visible(array $rows, int $viewerid, string $key): array {
        $out = [];
        foreach ($rows as $row) {
            if (!self::can_view($row, $viewerid)) {
                continue;
            }
            $figures = self::figures($row);
            if (($figures['stage'] ?? '') === self::STAGE_LEFT) {
                continue;
            }
            $row->decoded = $figures;
            $out[$row->$key] = $row;
        }
        return $out;
    }

    /**
     * What the sign-off page shows a manager about one request: topics tested out with their
     * scores, post scores, and since when the learner has waited (since they finished every
     * other requirement, as the agent saw it; the request's time where the agent has not said).
     *
     * @param stdClass $request a local_buyin_signoff row the viewer may decide
     * @param int $viewerid
     * @return array testedout, hastestedout, testedoutactivities, activitiesdone, activitiestotal, post, haspost,
     *     waitingsince, sincefinished (plain text: the template escapes it)
     */
    public static function signoff_details(stdClass $request, int $viewerid): array {
        $figures = self::get_learner((int) $request->courseid, (int) $request->userid, $viewerid);
        if ($figures === null && (int) $request->managerid === $viewerid) {
            // Escalated or fallback approver: the request names them; show its figures.
            global $DB;
            $row = $DB->get_record(self::TABLE,
                ['courseid' => $request->courseid, 'userid' => $request->userid, 'role' => self::ROLE_LEARNER]);
            $figures = $row ? self::figures($row) : null;
        }
        $figures = $figures ?? [];
        $testedout = [];
        foreach ($figures['tested_out_topics'] ?? [] as $topic => $score) {
            $testedout[] = ['topic' => (string) $topic, 'score' => self::percent($score)];
        }
        $post = [];
        foreach ($figures['post'] ?? [] as $topic => $score) {
            $post[] = ['topic' => (string) $topic, 'score' => self::percent($score)];
        }
        $finished = (int) ($figures['awaiting_since'] ?? 0);
        return [
            'testedout' => $testedout,
            'hastestedout' => !empty($testedout),
            'testedoutactivities' => (int) ($figures['tested_out'] ?? 0),
            'activitiesdone' => (int) ($figures['activities_done'] ?? 0),
            'activitiestotal' => (int) ($figures['activities_total'] ?? 0),
            'post' => $post,
            'haspost' => !empty($post),
            'waitingsince' => $finished ?: (int) $request->timerequested,
            'sincefinished' => $finished > 0,
        ];
    }

    /**
     * A score as people read it: 0.375 -> "38 %".
     *
     * @param mixed $value a fraction
     * @return string
     */
    public static function percent($value): string {
        return get_string('percentvalue', 'local_buyin', (int) round(((float) $value) * 100));
    }
}
