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
 * My team: for a manager, their own reports in each programme (stage, waiting for sign-off
 * with the link to sign, pre-check and post per topic over time) and, beside them, the
 * manager's own answer to the programme's poll.
 *
 * Takes no user id: who is whose report is the manager relation the moodle-buyin agent
 * pushed (local_buyin_figures.managerid), matched against the logged-in user only.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

require_once(__DIR__ . '/../../config.php');

use local_buyin\figures_manager;
use local_buyin\figures_page;

require_login(null, false);
if (isguestuser()) {
    throw new moodle_exception('noguest');
}

$url = new moodle_url('/local/buyin/myteam.php');
$PAGE->set_url($url);
$PAGE->set_context(context_user::instance($USER->id));
$PAGE->set_pagelayout('standard');
$PAGE->set_title(get_string('myteam', 'local_buyin'));
$PAGE->set_heading(get_string('myteam', 'local_buyin'));

$now = time();
$signurl = (new moodle_url('/local/buyin/index.php'))->out(false);
$courses = [];
foreach (figures_manager::get_team((int) $USER->id) as $row) {
    $courseid = (int) $row->courseid;
    if (!array_key_exists($courseid, $courses)) {
        $course = figures_page::course($courseid);
        $courses[$courseid] = $course === null ? null : [
            'coursename' => $course[0],
            'courseurl' => $course[1],
            'poll' => figures_page::poll_answer(figures_manager::get_manager_answer($courseid, (int) $USER->id)),
            'members' => [],
        ];
    }
    $learner = core_user::get_user($row->userid);
    if ($courses[$courseid] === null || !$learner) {
        continue;
    }
    $figures = $row->decoded;
    $request = figures_page::pending_request($row, (int) $USER->id);
    $since = (int) ($figures['awaiting_since'] ?? 0);
    $chart = figures_page::history_chart($figures['history'] ?? [], figures_page::topics($figures),
        get_string('chartmemberovertime', 'local_buyin', fullname($learner)));
    if (!$chart) {
        $chart = figures_page::topics_chart($figures, get_string('chartmemberscores', 'local_buyin', fullname($learner)));
    }
    $courses[$courseid]['members'][] = [
        'name' => fullname($learner),
        'stage' => figures_page::stage($figures),
        'progress' => get_string('activitiesdone', 'local_buyin', (object) [
            'done' => (int) ($figures['activities_done'] ?? 0),
            'total' => (int) ($figures['activities_total'] ?? 0),
        ]),
        'awaiting' => $since > 0 && ($figures['stage'] ?? '') === 'awaiting sign-off',
        'waitingfor' => $since > 0 ? format_time($now - $since) : '',
        'waitingsince' => $since > 0 ? userdate($since) : '',
        'cansign' => $request !== null,
        'signurl' => $signurl,
        'chart' => $chart ? $OUTPUT->render_chart($chart, true) : '',
    ];
}

$programmes = [];
foreach ($courses as $course) {
    if ($course !== null && $course['members']) {
        $course['haspoll'] = $course['poll'] !== null;
        $programmes[] = $course;
    }
}

echo $OUTPUT->header();
echo $OUTPUT->render_from_template('local_buyin/myteam', [
    'hasprogrammes' => !empty($programmes),
    'programmes' => $programmes,
]);
echo $OUTPUT->footer();
