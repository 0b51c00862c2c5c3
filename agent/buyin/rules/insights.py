"""Insight messages (SPEC §4.5, practice P4): pure, like every rule.

- **Completion**: on a learner's final completion (every criterion met, so signed
  off where the programme has sign-off) they get ONE message: their improvement per
  topic (post − pre where a post score exists, else their pre-check scores), the time
  testing out saved them, and where they stand among the programme's learners
  (the share of colleagues whose post, else pre-check, average is below theirs),
  worded kindly: "ahead of N%" only from 50% up, encouragement otherwise. Key
  ``message:insight-complete:u{uid}:p{program}``. The same completions as the
  follow-up's: from ``mapped_since`` on (every one without it), or those inside
  a backfill's window. ``insights.learner_summary = false`` turns it off.
- **Manager digest** (``insights.manager_digest_weekday``): once per manager per ISO
  week, on or after that weekday: each direct report's scores per topic and progress,
  who awaits their sign-off, who is stuck (no progress in 14 days). Key
  ``message:insight-team:u{mgr}:p{program}:{YYYY-Www}``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from buyin.model.actions import Action
from buyin.model.clock import DAY, parse_day_or_none
from buyin.model.snapshot import Learner, LearnerData, Person, Snapshot
from buyin.model.standing import STUCK_DAYS, ahead_of
from buyin.rules import History, RuleResult
from buyin.rules.followup import in_scope
from buyin.rules.messages import course_link, first_name, message
from buyin.rules.precheck import counting_attempt, post_scores, topic_scores

COMPLETE = "insight-complete"
TEAM = "insight-team"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def iso_week(ts: int) -> str:
    year, week, _ = datetime.fromtimestamp(ts, UTC).isocalendar()
    return f"{year}-W{week:02d}"


def precheck_scores(snapshot: Snapshot, learner: Learner) -> dict[str, float] | None:
    """The learner's pre-check score per topic (the counting attempt), or None."""
    cfg = snapshot.programme.precheck
    if cfg is None:
        return None
    attempt = counting_attempt(learner.data.attempts, cfg.attempt)
    if attempt is None:
        return None
    scores = topic_scores(attempt, cfg)
    if isinstance(scores, str):
        return None
    return {s.topic.name: s.fraction for s in scores}


def last_progress(data: LearnerData) -> int | None:
    times = [s.timecompleted for s in data.activities.values() if s.complete and s.timecompleted]
    times += [t for a in data.attempts for t in (a.timestart, a.timefinish) if t]
    return max(times) if times else None


def minutes_saved(history: History, uid: int) -> tuple[float, int]:
    """Minutes testing out saved the learner, and how many activities (applied overrides)."""
    mine = history.ledger.applied("override").get(uid, [])
    return sum(float(e.reason.get("minutes_saved", 0)) for e in mine), len(mine)


def evaluate(snapshot: Snapshot, history: History, now: int) -> RuleResult:
    cfg = snapshot.programme.insights
    result = RuleResult()
    if cfg.get("learner_summary", True):
        result.actions.extend(completion_messages(snapshot, history, now))
    weekday = cfg.get("manager_digest_weekday")
    if weekday in WEEKDAYS and datetime.fromtimestamp(now, UTC).weekday() >= WEEKDAYS.index(
        weekday
    ):
        result.actions.extend(manager_digests(snapshot, now))
    return result


# -- the learner's completion message ---------------------------------------------------


