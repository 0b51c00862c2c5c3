"""Day one on a course that has run for two months (issue 11): the start line.

The default scenario: learner01 finished 35 days ago and learner07 8 days ago, every
pre-check was taken weeks ago, four learners await sign-off. The first sync's start
line is the sync itself (no `mapped_since` in the example mapping): what happened
before is history, sent only by `buyin backfill`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from buyin.config import Settings
from buyin.simulator import SimulatedMoodle
from support import Clock, invoke, load_scenario, news_since, set_mapping

REFRESHER = 3
LEARNERS = load_scenario()["learners"]
MANAGERS = {"mgr1": 5, "mgr2": 6, "mgr3": 7, "mgr4": 8}


def uid(name: str) -> int:
    return int(LEARNERS[name]["userid"])


def received(site: SimulatedMoodle, name: str) -> list[str]:
    return [m.text for m in site.messages_to(uid(name))]


def test_the_first_sync_sends_no_news_of_the_past(site: SimulatedMoodle, run_sync: Any) -> None:
    assert run_sync().exit_code == 0

    told = {name: received(site, name) for name in LEARNERS}
    # learners who had activities completed for them hear it once, with their pre-check's day
    for name, day in (("learner10", "Sunday 27 September 2026"), ("learner11", "Monday 28")):
        (text,) = told.pop(name)
        assert f"on {day}" in text and "we have now marked their activities complete" in text
    (text,) = told.pop("learner16")
    assert "<strong>Objections</strong> (100%): <a href=" in text
    # learners who have not started are welcomed; nobody else hears anything
    for name in ("learner18", "learner22", "learner23", "learner24"):
        (text,) = told.pop(name)
        assert text.startswith(f"<p>Hi {LEARNERS[name]['firstname']}, welcome to")
    assert {name: texts for name, texts in told.items() if texts} == {}
    # no follow-up for completions before the start line
    assert site.enrolment(uid("learner01"), REFRESHER) is None
    assert site.enrolment(uid("learner07"), REFRESHER) is None
    # managers: one message each, asking; nobody is escalated before being asked
    for mid in MANAGERS.values():
        texts = [m.text for m in site.messages_to(mid)]
        assert len(texts) <= 1
        assert not any("waited longer" in t for t in texts)
    (mgr1,) = [m.text for m in site.messages_to(MANAGERS["mgr1"])]
    assert "Ben Carter: finished every activity 19 days ago; tested out of Listening (100%)" in mgr1
    assert "By signing off you confirm that they completed the course" in mgr1
    assert "course completion report (every learner of the course: find yours by name)" in mgr1


def test_a_second_sync_the_same_day_adds_nothing_for_anyone(
    site: SimulatedMoodle, run_sync: Any, clock: Any
) -> None:
    run_sync()
    sent = len(site.state.messages)
    clock.advance(hours=2)
    run_sync()
    assert len(site.state.messages) == sent


@pytest.fixture
def cli(
    site: SimulatedMoodle,
    settings: Settings,
    mapping_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    clock: Clock,
) -> Any:
    assert settings.mapping_dir == mapping_dir

    def run(*args: str) -> Any:
        result = invoke(settings, *args)
        assert result.exit_code == 0, result.output
        return result

    return run


def test_follow_ups_of_the_past_only_through_backfill_and_then_once(
    site: SimulatedMoodle, cli: Any, clock: Clock
) -> None:
    l01, l07 = uid("learner01"), uid("learner07")
    dry = cli("sync", "--dry-run").output
    assert "cc101: before its start line, left to `buyin backfill`" in dry
    assert "follow-ups of completions (job aid, refresher, manager note): 2 learner(s)" in dry
    # 16 took the pre-check; learner01 and learner07 completed the course: not news
    assert "pre-check results: 14 learner(s)" in dry
    command = next(line for line in dry.splitlines() if "to send them:" in line)
    assert "buyin backfill --since 2026-09-" in command and "--followup" in command

    cli("sync")
    assert site.messages_to(l01) == [] and site.messages_to(l07) == []
    assert "left to `buyin backfill`" not in cli("sync", "--dry-run").output  # first sync only

    planned = cli("backfill", "--since", "2026-09-01", "--followup", "--dry-run").output
    assert "learner01" in planned and "learner07" in planned
    assert site.messages_to(l01) == [] and site.enrolment(l01, REFRESHER) is None

    clock.advance(days=1)  # the managers heard from the programme yesterday, not today
    cli("backfill", "--since", "2026-09-01", "--followup")
    assert site.enrolment(l01, REFRESHER) is not None
    assert site.enrolment(l07, REFRESHER) is not None
    # learner01: one message with the job aid and the refresher (its day has passed)
    (text01,) = [m.text for m in site.messages_to(l01)]
    assert text01.startswith("<p>Well done, Aisha: you have completed")
    assert "Customer conversation checklist" in text01 and "is open now" in text01
    (text07,) = [m.text for m in site.messages_to(l07)]
    assert "is open now" not in text07  # learner07's refresher opens in three weeks
    # the managers hear, in their one message of the day
    note = [m.text for m in site.messages_to(MANAGERS["mgr2"]) if "Grace Hughes has" in m.text]
    assert len(note) == 1 and "Their refresher opens on Tuesday 15 December 2026" in note[0]

    sent = len(site.state.messages)
    cli("backfill", "--since", "2026-09-01", "--followup")
    assert len(site.state.messages) == sent  # once


def test_backfill_precheck_sends_results_once_never_to_a_completed_course(
    site: SimulatedMoodle, cli: Any
) -> None:
    cli("sync")
    cli("backfill", "--since", "2026-09-01", "--precheck")
    for name in ("learner01", "learner07"):  # their course is complete: no pre-check news
        assert received(site, name) == []
    (text,) = received(site, "learner03")
    assert "thank you for taking the CC101 Pre-check" in text
    assert "Focus your time on" in text
    (note,) = received(site, "learner11")  # told on the first sync: not again
    assert "you took the CC101 Pre-check" in note
    sent = len(site.state.messages)
    cli("backfill", "--since", "2026-09-01", "--precheck")
    assert len(site.state.messages) == sent


def test_messages_name_the_sender_the_programme_names(
    site: SimulatedMoodle, run_sync: Any, mapping_dir: Path
) -> None:
    set_mapping(
        mapping_dir, 'learner_role = "student"', 'learner_role = "student"\nsender = "mgr1"'
    )
    run_sync()
    (welcome,) = received(site, "learner18")
    # Moodle sends every message from the token's user: the text says whom it is from
    assert welcome.endswith(
        "<p>— Dana Whitfield. Questions? Reply to Dana Whitfield directly: this message was "
        "sent for them by the training system.</p>"
    )


def test_a_managers_dates_are_in_their_own_time_zone(
    site: SimulatedMoodle, run_sync: Any, mapping_dir: Path
) -> None:
    news_since(mapping_dir)  # learner07's completion is news: mgr2 hears of their refresher
    site.state.users[MANAGERS["mgr2"]].timezone = "Pacific/Kiritimati"  # UTC+14
    run_sync()
    (note,) = [m.text for m in site.messages_to(MANAGERS["mgr2"]) if "Grace Hughes has" in m.text]
    # Tuesday 15 December in UTC is already Wednesday there (core_user_get_users_by_field)
    assert "Their refresher opens on Wednesday 16 December 2026." in note


@pytest.mark.parametrize("with_plugin", [False, True], ids=["core", "local_buyin"])
def test_a_learners_dates_are_in_their_own_time_zone(
    site: SimulatedMoodle, run_sync: Any, with_plugin: bool, clock: Any
) -> None:
    if with_plugin:
        site.install_plugin()  # lang and timezone come with local_buyin_get_progress
    # learner10 took the pre-check at 02:03 UTC on Sunday 27 September: Saturday in Honolulu
    site.state.users[uid("learner10")].timezone = "Pacific/Honolulu"
    # the sync's Monday 02:00 UTC is still Sunday in Honolulu, when no message goes out:
    # sync when it is Monday there
    clock.advance(hours=12)
    run_sync()
    (text,) = received(site, "learner10")
    assert "on Saturday 26 September 2026" in text
    # learner11 kept Moodle's "99" (the site's default): their day is in UTC
    (text,) = received(site, "learner11")
    assert "on Monday 28 September 2026" in text


def test_core_asks_learners_time_zones_only_on_a_full_reconciliation(
    site: SimulatedMoodle, run_sync: Any, clock: Clock
) -> None:
    def asked(mark: int) -> list[int]:
        """How many learners each core_user_get_users_by_field call by id asked about."""
        return [
            len(params["values"])
            for fn, params in site.calls[mark:]
            if fn == "core_user_get_users_by_field" and params.get("field") == "id"
        ]

    mark = len(site.calls)
    assert run_sync().outcomes[0].reconciled
    assert asked(mark) == [24]  # the first sync: every learner, 100 a call
    clock.advance(hours=2)
    mark = len(site.calls)
    assert not run_sync().outcomes[0].reconciled
    assert asked(mark) == []  # a steady run: the learner cache has them
    clock.advance(hours=23)
    mark = len(site.calls)
    assert run_sync().outcomes[0].reconciled
    assert asked(mark) == [24]
