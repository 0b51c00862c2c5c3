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
 * One course's learner progress, a page of learners at a time, in a fixed number of queries.
 *
 * Queries per page, whatever the number of learners on it (never one per learner):
 *  1. the page of learner ids (user_enrolments of the course's enrol instances, id > cursor,
 *     optionally only those with a change at or after "since": their enrolment, account,
 *     course access, activity or course completion, attempts);
 *  2. their enrolments with the enrol instance's status, the account's suspension, and
 *     user_lastaccess of the course;
 *  3. the course's tracked activities (course_modules.completion > 0, not being deleted);
 *  4. their stored activity completion states (course_modules_completion);
 *  5. the course's completion criteria (course_completion_criteria);
 *  6. the criteria they met (course_completion_crit_compl);
 *  7. their course completion rows (course_completions);
 *  8. the attempts of the named quizzes (not previews);
 *  9. the marks of those attempts per quiz grade item (question_attempt_steps, latest step
 *     of each question attempt, times the question attempt's maxmark);
 * 10. each grade item's maximum (sum of quiz_slots.maxmark per quiz_grade_items row);
 * 11. their roles in the course context (role_assignments, as core_enrol_get_enrolled_users);
 * 12. their groups in the course (groups_members);
 * 13. the values of the profile fields named (user_info_data).
 * Thirteen queries; 8 to 10 are skipped when no quiz is named, 9 and 10 when nobody on the
 * page has an attempt, 13 when no profile field is named. Once per call, not per page: the
 * course record, the quiz ids check (get_progress), the aggregation method (aggregation())
 * and the number of users enrolled (enrolled_count()); the context and capability checks
 * are Moodle's own (cached).
 *
 * With the user's identity (query 2), roles, groups and profile fields, a page answers what
 * the agent otherwise reads from core_enrol_get_enrolled_users, so a run that reads only the
 * learners changed "since" never pages through everyone enrolled. A change "since" also
 * covers a role assigned and a group joined; a role unassigned or a group left leaves no
 * time behind in Moodle's tables and shows at the next full read (since 0).
 *
 * Table and column names as in Moodle 4.4 to 5.1 (lib/db/install.xml, mod/quiz/db/install.xml;
 * quiz_grade_items and quiz_slots.quizgradeitemid are new in 4.3/4.4).
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class progress_reader {

    /** @var int The largest page. */
    public const MAX_LIMIT = 1000;

    /**
     * A page of learners.
     *
     * @param int $courseid
     * @param int[] $quizids quizzes of this course whose attempts are wanted
     * @param int $since 0 for every learner, else only learners with a change at or after this time
     * @param int $cursor learners with a user id above this one
     * @param int $limit at most this many learners (1 .. MAX_LIMIT)
     * @param string[] $profilefields shortnames of the custom profile fields whose values are wanted
     * @param array $identity what of the user's identity the caller may see: ['email' => bool, 'idnumber' => bool,
     *     'viewfullnames' => bool]
     * @return array [learners (list of arrays in the shape of get_progress), next cursor or 0]
     *     (the course's aggregation method comes from aggregation(), one query per call)
     */
    public static function page(int $courseid, array $quizids, int $since, int $cursor, int $limit,
            array $profilefields = [], array $identity = []): array {
        global $DB;
        $limit = max(1, min(self::MAX_LIMIT, $limit));
        $contextid = \context_course::instance($courseid)->id;

        // Query 1: the page of learner ids.
        $params = ['courseid' => $courseid, 'cursor' => $cursor];
        $changed = '';
        if ($since > 0) {
            $quizchange = '';
            if ($quizids) {
                [$qsql, $qparams] = $DB->get_in_or_equal($quizids, SQL_PARAMS_NAMED, 'cq');
                $params += $qparams;
                $quizchange = " OR EXISTS (SELECT 1 FROM {quiz_attempts} qa
                                  WHERE qa.userid = ue.userid AND qa.quiz $qsql AND qa.timemodified >= :s6)";
            }
            $changed = "AND (ue.timemodified >= :s1 OR ue.timecreated >= :s2 OR u.timemodified >= :s8
                  OR EXISTS (SELECT 1 FROM {user_lastaccess} ul
                              WHERE ul.userid = ue.userid AND ul.courseid = e.courseid AND ul.timeaccess >= :s3)
                  OR EXISTS (SELECT 1 FROM {course_modules_completion} cmc
                               JOIN {course_modules} cm ON cm.id = cmc.coursemoduleid
                              WHERE cmc.userid = ue.userid AND cm.course = e.courseid AND cmc.timemodified >= :s4)
                  OR EXISTS (SELECT 1 FROM {course_completion_crit_compl} ccc
                              WHERE ccc.userid = ue.userid AND ccc.course = e.courseid AND ccc.timecompleted >= :s5)
                  OR EXISTS (SELECT 1 FROM {course_completions} cc
                              WHERE cc.userid = ue.userid AND cc.course = e.courseid AND cc.timecompleted >= :s7)
                  OR EXISTS (SELECT 1 FROM {role_assignments} ra
                              WHERE ra.userid = ue.userid AND ra.contextid = :ctx AND ra.timemodified >= :s9)
                  OR EXISTS (SELECT 1 FROM {groups_members} gm
                               JOIN {groups} g ON g.id = gm.groupid
                              WHERE gm.userid = ue.userid AND g.courseid = e.courseid AND gm.timeadded >= :s10)
                  $quizchange)";
            foreach (['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10'] as $name) {
                $params[$name] = $since;
            }
            $params['ctx'] = $contextid;
            if (!$quizids) {
                unset($params['s6']);
            }
        }
        $ids = $DB->get_fieldset_sql("SELECT DISTINCT ue.userid
                                        FROM {user_enrolments} ue
                                        JOIN {enrol} e ON e.id = ue.enrolid
                                        JOIN {user} u ON u.id = ue.userid
                                       WHERE e.courseid = :courseid AND ue.userid > :cursor AND u.deleted = 0 $changed
                                    ORDER BY ue.userid", $params, 0, $limit + 1);
        $ids = array_map('intval', $ids);
        $next = 0;
        if (count($ids) > $limit) {
            $ids = array_slice($ids, 0, $limit);
            $next = end($ids);
        }
        if (!$ids) {
            return [[], 0];
        }
        $learners = [];
        foreach ($ids as $id) {
            $learners[$id] = [
                'userid' => $id, 'username' => '', 'firstname' => '', 'lastname' => '', 'fullname' => '', 'email' => '',
                'idnumber' => '', 'suspended' => false, 'lang' => '', 'timezone' => '', 'lastcourseaccess' => 0,
                'roles' => [], 'groups' => [],
                'customfields' => [], 'enrolments' => [], 'activities' => [],
                'completion' => ['timecompleted' => null, 'criteria' => []], 'attempts' => [],
            ];
        }
        [$usql, $uparams] = $DB->get_in_or_equal($ids, SQL_PARAMS_NAMED, 'u');

        // Query 2: enrolments, the user's identity and last course access.
        $namefields = \core_user\fields::for_name()->get_sql('u', false, '', '', false)->selects;
        $rs = $DB->get_recordset_sql("SELECT ue.id, ue.userid, ue.status, ue.timestart, ue.timeend, ue.timecreated,
                                              e.enrol, e.status AS enrolstatus, ul.timeaccess, u.suspended,
                                              u.username, u.email, u.idnumber, u.lang, u.timezone, $namefields
                                         FROM {user_enrolments} ue
                                         JOIN {enrol} e ON e.id = ue.enrolid
                                         JOIN {user} u ON u.id = ue.userid
                                    LEFT JOIN {user_lastaccess} ul ON ul.userid = ue.userid AND ul.courseid = e.courseid
                                        WHERE e.courseid = :courseid AND ue.userid $usql
                                     ORDER BY ue.userid, ue.id", ['courseid' => $courseid] + $uparams);
        foreach ($rs as $row) {
            $learner = &$learners[(int) $row->userid];
            $learner['lastcourseaccess'] = (int) $row->timeaccess;
            $learner['suspended'] = (bool) $row->suspended;
            $learner['username'] = $row->username;
            $learner['firstname'] = $row->firstname;
            $learner['lastname'] = $row->lastname;
            $learner['fullname'] = fullname($row, !empty($identity['viewfullnames']));
            $learner['email'] = !empty($identity['email']) ? $row->email : '';
            $learner['idnumber'] = !empty($identity['idnumber']) ? $row->idnumber : '';
            // Their language and time zone, for the dates in their messages ("99": the site's default).
            $learner['lang'] = (string) $row->lang;
            $learner['timezone'] = (string) $row->timezone;
            $learner['enrolments'][] = [
                'enrol' => $row->enrol, 'status' => (int) $row->status, 'enrolstatus' => (int) $row->enrolstatus,
                'timestart' => (int) $row->timestart, 'timeend' => (int) $row->timeend,
                'timecreated' => (int) $row->timecreated,
            ];
            unset($learner);
        }
        $rs->close();

        // Query 3: the tracked activities; query 4: the stored states.
        $cms = $DB->get_records_select('course_modules', 'course = :courseid AND completion > 0 AND deletioninprogress = 0',
            ['courseid' => $courseid], 'id', 'id, completion');
        $states = [];
        $rs = $DB->get_recordset_sql("SELECT cmc.id, cmc.userid, cmc.coursemoduleid, cmc.completionstate,
                                              cmc.timemodified, cmc.overrideby
                                         FROM {course_modules_completion} cmc
                                         JOIN {course_modules} cm ON cm.id = cmc.coursemoduleid
                                        WHERE cm.course = :courseid AND cmc.userid $usql",
            ['courseid' => $courseid] + $uparams);
        foreach ($rs as $row) {
            $states[(int) $row->userid][(int) $row->coursemoduleid] = $row;
        }
        $rs->close();
        foreach ($learners as $id => &$learner) {
            foreach ($cms as $cm) {
                $state = $states[$id][(int) $cm->id] ?? null;
                $learner['activities'][] = [
                    'cmid' => (int) $cm->id,
                    'tracking' => (int) $cm->completion,
                    'state' => $state ? (int) $state->completionstate : 0,
                    'timecompleted' => $state ? (int) $state->timemodified : 0,
                    'overrideby' => $state && $state->overrideby !== null ? (int) $state->overrideby : null,
                ];
            }
        }
        unset($learner);

        // Query 5: the course's criteria (and, in the same query, the overall aggregation row); query 6: those the learners met; query 7: course completion.
        $criteria = $DB->get_records('course_completion_criteria', ['course' => $courseid], 'id', 'id, criteriatype');
        $met = [];
        $rs = $DB->get_recordset_select('course_completion_crit_compl', "course = :courseid AND userid $usql",
            ['courseid' => $courseid] + $uparams, '', 'id, userid, criteriaid, timecompleted');
        foreach ($rs as $row) {
            $met[(int) $row->userid][(int) $row->criteriaid] = $row->timecompleted;
        }
        $rs->close();
        foreach ($learners as $id => &$learner) {
            foreach ($criteria as $criterion) {
                $time = $met[$id][(int) $criterion->id] ?? null;
                $learner['completion']['criteria'][] = [
                    'criteriaid' => (int) $criterion->id, 'criteriatype' => (int) $criterion->criteriatype,
                    'timecompleted' => $time === null ? null : (int) $time,
                ];
            }
        }
        unset($learner);
        $rs = $DB->get_recordset_select('course_completions', "course = :courseid AND userid $usql",
            ['courseid' => $courseid] + $uparams, '', 'id, userid, timecompleted');
        foreach ($rs as $row) {
            $learners[(int) $row->userid]['completion']['timecompleted'] =
                $row->timecompleted === null ? null : (int) $row->timecompleted;
        }
        $rs->close();

        if ($quizids) {
            self::add_attempts($learners, $quizids, $usql, $uparams);
        }
        self::add_people($learners, $courseid, $contextid, $profilefields, $usql, $uparams);
        return [array_values($learners), $next];
    }

    /**
     * Queries 11 to 13: what core_enrol_get_enrolled_users gives of each learner besides the
     * identity: their roles in the course context (direct assignments, as get_user_roles()),
     * their groups in the course, and the values of the named custom profile fields (left out
     * where empty, as core leaves "customfields" out).
     *
     * @param array $learners by user id, changed in place
     * @param int $courseid
     * @param int $contextid the course context
     * @param string[] $profilefields shortnames
     * @param string $usql the "IN (...)" of the page's user ids
     * @param array $uparams its parameters
     */
    protected static function add_people(array &$learners, int $courseid, int $contextid, array $profilefields,
            string $usql, array $uparams): void {
        global $DB;
        // Query 11.
        $rs = $DB->get_recordset_sql("SELECT ra.id, ra.userid, ra.roleid, r.shortname
                                         FROM {role_assignments} ra
                                         JOIN {role} r ON r.id = ra.roleid
                                        WHERE ra.contextid = :ctx AND ra.userid $usql
                                     ORDER BY ra.userid, r.sortorder, ra.id", ['ctx' => $contextid] + $uparams);
        foreach ($rs as $row) {
            $learners[(int) $row->userid]['roles'][] = ['roleid' => (int) $row->roleid, 'shortname' => $row->shortname];
        }
        $rs->close();
        // Query 12.
        $rs = $DB->get_recordset_sql("SELECT gm.id, gm.userid, g.id AS groupid, g.name
                                         FROM {groups_members} gm
                                         JOIN {groups} g ON g.id = gm.groupid
                                        WHERE g.courseid = :courseid AND gm.userid $usql
                                     ORDER BY gm.userid, g.id", ['courseid' => $courseid] + $uparams);
        foreach ($rs as $row) {
            $learners[(int) $row->userid]['groups'][] = ['id' => (int) $row->groupid, 'name' => $row->name];
        }
        $rs->close();
        if (!$profilefields) {
            return;
        }
        // Query 13.
        [$fsql, $fparams] = $DB->get_in_or_equal(array_values(array_unique($profilefields)), SQL_PARAMS_NAMED, 'pf');
        $rs = $DB->get_recordset_sql("SELECT d.id, d.userid, f.shortname, d.data
                                         FROM {user_info_data} d
                                         JOIN {user_info_field} f ON f.id = d.fieldid
                                        WHERE f.shortname $fsql AND d.userid $usql
                                     ORDER BY d.userid, f.sortorder", $fparams + $uparams);
        foreach ($rs as $row) {
            if ((string) $row->data !== '') {
                $learners[(int) $row->userid]['customfields'][] = ['shortname' => $row->shortname, 'value' => $row->data];
            }
        }
        $rs->close();
    }

    /**
     * How many users have an enrolment (any status) in the course, whatever "since": the agent
     * compares it with the users it knows to find those unenrolled since its last full read.
     * One query per call, not per page.
     *
     * @param int $courseid
     * @return int
     */
    public static function enrolled_count(int $courseid): int {
        global $DB;
        return $DB->count_records_sql("SELECT COUNT(DISTINCT ue.userid)
                                         FROM {user_enrolments} ue
                                         JOIN {enrol} e ON e.id = ue.enrolid
                                         JOIN {user} u ON u.id = ue.userid
                                        WHERE e.courseid = :courseid AND u.deleted = 0", ['courseid' => $courseid]);
    }

    /**
     * The course's completion aggregation: COMPLETION_AGGREGATION_ALL (1) or ANY (2), as
     * completion_info::get_aggregation_method() reads it (course_completion_aggr_methd, the
     * row without a criteria type). One query per call, not per page.
     *
     * @param int $courseid
     * @return int
     */
    public static function aggregation(int $courseid): int {
        global $DB;
        $method = $DB->get_field_select('course_completion_aggr_methd', 'method',
            'course = :courseid AND criteriatype IS NULL', ['courseid' => $courseid]);
        return $method ? (int) $method : 1;
    }

    /**
     * Queries 8 to 10: attempts of the named quizzes, the finished ones with their marks per grade item.
     *
     * The marks per grade item are what mod_quiz's grade_calculator::compute_grade_item_totals()
     * computes for gradeitemmarks: for each slot of the item, the mark of the question
     * attempt's latest step (fraction times the question attempt's maxmark).
     *
     * @param array $learners by user id, changed in place
     * @param int[] $quizids
     * @param string $usql the "IN (...)" of the page's user ids
     * @param array $uparams its parameters
     */
    protected static function add_attempts(array &$learners, array $quizids, string $usql, array $uparams): void {
        global $DB;
        [$qsql, $qparams] = $DB->get_in_or_equal($quizids, SQL_PARAMS_NAMED, 'q');
        // Query 8.
        $attempts = $DB->get_records_sql("SELECT id, quiz, userid, attempt, uniqueid, state, timestart, timefinish,
                                                  timemodified, sumgrades
                                             FROM {quiz_attempts}
                                            WHERE quiz $qsql AND userid $usql AND preview = 0
                                         ORDER BY userid, quiz, attempt", $qparams + $uparams);
        if (!$attempts) {
            return;
        }
        // Query 9: the latest step of each question attempt (max sequencenumber), summed per grade item.
        [$asql, $aparams] = $DB->get_in_or_equal(array_keys($attempts), SQL_PARAMS_NAMED, 'a');
        $marks = [];
        $rs = $DB->get_recordset_sql("SELECT quiza.id AS attemptid, qs.quizgradeitemid,
                                              SUM(COALESCE(qas.fraction, 0) * qatt.maxmark) AS grade
                                         FROM {quiz_attempts} quiza
                                         JOIN {question_attempts} qatt ON qatt.questionusageid = quiza.uniqueid
                                         JOIN {quiz_slots} qs ON qs.quizid = quiza.quiz AND qs.slot = qatt.slot
                                         JOIN {question_attempt_steps} qas ON qas.questionattemptid = qatt.id
                                        WHERE quiza.id $asql AND qs.quizgradeitemid IS NOT NULL
                                          AND qas.sequencenumber = (SELECT MAX(last.sequencenumber)
                                                                      FROM {question_attempt_steps} last
                                                                     WHERE last.questionattemptid = qatt.id)
                                     GROUP BY quiza.id, qs.quizgradeitemid", $aparams);
        foreach ($rs as $row) {
            $marks[(int) $row->attemptid][(int) $row->quizgradeitemid] = (float) $row->grade;
        }
        $rs->close();
        // Query 10: each grade item's name and maximum, in the quiz's order.
        $items = $DB->get_records_sql("SELECT gi.id, gi.quizid, gi.name, gi.sortorder, SUM(qs.maxmark) AS maxgrade
                                          FROM {quiz_grade_items} gi
                                     LEFT JOIN {quiz_slots} qs ON qs.quizgradeitemid = gi.id
                                         WHERE gi.quizid $qsql
                                      GROUP BY gi.id, gi.quizid, gi.name, gi.sortorder
                                      ORDER BY gi.quizid, gi.sortorder", $qparams);
        foreach ($attempts as $attempt) {
            $gradeitemmarks = [];
            foreach ($items as $item) {
                if ((int) $item->quizid === (int) $attempt->quiz && $attempt->state === 'finished') {
                    $gradeitemmarks[] = [
                        'name' => format_string($item->name),
                        'grade' => $marks[(int) $attempt->id][(int) $item->id] ?? 0.0,
                        'maxgrade' => (float) $item->maxgrade,
                    ];
                }
            }
            $learners[(int) $attempt->userid]['attempts'][] = [
                'id' => (int) $attempt->id, 'quiz' => (int) $attempt->quiz, 'attempt' => (int) $attempt->attempt,
                'state' => $attempt->state,
                'timestart' => (int) $attempt->timestart, 'timefinish' => (int) $attempt->timefinish,
                'timemodified' => (int) $attempt->timemodified,
                'sumgrades' => $attempt->sumgrades === null ? null : (float) $attempt->sumgrades,
                'gradeitemmarks' => $gradeitemmarks,
            ];
        }
    }
}
