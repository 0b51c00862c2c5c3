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
$string['aprogramme'] = 'your programme';
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
$string['messageprovider:followup'] = 'After a programme: your job aid and refresher';
$string['messageprovider:kickoff'] = 'A programme starts: welcome, and your team starting';
$string['messageprovider:poll'] = 'Questions about what training should solve for your team';
$string['messageprovider:precheck'] = 'Your pre-check results and the activities completed for you';
$string['messageprovider:progress'] = 'What you gained in a programme';
$string['messageprovider:recognition'] = 'Someone in your team completed a programme';
$string['messageprovider:signoff'] = 'Sign-off requests and reminders for your team';
$string['messageprovider:signoffdecision'] = 'Decisions on the sign-off of your completion';
$string['messageprovider:teamdigest'] = 'Your team\'s progress each week';
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
$string['privacy:metadata:core_message'] = 'Notifications are sent through Moodle\'s messaging system, through the message providers of this plugin.';
$string['privacy:metadata:local_buyin_figures'] = 'The figures of the My results and My team pages, as the moodle-buyin agent pushes them.';
$string['privacy:metadata:local_buyin_figures:courseid'] = 'The course of the programme.';
$string['privacy:metadata:local_buyin_figures:figures'] = 'The figures: stage, scores per topic over time, time saved, retention, where the learner stands; for a manager, their answer to the manager poll.';
$string['privacy:metadata:local_buyin_figures:managerid'] = 'The learner\'s manager, who sees the learner\'s figures on My team.';
$string['privacy:metadata:local_buyin_figures:role'] = 'Whether the row holds a learner\'s figures or a manager\'s own poll answer.';
$string['privacy:metadata:local_buyin_figures:timecreated'] = 'When the figures were first stored.';
$string['privacy:metadata:local_buyin_figures:timemodified'] = 'When the figures last changed.';
$string['privacy:metadata:local_buyin_figures:userid'] = 'The learner, or the manager whose poll answer it is.';
$string['privacy:metadata:local_buyin_notification'] = 'The notifications sent for the moodle-buyin agent, by its key, so that none is sent twice.';
$string['privacy:metadata:local_buyin_notification:kind'] = 'The kind of notification (its message provider).';
$string['privacy:metadata:local_buyin_notification:template'] = 'Which of the agent\'s messages it was.';
$string['privacy:metadata:local_buyin_notification:timecreated'] = 'When it was sent.';
$string['privacy:metadata:local_buyin_notification:userid'] = 'The recipient of the notification.';
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
$string['privacy:path:notifications'] = 'Notifications sent';
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
$string['stageunknown'] = 'Not known yet';
$string['standing'] = 'Where you stand';
$string['standingahead'] = 'On your scores you are ahead of {$a} % of your colleagues in this programme. Well done.';
$string['standingkeepgoing'] = 'Every topic you work through moves your score up; keep going.';
$string['standingnone'] = 'Where you stand will show here once you have taken the pre-check.';
$string['subject:followup'] = 'After {$a}: what to keep close';
$string['subject:kickoff'] = '{$a} starts';
$string['subject:poll'] = '{$a}: what should it solve for your team?';
$string['subject:precheck'] = 'Your pre-check results in {$a}';
$string['subject:progress'] = 'What you gained in {$a}';
$string['subject:recognition'] = 'Your team in {$a}: a completion';
$string['subject:signoff'] = '{$a}: waiting for your sign-off';
$string['subject:signoffdecision'] = '{$a}: your completion';
$string['subject:teamdigest'] = 'Your team in {$a} this week';
$string['teamcaption'] = 'Your reports in this programme';
$string['testedout'] = 'Tested out';
$string['testedouttopics'] = 'Tested out: {$a}';
$string['timesaved'] = 'Testing out saved you about {$a->time}: {$a->activities} activities were completed for you because you already knew them.';
$string['usermenuitem'] = 'Sign-off requests ({$a})';
$string['usermenumyresults'] = 'My results';
$string['usermenumyteam'] = 'My team';
$string['waitedsincefinished'] = 'since they finished, {$a}';
$string['waitedsincerequest'] = 'since the request, {$a}';

