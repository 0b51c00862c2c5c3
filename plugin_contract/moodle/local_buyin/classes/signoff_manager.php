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

use context_course;
use context_system;
use context_user;
use moodle_exception;
use stdClass;

/**
 * Sign-off requests: the logic shared by the web services, the manager's page and the observers.
 *
 * A request is one row of local_buyin_signoff per (course, learner). Its life:
 * requested -> signed | rejected | cancelled. "signed" is final. A rejected request can
 * still be signed later by its manager (who changed their mind); the agent's upsert
 * never reopens it. A cancelled request (the learner left the course) is reopened by
 * the next upsert.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class signoff_manager {

    /** @var string Table name. */
    public const TABLE = 'local_buyin_signoff';

    /** @var string Waiting for the manager. */
    public const STATUS_REQUESTED = 'requested';
    /** @var string Signed off: the course's role criterion was marked complete. */
    public const STATUS_SIGNED = 'signed';
    /** @var string Rejected by the manager. */
    public const STATUS_REJECTED = 'rejected';
    /** @var string Closed without a decision (learner unenrolled). */
    public const STATUS_CANCELLED = 'cancelled';

    /** @var int Largest page get_changes() returns. */
    public const MAX_LIMIT = 1000;

    /**
     * Why a request item cannot be stored, or null when it can.
     *
     * @param int $courseid
     * @param int $userid the learner
     * @param int $managerid
     * @return array|null [warningcode, message] or null
     */
    public static function validate_request_item(int $courseid, int $userid, int $managerid): ?array {
        global $CFG, $DB;
        require_once($CFG->libdir . '/completionlib.php');

        $course = $courseid == SITEID ? false : $DB->get_record('course', ['id' => $courseid]);
        if (!$course) {
            return ['invalidcourseid', "No course with id $courseid"];
        }
        if (!$DB->record_exists('user', ['id' => $userid, 'deleted' => 0])) {
            return ['invaliduserid', "No user with id $userid"];
        }
        $manager = $DB->get_record('user', ['id' => $managerid, 'deleted' => 0], 'id, suspended');
        if (!$manager || isguestuser($managerid)) {
            return ['invalidmanagerid', "No user with id $managerid"];
        }
        if (!empty($manager->suspended)) {
            return ['managersuspended', "The manager $managerid is suspended"];
        }
        if ($managerid == $userid) {
            return ['selfsignoff', "User $userid cannot sign off their own completion"];
        }
        $completion = new \completion_info($course);
        if (!$completion->is_enabled()) {
            return ['completionnotenabled', "Completion is not enabled in course $courseid"];
        }
        if (!$completion->get_criteria(COMPLETION_CRITERIA_TYPE_ROLE)) {
            return ['norolecriterion', "Course $courseid has no \"Manual completion by others\" criterion"];
        }
        return null;
    }

    /**
     * Create or update the request of a learner in a course (idempotent).
     *
     * - No row: a new 'requested' row.
     * - 'requested': kept (timerequested unchanged); a different manager replaces the old one.
     * - 'cancelled': reopened as a new request for the given manager.
     * - 'signed', 'rejected': left as they are (the decision stands).
     * timemodified moves only when something changed.
     *
     * @param int $courseid
     * @param int $userid the learner
     * @param int $managerid
     * @param int|null $now
     * @return stdClass the row as stored
     */
    public static function upsert_request(int $courseid, int $userid, int $managerid, ?int $now = null): stdClass {
        global $DB;
        $now = $now ?? time();

        $row = $DB->get_record(self::TABLE, ['courseid' => $courseid, 'userid' => $userid]);
        if (!$row) {
            $row = (object) [
                'courseid' => $courseid,
                'userid' => $userid,
                'managerid' => $managerid,
                'status' => self::STATUS_REQUESTED,
                'timerequested' => $now,
                'timedecided' => null,
                'decidedby' => null,
                'comment' => null,
                'timemodified' => $now,
            ];
            $row->id = $DB->insert_record(self::TABLE, $row);
            self::trigger_requested($row);
            return $row;
        }

        if ($row->status === self::STATUS_REQUESTED) {
            if ((int) $row->managerid !== $managerid) {
                $row->managerid = $managerid;
                $row->timemodified = $now;
                $DB->update_record(self::TABLE, $row);
            }
        } else if ($row->status === self::STATUS_CANCELLED) {
            $row->managerid = $managerid;
            $row->status = self::STATUS_REQUESTED;
            $row->timerequested = $now;
            $row->timedecided = null;
            $row->decidedby = null;
            $row->comment = null;
            $row->timemodified = $now;
            $DB->update_record(self::TABLE, $row);
            self::trigger_requested($row);
        }
        return $row;
    }

    /**
     * Log a (re-)request: \local_buyin\event\signoff_requested in the course context.
     *
     * @param stdClass $row the stored request
     */
    protected static function trigger_requested(stdClass $row): void {
        \local_buyin\event\signoff_requested::create([
            'objectid' => $row->id,
            'context' => \context_course::instance($row->courseid),
            'relateduserid' => $row->userid,
            'other' => ['managerid' => (int) $row->managerid],
        ])->trigger();
    }

    /**
     * Requests changed at or after a time (after a position when afterid is given),
     * ordered by timemodified, id.
     *
     * @param int $since
     * @param int $courseid 0 for every course
     * @param int $limitfrom
     * @param int $limitnumber at most MAX_LIMIT
     * @param int $afterid with since, the last row read: only rows after it (0: none)
     * @return array [rows (list of stdClass), hasmore (bool)]
     */
    public static function get_changes(int $since, int $courseid, int $limitfrom, int $limitnumber,
            int $afterid = 0): array {
        global $DB;
        $limitfrom = max(0, $limitfrom);
        $limitnumber = min(max(1, $limitnumber), self::MAX_LIMIT);

        // After the position (since, afterid) in (timemodified, id) order: with afterid 0
        // (no id is 0) every row changed at or after since, as before 2026120402.
        $where = '(timemodified > :since OR (timemodified = :samesince AND id > :afterid))';
        $params = ['since' => $since, 'samesince' => $since, 'afterid' => max(0, $afterid)];
        if ($courseid) {
            $where .= ' AND courseid = :courseid';
            $params['courseid'] = $courseid;
        }
        // One row more than asked tells whether there is a next page.
        $rows = $DB->get_records_select(self::TABLE, $where, $params, 'timemodified ASC, id ASC', '*',
            $limitfrom, $limitnumber + 1);
        $rows = array_values($rows);
        $hasmore = count($rows) > $limitnumber;
        if ($hasmore) {
            array_pop($rows);
        }
        return [$rows, $hasmore];
    }

    /**
     * The request of a learner in a course.
     *
     * @param int $courseid
     * @param int $userid
     * @return stdClass|null
     */
    public static function get_request(int $courseid, int $userid): ?stdClass {
        global $DB;
        return $DB->get_record(self::TABLE, ['courseid' => $courseid, 'userid' => $userid]) ?: null;
    }

    /**
     * Whether a user may decide a request: its manager holding local/buyin:signoff (in the
     * course, or in the learner's user context), or a site administrator (moodle/site:config).
     *
     * @param stdClass $request
     * @param int $deciderid
     * @return bool
     */
    public static function can_decide(stdClass $request, int $deciderid): bool {
        if (has_capability('moodle/site:config', context_system::instance(), $deciderid)) {
            return true;
        }
        if ((int) $request->managerid !== $deciderid) {
            return false;
        }
        return self::has_signoff_capability($request, $deciderid);
    }

    /**
     * Whether the user holds local/buyin:signoff for the request's course or learner.
     *
     * @param stdClass $request
     * @param int $userid
     * @return bool
     */
    protected static function has_signoff_capability(stdClass $request, int $userid): bool {
        $coursecontext = context_course::instance($request->courseid, IGNORE_MISSING);
        if ($coursecontext && has_capability('local/buyin:signoff', $coursecontext, $userid)) {
            return true;
        }
        $usercontext = context_user::instance($request->userid, IGNORE_MISSING);
        return $usercontext && has_capability('local/buyin:signoff', $usercontext, $userid);
    }

    /**
     * Record a decision on a request.
     *
     * 'signed' marks the course's "Manual completion by others" criterion complete for the
     * learner, exactly as course/togglecompletion.php does, then stores who decided and when.
     * Everything happens in one transaction: either the criterion and the request both
     * change, or neither does.
     *
     * @param int $courseid
     * @param int $userid the learner
     * @param string $decision 'signed' or 'rejected'
     * @param string $comment
     * @param int $deciderid
     * @param int|null $now
     * @return array [the row after the decision (stdClass), warnings (array of warning arrays)]
     * @throws moodle_exception when the decision cannot be recorded
     */
    public static function record_decision(int $courseid, int $userid, string $decision, string $comment,
            int $deciderid, ?int $now = null): array {
        global $DB;
        $now = $now ?? time();
        $warnings = [];

        if ($decision !== self::STATUS_SIGNED && $decision !== self::STATUS_REJECTED) {
            throw new \invalid_parameter_exception("decision must be 'signed' or 'rejected'");
        }
        $request = self::get_request($courseid, $userid);
        if (!$request) {
            throw new moodle_exception('norequest', 'local_buyin');
        }
        if (!self::can_decide($request, $deciderid)) {
            if ((int) $request->managerid !== $deciderid) {
                throw new moodle_exception('notyourrequest', 'local_buyin');
            }
            throw new \required_capability_exception(
                context_course::instance($courseid), 'local/buyin:signoff', 'nopermissions', '');
        }

        if ($request->status === self::STATUS_CANCELLED) {
            throw new moodle_exception('requestcancelled', 'local_buyin');
        }
        if ($request->status === self::STATUS_SIGNED) {
            if ($decision === self::STATUS_SIGNED) {
                // Already done: answer the same, change nothing.
                $warnings[] = [
                    'item' => 'signoff',
                    'itemid' => (int) $request->id,
                    'warningcode' => 'alreadysigned',
                    'message' => 'The request was already signed off',
                ];
                return [$request, $warnings];
            }
            throw new moodle_exception('alreadysigned', 'local_buyin');
        }

        $transaction = $DB->start_delegated_transaction();
        if ($decision === self::STATUS_SIGNED) {
            $course = get_course($courseid);
            $warnings = array_merge($warnings, self::mark_role_criteria_complete($course, $userid, $deciderid));
        }
        $request->status = $decision;
        $request->timedecided = $now;
        $request->decidedby = $deciderid;
        $request->comment = $comment === '' ? null : $comment;
        $request->timemodified = $now;
        $DB->update_record(self::TABLE, $request);
        $transaction->allow_commit();
        \local_buyin\event\signoff_decided::create([
            'objectid' => $request->id,
            'context' => \context_course::instance($courseid),
            'relateduserid' => $userid,
            'other' => ['managerid' => (int) $request->managerid, 'decision' => $decision],
        ])->trigger();

        return [$request, $warnings];
    }

    /**
     * Mark the course's "Manual completion by others" criterion complete for a learner.
     *
     * The same calls as course/togglecompletion.php: completion_info::get_completions() for
     * COMPLETION_CRITERIA_TYPE_ROLE, then mark_complete() on the learner's
     * completion_criteria_completion of that criterion (what completion_criteria_role::complete()
     * does), which also marks the course completion in progress. Moodle's completion cron
     * then aggregates the course completion.
     *
     * Where the course has several role criteria, only those whose role the decider holds
     * in the course are marked (so a second, different sign-off is never bypassed).
     *
     * @param stdClass $course
     * @param int $userid
     * @param int $deciderid
     * @return array warnings
     * @throws moodle_exception when nothing can be marked
     */
    public static function mark_role_criteria_complete(stdClass $course, int $userid, int $deciderid): array {
        global $CFG;
        require_once($CFG->libdir . '/completionlib.php');

        $warnings = [];
        $completion = new \completion_info($course);
        if (!$completion->is_enabled()) {
            throw new moodle_exception('completionnotenabled', 'completion');
        }
        if (!$completion->is_tracked_user($userid)) {
            throw new moodle_exception('nottracked', 'completion');
        }

        $criteria = $completion->get_criteria(COMPLETION_CRITERIA_TYPE_ROLE);
        if (!$criteria) {
            throw new moodle_exception('norolecriterion', 'local_buyin');
        }
        if (count($criteria) > 1) {
            $context = context_course::instance($course->id);
            $criteria = array_filter($criteria, function($criterion) use ($deciderid, $context) {
                return user_has_role_assignment($deciderid, $criterion->role, $context->id);
            });
            if (!$criteria) {
                throw new moodle_exception('ambiguousrolecriterion', 'local_buyin');
            }
        }

        foreach ($completion->get_completions($userid, COMPLETION_CRITERIA_TYPE_ROLE) as $criteriacompletion) {
            if (!isset($criteria[$criteriacompletion->criteriaid])) {
                continue;
            }
            if ($criteriacompletion->is_complete()) {
                $warnings[] = [
                    'item' => 'criterion',
                    'itemid' => (int) $criteriacompletion->criteriaid,
                    'warningcode' => 'alreadycomplete',
                    'message' => 'The criterion was already complete for this learner',
                ];
                continue;
            }
            // togglecompletion.php calls completion_criteria_role::complete($criteria_completion),
            // whose whole effect is completion_criteria_completion::mark_complete() (it also sets
            // an unsaved 'completedself' property, a PHP 8.2 dynamic-property deprecation we
            // avoid by calling mark_complete() ourselves). mark_complete() stores timecompleted =
            // now and marks the course completion in progress.
            $criteriacompletion->mark_complete();
        }
        return $warnings;
    }

    /**
     * Close a learner's open request in a course (learner left the course).
     *
     * @param int $courseid
     * @param int $userid
     * @param int|null $now
     */
    public static function cancel_open_request(int $courseid, int $userid, ?int $now = null): void {
        global $DB;
        $now = $now ?? time();
        $request = self::get_request($courseid, $userid);
        if ($request && $request->status === self::STATUS_REQUESTED) {
            $request->status = self::STATUS_CANCELLED;
            $request->timemodified = $now;
            $DB->update_record(self::TABLE, $request);
        }
    }

    /**
     * How many requests wait for a manager.
     *
     * @param int $managerid
     * @return int
     */
    public static function count_pending_for_manager(int $managerid): int {
        global $DB;
        return $DB->count_records(self::TABLE, ['managerid' => $managerid, 'status' => self::STATUS_REQUESTED]);
    }

    /**
     * The requests waiting for a manager, oldest first.
     *
     * @param int $managerid
     * @return stdClass[]
     */
    public static function get_pending_for_manager(int $managerid): array {
        global $DB;
        return array_values($DB->get_records(self::TABLE,
            ['managerid' => $managerid, 'status' => self::STATUS_REQUESTED], 'timerequested ASC, id ASC'));
    }

    /**
     * A learner's course completion progress: criteria met and criteria in total.
     *
     * @param stdClass $course
     * @param int $userid
     * @return array [met, total]
     */
    public static function get_course_progress(stdClass $course, int $userid): array {
        global $CFG;
        require_once($CFG->libdir . '/completionlib.php');
        $completion = new \completion_info($course);
        $met = 0;
        $total = 0;
        foreach ($completion->get_completions($userid) as $criteriacompletion) {
            $total++;
            if ($criteriacompletion->is_complete()) {
                $met++;
            }
        }
        return [$met, $total];
    }

    /**
     * A row as the web services return it.
     *
     * @param stdClass $row
     * @return array
     */
    public static function export_row(stdClass $row): array {
        return [
            'id' => (int) $row->id,
            'courseid' => (int) $row->courseid,
            'userid' => (int) $row->userid,
            'managerid' => (int) $row->managerid,
            'status' => (string) $row->status,
            'timerequested' => (int) $row->timerequested,
            'timedecided' => $row->timedecided === null ? null : (int) $row->timedecided,
            'decidedby' => $row->decidedby === null ? null : (int) $row->decidedby,
            'comment' => $row->comment === null ? null : (string) $row->comment,
            'timemodified' => (int) $row->timemodified,
        ];
    }
}
