"""Poll (SPEC §4.6, practice P7): ask the managers of enrolled learners which problems
training should solve, and tell them once what their team's scores say about it.

Per round (``[poll] ask``: one from the programme's start, one every N weeks, or one
before each new cohort), every manager of an active learner who has not answered:

- where they cannot answer (not enrolled in the poll's course with the role that can
  submit): an enrolment, or the role where they are enrolled without it;
- one invitation with the link;
- one reminder, ``remind_after_days`` after the invitation, while Moodle still lists
  them among the non-respondents.

A manager who answered this round is not invited; they get one message with their own
answer beside their team's pre-check (and, once learners finish, post) scores on
exactly those topics. An anonymous Feedback tells nobody's answer: everyone is invited
once per round and nobody is reminded.
"""

from __future__ import annotations

from typing import Any

from buyin.model.actions import Action, EnrolParams, Kind, RoleAssignParams
from buyin.model.clock import DAY, parse_day, parse_day_or_none, working_day
from buyin.model.poll import PollAnswer, PollState
from buyin.model.programme import Poll
from buyin.model.snapshot import Learner, Person, Snapshot
from buyin.rules import History, RuleResult
from buyin.rules.insights import precheck_scores
from buyin.rules.messages import course_link, first_name, message
from buyin.rules.precheck import post_scores

INVITE = "poll-invite"
REMIND = "poll-remind"
ANSWER = "poll-answer"
ENROL = "poll-enrol"


def current_round(cfg: Poll, start: int, now: int) -> tuple[str, int] | None:
    """The round open now: its name (part of the action keys) and when it opened."""
    if cfg.ask == "every" and cfg.every_weeks:
        period = int(cfg.every_weeks * 7 * DAY)
        number = max(0, (now - start) // period)
        return f"r{number + 1}", start + number * period
    if cfg.ask == "cohort":
        opened = [
            (day, parse_day(day) - int(cfg.days_before * DAY))
            for day in cfg.cohort_starts
            if parse_day(day) - int(cfg.days_before * DAY) <= now
        ]
        if not opened:
            return None
        day, at = opened[-1]
        return f"c{day}", at
    return "start", start


def managers_of(snapshot: Snapshot) -> dict[int, tuple[Person, list[Learner]]]:
    """Each active manager of an active learner, with those learners."""
    found: dict[int, tuple[Person, list[Learner]]] = {}
    for _, learner in sorted(snapshot.learners.items()):
        if not learner.person.active:
            continue
        boss = snapshot.line_manager(learner.person)
        if boss is None or boss.suspended or not boss.active:
            continue
        found.setdefault(boss.id, (boss, []))[1].append(learner)
    return found


def evaluate(snapshot: Snapshot, history: History, now: int) -> RuleResult:
    result = RuleResult()
    cfg = snapshot.programme.poll
    poll = snapshot.poll
    if cfg is None or poll is None:
        return result
    start = parse_day_or_none(snapshot.programme.mapped_since) or history.mapped_at or now
    found = current_round(cfg, start, now)
    if found is None:
        return result
    name, opened = found
    first = name in ("start", "r1")
    program = snapshot.programme.id
    for mid, (manager, team) in sorted(managers_of(snapshot).items()):
        answer = poll.answers.get(mid)
        if answer is not None and (first or answer.timemodified >= opened):
            thanks = f"message:{ANSWER}:u{mid}:p{program}:{name}"
            # an answer from before the programme's start line is history: no news
            if not history.applied(thanks) and answer.timemodified >= start:
                result.actions.append(_thanks(snapshot, manager, team, answer, thanks))
            continue
        invite = f"message:{INVITE}:u{mid}:p{program}:{name}"
        if not history.applied(invite):
            requires = _enrolment(snapshot, poll, manager, result)
            result.actions.append(_invitation(snapshot, poll, manager, team, invite, requires))
            continue
        if poll.anonymous or mid not in poll.non_respondents:
            continue
        remind = f"message:{REMIND}:u{mid}:p{program}:{name}"
        if history.applied(remind):
            continue
        invited = history.ledger.entry(invite)
        invited_at = (invited.applied_at if invited else None) or now
        due = invited_at + int(cfg.remind_after_days * DAY)
        if now >= due and working_day(now, snapshot.programme.working_days):
            result.actions.append(_reminder(snapshot, poll, manager, remind))
        else:
            result.schedule[remind] = (mid, due, {"rule": REMIND, "round": name})
    return result


def _enrolment(
    snapshot: Snapshot, poll: PollState, manager: Person, result: RuleResult
) -> tuple[str, ...]:
    """Make the manager able to answer: the key to wait for, if any."""
    if poll.anonymous or poll.can_answer(manager.id):
        return ()
    program = snapshot.programme.id
    reason = {"rule": ENROL, "feedback": poll.feedbackid}
    if manager.id in poll.enrolled:
        key = f"role:u{manager.id}:c{poll.courseid}:r{poll.roleid}"
        params: EnrolParams | RoleAssignParams = RoleAssignParams(poll.courseid, poll.roleid)
        kind = Kind.ROLE_ASSIGN
    else:
        key = f"enrol:u{manager.id}:c{poll.courseid}:r{poll.roleid}"
        params = EnrolParams(poll.courseid, poll.roleid)
        kind = Kind.ENROL
    result.actions.append(Action(key, kind, program, manager.id, manager.username, params, reason))
    return (key,)


def _link(poll: PollState) -> dict[str, str]:
    return {"name": poll.name, "url": poll.url}


def _invitation(
    snapshot: Snapshot,
    poll: PollState,
    manager: Person,
    team: list[Learner],
    key: str,
    requires: tuple[str, ...],
) -> Action:
    data = {
        "firstname": first_name(manager),
        "count": len(team),
        "course": course_link(snapshot.course),
        "poll": _link(poll),
    }
    reason = {"rule": INVITE, "feedback": poll.feedbackid, "team": [x.id for x in team]}
    program = snapshot.programme.id
    return message(program, key, manager, "poll.invite", data, reason, requires)


def _reminder(snapshot: Snapshot, poll: PollState, manager: Person, key: str) -> Action:
    data = {
        "firstname": first_name(manager),
        "course": course_link(snapshot.course),
        "poll": _link(poll),
    }
    reason = {"rule": REMIND, "feedback": poll.feedbackid}
    return message(snapshot.programme.id, key, manager, "poll.remind", data, reason)


def team_scores(
    snapshot: Snapshot, team: list[Learner], topics: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Per topic the manager asked about: their team's mean pre-check score, and the
    post score where learners have finished one (None where nobody has a score)."""
    pre = [s for x in team if (s := precheck_scores(snapshot, x)) is not None]
    post = [s for x in team if (s := post_scores(snapshot, x))]
    out = []
    for topic in topics:
        before = [s[topic] for s in pre if topic in s]
        after = [s[topic] for s in post if topic in s]
        out.append(
            {
                "topic": topic,
                "pre": round(sum(before) / len(before), 4) if before else None,
                "post": round(sum(after) / len(after), 4) if after else None,
            }
        )
    return out


def _thanks(
    snapshot: Snapshot, manager: Person, team: list[Learner], answer: PollAnswer, key: str
) -> Action:
    data = {
        "firstname": first_name(manager),
        "course": course_link(snapshot.course),
        "topics": team_scores(snapshot, team, answer.topics),
    }
    reason = {"rule": ANSWER, "topics": list(answer.topics)}
    return message(snapshot.programme.id, key, manager, "poll.answer", data, reason)
