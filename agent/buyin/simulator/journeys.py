"""Journeys: a programme lived day by day on the simulated Moodle, and every message
each person received, as they read it.

The scenario's site is seeded (CC101, its learners and managers), CC101's history is
wiped, and the people act each morning before the agent's daily sync: learners enrol
over the first weeks, take the pre-check, then finish one activity every few days
(their pace); one in ten stops half way. Managers answer sign-off requests their way:
at once, late, never, or (with local_buyin) by rejecting with a comment, after which
the learner redoes the last activity and the manager signs. One learner changes
manager half way; a public holiday falls in the second week; people live in several
time zones.

What people did is kept as :class:`Event` rows, what they received as
:class:`Received` rows (:mod:`buyin.simulator.journey_inbox`; the JSON lines of
``buyin demo --events`` and ``--inbox``).
"""

from __future__ import annotations

import html
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests

from buyin.config import Secret, Settings
from buyin.model.actions import Action, Kind, MessageParams
from buyin.model.clock import DAY, HOUR
from buyin.moodle.client import MoodleClient
from buyin.resources import data_path
from buyin.rules.inbox import MANAGER_TEMPLATES
from buyin.simulator.journey_inbox import Event, Received, about_of, anchors, parts_of, plain
from buyin.simulator.model import ROLE_STUDENT
from buyin.simulator.seed import generate_scenario
from buyin.simulator.site import SimulatedMoodle
from buyin.state import State
from buyin.sync import Syncer

COURSE = 2
QUIZ = 1
ACTIVITIES = tuple(range(1, 9))
REFRESHER_COURSE = 3
REFRESHER_QUIZ = 2
PROGRAMME = "cc101"
#: how managers answer a sign-off request
BEHAVIOURS = ("prompt", "late", "never", "rejects")
REJECT_COMMENTS = (
    "Before I sign, let's do the closing role-play together on Thursday.",
    "Please redo the objections module: I'd like to see it in your calls first.",
    "Almost there: walk me through one real conversation using the checklist.",
)


@dataclass(frozen=True)
class JourneyOptions:
    weeks: int = 12
    learners: int = 240
    seed: int = 13
    #: with local_buyin (managers may reject) or Moodle core alone
    plugin: bool = True
    #: days between two activities a learner does, by learner (drawn per learner)
    paces: tuple[tuple[int, int], ...] = ((1, 3), (2, 5), (4, 8))
    #: the time zones people live in (drawn per person)
    timezones: tuple[str, ...] = (
        "Europe/London",
        "Europe/Berlin",
        "America/New_York",
        "Asia/Singapore",
    )
    #: learners enrol over this many days from the start
    enrol_days: int = 21
    #: a public holiday (days after the start, which is a Monday); None for none
    holiday: int | None = 8
    #: day 0 (a Monday, 08:00 UTC); None: the Monday of the week before ``now``
    start: int | None = None


@dataclass
class _Learner:
    userid: int
    username: str
    manager: int
    enrol_day: int
    start_day: int
    marks: dict[int, float]
    pace: tuple[int, int]
    stalls: bool
    next_day: int = 0
    finished_day: int | None = None
    signed: bool = False
    rejected_day: int | None = None
    redone: bool = False
    refreshed: bool = False


@dataclass
class Clock:
    """The simulation's time (the site's and the agent's)."""

    now: int

    def __call__(self) -> int:
        return self.now


@dataclass
class Journey:
    options: JourneyOptions
    site: SimulatedMoodle
    settings: Settings
    start: int
    clock: Clock
    events: list[Event] = field(default_factory=list)
    inbox: list[Received] = field(default_factory=list)
    #: manager userid -> how they answer
    behaviour: dict[int, str] = field(default_factory=dict)
    #: (day, what sync --dry-run listed, what the sync then did): message keys
    promises: list[tuple[int, list[str], list[str]]] = field(default_factory=list)

    @property
    def days(self) -> int:
        return self.options.weeks * 7

    def username(self, userid: int) -> str:
        return self.site.state.users[userid].username

    def inbox_of(self, username: str) -> list[Received]:
        return [m for m in self.inbox if m.to == username]

    def requests(self) -> dict[str, list[tuple[int, int]]]:
        """Per learner, their sign-off requests as the people lived them: from a finish
        to the manager's answer (a reject or a sign), or to the journey's end."""
        out: dict[str, list[tuple[int, int]]] = {}
        opened: dict[str, int] = {}
        for e in sorted(self.events, key=lambda e: e.at):
            if e.action == "finish" and e.learner not in opened:
                opened[e.learner] = e.at
            elif e.action in ("reject", "sign") and e.learner in opened:
                out.setdefault(e.learner, []).append((opened.pop(e.learner), e.at))
        end = self.start + self.days * DAY
        for learner, since in opened.items():
            out.setdefault(learner, []).append((since, end))
        return out


