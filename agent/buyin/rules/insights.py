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

import html
from collections.abc import Mapping
from datetime import UTC, datetime

from buyin.model.actions import Action
from buyin.model.clock import DAY, parse_day_or_none
from buyin.model.snapshot import Learner, LearnerData, Person, Snapshot
from buyin.model.standing import STUCK_DAYS, ahead_of
from buyin.rules import History, RuleResult
from buyin.rules.followup import in_scope
from buyin.rules.messages import html_list, link, message, percent
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


def duration(minutes: float) -> str:
    hours, mins = divmod(round(minutes), 60)
    if hours and mins:
        return f"{hours} h {mins} min"
    return f"{hours} h" if hours else f"{mins} min"


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
        text = completion_text(
            snapshot,
            learner.person,
            pre=pre.get(uid, {}),
            post=post.get(uid, {}),
            minutes=saved,
            activities=activities,
            share=share,
            basis="post-assessment" if uid in post else "pre-check",
        )
        reason = {
            "rule": COMPLETE,
            "completed_at": done_at,
            "minutes_saved": saved,
            "ahead_of": None if share is None else round(share, 4),
        }
        actions.append(message(program, key, learner.person, "what you gained", text, reason))
    return actions


def completion_text(
    snapshot: Snapshot,
    person: Person,
    *,
    pre: Mapping[str, float],
    post: Mapping[str, float],
    minutes: float,
    activities: int,
    share: float | None,
    basis: str,
) -> str:
    course = snapshot.course
    name = html.escape(person.firstname or person.fullname)
    parts = [
        f"<p>Hi {name}, congratulations on completing "
        f"{link(course.url, course.fullname)}! Here is what you gained.</p>"
    ]
    improved = [t for t in post if t in pre]
    if improved:
        items = []
        for t in improved:
            delta = round((post[t] - pre[t]) * 100)
            change = f"+{delta} points" if delta > 0 else "holding steady" if delta == 0 else ""
            line = f"<strong>{html.escape(t)}</strong>: {percent(pre[t])} → {percent(post[t])}"
            items.append(f"{line} ({change})" if change else line)
        parts.append("<p>Your progress per topic (pre-check → final):</p>" + html_list(items))
    elif post:
        items = [f"<strong>{html.escape(t)}</strong>: {percent(v)}" for t, v in post.items()]
        parts.append("<p>Your final scores per topic:</p>" + html_list(items))
    elif pre:
        items = [f"<strong>{html.escape(t)}</strong>: {percent(v)}" for t, v in pre.items()]
        parts.append("<p>Your pre-check scores per topic:</p>" + html_list(items))
    if minutes > 0:
        parts.append(
            f"<p>Testing out saved you about {duration(minutes)}: {activities} "
            f"{'activity' if activities == 1 else 'activities'} on topics you already knew "
            "were completed for you.</p>"
        )
    if share is not None:
        if share >= 0.5:
            parts.append(
                f"<p>On the {basis} you are ahead of {percent(share)} of your colleagues "
                "in this programme. Well done!</p>"
            )
        else:
            parts.append(
                "<p>Every colleague starts from a different place: what counts is the "
                "ground you covered, and you finished the whole programme. Keep it up!</p>"
            )
    return "".join(parts)


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
        text, reason = digest_text(snapshot, boss, team, now)
        actions.append(
            message(
                program,
                f"message:{TEAM}:u{mid}:p{program}:{week}",
                boss,
                f"your team this week ({week})",
                text,
                {"rule": TEAM, "week": week, **reason},
            )
        )
    return actions


def digest_text(
    snapshot: Snapshot, boss: Person, team: list[Learner], now: int
) -> tuple[str, dict[str, object]]:
    course = snapshot.course
    lines = []
    pending: list[str] = []
    stuck: list[str] = []
    for learner in team:
        data = learner.data
        who = html.escape(learner.person.fullname or learner.person.username)
        completion = data.completion
        tracked = [
            a
            for a in snapshot.activities
            if a.completion and (snapshot.quiz is None or a.cmid != snapshot.quiz.cmid)
        ]
        done = sum(1 for a in tracked if (s := data.activities.get(a.cmid)) and s.complete)
        if completion is not None and completion.completion_time is not None:
            status = "completed the programme"
        elif completion is not None and completion.awaiting_signoff:
            status = "finished every activity and awaits your sign-off"
            pending.append(learner.person.username)
        else:
            idle = (now - (last_progress(data) or learner.first_seen)) / DAY
            status = f"{done} of {len(tracked)} activities done"
            if idle >= STUCK_DAYS:
                stuck.append(learner.person.username)
                status += f", no progress for {int(idle)} days"
        scores = precheck_scores(snapshot, learner)
        detail = (
            "pre-check " + ", ".join(f"{html.escape(t)} {percent(v)}" for t, v in scores.items())
            if scores
            else "no pre-check yet"
        )
        lines.append(f"<strong>{who}</strong>: {status}; {detail}")
    names = {lr.person.username: lr.person.fullname or lr.person.username for lr in team}
    parts = [
        f"<p>Hi {html.escape(boss.firstname or boss.fullname)}, here is how your team is "
        f"doing in {link(course.url, course.fullname)} this week.</p>",
        html_list(lines),
    ]
    if pending:
        url = f"{snapshot.site_url}/report/completion/index.php?course={course.id}"
        parts.append(
            f"<p>Waiting for your sign-off: {len(pending)} "
            f"({html.escape(', '.join(names[u] for u in pending))}). "
            f"Sign off in the {link(url, 'course completion report')}.</p>"
        )
    if stuck:
        parts.append(
            f"<p>Could use a word of encouragement (no progress in {int(STUCK_DAYS)} days): "
            f"{html.escape(', '.join(names[u] for u in stuck))}.</p>"
        )
    reason: dict[str, object] = {
        "learners": [lr.id for lr in team],
        "pending": pending,
        "stuck": stuck,
    }
    return "".join(parts), reason
