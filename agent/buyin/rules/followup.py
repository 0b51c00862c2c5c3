"""Learning that continues (SPEC §4.3, practice P3).

Trigger: final course completion as Moodle says it: the course marked complete by
Moodle's completion cron (every criterion met, sign-off included, is not enough: the
refresher and the news wait for Moodle), at Moodle's own completion time where it
gives one (local_buyin), else the latest criterion time (core's web services give no
course-level time). Then, each optional in the mapping:

- a job-aid message at once;
- enrolment in the refresher course with ``timestart`` = completion + ``delay_days``
  (and ``timeend`` after ``duration_days``), the student role passed explicitly; a
  learner already enrolled there is left as is;
- a message on the day the refresher opens: scheduled, and sent by the first sync on
  or after that day (only where we enrolled them);
- a note to the manager with the refresher date;
- the refresher's quiz result, once there, recorded as the learner's retention.

Completions before the start line (``mapped_since``, by default the programme's
first sync) are history: sync leaves them alone; ``buyin backfill --followup``
passes a window that covers them.
"""

from __future__ import annotations

from typing import Any

from buyin.model.actions import Action, EnrolParams, Kind
from buyin.model.clock import DAY
from buyin.model.programme import Followup, Signoff
from buyin.model.snapshot import Learner, Snapshot
from buyin.rules import History, RuleResult
from buyin.rules.messages import course_link, first_name, message, plugin_page
from buyin.rules.signoff import resolve_approver

FOLLOWUP = {"rule": "followup"}


def completed_at(learner: Learner) -> int | None:
    """When Moodle says the course is complete (never before its completion cron, even
    where local_buyin already recorded the sign-off)."""
    completion = learner.data.completion
    return completion.completed_at if completion is not None else None


def evaluate(snapshot: Snapshot, history: History, now: int) -> RuleResult:
    cfg = snapshot.programme.followup or Followup()
    result = RuleResult()
    program = snapshot.programme.id
    for uid, learner in sorted(snapshot.learners.items()):
        done = completed_at(learner)
        if done is None:
            continue
        result.facts.setdefault(uid, {})["completed_at"] = done
        if uid in snapshot.retention:
            result.facts[uid]["retention"] = {"overall": snapshot.retention[uid]}
        if not history.in_scope("followup", done, snapshot):
            result.hold("followup", uid, done)
            continue
        person = learner.person
        firstname = first_name(person)
        course = course_link(snapshot.course)
        if cfg.job_aid is not None:
            aid = cfg.job_aid
            data: dict[str, Any] = {
                "firstname": firstname,
                "course": course,
                "aid": {"title": aid.title, "url": aid.url, "takeaway": aid.takeaway or ""},
            }
            result.actions.append(
                message(
                    program,
                    f"message:jobaid:u{uid}:p{program}",
                    person,
                    "followup.job_aid",
                    data,
                    FOLLOWUP,
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
            # enrolled there before we tried: not ours to announce
            enrolled = history.ledger.entry(enrol_key)
            if refresher.notify_when_open and not (enrolled and enrolled.held_before_us):
                open_key = f"message:refresher-open:u{uid}:c{target.id}"
                if now >= opens:
                    result.actions.append(
                        message(
                            program,
                            open_key,
                            person,
                            "followup.refresher_open",
                            {"firstname": firstname, "refresher": course_link(target)},
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
                data = {
                    "firstname": first_name(manager),
                    "learner": person.fullname,
                    "username": person.username,
                    "course": course,
                    "refresher_opens": opens,
                    # a date before the message goes out is told as past, never as to come
                    "now": now,
                    "team": plugin_page(snapshot, "myteam"),
                }
                result.actions.append(
                    message(
                        program,
                        f"message:followup-manager:u{manager.id}:u{uid}:p{program}",
                        manager,
                        "followup.manager_note",
                        data,
                        {"rule": "followup-manager", "learner": uid},
                    )
                )
    return result