def received(journey: Journey, message: Action, at: int) -> Received:
    """A message the agent delivered at ``at``, as its recipient reads it."""
    assert isinstance(message.params, MessageParams)
    users = journey.site.state.users
    to = users[message.params.touserid]
    parts = parts_of(message)
    text, links = plain(message.params.text)
    templates = [t for t, _, _ in parts]
    fallback = journey.site.state.users
    is_manager = any(t in MANAGER_TEMPLATES for t in templates)
    escalated_only = all(
        t == "signoff.digest" and set(r.get("learners", {}).values()) == {"escalated"}
        for t, _, r in parts
    )
    role = "learner" if not is_manager else "approver" if escalated_only else "manager"
    about = sorted(fallback[u].username for u in about_of(parts, to.id) if u in fallback)
    return Received(
        to=to.username,
        role=role,
        programme=message.program,
        sent_at=at,
        zone=to.timezone,
        kind="+".join(templates),
        about=tuple(about),
        subject=message.params.summary,
        text=html.unescape(text),
        links=tuple(links),
        anchors=tuple(anchors(message.params.text)),
        signoff=tuple(
            sorted(
                (fallback[int(uid)].username, str(how))
                for template, _, reason in parts
                if template == "signoff.digest"
                for uid, how in (reason.get("learners") or {}).items()
                if int(uid) in fallback
            )
        ),
    )


def _mapping(work: Path, options: JourneyOptions, start: int) -> Path:
    mappings = work / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    text = Path(data_path("mappings/examples/cc101.toml")).read_text()
    if options.holiday is not None:
        day = datetime.fromtimestamp(start + options.holiday * DAY, UTC).strftime("%Y-%m-%d")
        text = text.replace(
            'learner_role = "student"\n',
            f'learner_role = "student"\nholidays = ["{day}"]\n',
            1,
        )
    # managers get the weekly team digest too (the one message after an escalation)
    text += '\n[insights]\nmanager_digest_weekday = "wednesday"\n'
    (mappings / "cc101.toml").write_text(text)
    return mappings


def _monday(now: int) -> int:
    """08:00 UTC on the Monday of the week before ``now``."""
    day = now - now % DAY
    weekday = datetime.fromtimestamp(day, UTC).weekday()
    return day - (weekday + 7) * DAY + 8 * HOUR


def setup(work: Path, options: JourneyOptions, now: int) -> tuple[Journey, random.Random]:
    start = options.start if options.start is not None else _monday(now)
    clock = Clock(start)
    site = SimulatedMoodle(
        generate_scenario(learners=options.learners, seed=options.seed, now=start - HOUR),
        clock=clock,
    )
    if options.plugin:
        site.install_plugin()
        # the figures of My results and My team are pushed as they change (every
        # learner's rank moves daily): weeks of them would make the ledger the
        # journey's whole cost, and no message depends on them
        site.service_functions.discard("local_buyin_save_figures")
    site.reset_course(COURSE)
    rng = random.Random(options.seed)
    users = site.state.users
    for user in users.values():
        user.timezone = rng.choice(options.timezones)
    settings = Settings(
        url=site.url,
        token=Secret(site.token),
        state_path=work / "state.sqlite",
        mapping_dir=_mapping(work, options, start),
        concurrency=1,
        # on Moodle core a learner's time zone is read on a reconciliation only: daily
        reconcile_hours=24 * 7 if options.plugin else 23,
    )
    return Journey(options, site, settings, start, clock), rng


