"""A nine-week programme on the simulated Moodle: 240 learners, one sync a day.

The scenario generator seeds the site (240 learners, a manager per six, each team a
course group); their progress is wiped and replayed day by day with a seeded random
generator, so the agent sees the programme unfold:

- the baseline (120 learners) is enrolled on days 0–13, the pilot (120) on days 21–34;
- a learner starts 0–2 days after enrolment with the pre-check (each question right
  with probability 0.55; the agent completes the activities of every topic aced);
- then completes one activity every 2–5 days (baseline) or 1–3 days (pilot);
  one learner in ten stops half way;
- their manager signs off 1–6 days after the last activity; one sign-off in twenty
  comes a day *before* the last activity (the negative latency the report counts as 0);
- on the day the refresher the agent enrolled them in opens, they take its quiz (each
  of its three questions right with probability 0.7): that is retention.

Nothing here reads the agent's figures: the test computes what it expects from
:class:`Plan` (what was scheduled) and from Moodle's own records.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import requests

from buyin.config import Secret, Settings
from buyin.moodle.client import MoodleClient
from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.simulator.model import ROLE_STUDENT
from buyin.state import State
from buyin.sync import Syncer
from support import DAY, REPO, Clock

COURSE = 2
QUIZ = 1
ACTIVITIES = tuple(range(1, 9))
#: the refresher (CC201) and its quiz, which the agent enrols completers in after 30 days
REFRESHER_COURSE = 3
REFRESHER_QUIZ = 2
LEARNERS = 240
DAYS = 63
#: day 0 of the simulation: Monday 2026-09-07 08:00 UTC
START = 1788768000 + 8 * 3600
BASELINE_DAYS = (0, 13)
PILOT_DAYS = (21, 34)


@dataclass
class Plan:
    userid: int
    cohort: str  # pilot | baseline
    manager: int
    enrol_day: int
    start_day: int
    #: slot → mark on the pre-check
    marks: dict[int, float]
    #: days between two activities the learner does themselves
    pace: tuple[int, int]
    stalls: bool
    signoff_delay: int
    signs_early: bool
    done: list[int] = field(default_factory=list)
    next_day: int = 0
    last_activity_day: int | None = None
    signed: bool = False
    refreshed: bool = False


@dataclass
class NineWeeks:
    site: SimulatedMoodle
    settings: Settings
    clock: Clock
    plans: dict[int, Plan]

    def day(self, n: int) -> int:
        return START + n * DAY


def _plans(site: SimulatedMoodle, rng: random.Random) -> dict[int, Plan]:
    users = site.state.users
    by_username = {u.username: uid for uid, u in users.items()}
    learners = sorted(uid for (uid, course), e in site.state.enrolments.items()
                      if course == COURSE and ROLE_STUDENT in e.roleids)  # fmt: skip
    assert len(learners) == LEARNERS
    plans = {}
    for i, uid in enumerate(learners):
        cohort = "baseline" if i % 2 == 0 else "pilot"
        lo, hi = BASELINE_DAYS if cohort == "baseline" else PILOT_DAYS
        enrol = rng.randint(lo, hi)
        plans[uid] = Plan(
            userid=uid,
            cohort=cohort,
            manager=by_username[users[uid].profile["manager"]],
            enrol_day=enrol,
            start_day=enrol + rng.randint(0, 2),
            marks={slot: float(rng.random() < 0.55) for slot in range(1, 9)},
            pace=(2, 5) if cohort == "baseline" else (1, 3),
            stalls=rng.random() < 0.1,
            signoff_delay=rng.randint(1, 6),
            signs_early=rng.random() < 0.05,
        )
    return plans


def _step(site: SimulatedMoodle, plans: dict[int, Plan], day: int, rng: random.Random) -> None:
    """What learners and managers do on ``day`` (before that day's sync)."""
    now = START + day * DAY - 3600
    for p in plans.values():
        if day == p.enrol_day:
            site.enrol(p.userid, COURSE, ROLE_STUDENT, timestart=now)
        if day < p.start_day:
            continue
        if day == p.start_day:
            site.add_attempt(p.userid, QUIZ, p.marks, time=now)
            p.next_day = day + 1
            continue
        left = [cm for cm in ACTIVITIES if not site.activity_state(p.userid, cm)]
        limit = 4 if p.stalls else len(ACTIVITIES)
        if left and day >= p.next_day and len(ACTIVITIES) - len(left) < limit:
            if p.signs_early and len(left) == 1 and not p.signed:
                site.mark_signoff(p.userid, COURSE, p.manager, time=now - 3600)
                p.signed = True
            site.complete_activity(p.userid, left[0], time=now)
            p.next_day = day + rng.randint(*p.pace)
            if len(left) == 1:
                p.last_activity_day = day
        elif not left and p.last_activity_day is None:
            p.last_activity_day = day  # tested out of everything
        if (
            not p.signed
            and p.last_activity_day is not None
            and day >= p.last_activity_day + p.signoff_delay
        ):
            site.mark_signoff(p.userid, COURSE, p.manager, time=now)
            p.signed = True
    for (uid, course), e in list(site.state.enrolments.items()):
        learner = plans.get(uid)
        if course != REFRESHER_COURSE or learner is None or learner.refreshed:
            continue
        if 0 < e.timestart <= now:
            site.add_attempt(uid, REFRESHER_QUIZ, {s: float(rng.random() < 0.7) for s in (1, 2, 3)},
                             time=now)  # fmt: skip
            learner.refreshed = True
    site.run_completion_cron()


def simulate(work: Path, *, seed: int = 13, days: int = DAYS) -> NineWeeks:
    """Seed the site, wipe CC101's history and run ``days`` daily syncs into ``work``."""
    (work / "mappings").mkdir(parents=True)
    shutil.copy(REPO / "mappings" / "examples" / "cc101.toml", work / "mappings" / "cc101.toml")
    clock = Clock(now=START)
    site = SimulatedMoodle(
        generate_scenario(learners=LEARNERS, seed=seed, now=START - 3600), clock=clock
    )
    site.reset_course(COURSE)
    rng = random.Random(seed)
    plans = _plans(site, rng)
    for uid in plans:
        del site.state.enrolments[(uid, COURSE)]
    settings = Settings(
        url=site.url,
        token=Secret(site.token),
        state_path=work / "state.sqlite",
        mapping_dir=work / "mappings",
        concurrency=1,
        reconcile_hours=24 * 7,
    )
    session = requests.Session()
    session.mount(site.url, site.adapter())
    client = MoodleClient.from_settings(settings, session=session, sleep=lambda _s: None)
    for day in range(days):
        clock.now = START + day * DAY
        _step(site, plans, day, rng)
        state = State(settings.state_path)
        try:
            report = Syncer(settings, client, state, clock=clock).run()
        finally:
            state.close()
        assert report.exit_code == 0, (day, report.error)
    return NineWeeks(site, settings, clock, plans)
