"""Learning that continues (SPEC §4.3, practice P3).

Trigger: final course completion: every criterion met (sign-off included where
the course requires it); its time is the latest criterion time, since Moodle's
web services give no course-level completion time and Moodle itself marks the
course complete only at its next cron. Then, each optional in the mapping:

- a job-aid message at once;
- enrolment in the refresher course with ``timestart`` = completion + ``delay_days``
  (and ``timeend`` after ``duration_days``), the student role passed explicitly; a
  learner already enrolled there is left as is;
- a message on the day the refresher opens: scheduled, and sent by the first sync on
  or after that day (only where we enrolled them);
- a note to the manager with the refresher date;
- the refresher's quiz result, once there, recorded as the learner's retention.

Completions before ``mapped_since`` are left alone by sync; ``buyin backfill``
passes a window that covers them.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

from buyin.model.actions import Action, EnrolParams, Kind
from buyin.model.clock import DAY, parse_day_or_none
from buyin.model.ledger import Status
from buyin.model.programme import Followup, Signoff
from buyin.model.snapshot import Learner, Snapshot
from buyin.rules import History, RuleResult
from buyin.rules.messages import link, message
from buyin.rules.signoff import resolve_approver

FOLLOWUP = {"rule": "followup"}


def date_text(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%A %d %B %Y")


def completed_at(learner: Learner) -> int | None:
    completion = learner.data.completion
    return completion.completion_time if completion is not None else None


def in_scope(done: int, history: History, mapped_since: int | None) -> bool:
    if history.window is not None:
        since, until = history.window
        return since <= done <= until
    return mapped_since is None or done >= mapped_since


def evaluate(snapshot: Snapshot, history: History, now: int) -> RuleResult:
    cfg = snapshot.programme.followup or Followup()
    result = RuleResult()
    program = snapshot.programme.id
    mapped_since = parse_day_or_none(snapshot.programme.mapped_since)
    for uid, learner in sorted(snapshot.learners.items()):
        done = completed_at(learner)
        if done is None:
            continue
        result.facts.setdefault(uid, {})["completed_at"] = done
        if uid in snapshot.retention:
            result.facts[uid]["retention"] = {"overall": snapshot.retention[uid]}
        if not in_scope(done, history, mapped_since):
            continue
        person = learner.person
        firstname = html.escape(person.firstname or person.fullname)
        course = snapshot.course
        if cfg.job_aid is not None:
            aid = cfg.job_aid
            text = (
                f"<p>Well done, {firstname}: you have completed "
                f"{link(course.url, course.fullname)}.</p>"
                f"<p>Keep this close for your next conversations: {link(aid.url, aid.title)}</p>"
                + (f"<p>{html.escape(aid.takeaway)}</p>" if aid.takeaway else "")
            )
            result.actions.append(
                message(
                    program, f"message:jobaid:u{uid}:p{program}", person, "job aid", text, FOLLOWUP
                )
            )
        refresher = cfg.refresher
        opens: int | None = None
        if refresher is not None and snapshot.refresher is not None:
            target = snapshot.refresher
            roleid = (
                refresher.role
                if isinstance(refresher.role, int)
                else snapshot.roles.get(refresher.role, 5)
            )
            opens = done + int(refresher.delay_days * DAY)
            enrol_key = f"enrol:u{uid}:c{target.id}:r{roleid}"
            params = EnrolParams(
                courseid=target.id,
                roleid=roleid,
                timestart=opens,
                timeend=opens + int(refresher.duration_days * DAY)
                if refresher.duration_days
                else 0,
            )
            result.actions.append(
                Action(
                    key=enrol_key,
                    kind=Kind.ENROL,
                    program=program,
                    userid=uid,
                    target=f"{person.username} → {target.shortname}",
                    params=params,
                    reason={"rule": "followup", "completed_at": done},
                )
            )
            result.facts[uid]["refresher_start"] = opens
            # "skipped": they were already enrolled there, so we announce nothing
            if refresher.notify_when_open and history.status(enrol_key) != Status.SKIPPED:
                open_key = f"message:refresher-open:u{uid}:c{target.id}"
                if now >= opens:
                    text = (
                        f"<p>Hi {firstname}, your refresher "
                        f"{link(target.url, target.fullname)} is open now: it takes a few "
                        "minutes and shows what stuck.</p>"
                    )
                    result.actions.append(
                        message(
                            program,
                            open_key,
                            person,
                            "refresher open",
                            text,
                            FOLLOWUP,
                            requires=(enrol_key,),
                        )
                    )
                else:
                    result.schedule[open_key] = (uid, opens, {"course": target.id})
        if cfg.notify_manager:
            approver, _ = resolve_approver(
                snapshot, person, snapshot.programme.signoff or Signoff()
            )
            if approver is not None and not approver.note:
                manager = approver.person
                when = f" Their refresher opens on {date_text(opens)}." if opens else ""
                text = (
                    f"<p>Hi {html.escape(manager.firstname or manager.fullname)}, "
                    f"{html.escape(person.fullname)} has completed "
                    f"{link(course.url, course.fullname)}.{when}</p>"
                    "<p>Ask them which idea they will use first, and notice when they do.</p>"
                )
                result.actions.append(
                    message(
                        program,
                        f"message:followup-manager:u{manager.id}:u{uid}:p{program}",
                        manager,
                        f"{person.username} completed",
                        text,
                        {"rule": "followup-manager", "learner": uid},
                    )
                )
    return result