def _learners(journey: Journey, rng: random.Random) -> dict[int, _Learner]:
    site, options = journey.site, journey.options
    users = site.state.users
    by_username = {u.username: uid for uid, u in users.items()}
    ids = sorted(
        uid
        for (uid, course), e in site.state.enrolments.items()
        if course == COURSE and ROLE_STUDENT in e.roleids
    )
    out: dict[int, _Learner] = {}
    for uid in ids:
        manager = by_username.get(users[uid].profile.get("manager", ""), 0)
        # someone is enrolled from the first day (a programme nobody takes is refused)
        enrol = 0 if not out else rng.randint(0, options.enrol_days - 1)
        out[uid] = _Learner(
            userid=uid,
            username=users[uid].username,
            manager=manager,
            enrol_day=enrol,
            start_day=enrol + rng.randint(0, 2),
            marks={slot: float(rng.random() < 0.5) for slot in range(1, 9)},
            pace=rng.choice(options.paces),
            stalls=rng.random() < 0.1,
        )
        del site.state.enrolments[(uid, COURSE)]
    managers = sorted({p.manager for p in out.values() if p.manager})
    for i, mid in enumerate(managers):
        kinds = BEHAVIOURS if options.plugin else ("prompt", "late", "never")
        journey.behaviour[mid] = kinds[i % len(kinds)]
    return out


def _decide(journey: Journey, p: _Learner, day: int, at: int, rng: random.Random) -> None:
    """The learner's manager answers a sign-off request their way."""
    site = journey.site
    how = journey.behaviour.get(p.manager, "prompt")
    if how == "never" or p.signed or p.finished_day is None:
        return
    zone_of = site.state.users[p.manager].timezone
    if journey.options.plugin:
        request = site.plugin.requests.get((COURSE, p.userid))
        if request is None or request.status not in ("requested", "rejected"):
            return
        asked = request.timerequested
        decider = request.managerid
    else:
        if not _holds_signoff(site, p):
            return
        asked = journey.start + p.finished_day * DAY
        decider = p.manager
    waited = (at - asked) / DAY
    delay = {"prompt": 1, "late": 9, "rejects": 2}[how]
    if how == "rejects" and p.rejected_day is None and waited >= delay:
        comment = rng.choice(REJECT_COMMENTS)
        site.plugin_decide(p.userid, COURSE, decider, "rejected", comment, time=at)
        p.rejected_day = day
        journey.events.append(
            Event(at, zone_of, journey.username(decider), "reject", p.username, comment)
        )
        return
    if how == "rejects" and p.rejected_day is not None:
        if not p.redone or day < p.rejected_day + 6:
            return
    elif waited < delay:
        return
    if journey.options.plugin:
        site.plugin_decide(p.userid, COURSE, decider, "signed", "", time=at)
    else:
        site.mark_signoff(p.userid, COURSE, decider, time=at)
    p.signed = True
    journey.events.append(Event(at, zone_of, journey.username(decider), "sign", p.username))


def _holds_signoff(site: SimulatedMoodle, p: _Learner) -> bool:
    role = site.state.courses[COURSE].completion.role
    enrolment = site.state.enrolments.get((p.manager, COURSE))
    return role is not None and enrolment is not None and role.roleid in enrolment.roleids


def _step(journey: Journey, plans: dict[int, _Learner], day: int, rng: random.Random) -> None:
    """What people do on ``day``, before that day's sync (07:00 UTC)."""
    site = journey.site
    at = journey.start + day * DAY - HOUR
    users = site.state.users
    for p in plans.values():
        tz = users[p.userid].timezone
        if day == p.enrol_day:
            site.enrol(p.userid, COURSE, ROLE_STUDENT, timestart=at)
        if day < p.start_day:
            continue
        if day == p.start_day:
            site.add_attempt(p.userid, QUIZ, p.marks, time=at)
            journey.events.append(Event(at, tz, p.username, "attempt", p.username))
            p.next_day = day + 1
            continue
        left = [cm for cm in ACTIVITIES if not site.activity_state(p.userid, cm)]
        limit = 4 if p.stalls else len(ACTIVITIES)
        if left and day >= p.next_day and len(ACTIVITIES) - len(left) < limit:
            site.complete_activity(p.userid, left[0], time=at)
            p.next_day = day + rng.randint(*p.pace)
            if len(left) == 1:
                p.finished_day = day
                journey.events.append(Event(at, tz, p.username, "finish", p.username))
        elif not left and p.finished_day is None:
            p.finished_day = day
            journey.events.append(Event(at, tz, p.username, "finish", p.username))
        if p.rejected_day is not None and not p.redone and day >= p.rejected_day + 3:
            # what the manager asked for, done: the last activity completed again
            site.complete_activity(p.userid, ACTIVITIES[-1], time=at)
            p.redone = True
            journey.events.append(Event(at, tz, p.username, "finish", p.username))
        if p.manager:
            _decide(journey, p, day, at, rng)
    if day == journey.days // 2:
        _change_manager(journey, plans, at)
    for (uid, course), e in list(site.state.enrolments.items()):
        learner = plans.get(uid)
        if course != REFRESHER_COURSE or learner is None or learner.refreshed:
            continue
        if 0 < e.timestart <= at:
            marks = {s: float(rng.random() < 0.7) for s in (1, 2, 3)}
            site.add_attempt(uid, REFRESHER_QUIZ, marks, time=at)
            learner.refreshed = True
    site.run_completion_cron()