def completion_messages(snapshot: Snapshot, history: History, now: int) -> list[Action]:
    program = snapshot.programme.id
    since = snapshot.programme.mapped_since
    mapped_since = parse_day_or_none(since)
    # the cohort: everyone with a result, ranked by their post-assessment average where
    # the programme maps one, else by their pre-check average
    standing: dict[int, float] = {}
    pre: dict[int, dict[str, float]] = {}
    post: dict[int, dict[str, float]] = {}
    for uid, learner in snapshot.learners.items():
        scores = precheck_scores(snapshot, learner)
        if scores:
            pre[uid] = scores
        after = post_scores(snapshot, learner)
        if after:
            post[uid] = after
        basis_scores = after or scores or {}
        if basis_scores:
            standing[uid] = sum(basis_scores.values()) / len(basis_scores)
    actions = []
    for uid, learner in sorted(snapshot.learners.items()):
        completion = learner.data.completion
        done_at = completion.completion_time if completion else None
        if done_at is None:
            continue
        key = f"message:{COMPLETE}:u{uid}:p{program}"
        if history.applied(key):
            continue
        if not in_scope(done_at, history, mapped_since):
            continue  # before mapped_since: left to `buyin backfill`, like the follow-up
        saved, activities = minutes_saved(history, uid)
        share = None
        if uid in standing:
            share = ahead_of(standing[uid], (s for o, s in standing.items() if o != uid))
        data = {
            "firstname": first_name(learner.person),
            "course": course_link(snapshot.course),
            "pre": pre.get(uid, {}),
            "post": post.get(uid, {}),
            "minutes": saved,
            "activities": activities,
            "share": share,
            "basis": "post" if uid in post else "precheck",
        }
        reason = {
            "rule": COMPLETE,
            "completed_at": done_at,
            "minutes_saved": saved,
            "ahead_of": None if share is None else round(share, 4),
        }
        actions.append(message(program, key, learner.person, "insights.complete", data, reason))
    return actions


# -- the manager's weekly digest -----------------------------------------------------


def manager_digests(snapshot: Snapshot, now: int) -> list[Action]:
    program = snapshot.programme.id
    week = iso_week(now)
    teams: dict[int, list[Learner]] = {}
    bosses: dict[int, Person] = {}
    for _, learner in sorted(snapshot.learners.items()):
        if learner.person.suspended or not learner.person.active:
            continue
        boss = snapshot.line_manager(learner.person)
        if boss is None or boss.suspended:
            continue
        bosses[boss.id] = boss
        teams.setdefault(boss.id, []).append(learner)
    actions = []
    for mid, team in sorted(teams.items()):
        boss = bosses[mid]
        data, reason = digest_data(snapshot, boss, team, now)
        actions.append(
            message(
                program,
                f"message:{TEAM}:u{mid}:p{program}:{week}",
                boss,
                "insights.team",
                {**data, "week": week},
                {"rule": TEAM, "week": week, **reason},
            )
        )
    return actions


def digest_data(
    snapshot: Snapshot, boss: Person, team: list[Learner], now: int
) -> tuple[dict[str, object], dict[str, object]]:
    """The facts of a manager's weekly digest (template "insights.team"), and its reason."""
    course = snapshot.course
    members: list[dict[str, object]] = []
    pending: list[str] = []
    stuck: list[str] = []
    tracked = [
        a
        for a in snapshot.activities
        if a.completion and (snapshot.quiz is None or a.cmid != snapshot.quiz.cmid)
    ]
    for learner in team:
        data = learner.data
        completion = data.completion
        done = sum(1 for a in tracked if (s := data.activities.get(a.cmid)) and s.complete)
        member: dict[str, object] = {
            "name": learner.person.fullname or learner.person.username,
            "done": done,
            "total": len(tracked),
            "idle_days": None,
            "scores": precheck_scores(snapshot, learner),
        }
        if completion is not None and completion.completion_time is not None:
            member["status"] = "completed"
        elif completion is not None and completion.awaiting_signoff:
            member["status"] = "awaiting"
            pending.append(learner.person.username)
        else:
            member["status"] = "progress"
            idle = (now - (last_progress(data) or learner.first_seen)) / DAY
            if idle >= STUCK_DAYS:
                stuck.append(learner.person.username)
                member["idle_days"] = int(idle)
        members.append(member)
    names = {lr.person.username: lr.person.fullname or lr.person.username for lr in team}
    facts: dict[str, object] = {
        "firstname": first_name(boss),
        "course": course_link(course),
        "members": members,
        "pending": [names[u] for u in pending],
        "stuck": [names[u] for u in stuck],
        "stuck_days": int(STUCK_DAYS),
        "signoff_url": f"{snapshot.site_url}/report/completion/index.php?course={course.id}",
    }
    reason: dict[str, object] = {
        "learners": [lr.id for lr in team],
        "pending": pending,
        "stuck": stuck,
    }
    return facts, reason
