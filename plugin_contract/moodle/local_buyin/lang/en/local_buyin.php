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

$string['activitiesdone'] = '{$a->done} of {$a->total} activities done';
$string['alreadysigned'] = 'This completion has already been signed off; the decision cannot be changed.';
$string['ambiguousrolecriterion'] = 'This course has several "Manual completion by others" criteria and you hold none of their roles in the course.';
$string['approve'] = 'Approve';
$string['askedimpact'] = 'The impact you expect: {$a} of 5';
$string['askedmoved'] = 'You asked about {$a->topic}; your team\'s {$a->topic} score went from {$a->pre} to {$a->post}.';
$string['askednone'] = 'You asked about {$a->topic}; no {$a->topic} scores from your team yet.';
$string['askedpre'] = 'You asked about {$a->topic}; your team\'s {$a->topic} score at the pre-check: {$a->pre}.';
$string['askedtitle'] = 'What you asked training to solve';
$string['askedtopics'] = 'The topics you named: {$a}';
$string['buyin:agent'] = 'Manage sign-off requests as the moodle-buyin agent';
$string['buyin:signoff'] = 'Sign off the course completion of learners who report to you';
$string['chartmemberovertime'] = '{$a}: pre-check and post per topic over time';
$string['chartmemberscores'] = '{$a}: pre-check and post per topic';
$string['chartovertime'] = 'Your scores per topic over time';
$string['chartyourscores'] = 'Your pre-check and post scores per topic';
$string['comment'] = 'Comment';
$string['commentoptional'] = 'Comment (optional)';
$string['confirmcolumn'] = 'What you confirm';
$string['course'] = 'Course';
$string['decision'] = 'Decision';
$string['decisionfailed'] = 'The decision could not be recorded: {$a}';
$string['eventsignoffdecided'] = 'Sign-off decided';
$string['eventsignoffrequested'] = 'Sign-off requested';
$string['figuresupdated'] = 'Figures as of {$a}.';
$string['kindpost'] = 'Post';
$string['kindprecheck'] = 'Pre-check';
$string['kindretention'] = 'Retention check';
$string['learner'] = 'Learner';
$string['leaselocktimeout'] = 'Another moodle-buyin agent is taking or giving up the lease of this programme; try again.';
$string['myresults'] = 'My results';
$string['myteam'] = 'My team';
$string['norequest'] = 'There is no sign-off request for this learner in this course.';
$string['norequests'] = 'Nobody is waiting for your sign-off.';
$string['noresults'] = 'Your results will show here once your programme has started.';
$string['norolecriterion'] = 'This course has no "Manual completion by others" completion criterion.';
$string['noteam'] = 'Nobody in a programme reports to you yet.';
$string['notyourrequest'] = 'Only the learner\'s manager named on the request can decide it.';
$string['pendingfor'] = 'Waiting for';
$string['pendingintro'] = 'These learners have met every other completion requirement of their course and wait for your sign-off. Approving completes the course for them; rejecting tells them it needs more work.';
$string['pendingtitle'] = 'Sign-off requests';
$string['percentvalue'] = '{$a} %';
$string['pluginname'] = 'Manager sign-off (moodle-buyin)';
$string['postscores'] = 'Post scores: {$a}';
$string['privacy:metadata:core_completion'] = 'Signing off marks the course\'s "Manual completion by others" completion criterion complete for the learner.';
$string['privacy:metadata:local_buyin_figures'] = 'The figures of the My results and My team pages, as the moodle-buyin agent pushes them.';
$string['privacy:metadata:local_buyin_figures:courseid'] = 'The course of the programme.';
$string['privacy:metadata:local_buyin_figures:figures'] = 'The figures: stage, scores per topic over time, time saved, retention, where the learner stands; for a manager, their answer to the manager poll.';
$string['privacy:metadata:local_buyin_figures:managerid'] = 'The learner\'s manager, who sees the learner\'s figures on My team.';
$string['privacy:metadata:local_buyin_figures:role'] = 'Whether the row holds a learner\'s figures or a manager\'s own poll answer.';
$string['privacy:metadata:local_buyin_figures:timecreated'] = 'When the figures were first stored.';
$string['privacy:metadata:local_buyin_figures:timemodified'] = 'When the figures last changed.';
$string['privacy:metadata:local_buyin_figures:userid'] = 'The learner, or the manager whose poll answer it is.';
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
$string['privacy:path:figures'] = 'Results';
$string['privacy:role:decider'] = 'decided the request';
$string['privacy:role:learner'] = 'learner';
$string['privacy:role:manager'] = 'manager asked to sign off';
$string['progress'] = '{$a->met} of {$a->total} criteria met';
$string['progresscolumn'] = 'Course progress';
$string['reject'] = 'Reject';
$string['rejectedmessage'] = 'You rejected the completion of {$a}.';
$string['requestcancelled'] = 'This request was cancelled: the learner is no longer enrolled in the course.';
$string['retentionresult'] = 'Your retention check: {$a}';
$string['scorepercent'] = 'Score (%)';
$string['serieslabel'] = '{$a->topic} ({$a->kind})';
$string['signedmessage'] = 'You signed off the completion of {$a}.';
$string['signnow'] = 'Sign off';
$string['stage'] = 'Stage';
$string['stageawaiting'] = 'Waiting for sign-off';
$string['stagecomplete'] = 'Complete';
$string['stageinprogress'] = 'In progress';
$string['stagenotstarted'] = 'Not started yet';
$string['stagerejected'] = 'Your manager asked for more before signing off';
$string['stageunknown'] = 'Not known yet';
$string['standing'] = 'Where you stand';
$string['standingahead'] = 'On your scores you are ahead of {$a} % of your colleagues in this programme. Well done.';
$string['standingkeepgoing'] = 'Every topic you work through moves your score up; keep going.';
$string['standingnone'] = 'Where you stand will show here once you have taken the pre-check.';
$string['teamcaption'] = 'Your reports in this programme';
$string['testedout'] = 'Tested out';
$string['testedouttopics'] = 'Tested out: {$a}';
$string['timesaved'] = 'Testing out saved you about {$a->time}: {$a->activities} activities were completed for you because you already knew them.';
$string['usermenuitem'] = 'Sign-off requests ({$a})';
$string['usermenumyresults'] = 'My results';
$string['usermenumyteam'] = 'My team';
$string['waitedsincefinished'] = 'since they finished, {$a}';
$string['waitedsincerequest'] = 'since the request, {$a}';