def _change_manager(journey: Journey, plans: dict[int, _Learner], at: int) -> None:
    """One learner still at work moves to another team."""
    moving = next((p for p in plans.values() if p.finished_day is None and p.manager), None)
    others = sorted({p.manager for p in plans.values()} - {0})
    if moving is None or len(others) < 2:
        return
    new = next(m for m in others if m != moving.manager)
    journey.site.set_profile_field(moving.userid, "manager", journey.username(new))
    moving.manager = new
    tz = journey.site.state.users[new].timezone
    journey.events.append(Event(at, tz, journey.username(new), "manager_change", moving.username))


def _sync(journey: Journey, client: MoodleClient, dry_run: bool) -> list[Action]:
    """One sync (or its dry run): what it planned (dry run) or applied."""
    now = journey.clock.now
    state = State(journey.settings.state_path)
    try:
        report = Syncer(journey.settings, client, state, clock=lambda: now).run(dry_run=dry_run)
        if report.exit_code != 0:
            raise RuntimeError(f"the sync on {now} failed: {report.error}")
        done: list[Action] = []
        for outcome in report.outcomes:
            if dry_run and outcome.plan is not None:
                done += outcome.plan.actions
            elif outcome.pushed is not None:
                done += outcome.pushed.applied
        return done
    finally:
        state.close()


def backfill(
    journey: Journey, since: int, until: int, kinds: frozenset[str], *, dry_run: bool
) -> list[Action]:
    """``buyin backfill`` (or its dry run) over ``since``..``until`` for ``kinds``: what
    it planned (dry run) or applied."""
    session = requests.Session()
    session.mount(journey.site.url, journey.site.adapter())
    client = MoodleClient.from_settings(journey.settings, session=session, sleep=lambda _s: None)
    now = journey.clock.now
    state = State(journey.settings.state_path)
    try:
        report = Syncer(journey.settings, client, state, clock=lambda: now).run(
            dry_run=dry_run, window=(since, until), kinds=kinds
        )
    finally:
        state.close()
    if report.exit_code != 0:
        raise RuntimeError(f"the backfill failed: {report.error}")
    done: list[Action] = []
    for outcome in report.outcomes:
        if dry_run and outcome.plan is not None:
            done += outcome.plan.actions
        elif outcome.pushed is not None:
            done += outcome.pushed.applied
    return done


def run(
    work: Path,
    options: JourneyOptions,
    now: int,
    *,
    dry_runs: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Journey:
    """Live the journey in ``work``: every day, people act, then the agent syncs.
    ``dry_runs``: each sync is preceded by a dry run, and what both did is kept."""
    journey, rng = setup(work, options, now)
    plans = _learners(journey, rng)
    session = requests.Session()
    session.mount(journey.site.url, journey.site.adapter())
    client = MoodleClient.from_settings(journey.settings, session=session, sleep=lambda _s: None)
    for day in range(journey.days):
        journey.clock.now = journey.start + day * DAY
        _step(journey, plans, day, rng)
        promised = _sync(journey, client, dry_run=True) if dry_runs else []
        done = _sync(journey, client, dry_run=False)
        if dry_runs:
            journey.promises.append(
                (day, sorted(a.key for a in promised), sorted(a.key for a in done))
            )
        for action in done:
            if action.kind == Kind.MESSAGE:
                journey.inbox.append(received(journey, action, journey.clock.now))
        if progress is not None:
            progress(day)
    journey.inbox.sort(key=lambda m: (m.sent_at, m.to))
    return journey


def prepare_dir(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
