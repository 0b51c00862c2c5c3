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

echo $OUTPUT->header();
echo $OUTPUT->render_from_template('local_buyin/myteam',
    (new \local_buyin\output\my_team((int) $USER->id))->export_for_template($OUTPUT));
echo $OUTPUT->footer();
