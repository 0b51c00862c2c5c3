"""Every message the agent sends, as one table of templates (English).

A template id names one message ("precheck.result"); its fragments use
``{placeholders}`` that :mod:`buyin.messages.render` fills with HTML-escaped values
(or with HTML it built itself: lists, links). ``summary`` is the one line a plan
shows. ``common`` holds the words every message may use (durations, dates).

Where the mapping allows it, a programme overrides fragments:
:func:`overrides` says which. A later language is one more table like :data:`EN`.
Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping

from buyin.model.programme import Programme

Table = Mapping[str, Mapping[str, str]]

EN: Table = {
    "common": {
        #: local_buyin's pages, where the site has the plugin
        "results": "<p>All your scores, and how they moved, are on your {link} page.</p>",
        "results_link": "My results",
        "team": "<p>Follow their progress on your {link} page.</p>",
        "team_link": "My team",
        "list": "<ul>{items}</ul>",
        "item": "<li>{item}</li>",
        "strong": "<strong>{text}</strong>",
        "percent": "{value}%",
        #: how a message greets its reader (a merged message's later parts leave it out)
        "hi": "Hi {firstname},",
        #: who a message is from, where the programme names a sender (Moodle sends every
        #: message from the agent's account)
        "from": "<p>— {sender}. Questions? Reply to {sender} directly: this message was "
        "sent for them by the training system.</p>",
        #: a day: {weekday} {day} {month} {year}, the names from the two lists below
        "date": "{weekday} {day} {month} {year}",
        "weekdays": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
        "months": "January February March April May June July August September October "
        "November December",
        "days": "{n} days",
        "one_day": "1 day",
        "hours": "{n} hours",
        "one_hour": "1 hour",
        "hours_minutes": "{h} h {m} min",
        "hours_only": "{h} h",
        "minutes_only": "{m} min",
    },
    "precheck.result": {
        "summary": "pre-check results",
        # the six below are overridable in the mapping ([precheck.messages])
        "subject": "Your {course} pre-check results",
        "intro": "<p>Hi {firstname}, thank you for taking the {quiz} in {course}.</p>",
        "tested_out": "<p>You already know these topics, so we have marked their activities "
        "complete for you:</p>{topics}",
        "nothing_tested_out": "<p>No topic reached {passmark} this time, so every activity is "
        "waiting for you.</p>",
        "focus": "<p>Focus your time on:</p>{topics}",
        "closing": "<p>Continue in {courselink}.</p>",
        "closing_done": "<p>That was all: nothing is left for you to do in {courselink}.</p>",
        "topic_done": "<strong>{topic}</strong> ({score}): {activities}",
        "known": "<p>You also know {topics}: nothing was left to complete there.</p>",
        "topic_known": "<strong>{topic}</strong> ({score})",
        "topic_focus": "<strong>{topic}</strong>: you scored {score}",
        "no_quiz": "pre-check",
    },
    "precheck.completed": {
        "summary": "activities completed from an earlier pre-check",
        "body": "<p>Hi {firstname}, on {date} you took the {quiz} in {course}. You already "
        "knew these topics, so we have now marked their activities complete for you:</p>"
        "{topics}",
        "closing": "<p>Continue in {courselink}.</p>",
        "closing_done": "<p>That was all: nothing is left for you to do in {courselink}.</p>",
        "topic_done": "<strong>{topic}</strong> ({score}): {activities}",
        "no_quiz": "pre-check",
    },
    "kickoff.learner": {
        "summary": "kickoff",
        # overridable: [kickoff] learner_message
        "body": "<p>Hi {firstname}, welcome to {courselink}.</p>"
        "<p>{manager} knows you are taking it and will sign off your completion: "
        "they are there to back you.</p>{sponsor}",
        "no_manager": "Your manager",
        "sponsor": "<blockquote>{message}{signature}</blockquote>",
        "signature": "<br>— {sponsor}",
    },
    "kickoff.manager": {
        "summary": "team started ({count})",
        # overridable: [kickoff] manager_message
        "body": "<p>Hi {firstname}, {count} of your team started {courselink}:</p>{learners}",
        "tips_intro": "<p>Three ways to back them:</p>{tips}",
        # the defaults of [kickoff] support_tips
        "tip1": "Ask them what they want to get out of the course, and check in once a week.",
        "tip2": "Give them protected time in their week for the activities.",
        "tip3": "When they finish, sit down together and agree one thing to apply on the job.",
    },
    "signoff.digest": {
        "summary": "sign-off request ({count} learners)",
        "summary_one": "sign-off request (1 learner)",
        "summary_reminder": "sign-off reminder ({count} learners)",
        "summary_reminder_one": "sign-off reminder (1 learner)",
        "summary_overdue": "sign-off overdue ({count} learners)",
        "summary_overdue_one": "sign-off overdue (1 learner)",
        "greeting": "<p>Hi {firstname},</p>",
        "own_one": "<p>{reminder}{count} of your team is waiting for your sign-off in "
        "{course}:</p>{learners}",
        "own_many": "<p>{reminder}{count} of your team are waiting for your sign-off in "
        "{course}:</p>{learners}",
        "reminder": "Reminder: ",
        "reminded_one": "<p>A reminder, in case the first one got buried: 1 of your team is "
        "still waiting for your sign-off in {course}:</p>{learners}",
        "reminded_many": "<p>A reminder, in case the first one got buried: {count} of your "
        "team are still waiting for your sign-off in {course}:</p>{learners}",
        "learner": "{name}: finished every activity {ago} ago",
        "asked": " (first asked {ago} ago)",
        "tested_out": "; tested out of {topics} on the pre-check",
        "topic_score": "{topic} ({score})",
        "post": "; post-assessment {score}",
        "confirm_one": "<p>By signing off you confirm that they completed the course: every "
        "activity is done, by them or, in a topic they tested out of, on their pre-check "
        "score.</p>",
        "confirm": "<p>By signing off you confirm that each of them completed the course: "
        "every activity is done, by them or, in a topic they tested out of, on their "
        "pre-check score.</p>",
        "escalated": "<p>These learners have waited longer than expected for their manager's "
        "sign-off in {courselink}, though their manager was asked. Could you have a "
        "word with them?</p>{learners}",
        "escalated_one": "<p>This learner has waited longer than expected for their "
        "manager's sign-off in {courselink}, though their manager was asked. Could you "
        "have a word with them?</p>{learners}",
        "escalated_learner": "{line}; their manager is {manager}",
        "sign": "<p>Sign off in one click each on the {link}.</p>",
        "reject": "<p>If something is missing, reject with a comment there: they are told "
        "what you wrote and what to do next.</p>",
        "needs_role": "<p>If the report does not open for you, ask your site administrator "
        "to enrol you in {course} with the sign-off role.</p>",
        # the link's words name the page it opens
        "page.completion_report": "course completion report (every learner of the course: "
        "find yours by name)",
        "page.completion_report_team": "course completion report, showing your team",
        "page.plugin": "Sign-off requests page",
    },
    "signoff.signed": {
        "summary": "signed off",
        "body": "<p>Hi {firstname}, {who} has signed off your completion of {courselink}. "
        "Congratulations!</p>",
        "no_signer": "your manager",
    },
    "signoff.rejected": {
        "summary": "sign-off not yet given",
        "body": "<p>Hi {firstname}, {who} has looked at your completion of {courselink} and "
        "is not ready to sign it off yet.</p>{comment}"
        "<p>What to do next: talk to {who} about what they would like to see, and do it. "
        "Your activities stay complete, so there is nothing to start again: when you are "
        "ready, {who} can sign off your completion on the same request.</p>"
        "<p>Your scores and progress are on {resultslink}.</p>",
        "comment": "<p>{who} wrote:</p><blockquote>{comment}</blockquote>",
        "no_comment": "<p>They left no comment, so ask them what is missing.</p>",
        "no_signer": "your manager",
        "results": "your My results page",
    },
    "followup.job_aid": {
        "summary": "job aid",
        "body": "<p>Well done, {firstname}: you have completed {courselink}.</p>"
        "<p>Keep this close for your next conversations: {aidlink}</p>",
        # after another part of the same message (who signed off)
        "body_more": "<p>Keep this close for your next conversations: {aidlink}</p>",
        "takeaway": "<p>{takeaway}</p>",
    },
    "followup.refresher_open": {
        "summary": "refresher open",
        "body": "<p>Hi {firstname}, your refresher {refresherlink} is open now: it takes a few "
        "minutes and shows what stuck.</p>",
    },
    "followup.manager_note": {
        "summary": "{learner} completed",
        "body": "<p>Hi {firstname}, {learner} has completed {courselink}.{when}</p>"
        "<p>Ask them which idea they will use first, and notice when they do.</p>",
        "when": " Their refresher opens on {date}.",
        "when_past": " Their refresher opened on {date}.",
    },
    "insights.complete": {
        "summary": "what you gained",
        "intro": "<p>Hi {firstname}, congratulations on completing {courselink}! "
        "Here is what you gained.</p>",
        "intro_more": "<p>What you gained:</p>",
        # nothing is "gained" before a post-assessment or refresher score: only time saved
        "intro_saved": "<p>Hi {firstname}, congratulations on completing {courselink}!</p>",
        "progress": "<p>Your progress per topic (pre-check → post-assessment):</p>{topics}",
        "progress_line": "<strong>{topic}</strong>: {pre} → {post}",
        "gain": "+{n} points",
        "steady": "you kept it",
        "again": "worth another look: the job aid covers it",
        "dip": "a little lower than at the pre-check, which happens: the job aid and the "
        "refresher will help it settle",
        "retention": "<p>On the refresher you scored {score}: that is what stuck.</p>",
        "with_change": "{line} ({change})",
        "final": "<p>Your post-assessment scores per topic:</p>{topics}",
        "score_line": "<strong>{topic}</strong>: {score}",
        "saved_one": "<p>Testing out saved you about {duration}: {count} activity on topics "
        "you already knew were completed for you.</p>",
        "saved_many": "<p>Testing out saved you about {duration}: {count} activities on topics "
        "you already knew were completed for you.</p>",
        "ahead": "<p>On the {basis} you are ahead of {share} of your colleagues in this "
        "programme. Well done!</p>",
        "encourage": "<p>Every colleague starts from a different place: what counts is the "
        "ground you covered, and you finished the whole programme. Keep it up!</p>",
        "basis.post": "post-assessment",
    },
    "insights.team": {
        "summary": "your team this week",
        "intro": "<p>Hi {firstname}, here is how your team is doing in {courselink} "
        "this week.</p>{members}",
        "member": "<strong>{name}</strong>: {status}; {detail}",
        "status.completed": "completed the programme",
        "status.awaiting": "finished every activity and awaits your sign-off",
        "status.progress": "{done} of {total} activities done",
        "idle": ", no progress for {days} days",
        "scores": "pre-check {scores}",
        "post_scores": "post-assessment {scores}",
        "score": "{topic} {score}",
        "no_scores": "no pre-check yet",
        "pending": "<p>Waiting for your sign-off: {count} ({names}). Sign off on the {link}.</p>",
        "pending_link": "course completion report",
        "pending_link.plugin": "Sign-off requests page",
        "stuck": "<p>Could use a word of encouragement (no progress in {days} days): {names}.</p>",
    },
    "poll.invite": {
        "summary": "poll invitation",
        "body": "<p>Hi {firstname}, {count} of your team are taking {courselink}.</p>{ask}",
        "body_one": "<p>Hi {firstname}, 1 of your team is taking {courselink}.</p>{ask}",
        # the link's words are the activity's name (often a question): nothing after it
        "ask": "<p>Which problems should it solve for your team? Tell us in two minutes:</p>"
        "<p>{polllink}</p><p>Your answer shapes what the training stresses, and later you "
        "will see how your team's scores moved on exactly those topics.</p>",
    },
    "poll.remind": {
        "summary": "poll reminder",
        "body": "<p>Hi {firstname}, a reminder: what should {course} solve for your team? "
        "Two minutes:</p><p>{polllink}</p>",
    },
    "poll.answer": {
        "summary": "what you asked for",
        "intro": "<p>Hi {firstname}, thank you for telling us what {courselink} should solve. "
        "Where your team stands on it:</p>{topics}",
        "moved": "You asked about {topic}; your team's {topic} score went from {pre} to {post}",
        "pre": "You asked about {topic}; your team's {topic} score at the pre-check: {pre}",
        "none": "You asked about {topic}; no {topic} scores from your team yet",
    },
}

#: the tables by language
LANGUAGES: Mapping[str, Table] = {"en": EN}


def overrides(programme: Programme) -> dict[str, dict[str, str]]:
    """The fragments a programme's mapping overrides, by template id."""
    out: dict[str, dict[str, str]] = {}
    if programme.precheck is not None and programme.precheck.messages:
        out["precheck.result"] = dict(programme.precheck.messages)
    kickoff = programme.kickoff
    if kickoff is not None and kickoff.learner_message:
        out["kickoff.learner"] = {"body": kickoff.learner_message}
    if kickoff is not None and kickoff.manager_message:
        out["kickoff.manager"] = {"body": kickoff.manager_message}
    return out
