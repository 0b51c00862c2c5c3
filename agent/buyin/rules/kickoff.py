"""Kickoff (SPEC §4.4, practice P5): the learner knows from day one that their
manager and the programme's sponsor back the training, and the manager is invited in.

A learner first seen enrolled gets one message naming their manager and carrying
the sponsor's message; their manager gets one message per day listing the reports
who started, with two or three concrete ways to support them. Once per learner
per programme, and never retroactively: learners who had already made progress
when the programme was first synced (or before ``mapped_since``) get nothing,
unless ``buyin backfill --kickoff`` covers their start.
"""

from __future__ import annotations

from buyin.model.actions import Action
from buyin.model.clock import day_of, parse_day_or_none
from buyin.model.programme import Kickoff, Signoff
from buyin.model.snapshot import Learner, Person, Snapshot
from buyin.rules import History, RuleResult
from buyin.rules.messages import course_link, first_name, message, plugin_page
from buyin.rules.signoff import resolve_approver

RULE = "kickoff"
MANAGER_RULE = "kickoff-manager"


def started_at(learner: Learner) -> int | None:
    """When the learner first made progress (an activity done, a quiz attempt)."""
    times = [s.timecompleted for s in learner.data.activities.values() if s.complete]
    times += [a.timestart for a in learner.data.attempts if a.timestart]
    times = [t for t in times if t]
    return min(times) if times else None


def eligible(learner: Learner, history: History, mapped_since: int | None) -> bool:
    """New since the programme was mapped, or not started yet (or started in the window)."""
    started = started_at(learner)
    if history.window is not None and "kickoff" in history.kinds:
        since, until = history.window
        if started is not None and since <= started <= until:
            return True
    if mapped_since is not None and started is not None and started < mapped_since:
        return False
    if history.mapped_at is not None and learner.first_seen > history.mapped_at:
        return True
    return started is None


def evaluate(snapshot: Snapshot, history: History, now: int) -> RuleResult:
    cfg = snapshot.programme.kickoff or Kickoff()
    result = RuleResult()
    program = snapshot.programme.id
    who = snapshot.programme.signoff or Signoff()
    mapped_since = parse_day_or_none(snapshot.programme.mapped_since)
    told_managers = {
        int(uid) for e in history.delivered(MANAGER_RULE) for uid in e.reason.get("learners", [])
    }
    starters: dict[int, tuple[Person, list[Learner]]] = {}
    for uid, learner in sorted(snapshot.learners.items()):
        if not learner.person.active:
            continue
        key = f"message:kickoff:u{uid}:p{program}"
        welcomed = history.applied(key)
        never_tried = history.status(key) is None
        if never_tried and not eligible(learner, history, mapped_since):
            started = started_at(learner)
            if started is not None:
                result.hold("kickoff", uid, started)
            continue
        approver, _ = resolve_approver(snapshot, learner.person, who)
        manager = approver.person if approver and not approver.note else None
        if not welcomed:
            result.actions.append(_learner_message(snapshot, learner, cfg, manager, key))
        # the manager hears of every welcomed learner once, even one welcomed on a day
        # whose manager message had already gone out
        if manager is not None and uid not in told_managers:
            starters.setdefault(manager.id, (manager, []))[1].append(learner)
    for _, (manager, learners) in sorted(starters.items()):
        result.actions.append(_manager_message(snapshot, manager, learners, cfg, now))
    return result


def _learner_message(
    snapshot: Snapshot, learner: Learner, cfg: Kickoff, manager: Person | None, key: str
) -> Action:
    programme = snapshot.programme
    data = {
        "firstname": first_name(learner.person),
        "manager": manager.fullname if manager else None,
        "course": course_link(snapshot.course),
        "sponsor_message": programme.sponsor_message or "",
        "sponsor": programme.sponsor or "",
    }
    reason = {"rule": RULE, "manager": manager.id if manager else None}
    return message(programme.id, key, learner.person, "kickoff.learner", data, reason)


def _manager_message(
    snapshot: Snapshot, manager: Person, learners: list[Learner], cfg: Kickoff, now: int
) -> Action:
    program = snapshot.programme.id
    data = {
        "firstname": first_name(manager),
        "course": course_link(snapshot.course),
        "learners": [x.person.fullname for x in learners],
        "tips": list(cfg.support_tips),
        "team": plugin_page(snapshot, "myteam"),
    }
    return message(
        program,
        f"message:kickoff-manager:u{manager.id}:p{program}:{day_of(now)}",
        manager,
        "kickoff.manager",
        data,
        {"rule": MANAGER_RULE, "learners": [x.id for x in learners]},
    )