// BEGIN message strings: generated by tools/gen_lang.py from the agent's templates; do not edit.
$string['msg:common:days'] = '{$a->n} days';
$string['msg:common:from'] = '<p>— {$a->sender}. Questions? Reply to {$a->sender} directly: this message was sent for them by the training system.</p>';
$string['msg:common:hi'] = 'Hi {$a->firstname},';
$string['msg:common:hours'] = '{$a->n} hours';
$string['msg:common:hours_minutes'] = '{$a->h} h {$a->m} min';
$string['msg:common:hours_only'] = '{$a->h} h';
$string['msg:common:item'] = '<li>{$a->item}</li>';
$string['msg:common:list'] = '<ul>{$a->items}</ul>';
$string['msg:common:minutes_only'] = '{$a->m} min';
$string['msg:common:one_day'] = '1 day';
$string['msg:common:one_hour'] = '1 hour';
$string['msg:common:percent'] = '{$a->value}%';
$string['msg:common:strong'] = '<strong>{$a->text}</strong>';
$string['msg:followup.job_aid:body'] = '<p>Well done, {$a->firstname}: you have completed {$a->courselink}.</p><p>Keep this close for your next conversations: {$a->aidlink}</p>';
$string['msg:followup.job_aid:body_more'] = '<p>Keep this close for your next conversations: {$a->aidlink}</p>';
$string['msg:followup.job_aid:summary'] = 'job aid';
$string['msg:followup.job_aid:takeaway'] = '<p>{$a->takeaway}</p>';
$string['msg:followup.manager_note:body'] = '<p>Hi {$a->firstname}, {$a->learner} has completed {$a->courselink}.{$a->when}</p><p>Ask them which idea they will use first, and notice when they do.</p>';
$string['msg:followup.manager_note:summary'] = '{$a->username} completed';
$string['msg:followup.manager_note:when'] = ' Their refresher opens on {$a->date}.';
$string['msg:followup.manager_note:when_past'] = ' Their refresher opened on {$a->date}.';
$string['msg:followup.refresher_open:body'] = '<p>Hi {$a->firstname}, your refresher {$a->refresherlink} is open now: it takes a few minutes and shows what stuck.</p>';
$string['msg:followup.refresher_open:summary'] = 'refresher open';
$string['msg:insights.complete:again'] = 'worth another look: the job aid covers it';
$string['msg:insights.complete:ahead'] = '<p>On the {$a->basis} you are ahead of {$a->share} of your colleagues in this programme. Well done!</p>';
$string['msg:insights.complete:basis.post'] = 'post-assessment';
$string['msg:insights.complete:dip'] = 'a little lower than at the pre-check, which happens: the job aid and the refresher will help it settle';
$string['msg:insights.complete:encourage'] = '<p>Every colleague starts from a different place: what counts is the ground you covered, and you finished the whole programme. Keep it up!</p>';
$string['msg:insights.complete:final'] = '<p>Your post-assessment scores per topic:</p>{$a->topics}';
$string['msg:insights.complete:gain'] = '+{$a->n} points';
$string['msg:insights.complete:intro'] = '<p>Hi {$a->firstname}, congratulations on completing {$a->courselink}! Here is what you gained.</p>';
$string['msg:insights.complete:intro_more'] = '<p>What you gained:</p>';
$string['msg:insights.complete:progress'] = '<p>Your progress per topic (pre-check → post-assessment):</p>{$a->topics}';
$string['msg:insights.complete:progress_line'] = '<strong>{$a->topic}</strong>: {$a->pre} → {$a->post}';
$string['msg:insights.complete:retention'] = '<p>On the refresher you scored {$a->score}: that is what stuck.</p>';
$string['msg:insights.complete:saved_many'] = '<p>Testing out saved you about {$a->duration}: {$a->count} activities on topics you already knew were completed for you.</p>';
$string['msg:insights.complete:saved_one'] = '<p>Testing out saved you about {$a->duration}: {$a->count} activity on topics you already knew were completed for you.</p>';
$string['msg:insights.complete:score_line'] = '<strong>{$a->topic}</strong>: {$a->score}';
$string['msg:insights.complete:steady'] = 'you kept it';
$string['msg:insights.complete:summary'] = 'what you gained';
$string['msg:insights.complete:with_change'] = '{$a->line} ({$a->change})';
$string['msg:insights.team:idle'] = ', no progress for {$a->days} days';
$string['msg:insights.team:intro'] = '<p>Hi {$a->firstname}, here is how your team is doing in {$a->courselink} this week.</p>{$a->members}';
$string['msg:insights.team:member'] = '<strong>{$a->name}</strong>: {$a->status}; {$a->detail}';
$string['msg:insights.team:no_scores'] = 'no pre-check yet';
$string['msg:insights.team:pending'] = '<p>Waiting for your sign-off: {$a->count} ({$a->names}). Sign off in the {$a->link}.</p>';
$string['msg:insights.team:pending_link'] = 'course completion report';
$string['msg:insights.team:post_scores'] = 'post-assessment {$a->scores}';
$string['msg:insights.team:score'] = '{$a->topic} {$a->score}';
$string['msg:insights.team:scores'] = 'pre-check {$a->scores}';
$string['msg:insights.team:status.awaiting'] = 'finished every activity and awaits your sign-off';
$string['msg:insights.team:status.completed'] = 'completed the programme';
$string['msg:insights.team:status.progress'] = '{$a->done} of {$a->total} activities done';
$string['msg:insights.team:stuck'] = '<p>Could use a word of encouragement (no progress in {$a->days} days): {$a->names}.</p>';
$string['msg:insights.team:summary'] = 'your team this week ({$a->week})';
$string['msg:kickoff.learner:body'] = '<p>Hi {$a->firstname}, welcome to {$a->courselink}.</p><p>{$a->manager} knows you are taking it and will sign off your completion: they are there to back you.</p>{$a->sponsor}';
$string['msg:kickoff.learner:no_manager'] = 'Your manager';
$string['msg:kickoff.learner:signature'] = '<br>— {$a->sponsor}';
$string['msg:kickoff.learner:sponsor'] = '<blockquote>{$a->message}{$a->signature}</blockquote>';
$string['msg:kickoff.learner:summary'] = 'kickoff';
$string['msg:kickoff.manager:body'] = '<p>Hi {$a->firstname}, {$a->count} of your team started {$a->courselink}:</p>{$a->learners}';
$string['msg:kickoff.manager:summary'] = 'team started ({$a->count})';
$string['msg:kickoff.manager:tip1'] = 'Ask them what they want to get out of the course, and check in once a week.';
$string['msg:kickoff.manager:tip2'] = 'Give them protected time in their week for the activities.';
$string['msg:kickoff.manager:tip3'] = 'When they finish, sit down together and agree one thing to apply on the job.';
$string['msg:kickoff.manager:tips_intro'] = '<p>Three ways to back them:</p>{$a->tips}';
$string['msg:poll.answer:intro'] = '<p>Hi {$a->firstname}, thank you for telling us what {$a->courselink} should solve. Where your team stands on it:</p>{$a->topics}';
$string['msg:poll.answer:moved'] = 'You asked about {$a->topic}; your team\'s {$a->topic} score went from {$a->pre} to {$a->post}';
$string['msg:poll.answer:none'] = 'You asked about {$a->topic}; no {$a->topic} scores from your team yet';
$string['msg:poll.answer:pre'] = 'You asked about {$a->topic}; your team\'s {$a->topic} score at the pre-check: {$a->pre}';
$string['msg:poll.answer:summary'] = 'what you asked for';
$string['msg:poll.invite:ask'] = '<p>Which problems should it solve for your team? Tell us in two minutes:</p><p>{$a->polllink}</p><p>Your answer shapes what the training stresses, and later you will see how your team\'s scores moved on exactly those topics.</p>';
$string['msg:poll.invite:body'] = '<p>Hi {$a->firstname}, {$a->count} of your team are taking {$a->courselink}.</p>{$a->ask}';
$string['msg:poll.invite:body_one'] = '<p>Hi {$a->firstname}, 1 of your team is taking {$a->courselink}.</p>{$a->ask}';
$string['msg:poll.invite:summary'] = 'poll invitation';
$string['msg:poll.remind:body'] = '<p>Hi {$a->firstname}, a reminder: what should {$a->course} solve for your team? Two minutes:</p><p>{$a->polllink}</p>';
$string['msg:poll.remind:summary'] = 'poll reminder';
$string['msg:precheck.completed:body'] = '<p>Hi {$a->firstname}, on {$a->date} you took the {$a->quiz} in {$a->course}. You already knew these topics, so we have now marked their activities complete for you:</p>{$a->topics}<p>Continue in {$a->courselink}.</p>';
$string['msg:precheck.completed:no_quiz'] = 'pre-check';
$string['msg:precheck.completed:summary'] = 'activities completed from an earlier pre-check';
$string['msg:precheck.completed:topic_done'] = '<strong>{$a->topic}</strong> ({$a->score}): {$a->activities}';
$string['msg:precheck.result:closing'] = '<p>Continue in {$a->courselink}.</p>';
$string['msg:precheck.result:focus'] = '<p>Focus your time on:</p>{$a->topics}';
$string['msg:precheck.result:intro'] = '<p>Hi {$a->firstname}, thank you for taking the {$a->quiz} in {$a->course}.</p>';
$string['msg:precheck.result:known'] = '<p>You also know {$a->topics}: nothing was left to complete there.</p>';
$string['msg:precheck.result:no_quiz'] = 'pre-check';
$string['msg:precheck.result:nothing_tested_out'] = '<p>No topic reached {$a->passmark} this time, so every activity is waiting for you.</p>';
$string['msg:precheck.result:subject'] = 'Your {$a->course} pre-check results';
$string['msg:precheck.result:summary'] = 'pre-check results';
$string['msg:precheck.result:tested_out'] = '<p>You already know these topics, so we have marked their activities complete for you:</p>{$a->topics}';
$string['msg:precheck.result:topic_done'] = '<strong>{$a->topic}</strong> ({$a->score}): {$a->activities}';
$string['msg:precheck.result:topic_focus'] = '<strong>{$a->topic}</strong>: you scored {$a->score}';
$string['msg:precheck.result:topic_known'] = '<strong>{$a->topic}</strong> ({$a->score})';
$string['msg:signoff.digest:confirm'] = '<p>By signing off you confirm that each of them completed the course: every activity is done, by them or, in a topic they tested out of, on their pre-check score.</p>';
$string['msg:signoff.digest:escalated'] = '<p>These learners have waited longer than expected for their manager\'s sign-off; please sign off or follow up:</p>{$a->learners}';
$string['msg:signoff.digest:escalated_learner'] = '{$a->line} (manager {$a->manager})';
$string['msg:signoff.digest:greeting'] = '<p>Hi {$a->firstname},</p>';
$string['msg:signoff.digest:learner'] = '{$a->name}: finished every activity {$a->ago} ago';
$string['msg:signoff.digest:needs_role'] = '<p>If the report does not open for you, ask your site administrator to enrol you in {$a->course} with the sign-off role.</p>';
$string['msg:signoff.digest:own_many'] = '<p>{$a->reminder}{$a->count} of your team are waiting for your sign-off in {$a->course}:</p>{$a->learners}';
$string['msg:signoff.digest:own_one'] = '<p>{$a->reminder}{$a->count} of your team is waiting for your sign-off in {$a->course}:</p>{$a->learners}';
$string['msg:signoff.digest:page.completion_report'] = 'course completion report (every learner of the course: find yours by name)';
$string['msg:signoff.digest:page.completion_report_team'] = 'course completion report, showing your team';
$string['msg:signoff.digest:page.plugin'] = 'your Sign-off requests page';
$string['msg:signoff.digest:post'] = '; post-assessment {$a->score}';
$string['msg:signoff.digest:reminder'] = 'Reminder: ';
$string['msg:signoff.digest:sign'] = '<p>Sign off in one click each on the {$a->link}.</p>';
$string['msg:signoff.digest:summary'] = 'sign-off request ({$a->count} learners)';
$string['msg:signoff.digest:summary_one'] = 'sign-off request (1 learner)';
$string['msg:signoff.digest:summary_reminder'] = 'sign-off reminder ({$a->count} learners)';
$string['msg:signoff.digest:summary_reminder_one'] = 'sign-off reminder (1 learner)';
$string['msg:signoff.digest:tested_out'] = '; tested out of {$a->topics} on the pre-check';
$string['msg:signoff.digest:topic_score'] = '{$a->topic} ({$a->score})';
$string['msg:signoff.signed:body'] = '<p>Hi {$a->firstname}, {$a->who} has signed off your completion of {$a->courselink}. Congratulations!</p>';
$string['msg:signoff.signed:no_signer'] = 'your manager';
$string['msg:signoff.signed:summary'] = 'signed off';
// END message strings.
