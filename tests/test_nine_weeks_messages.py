"""What people receive over nine weeks of daily syncs on 240 learners (issue 11).

Every message the simulated Moodle holds is read as its recipient reads it and
checked against what happened: at most one a day per person, no reminder on a
weekend, no date announced as to come once it has passed, and every activity a
message says was completed for a learner was completed by the agent for them.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

from buyin.state import State
from nine_weeks import NineWeeks

DATE = re.compile(
    r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) (\d{1,2}) (\w+) (\d{4})"
)
MONTHS = "January February March April May June July August September October November December"


def day(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def test_one_message_a_day_per_person(nine_weeks: NineWeeks) -> None:
    per_day = Counter(
        (m.useridto, day(m.timecreated).date()) for m in nine_weeks.site.state.messages
    )
    assert per_day and max(per_day.values()) == 1
    learners = set(nine_weeks.plans)
    managers = {p.manager for p in nine_weeks.plans.values()}
    assert {u for u, _ in per_day} <= learners | managers


def test_no_reminder_on_a_weekend(nine_weeks: NineWeeks) -> None:
    for m in nine_weeks.site.state.messages:
        if "reminder" in m.text.lower():
            assert day(m.timecreated).weekday() < 5, m.text


def test_no_past_date_announced_as_to_come_and_no_zero_padded_day(nine_weeks: NineWeeks) -> None:
    announced = 0
    for m in nine_weeks.site.state.messages:
        assert not re.search(r"day 0\d ", m.text), m.text
        for when, found in re.findall(r"(opens|opened) on ([^.]*)\.", m.text):
            weekday, d, month, year = DATE.fullmatch(found).groups()  # type: ignore[union-attr]
            date = datetime(int(year), MONTHS.split().index(month) + 1, int(d), tzinfo=UTC)
            assert date.strftime("%A") == weekday
            if when == "opens":
                announced += 1
                assert date.date() >= day(m.timecreated).date(), m.text
    assert announced  # the managers' notes did announce refreshers


def test_what_a_message_says_was_completed_was_completed_for_them(nine_weeks: NineWeeks) -> None:
    state = State(nine_weeks.settings.state_path)
    try:
        overrides = state.ledger("cc101").applied("override")
    finally:
        state.close()
    done = {uid: {int(e.payload["cmid"]) for e in es} for uid, es in overrides.items()}
    told = 0
    for m in nine_weeks.site.state.messages:
        if "marked their activities complete for you" in m.text:
            told += 1
            listed = m.text.split("complete for you:")[1].split("</ul>")[0]
            urls = re.findall(r'href="([^"]+)"', listed)
            assert urls, m.text
            cmids = {int(x) for u in urls for x in re.findall(r"/mod/\w+/view\.php\?id=(\d+)", u)}
            assert len(cmids) == len(urls), urls
            assert cmids <= done.get(m.useridto, set()), m.text
        saved = re.search(r"(\d+) activit(?:y|ies) on topics you already knew", m.text)
        if saved:
            assert int(saved.group(1)) == len(done.get(m.useridto, set())), m.text
        # no rank on what a learner knew before the course (no post-assessment here)
        assert "ahead of" not in m.text
    assert told
