"""Weeks in people's inboxes (issue 21): journeys lived on the simulated Moodle, every
message read as its recipient got it, against what the people did.

Three journeys, each its own seed, paces and time zones (two with local_buyin, one on
Moodle core). The assertions are on the inbox (who got what, when, saying what,
linking where), never on counts of actions.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest

from buyin.model.clock import DAY
from buyin.model.week import zone
from buyin.simulator.journey_inbox import Received
from buyin.simulator.journeys import Journey, JourneyOptions, run

#: Monday 2026-11-02 08:00 UTC
START = 1793606400
JOURNEYS = {
    "plugin-europe": JourneyOptions(
        weeks=7, learners=48, seed=3, start=START, timezones=("Europe/London", "Europe/Berlin")
    ),
    "plugin-far": JourneyOptions(
        weeks=7,
        learners=42,
        seed=11,
        start=START,
        paces=((1, 2), (3, 6)),
        timezones=("Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata"),
        holiday=3,
    ),
    "core": JourneyOptions(
        weeks=6, learners=36, seed=29, start=START, plugin=False, paces=((2, 4),)
    ),
}
WEEKLY_LIMIT = 2
MAX_REMINDERS = 2


@pytest.fixture(scope="module", params=sorted(JOURNEYS))
def journey(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Journey:
    options = JOURNEYS[request.param]
    return run(tmp_path_factory.mktemp(request.param), options, START, dry_runs=True)


def local_date(m: Received) -> date:
    return m.local().date()


def holiday(journey: Journey) -> date | None:
    if journey.options.holiday is None:
        return None
    return datetime.fromtimestamp(journey.start + journey.options.holiday * DAY).date()


def test_the_journey_happened(journey: Journey) -> None:
    """Not a vacuous inbox: people finished, were signed off, and read about it."""
    actions = {e.action for e in journey.events}
    assert {"attempt", "finish", "sign", "manager_change"} <= actions
    if journey.options.plugin:
        assert "reject" in actions
    kinds = {k for m in journey.inbox for k in m.kinds}
    assert {"kickoff.learner", "signoff.digest", "signoff.signed"} <= kinds


def test_at_most_one_message_a_day_per_person(journey: Journey) -> None:
    seen: set[tuple[str, date]] = set()
    for m in journey.inbox:
        day = (m.to, local_date(m))
        assert day not in seen, m
        seen.add(day)


def test_nothing_on_a_non_working_day_where_the_reader_is(journey: Journey) -> None:
    off = holiday(journey)
    for m in journey.inbox:
        assert m.local().weekday() < 5, (m.to, m.local(), m.kind)
        assert local_date(m) != off, (m.to, m.local(), m.kind)


def test_a_manager_hears_at_most_the_weekly_limit_in_any_seven_days(journey: Journey) -> None:
    times: dict[str, list[int]] = defaultdict(list)
    for m in journey.inbox:
        if m.role != "learner":
            times[m.to].append(m.sent_at)
    assert times
    for who, sent in times.items():
        for at in sent:
            in_week = [t for t in sent if at <= t < at + 7 * DAY]
            assert len(in_week) <= WEEKLY_LIMIT, (who, [datetime.fromtimestamp(t) for t in sent])


def test_reminders_stop_at_max_reminders_then_one_escalation(journey: Journey) -> None:
    for learner, spans in journey.requests().items():
        for since, until in spans:
            during = [m for m in journey.inbox if since <= m.sent_at <= until]
            direct = [m for m in during if m.asks_about(learner, "direct")]
            escalated = [m for m in during if m.asks_about(learner, "escalated")]
            assert len(direct) <= 1 + MAX_REMINDERS, (learner, [m.text for m in direct])
            assert len(escalated) <= 1, learner


def test_a_reject_stops_every_reminder_and_the_learner_is_told_kindly(journey: Journey) -> None:
    rejects = [e for e in journey.events if e.action == "reject"]
    if not journey.options.plugin:
        assert not rejects  # Moodle core has no reject
        return
    assert rejects
    end = journey.start + journey.days * DAY
    for reject in rejects:
        if end - reject.at < 4 * DAY:
            continue  # the journey ends before the learner's next working day may come
        redone = min(
            (e.at for e in journey.events if e.learner == reject.learner and e.action == "finish"
             and e.at > reject.at),
            default=journey.start + journey.days * DAY,
        )  # fmt: skip
        nagged = [
            m
            for m in journey.inbox
            if m.signoff and reject.learner in dict(m.signoff) and reject.at < m.sent_at < redone
        ]
        assert nagged == [], reject
        told = [
            m for m in journey.inbox_of(reject.learner) if "signoff.rejected" in m.kinds
            if m.sent_at > reject.at
        ]  # fmt: skip
        assert told, reject
        first = told[0]
        assert reject.comment in first.text
        assert "What to do next" in first.text and "nothing to start again" in first.text
        # within one working day where the learner is
        day, working_days = datetime.fromtimestamp(reject.at, zone(first.zone)).date(), 0
        while day < local_date(first):
            day += timedelta(days=1)
            working_days += day.weekday() < 5 and day != holiday(journey)
        assert working_days <= 1, (reject, first.local())


#: the pages each path has, by URL path (what a link may open)
CORE_PAGES = {
    "/course/view.php",
    "/report/completion/index.php",
    "/mod/url/view.php",
    "/mod/page/view.php",
    "/mod/quiz/view.php",
    "/mod/feedback/view.php",
    "/mod/forum/view.php",
    "/mod/assign/view.php",
    "/mod/resource/view.php",
}
PLUGIN_PAGES = {"/local/buyin/index.php", "/local/buyin/myresults.php", "/local/buyin/myteam.php"}


#: what a link's words promise: the page it must open
WORDS = {
    "Sign-off requests page": "/local/buyin/index.php",
    "your My results page": "/local/buyin/myresults.php",
    "My results": "/local/buyin/myresults.php",
    "My team": "/local/buyin/myteam.php",
    "course completion report": "/report/completion/index.php",
    "Customer Conversations": "/course/view.php",
}


def test_every_link_goes_where_its_words_say_for_its_path(journey: Journey) -> None:
    pages = CORE_PAGES | (PLUGIN_PAGES if journey.options.plugin else set())
    signing = "/local/buyin/index.php" if journey.options.plugin else "/report/completion/index.php"
    said = 0
    for m in journey.inbox:
        assert m.links or m.kinds == ["signoff.signed"], m
        for link in m.links:
            url = urlparse(link)
            assert url.scheme == "https" and url.netloc, link
            assert url.path in pages, (m.kind, link)
        for words, link in m.anchors:
            promised = next((p for w, p in WORDS.items() if words.startswith(w)), None)
            if promised is not None:
                said += 1
                assert urlparse(link).path == promised, (words, link)
        if "waiting for your sign-off" in m.text:
            assert any(urlparse(x).path == signing for x in m.links), m.links
        if journey.options.plugin and "first asked" in m.text:
            # a reminder's learner opens their own request (its row on the page)
            requests = journey.site.plugin.requests
            ids = {f"local-buyin-comment-{r.id}" for r in requests.values()}
            assert any(urlparse(x).fragment in ids for x in m.links), m.links
        if "signoff.rejected" in m.kinds:
            assert any(urlparse(x).path == "/local/buyin/myresults.php" for x in m.links)
        if not journey.options.plugin:
            assert not any("/local/buyin/" in x for x in m.links), m.links
    assert said


RAW = [
    re.compile(r"\(s\)"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # an ISO date
    re.compile(r"\b\d{4}-W\d{2}\b"),  # an ISO week
    re.compile(r"\b1[6-9]\d{8}\b"),  # a unix time
    re.compile(r"\b(userid|courseid|cmid|id=)\b"),
    re.compile(r"\bu\d+\b|\blearner\d+\b|\bmgr\d+\b"),  # ids and usernames
    re.compile(r"\{\w+\}"),  # a placeholder left unfilled
    re.compile(r"\bthe your\b"),
]


def test_no_raw_id_date_or_machine_word_in_anything_a_person_reads(journey: Journey) -> None:
    for m in journey.inbox:
        for pattern in RAW:
            assert not pattern.search(m.text), (pattern.pattern, m.kind, m.text)
            assert not pattern.search(m.subject), (pattern.pattern, m.subject)


def test_nothing_gained_before_a_post_or_retention_score(journey: Journey) -> None:
    for m in journey.inbox:
        if "gained" in m.text:
            assert "post-assessment" in m.text or "refresher you scored" in m.text, m.text


def test_a_dry_run_lists_exactly_what_the_sync_then_does(journey: Journey) -> None:
    assert journey.promises
    for day, promised, done in journey.promises:
        assert promised == done, day


def test_the_inbox_as_json_lines_has_the_issue_s_fields(journey: Journey) -> None:
    m = journey.inbox[0].to_json()
    assert list(m) == [
        "to", "role", "programme", "sent_at", "kind", "about", "subject", "text", "links"
    ]  # fmt: skip
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", m["sent_at"])
    rejects = [e.to_json() for e in journey.events if e.action == "reject"]
    for e in rejects:
        assert set(e) == {"at", "who", "action", "learner", "comment"}


def test_demo_weeks_writes_the_inbox_and_the_events(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from buyin.cli import main

    inbox, events = tmp_path / "inbox.jsonl", tmp_path / "events.jsonl"
    result = CliRunner().invoke(
        main,
        ["demo", "--weeks", "2", "--learners", "12", "--inbox", str(inbox), "--events",
         str(events)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "The inbox of a learner" in result.output
    assert "The programme report opens with" in result.output
    assert inbox.read_text().count("\n") >= 1 and events.read_text().count("\n") >= 1


def test_a_backfill_dry_run_lists_exactly_what_the_backfill_then_does(journey: Journey) -> None:
    """(Last: it sends what the backfill finds, after the journey's own inbox was read.)"""
    from buyin.rules import BACKFILL_KINDS
    from buyin.simulator.journeys import backfill

    # a working Monday morning after the journey, its whole span as the window
    journey.clock.now = journey.start + journey.days * DAY + 7 * DAY
    since, until = journey.start - 30 * DAY, journey.clock.now
    kinds = frozenset(BACKFILL_KINDS)
    promised = sorted(a.key for a in backfill(journey, since, until, kinds, dry_run=True))
    done = sorted(a.key for a in backfill(journey, since, until, kinds, dry_run=False))
    assert done and promised == done
