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
 * English strings of local_buyin.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['alreadysigned'] = 'This completion has already been signed off; the decision cannot be changed.';
$string['ambiguousrolecriterion'] = 'This course has several "Manual completion by others" criteria and you hold none of their roles in the course.';
$string['approve'] = 'Approve';
$string['buyin:agent'] = 'Manage sign-off requests as the moodle-buyin agent';
$string['buyin:signoff'] = 'Sign off the course completion of learners who report to you';
$string['comment'] = 'Comment';
$string['commentoptional'] = 'Comment (optional)';
$string['course'] = 'Course';
$string['decision'] = 'Decision';
$string['decisionfailed'] = 'The decision could not be recorded: {$a}';
$string['eventsignoffdecided'] = 'Sign-off decided';
$string['eventsignoffrequested'] = 'Sign-off requested';
$string['learner'] = 'Learner';
$string['leaselocktimeout'] = 'Another moodle-buyin agent is taking or giving up the lease of this programme; try again.';
$string['norequest'] = 'There is no sign-off request for this learner in this course.';
$string['norequests'] = 'Nobody is waiting for your sign-off.';
$string['norolecriterion'] = 'This course has no "Manual completion by others" completion criterion.';
$string['notyourrequest'] = 'Only the learner\'s manager named on the request can decide it.';
$string['pendingfor'] = 'Waiting for';
$string['pendingintro'] = 'These learners have met every other completion requirement of their course and wait for your sign-off. Approving completes the course for them; rejecting tells them it needs more work.';
$string['pendingtitle'] = 'Sign-off requests';
$string['pluginname'] = 'Manager sign-off (moodle-buyin)';
$string['privacy:metadata:core_completion'] = 'Signing off marks the course\'s "Manual completion by others" completion criterion complete for the learner.';
$string['privacy:metadata:local_buyin_signoff'] = 'Requests for a manager to sign off a learner\'s course completion, and their decisions.';
$string['privacy:metadata:local_buyin_signoff:comment'] = 'The comment the manager wrote with their decision.';
$string['privacy:metadata:local_buyin_signoff:courseid'] = 'The course whose completion is signed off.';
$string['privacy:metadata:local_buyin_signoff:decidedby'] = 'The user who signed off or rejected the request.';
$string['privacy:metadata:local_buyin_signoff:managerid'] = 'The manager who is asked to sign off.';
$string['privacy:metadata:local_buyin_signoff:status'] = 'Whether the request is waiting, signed, rejected or cancelled.';
$string['privacy:metadata:local_buyin_signoff:timedecided'] = 'When the request was signed off or rejected.';
$string['privacy:metadata:local_buyin_signoff:timemodified'] = 'When the request last changed.';
$string['privacy:metadata:local_buyin_signoff:timerequested'] = 'When the sign-off was requested.';
$string['privacy:metadata:local_buyin_signoff:userid'] = 'The learner whose completion is signed off.';
$string['privacy:path'] = 'Sign-off requests';
$string['privacy:role:decider'] = 'decided the request';
$string['privacy:role:learner'] = 'learner';
$string['privacy:role:manager'] = 'manager asked to sign off';
$string['progress'] = '{$a->met} of {$a->total} criteria met';
$string['progresscolumn'] = 'Course progress';
$string['reject'] = 'Reject';
$string['rejectedmessage'] = 'You rejected the completion of {$a}.';
$string['requestcancelled'] = 'This request was cancelled: the learner is no longer enrolled in the course.';
$string['signedmessage'] = 'You signed off the completion of {$a}.';
$string['usermenuitem'] = 'Sign-off requests ({$a})';
