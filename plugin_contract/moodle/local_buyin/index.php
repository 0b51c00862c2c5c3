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
 * Sign-off requests: the requests waiting for the current user and, with requestid, one
 * request to decide.
 *
 * The list shows only requests where managerid is the current user, each with what the
 * manager confirms and a button to the request. The request page shows it in plain words
 * with the decision form (classes/form/decision_form.php); a decision goes through
 * signoff_manager::record_decision(), the same code as the local_buyin_record_signoff web
 * service. My team's "Sign off" button opens the request page of that learner.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

require_once(__DIR__ . '/../../config.php');

use local_buyin\form\decision_form;
use local_buyin\output\signoff_list;
use local_buyin\output\signoff_request;
use local_buyin\signoff_manager;

require_login(null, false);
if (isguestuser()) {
    throw new moodle_exception('noguest');
}

$requestid = optional_param('requestid', 0, PARAM_INT);
$listurl = new moodle_url('/local/buyin/index.php');
$url = $requestid ? new moodle_url('/local/buyin/index.php', ['requestid' => $requestid]) : $listurl;
$PAGE->set_url($url);
$PAGE->set_context(context_system::instance());
$PAGE->set_pagelayout('standard');
$PAGE->set_title(get_string('pendingtitle', 'local_buyin'));
$PAGE->set_heading(get_string('pendingtitle', 'local_buyin'));

if (!$requestid) {
    echo $OUTPUT->header();
    echo $OUTPUT->render_from_template('local_buyin/pending',
        (new signoff_list((int) $USER->id))->export_for_template($OUTPUT));
    echo $OUTPUT->footer();
    exit;
}

$request = $DB->get_record(signoff_manager::TABLE, ['id' => $requestid], '*', MUST_EXIST);
if ((int) $request->managerid !== (int) $USER->id) {
    // Only the manager the request names sees it here.
    throw new moodle_exception('notyourrequest', 'local_buyin');
}
$pending = $request->status === signoff_manager::STATUS_REQUESTED;
$form = new decision_form($url, ['requestid' => $requestid]);
if ($pending && ($data = $form->get_data())) {
    $decision = decision_form::decision($data);
    $learner = core_user::get_user($request->userid);
    $name = $learner ? fullname($learner) : '';
    try {
        signoff_manager::record_decision((int) $request->courseid, (int) $request->userid, $decision,
            trim((string) $data->comment), (int) $USER->id);
        $stringid = $decision === signoff_manager::STATUS_SIGNED ? 'signedmessage' : 'rejectedmessage';
        redirect($listurl, get_string($stringid, 'local_buyin', $name), null, \core\output\notification::NOTIFY_SUCCESS);
    } catch (moodle_exception $e) {
        redirect($url, get_string('decisionfailed', 'local_buyin', $e->getMessage()), null,
            \core\output\notification::NOTIFY_ERROR);
    }
}

echo $OUTPUT->header();
echo $OUTPUT->render_from_template('local_buyin/signoff_request',
    (new signoff_request($request, (int) $USER->id, $pending ? $form->render() : ''))->export_for_template($OUTPUT));
echo $OUTPUT->footer();
