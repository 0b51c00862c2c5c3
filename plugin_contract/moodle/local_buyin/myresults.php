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
 * My results: the current user's own figures in each programme, as the moodle-buyin agent
 * last pushed them (pre-check and post per topic, time saved by testing out, retention,
 * where they stand, worded kindly).
 *
 * Takes no user id: it shows the logged-in user's own rows and nobody else's.
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

$url = new moodle_url('/local/buyin/myresults.php');
$PAGE->set_url($url);
$PAGE->set_context(context_user::instance($USER->id));
$PAGE->set_pagelayout('standard');
$PAGE->set_title(get_string('myresults', 'local_buyin'));
$PAGE->set_heading(get_string('myresults', 'local_buyin'));

$programmes = [];
foreach (figures_manager::get_own((int) $USER->id) as $row) {
    $course = figures_page::course((int) $row->courseid);
    if ($course === null) {
        continue;
    }
    $figures = $row->decoded;
    $topicschart = figures_page::topics_chart($figures, get_string('chartyourscores', 'local_buyin'));
    $historychart = figures_page::history_chart($figures['history'] ?? [], figures_page::topics($figures),
        get_string('chartovertime', 'local_buyin'));
    $timesaved = figures_page::time_saved($figures);
    $retention = figures_page::retention($figures);
    $programmes[] = [
        'coursename' => $course[0],
        'courseurl' => $course[1],
        'stage' => figures_page::stage($figures),
        'standing' => figures_page::standing($figures),
        'hastimesaved' => $timesaved !== null,
        'timesaved' => $timesaved,
        'hasretention' => $retention !== null,
        'retention' => $retention,
        'topicschart' => $topicschart ? $OUTPUT->render_chart($topicschart, true) : '',
        'historychart' => $historychart ? $OUTPUT->render_chart($historychart, true) : '',
        'updated' => userdate((int) $row->timemodified),
    ];
}

echo $OUTPUT->header();
echo $OUTPUT->render_from_template('local_buyin/myresults', [
    'hasprogrammes' => !empty($programmes),
    'programmes' => $programmes,
]);
echo $OUTPUT->footer();
