"""The programme and team reports on a 240-learner, nine-week simulation (issue 13).

The simulation (tests/nine_weeks.py) runs one sync a day for 63 days; expected figures
are computed here from Moodle's own records in the simulated site and by hand (the
Welch interval below uses no code of ours), never from the report's code.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nine_weeks import ACTIVITIES, COURSE, QUIZ, START, NineWeeks
from support import DAY, REPO, invoke

pytest.importorskip("pygal")
pytestmark = pytest.mark.slow  # a nine-week, 240-learner simulation (about 30 s)

#: the two enrolment waves as the report is asked for them (days 21–34 and 0–13)
PILOT = "enrolled:2026-09-28..2026-10-11"
BASELINE = "enrolled:2026-09-07..2026-09-20"


@pytest.fixture(scope="module")
def sim(nine_weeks: NineWeeks) -> Iterator[NineWeeks]:
    yield nine_weeks


def cli(sim: NineWeeks, *args: str) -> str:
    result = invoke(sim.settings, *args)
    assert result.exit_code == 0, result.output
    return result.output


def first_paragraph(page: str) -> str:
    body = page.split("<body>", 1)[1]
    text = re.search(r"<p\b[^>]*>(.*?)</p>", body, re.S)
    assert text is not None
    return re.sub(r"<[^>]+>", "", text.group(1))


# -- from Moodle's own records ----------------------------------------------------------


def days_to_complete(sim: NineWeeks, cohort: str) -> list[float]:
    """Per completer of the cohort: from the first thing they did (the pre-check attempt
    or an activity) to the course completion's latest criterion (the last activity or the
    sign-off), in days."""
    st = sim.site.state
    out = []
    for uid, plan in sim.plans.items():
        if plan.cohort != cohort or (uid, COURSE) not in st.course_completions:
            continue
        attempts = [a.timestart for a in st.attempts.values() if a.userid == uid and a.quiz == QUIZ]
        done = [st.activity_completions[(uid, cm)].timecompleted for cm in ACTIVITIES
                if (uid, cm) in st.activity_completions]  # fmt: skip
        began = min(attempts + done)
        finished = max([*done, st.signoffs[(uid, COURSE)].time])
        out.append((finished - began) / DAY)
    return out


def t_975(df: float) -> float:
    """Student's t 0.975 quantile by the Cornish–Fisher expansion (Abramowitz & Stegun
    26.7.5): within 1e-5 of the tables for df > 30."""
    z = 1.959963984540054
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


def test_t_975_matches_the_table() -> None:
    # printed tables: df 40 → 2.021, df 120 → 1.980
    assert t_975(40) == pytest.approx(2.021, abs=5e-4)
    assert t_975(120) == pytest.approx(1.980, abs=5e-4)


# -- the programme report ---------------------------------------------------------------


def test_the_page_opens_with_the_pilot_finding_and_its_interval(sim: NineWeeks) -> None:
    pilot, baseline = days_to_complete(sim, "pilot"), days_to_complete(sim, "baseline")
    # Welch by hand: standard error, Welch–Satterthwaite df, t quantile
    v1 = statistics.variance(pilot) / len(pilot)
    v2 = statistics.variance(baseline) / len(baseline)
    diff = statistics.fmean(pilot) - statistics.fmean(baseline)
    df = (v1 + v2) ** 2 / (v1**2 / (len(pilot) - 1) + v2**2 / (len(baseline) - 1))
    half = t_975(df) * math.sqrt(v1 + v2)
    low, high = diff - half, diff + half
    assert high < 0  # the faster pace is found

    page = cli(sim, "report", "program", "cc101", "--pilot", PILOT, "--baseline", BASELINE)
    opening = first_paragraph(page)
    assert opening.startswith("The pilot (enrolled 28 Sep 2026 – 11 Oct 2026, 120 learners)")
    assert f"finished {-diff:.1f} days sooner than the baseline" in opening
    assert f"95 % confidence interval: finished {-high:.1f} to {-low:.1f} days sooner" in opening
    assert f"({len(pilot)} of 120 in the pilot, {len(baseline)} of 120 in the baseline)" in opening
    # which way is better is said, and every other figure that clearly moved is named
    assert "and it is better (lower is better)" in opening
    assert "Days to complete (lower is better)" in page
    assert "Completed (higher is better)" in page

    # the difference charts, one per scale, and the cohorts named as selected
    for scale in ("rates", "scores", "days", "minutes"):
        assert f'data-chart="differences-{scale}"' in page
    assert "Pilot: <b>enrolled 28 Sep 2026 – 11 Oct 2026</b>" in page
    assert "Baseline: <b>enrolled 7 Sep 2026 – 20 Sep 2026</b>" in page
    assert "first seen by the agent stands in for the enrolment date" in page
    assert "(pilot (" not in page and "(mapping)" not in page


def test_an_empty_cohort_is_a_sentence_not_a_chart(sim: NineWeeks) -> None:
    page = cli(sim, "report", "program", "cc101", "--pilot", "enrolled:2025-01-01..2025-01-31",
               "--baseline", BASELINE)  # fmt: skip
    assert "the pilot (enrolled 1 Jan 2025 – 31 Jan 2025) has 0 learners" in page
    assert "fewer than the 5 needed to compare cohorts" in page
    assert 'data-chart="differences-' not in page
    assert "has 0 learners" in first_paragraph(page)


def test_what_each_figure_leaves_out_is_said_where_it_is_shown(sim: NineWeeks) -> None:
    st = sim.site.state
    completed = sum(1 for uid in sim.plans if (uid, COURSE) in st.course_completions)
    # sign-offs before the learner's last activity: Moodle's times, not the agent's
    early = 0
    for uid in sim.plans:
        signed = st.signoffs.get((uid, COURSE))
        times = [st.activity_completions[(uid, cm)].timecompleted for cm in ACTIVITIES
                 if (uid, cm) in st.activity_completions]  # fmt: skip
        if signed and len(times) == len(ACTIVITIES) and signed.time < max(times):
            early += 1
    assert early > 0
    page = cli(sim, "report", "program", "cc101")
    assert f"completers only: {completed} of 240" in page
    assert f"({early} signed off before their last activity, counted as 0 days)" in page
    assert "assumes 15 minutes per activity" in page
    data: dict[str, Any] = json.loads(cli(sim, "report", "program", "cc101", "--format", "json"))
    # every sign-off is in the histogram, the early ones as 0 days
    assert len(data["signoff_latencies_days"]) == data["funnel"]["signed_off"]
    assert min(data["signoff_latencies_days"]) == 0.0
    # columns named for what they count: no two headed "n"
    heads = re.findall(r'<th scope="col">([^<]*)</th>', page)
    assert "n" not in heads and "learners with a pre-check" in heads


def test_weekly_trend_counts_what_moodle_recorded(sim: NineWeeks) -> None:
    st = sim.site.state
    monday = START - START % DAY  # the simulation starts on a Monday
    signed_per_week: dict[int, int] = {}
    for (uid, course), signed in st.signoffs.items():
        if course == COURSE and uid in sim.plans:
            week = (signed.time - monday) // (7 * DAY)
            signed_per_week[week] = signed_per_week.get(week, 0) + 1
    page = cli(sim, "report", "program", "cc101")
    table = page.split("<caption>Learners per week</caption>", 1)[1].split("</table>", 1)[0]
    table = table.split("<tbody>", 1)[1]
    rows = re.findall(r"<tr><th[^>]*>([^<]*)</th>(.*?)</tr>", table)
    assert len(rows) == 9  # nine weeks
    signed = [int(re.findall(r">(\d+)<", cells)[2]) for _, cells in rows]
    assert signed == [signed_per_week.get(w, 0) for w in range(9)]
    assert rows[0][0] == "7 Sep 2026"


def test_retention_is_shown_for_all_topics_together(sim: NineWeeks) -> None:
    took = [uid for uid, p in sim.plans.items() if p.refreshed]
    assert took  # the nine weeks reach some refreshers
    page = cli(sim, "report", "program", "cc101")
    row = re.search(r"All topics \(refresher quiz\)</th>(.*?)</tr>", page)
    assert row is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
    assert cells[-1] != "0" and cells[-2] != "–"
    assert "overall only" in page  # per topic, Moodle has no refresher marks


# -- the team report -------------------------------------------------------------------


def test_team_report_names_people_and_links_to_sign_off(sim: NineWeeks) -> None:
    page = cli(sim, "report", "team", "mgr5", "--program", "cc101")
    assert "user " not in re.sub(r"<svg.*?</svg>", "", page, flags=re.S)
    team = [
        uid for uid, p in sim.plans.items() if sim.site.state.users[p.manager].username == "mgr5"
    ]
    for uid in team:
        assert sim.site.state.users[uid].firstname in page
    assert 'data-chart="team-cc101"' in page
    legend = re.search(r'data-chart="team-cc101" data-series="([^"]*)"', page)
    assert legend is not None and legend.group(1).split("|")[0] == "Pre-check"
    group = next(g for g in sim.site.state.groups.values() if g.courseid == COURSE
                 and set(team) <= set(g.members))  # fmt: skip
    # without the plugin: the course completion report, filtered to the manager's team
    assert f"report/completion/index.php?course={COURSE}&amp;group={group.id}" in page


def write_reports(sim: NineWeeks, out: Path) -> list[Path]:
    programme = out / "programme.html"
    programme.write_text(
        cli(sim, "report", "program", "cc101", "--pilot", PILOT, "--baseline", BASELINE)
    )
    team = out / "team.html"
    team.write_text(cli(sim, "report", "team", "mgr5", "--program", "cc101"))
    return [programme, team]


@pytest.mark.browser
def test_reports_pass_the_browser_check(sim: NineWeeks, tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "tools"))
    check = pytest.importorskip("check_report_a11y")
    if check.find_chromium() is None:
        pytest.skip("Chromium is not installed")
    for path in write_reports(sim, tmp_path):
        result = check.check_file(path)
        assert result.problems == [], (path.name, result.problems)
        assert result.charts > 0 and result.scroll_width <= 320
