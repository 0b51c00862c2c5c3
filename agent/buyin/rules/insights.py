"""Insight messages (SPEC §4.5, practice P4): pure, like every rule.

- **Completion**: on a learner's final completion (every criterion met, so signed
  off where the programme has sign-off) they get ONE message, where there is a gain
  to show: their change per topic (pre-check → post-assessment, kind words for a
  drop), their refresher score, the time testing out saved them, and, on the
  post-assessment only, where they stand among colleagues who took it ("ahead of N%"
  from 50% up, encouragement otherwise); never a rank on what they knew before the
  course. Nothing to show (no post-assessment, retention or time saved): no message.
  Key ``message:insight-complete:u{uid}:p{program}``. The same completions as the
  follow-up's: from the start line on, or those inside a backfill's window.
  ``insights.learner_summary = false`` turns it off.
- **Manager digest** (``insights.manager_digest_weekday``): once per manager per ISO
  week, on or after that weekday, while someone in their team is still in progress
  or awaits their sign-off: each direct report's progress and scores (post-assessment
  where there is one, else pre-check), who awaits their sign-off, who is stuck (no
  progress in 14 days). Key ``message:insight-team:u{mgr}:p{program}:{YYYY-Www}``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from buyin.model.actions import Action
from buyin.model.clock import DAY, WEEKDAYS
from buyin.model.snapshot import Learner, LearnerData, Person, Snapshot
from buyin.model.standing import STUCK_DAYS, Ranking
from buyin.rules import History, RuleResult
from buyin.rules.messages import course_link, first_name, message, plugin_page
from buyin.rules.precheck import counting_attempt, post_scores, topic_scores

COMPLETE = "insight-complete"
TEAM = "insight-team"


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
        result.actions.extend(completion_messages(snapshot, history, now, result))
    weekday = cfg.get("manager_digest_weekday")
    if weekday in WEEKDAYS and datetime.fromtimestamp(now, UTC).weekday() >= WEEKDAYS.index(
        weekday
    ):
        result.actions.extend(manager_digests(snapshot, now))
    return result


# -- the learner's completion message ---------------------------------------------------


def completion_messages(
    snapshot: Snapshot, history: History, now: int, held: RuleResult | None = None
) -> list[Action]:
    program = snapshot.programme.id
    # the cohort: everyone with a post-assessment, ranked by its average
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
        if after:
            standing[uid] = sum(after.values()) / len(after)
    ranking = Ranking(standing)
    actions = []
    for uid, learner in sorted(snapshot.learners.items()):
        completion = learner.data.completion
        done_at = completion.completed_at if completion else None
        if done_at is None:
            continue
        key = f"message:{COMPLETE}:u{uid}:p{program}"
        if history.applied(key):
            continue
        if not history.in_scope("insights", done_at, snapshot):
            if held is not None:
                held.hold("insights", uid, done_at)
            continue  # before mapped_since: left to `buyin backfill`, like the follow-up
        saved, activities = minutes_saved(history, uid)
        retention = snapshot.retention.get(uid)
        if uid not in post and retention is None and saved <= 0:
            continue  # nothing gained to show: no post-assessment, retention or time saved
        # a rank only on what they reached (the post-assessment), never on what they
        # knew before the course
        share = None
        if uid in post:
            share = ranking.ahead_of(uid)
        data = {
            "firstname": first_name(learner.person),
            "course": course_link(snapshot.course),
            "pre": pre.get(uid, {}) if uid in post else {},
            "post": post.get(uid, {}),
            "retention": retention,
            "passmark": snapshot.programme.precheck.pass_mark
            if snapshot.programme.precheck
            else 0.8,
            "minutes": saved,
            "activities": activities,
            "share": share,
            "basis": "post",
            # their scores over time, on local_buyin's My results
            "results": plugin_page(snapshot, "myresults"),
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
        if all(m["status"] == "completed" for m in data["members"]):  # type: ignore[attr-defined]
            continue  # the whole team finished: no report in progress, nothing to follow

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


def signing_page(snapshot: Snapshot, boss: Person) -> dict[str, object]:
    """The link of a team digest's sign-off line, and which page it is."""
    site, course = snapshot.site_url, snapshot.course.id
    if snapshot.plugin_signoffs is not None:
        return {"signoff_url": f"{site}/local/buyin/index.php", "signoff_page": "plugin",
                "team_url": f"{site}/local/buyin/myteam.php"}  # fmt: skip
    url = f"{site}/report/completion/index.php?course={course}"
    cfg = snapshot.programme.signoff
    group = next(
        (gid for p in snapshot.people.values() for gid, name in p.groups
         if name == f"Team {boss.fullname}"),
        None,
    ) if cfg is not None and cfg.team_groups else None  # fmt: skip
    return {"signoff_url": url + (f"&group={group}" if group else ""), "signoff_page": "core"}


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
            "scores": post_scores(snapshot, learner) or precheck_scores(snapshot, learner),
            "basis": "post" if post_scores(snapshot, learner) else "precheck",
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
        # where they sign: local_buyin's page of their requests, else the course's
        # completion report (filtered to their team's group where team_groups made one)
        **signing_page(snapshot, boss),
    }
    reason: dict[str, object] = {
        "learners": [lr.id for lr in team],
        "pending": pending,
        "stuck": stuck,
    }
    return facts, reason
