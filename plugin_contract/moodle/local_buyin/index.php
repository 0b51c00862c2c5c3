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
 * The manager's page: the sign-off requests waiting for the current user, one click to decide.
 *
 * Lists only requests where managerid is the current user. Approving or rejecting posts
 * back to this page (with sesskey) and goes through signoff_manager::record_decision(),
 * the same code as the local_buyin_record_signoff web service.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

require_once(__DIR__ . '/../../config.php');
require_once($CFG->libdir . '/completionlib.php');

use local_buyin\signoff_manager;

require_login(null, false);
if (isguestuser()) {
    throw new moodle_exception('noguest');
}

$url = new moodle_url('/local/buyin/index.php');
$context = context_system::instance();
$PAGE->set_url($url);
$PAGE->set_context($context);
$PAGE->set_pagelayout('standard');
$PAGE->set_title(get_string('pendingtitle', 'local_buyin'));
$PAGE->set_heading(get_string('pendingtitle', 'local_buyin'));

// A decision: one form per request and button, posted here.
$action = optional_param('decision', '', PARAM_ALPHA);
if ($action !== '') {
    require_sesskey();
    $requestid = required_param('requestid', PARAM_INT);
    $comment = trim(optional_param('comment', '', PARAM_TEXT));
    $request = $DB->get_record(signoff_manager::TABLE, ['id' => $requestid], '*', MUST_EXIST);
    if ((int) $request->managerid !== (int) $USER->id) {
        // The page only ever offers the user's own requests.
        throw new moodle_exception('notyourrequest', 'local_buyin');
    }
    $learner = core_user::get_user($request->userid);
    $name = $learner ? fullname($learner) : '';
    try {
        signoff_manager::record_decision((int) $request->courseid, (int) $request->userid, $action, $comment,
            (int) $USER->id);
        $stringid = $action === signoff_manager::STATUS_SIGNED ? 'signedmessage' : 'rejectedmessage';
        $message = get_string($stringid, 'local_buyin', $name);
        $messagetype = \core\output\notification::NOTIFY_SUCCESS;
    } catch (moodle_exception $e) {
        $message = get_string('decisionfailed', 'local_buyin', $e->getMessage());
        $messagetype = \core\output\notification::NOTIFY_ERROR;
    }
    redirect($url, $message, null, $messagetype);
}

$now = time();
$items = [];
$courses = [];
foreach (signoff_manager::get_pending_for_manager((int) $USER->id) as $request) {
    if (!isset($courses[$request->courseid])) {
        $courses[$request->courseid] = $DB->get_record('course', ['id' => $request->courseid]);
    }
    $course = $courses[$request->courseid];
    $learner = core_user::get_user($request->userid);
    if (!$course || !$learner || $learner->deleted) {
        continue;
    }
    $coursecontext = context_course::instance($course->id);
    [$met, $total] = signoff_manager::get_course_progress($course, (int) $learner->id);
    // What the manager confirms, and how long the learner has waited since they finished
    // (the agent's figures; the request's time where it has not pushed them).
    $details = \local_buyin\figures_manager::signoff_details($request, (int) $USER->id);
    $waited = format_time($now - $details['waitingsince']);
    $items[] = [
        'requestid' => (int) $request->id,
        'learnername' => fullname($learner),
        'coursename' => format_string($course->fullname, true, ['context' => $coursecontext]),
        'courseurl' => (new moodle_url('/course/view.php', ['id' => $course->id]))->out(false),
        'progress' => get_string('progress', 'local_buyin', (object) ['met' => $met, 'total' => $total]),
        'pendingfor' => get_string($details['sincefinished'] ? 'waitedsincefinished' : 'waitedsincerequest',
            'local_buyin', $waited),
        'timerequested' => userdate((int) $request->timerequested),
        'activities' => $details['activitiestotal'] ? get_string('activitiesdone', 'local_buyin', (object) [
            'done' => $details['activitiesdone'], 'total' => $details['activitiestotal']]) : '',
        'waitingsince' => userdate($details['waitingsince']),
        'testedout' => $details['hastestedout'] ? get_string('testedouttopics', 'local_buyin',
            implode(', ', array_map(fn($t) => $t['topic'] . ' ' . $t['score'], $details['testedout']))) : '',
        'post' => $details['haspost'] ? get_string('postscores', 'local_buyin',
            implode(', ', array_map(fn($t) => $t['topic'] . ' ' . $t['score'], $details['post']))) : '',
    ];
}

$templatecontext = [
    'actionurl' => $url->out(false),
    'sesskey' => sesskey(),
    'hasrequests' => !empty($items),
    'requests' => $items,
];

echo $OUTPUT->header();
echo $OUTPUT->render_from_template('local_buyin/pending', $templatecontext);
echo $OUTPUT->footer();
