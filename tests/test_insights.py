"""Insights (issue 6, SPEC §4.5): the programme and team reports, the statistics, the
learner's completion message and the manager's weekly digest.

Expected figures are computed here by hand from tests/fixtures/moodle/scenario.json
(the learners' attempts, activity completions and sign-offs), never from our code.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import random
import statistics
import sys
from pathlib import Path
from typing import Any

import pytest

from buyin.config import Settings
from buyin.model.clock import DAY
from buyin.model.history import HistoryPoint
from buyin.report.cohorts import parse_selector
from buyin.report.figures import learner_figures
from buyin.report.programme import programme_report
from buyin.report.stats import newcombe_interval, t_quantile, welch_interval, wilson_interval
from buyin.simulator import SimulatedMoodle
from buyin.state import State
from support import invoke, load_scenario, set_mapping

#: HTML charts need the optional `report` extra (pygal); CSV and JSON never do
HAS_PYGAL = importlib.util.find_spec("pygal") is not None
MGR = {"mgr1": 5, "mgr2": 6, "mgr3": 7, "mgr4": 8}
MINUTES_PER_ACTIVITY = 15


# -- hand computations from the fixture ---------------------------------------------


def fixture_learners() -> dict[str, dict[str, Any]]:
    learners: dict[str, dict[str, Any]] = load_scenario()["learners"]
    return learners


def first_attempt(learner: dict[str, Any]) -> dict[str, Any] | None:
    """The mapping counts the first finished attempt."""
    finished = [a for a in learner["precheck"]["attempts"] if a.get("timefinish")]
    return min(finished, key=lambda a: a["attempt"]) if finished else None


def precheck_average(learner: dict[str, Any]) -> float | None:
    attempt = first_attempt(learner)
    if attempt is None:
        return None
    marks = attempt["per_topic_correct"]
    return sum(marks.values()) / (2 * len(marks))  # 2 one-mark questions per topic


def activities_tested_out(learner: dict[str, Any]) -> list[int]:
    """Activities of the topics aced (2/2) on the first attempt that were not yet done."""
    attempt = first_attempt(learner)
    if attempt is None:
        return []
    activities = load_scenario()["courses"]["CC101"]["activities"]
    done = {a["cmid"] for a in learner["cc101_activities_completed"]}
    aced = {t for t, n in attempt["per_topic_correct"].items() if n == 2}
    return sorted(
        a["cmid"] for a in activities.values() if a["topic"] in aced and a["cmid"] not in done
    )


def last_activity(learner: dict[str, Any]) -> int:
    return max(c["time"] for c in learner["cc101_activities_completed"])


def moved_at(learner: dict[str, Any]) -> int | None:
    times = [c["time"] for c in learner["cc101_activities_completed"]]
    for a in learner["precheck"]["attempts"]:
        times += [t for t in (a.get("timestart"), a.get("timefinish")) if t]
    return max(times) if times else None


def ahead_share(name: str) -> float:
    scores = {
        n: s for n, lr in fixture_learners().items() if (s := precheck_average(lr)) is not None
    }
    mine = scores[name]
    others = [s for n, s in scores.items() if n != name]
    return sum(1 for s in others if s < mine) / len(others)


def add_insights(mapping_dir: Path, text: str) -> None:
    path = mapping_dir / "cc101.toml"
    path.write_text(path.read_text() + "\n[insights]\n" + text + "\n")


# -- the programme report on the default scenario ------------------------------------


def test_programme_report_matches_the_fixture(
    site: SimulatedMoodle, run_sync: Any, settings: Settings, clock: Any
) -> None:
    scenario = load_scenario()
    learners = fixture_learners()
    expected = scenario["expected_summary"]
    assert run_sync().exit_code == 0
    result = invoke(settings, "report", "program", "cc101", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)

    started = [
        n
        for n, lr in learners.items()
        if lr["precheck"]["attempts"] or lr["cc101_activities_completed"]
    ]
    signed = expected["cc101_complete"]
    awaiting = expected["cc101_awaiting_signoff"]
    funnel = data["funnel"]
    assert funnel["enrolled"] == len(learners) == 24
    assert funnel["started"] == len(started) == 20
    assert funnel["completed"] == len(signed) == 2
    assert funnel["signed_off"] == 2
    assert funnel["awaiting_signoff"] == len(awaiting) == 4
    assert funnel["finished_activities"] == len(signed) + len(awaiting)

    latencies = [
        (learners[n]["cc101_signoff"]["time"] - last_activity(learners[n])) / DAY for n in signed
    ]
    assert data["median_signoff_latency_days"] == pytest.approx(
        statistics.median(latencies), abs=1e-3
    )

    def began(lr: dict[str, Any]) -> int:
        times = [c["time"] for c in lr["cc101_activities_completed"]]
        times += [a["timestart"] for a in lr["precheck"]["attempts"] if a.get("timestart")]
        return min(times)

    to_complete = [
        (learners[n]["cc101_signoff"]["time"] - began(learners[n])) / DAY for n in signed
    ]
    assert data["median_days_to_complete"] == pytest.approx(
        statistics.median(to_complete), abs=1e-3
    )

    escalate_after = 7  # the example mapping
    waited = [(clock.now - last_activity(learners[n])) / DAY for n in awaiting]
    assert data["overdue_signoffs"] == sum(1 for w in waited if w > escalate_after)
    assert data["overdue_signoffs"] >= 1  # learner08 waits ~12 days

    tested = sum(len(activities_tested_out(lr)) for lr in learners.values())
    assert tested == 11
    assert data["activities_tested_out"] == tested
    assert data["hours_saved"] == pytest.approx(tested * MINUTES_PER_ACTIVITY / 60)

    topics = {t["topic"]: t for t in data["topics"]}
    assert list(topics) == ["Listening", "Questioning", "Objections", "Closing"]
    for topic, figures in topics.items():
        scores = [
            a["per_topic_correct"][topic] / 2
            for lr in learners.values()
            if (a := first_attempt(lr)) is not None
        ]
        assert figures["pre_n"] == len(scores) == 16
        assert figures["pre_mean"] == pytest.approx(statistics.fmean(scores), abs=1e-4)
        assert figures["post_n"] == 0 and figures["improvement_mean"] is None
    assert data["champions"] is None  # not opted in: nobody is named
    names = [f"{lr['firstname']} {lr['lastname']}" for lr in learners.values()]
    names += ["Dana Whitfield", "Omar Haddad", "Priya Natarajan", "Lukas Becker"]
    html_out = invoke(settings, "report", "program", "cc101").output
    for name in names:
        assert name not in result.output and name not in html_out
    assert "Customer Conversations: programme report" in html_out or not HAS_PYGAL


def test_learners_csv_has_one_row_per_learner(
    site: SimulatedMoodle, run_sync: Any, settings: Settings
) -> None:
    run_sync()
    out = invoke(settings, "report", "program", "cc101", "--format", "csv")
    assert out.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.output)))
    learners = fixture_learners()
    assert len(rows) == 24
    by_name = {r["username"]: r for r in rows}
    assert by_name["learner11"]["minutes_saved"] == str(
        float(len(activities_tested_out(learners["learner11"])) * MINUTES_PER_ACTIVITY)
    )
    assert by_name["learner01"]["status"] == "complete"
    assert by_name["learner08"]["status"] == "awaiting sign-off"
    assert by_name["learner22"]["status"] == "not started"
    assert float(by_name["learner07"]["precheck:Closing"]) == 1.0
    summary = invoke(
        settings, "report", "program", "cc101", "--format", "csv", "--table", "summary"
    )
    figures = {(r["figure"], r["topic"]): r for r in csv.DictReader(io.StringIO(summary.output))}
    assert figures[("enrolled", "")]["value"] == "24"
    assert figures[("hours_saved", "")]["value"] == "2.75"


def test_champions_are_named_only_when_opted_in(
    site: SimulatedMoodle, run_sync: Any, settings: Settings, mapping_dir: Path
) -> None:
    add_insights(mapping_dir, "champions = true")
    run_sync()
    data = json.loads(invoke(settings, "report", "program", "cc101", "--format", "json").output)
    fastest = data["champions"]["fastest_signoffs"]
    learners = fixture_learners()
    # mgr1 signed learner01, mgr2 signed learner07: ordered by latency
    latency = {
        learners[n]["manager"]: (learners[n]["cc101_signoff"]["time"] - last_activity(learners[n]))
        / DAY
        for n in ("learner01", "learner07")
    }
    order = sorted(latency, key=lambda m: latency[m])
    names = {"mgr1": "Dana Whitfield", "mgr2": "Omar Haddad"}
    assert [c["name"] for c in fastest] == [names[m] for m in order]
    assert [c["value"] for c in fastest] == [pytest.approx(latency[m], abs=0.01) for m in order]
    assert data["champions"]["improvements"] == []  # no post-assessment yet
    html_out = invoke(settings, "report", "program", "cc101").output
    if HAS_PYGAL:
        assert "Champions" in html_out and "Dana Whitfield" in html_out


# -- pilot against baseline ------------------------------------------------------------

#: the generated scenario: n per cohort, and the effects the report must recover
N_PILOT, N_BASELINE = 80, 70
IMPROVEMENT_PILOT, IMPROVEMENT_BASELINE, IMPROVEMENT_SD = 0.25, 0.15, 0.08  # effect +0.10
COMPLETION_PILOT, COMPLETION_BASELINE = 0.75, 0.45  # effect +0.30
TOPICS = ("Listening", "Questioning", "Objections", "Closing")


def generated_history(seed: int = 7) -> list[tuple[int, int, dict[str, Any]]]:
    """One point per learner: pilot (group Pilot, first seen in March) and baseline
    (group Baseline, first seen in January); post = pre + the cohort's improvement."""
    rng = random.Random(seed)
    at = 1_780_000_000
    rows = []
    uid = 100
    for cohort, n, imp, rate, seen in (
        ("Pilot", N_PILOT, IMPROVEMENT_PILOT, COMPLETION_PILOT, 1_772_323_200),  # 2026-03-01
        ("Baseline", N_BASELINE, IMPROVEMENT_BASELINE, COMPLETION_BASELINE, 1_767_225_600),
    ):
        for _ in range(n):
            uid += 1
            gain = rng.gauss(imp, IMPROVEMENT_SD)
            pre = {t: min(1.0, max(0.0, rng.gauss(0.5, 0.05))) for t in TOPICS}
            post = {t: round(pre[t] + gain, 4) for t in TOPICS}
            done = rng.random() < rate
            rows.append(
                (
                    uid,
                    at,
                    {
                        "enrolled": True,
                        "first_seen": seen + rng.randrange(0, 20) * DAY,
                        "username": f"u{uid}",
                        "groups": [cohort],
                        "activities_done": 8 if done else 3,
                        "activities_total": 8,
                        "precheck": {t: round(v, 4) for t, v in pre.items()},
                        "post": post,
                        "started_at": seen + DAY,
                        "completed_at": seen + 20 * DAY if done else None,
                        "minutes_saved": 30.0,
                    },
                )
            )
    return rows


def test_pilot_against_baseline_recovers_a_known_effect(settings: Settings) -> None:
    state = State(settings.state_path)
    by_at: dict[int, dict[int, dict[str, Any]]] = {}
    for uid, at, point in generated_history():
        by_at.setdefault(at, {})[uid] = point
    for at, points in by_at.items():
        state.add_history(state.start_run("sync", at), "cc101", points, at)
    state.close()
    out = invoke(
        settings,
        "report",
        "program",
        "cc101",
        "--format",
        "json",
        "--pilot",
        "group:Pilot",
        "--baseline",
        "group:Baseline",
    )
    assert out.exit_code == 0, out.output
    comparison = json.loads(out.output)["comparison"]
    assert (comparison["n_pilot"], comparison["n_baseline"]) == (N_PILOT, N_BASELINE)
    diffs = {d["metric"]: d for d in comparison["differences"]}
    imp = diffs["improvement"]
    assert imp["low"] < IMPROVEMENT_PILOT - IMPROVEMENT_BASELINE < imp["high"]
    assert imp["low"] > 0  # the effect is found, not just bracketed
    assert imp["n_pilot"] == N_PILOT and imp["method"].startswith("Welch t")
    done = diffs["completion_rate"]
    assert done["low"] < COMPLETION_PILOT - COMPLETION_BASELINE < done["high"]
    assert done["low"] > 0 and done["method"].startswith("Newcombe")
    # the same cohorts by first-seen window
    by_window = invoke(
        settings,
        "report",
        "program",
        "cc101",
        "--format",
        "json",
        "--pilot",
        "enrolled:2026-03-01..2026-03-31",
        "--baseline",
        "enrolled:2026-01-01..2026-01-31",
    )
    assert json.loads(by_window.output)["comparison"]["n_pilot"] == N_PILOT
    html_out = invoke(
        settings,
        "report",
        "program",
        "cc101",
        "--pilot",
        "group:Pilot",
        "--baseline",
        "group:Baseline",
    ).output
    if HAS_PYGAL:
        for scale in ("rates", "scores", "days", "minutes"):
            assert f'data-chart="differences-{scale}"' in html_out
        # the improvement is found: the opening names it with its interval
        opening = html_out.split('<p class="finding">')[1].split("</p>")[0]
        assert "completed" in opening and "more often" in opening, opening
        assert "95 % confidence interval" in opening, opening


def test_cohort_selection_reads_moodle_cohorts(
    site: SimulatedMoodle, run_sync: Any, settings: Settings
) -> None:
    run_sync()
    out = invoke(
        settings, "report", "program", "cc101", "--format", "json",
        "--pilot", "cohort:1", "--baseline", "cohort:2",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    comparison = json.loads(out.output)["comparison"]
    assert comparison["n_pilot"] == 24  # cs-frontline: every learner
    assert comparison["n_baseline"] == 0  # people-managers: no learner
    # named as Moodle names them where the token may read the cohorts, else by id
    assert comparison["pilot_name"] in ("cohort Customer Service — front line", "cohort 1")
    assert any(fn == "core_cohort_get_cohort_members" for fn, _ in site.calls)


def test_bad_selections_are_usage_errors(settings: Settings) -> None:
    State(settings.state_path).close()
    for pilot in ("team:x", "enrolled:2026-13-01..", "cohort:abc"):
        with pytest.raises(ValueError):
            parse_selector(pilot)
    state = State(settings.state_path)
    state.add_history(state.start_run("sync", 1000), "cc101", {1: {"enrolled": True}}, 1000)
    state.close()
    out = invoke(settings, "report", "program", "cc101", "--pilot", "group:A")
    assert out.exit_code == 2 and "--pilot and --baseline go together" in out.output
    out = invoke(settings, "report", "program", "cc101", "--pilot", "x", "--baseline", "group:B")
    assert out.exit_code == 2


def test_t_quantiles_match_the_tables() -> None:
    for df, q in ((1, 12.7062), (2, 4.3027), (5, 2.5706), (10, 2.2281), (30, 2.0423)):
        assert t_quantile(0.975, df) == pytest.approx(q, abs=1e-4)
    assert t_quantile(0.975, 1e9) == pytest.approx(1.95996, abs=1e-4)
    assert t_quantile(0.025, 10) == pytest.approx(-2.2281, abs=1e-4)


def test_intervals_cover_the_truth_about_95_percent_of_the_time() -> None:
    rng = random.Random(1)
    hits_mean = hits_prop = 0
    runs = 400
    for _ in range(runs):
        a = [rng.gauss(1.0, 1.0) for _ in range(12)]
        b = [rng.gauss(0.5, 2.0) for _ in range(25)]
        ci = welch_interval(a, b)
        assert ci is not None
        hits_mean += ci.low <= 0.5 <= ci.high
        k1 = sum(rng.random() < 0.6 for _ in range(40))
        k2 = sum(rng.random() < 0.4 for _ in range(50))
        p = newcombe_interval(k1, 40, k2, 50)
        assert p is not None
        hits_prop += p.low <= 0.2 <= p.high
    assert 0.92 <= hits_mean / runs <= 0.98
    assert 0.92 <= hits_prop / runs <= 0.98
    # Newcombe's worked example (1998, table II, 56/70 vs 48/80): 0.0524 to 0.3339
    ci = newcombe_interval(56, 70, 48, 80)
    assert ci is not None
    assert (ci.low, ci.high) == (pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))
    lo, hi = wilson_interval(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(0.2775, abs=1e-4)
    assert welch_interval([1.0], [1.0, 2.0]) is None


def test_stuck_is_read_from_history() -> None:
    day0 = 1_790_000_000
    stored = [
        (1, day0, {"enrolled": True, "first_seen": day0, "activities_done": 2, "started_at": day0}),
        (2, day0, {"enrolled": True, "first_seen": day0, "activities_done": 2, "started_at": day0}),
        (1, day0 + 10 * DAY, {"enrolled": True, "first_seen": day0, "activities_done": 3, "started_at": day0}),
        (2, day0 + 10 * DAY, {"enrolled": True, "first_seen": day0, "activities_done": 2, "started_at": day0}),
        (1, day0 + 20 * DAY, {"enrolled": True, "first_seen": day0, "activities_done": 3, "started_at": day0}),
        (2, day0 + 20 * DAY, {"enrolled": True, "first_seen": day0, "activities_done": 2, "started_at": day0}),
    ]  # fmt: skip
    rows = [(uid, at, HistoryPoint.from_json(data)) for uid, at, data in stored]
    figures = learner_figures(rows)
    assert not figures[1].stuck and figures[1].days_without_progress == 10
    assert figures[2].stuck and figures[2].days_without_progress == 20
    report = programme_report("p", rows)
    assert report.stuck == 1


def test_history_points_round_trip_and_older_rows_still_read(
    site: SimulatedMoodle, run_sync: Any, settings: Settings
) -> None:
    run_sync()
    state = State(settings.state_path)
    stored = state.history("cc101")
    state.close()
    fields = set(HistoryPoint.__dataclass_fields__)
    for _, _, data in stored:
        assert set(data) == fields  # every key a typed field, every field stored
        point = HistoryPoint.from_json(data)
        assert HistoryPoint.from_json(json.loads(json.dumps(point.to_json()))) == point
    # a row from before a key existed: its default; an old single-number score: "overall"
    old = HistoryPoint.from_json({"enrolled": True, "retention": 0.5, "groups": ["A"]})
    assert old.first_seen is None and old.precheck == {} and old.activities_done == 0
    assert old.retention == {"overall": 0.5} and old.groups == ("A",)


# -- the team report --------------------------------------------------------------------


def test_team_report_lists_direct_reports_pending_and_stuck(
    site: SimulatedMoodle, run_sync: Any, settings: Settings, clock: Any
) -> None:
    learners = fixture_learners()
    run_sync()
    clock.advance(days=1)
    run_sync()
    by_name = invoke(settings, "report", "team", "mgr2", "--format", "json")
    by_id = invoke(settings, "report", "team", str(MGR["mgr2"]), "--format", "json")
    assert by_name.exit_code == 0, by_name.output
    data = json.loads(by_name.output)
    assert data == json.loads(by_id.output)
    assert data["manager_name"] == "Omar Haddad"
    (prog,) = data["programmes"]
    team = {m["figures"]["username"] for m in prog["members"]}
    assert team == {n for n, lr in learners.items() if lr["manager"] == "mgr2"}
    assert [p["name"] for p in prog["pending"]] == [
        "{firstname} {lastname}".format(**learners["learner08"])
    ]
    pending = prog["pending"][0]
    assert pending["days_waiting"] == pytest.approx(
        (clock.now - last_activity(learners["learner08"])) / DAY, abs=0.01
    )
    # stuck: not complete, not awaiting, and nothing moved for 14 days (Moodle's times,
    # or the overrides testing out applied at the first sync, one day ago)
    first_sync = clock.now - DAY
    expected_stuck = []
    for _, lr in sorted(learners.items()):
        if lr["manager"] != "mgr2" or lr["cc101_expected_status"] in (
            "complete",
            "awaiting_signoff",
        ):
            continue
        moved = moved_at(lr)
        if activities_tested_out(lr):
            moved = first_sync
        if moved is not None and clock.now - moved >= 14 * DAY:
            expected_stuck.append("{firstname} {lastname}".format(**lr))
    assert expected_stuck  # learner12: a pre-check long ago, nothing since
    assert sorted(prog["stuck"]) == sorted(expected_stuck)
    # scores over time: one point per change (here: the pre-check, once)
    member = next(m for m in prog["members"] if m["figures"]["username"] == "learner07")
    assert len(member["scores"]) == 1
    assert member["scores"][0]["precheck"] == {t: 1.0 for t in TOPICS}
    html_out = invoke(settings, "report", "team", "mgr2").output
    assert 'data-chart="team-cc101"' in html_out or not HAS_PYGAL
    rows = list(
        csv.DictReader(
            io.StringIO(invoke(settings, "report", "team", "mgr2", "--format", "csv").output)
        )
    )
    assert len(rows) == 6
    assert invoke(settings, "report", "team", "nobody").exit_code == 2


# -- the messages ----------------------------------------------------------------------


def insight_messages(site: SimulatedMoodle, userid: int) -> list[str]:
    """Messages telling what the learner gained or saved (alone, or a part of the day's
    message): "gained" only with a post-assessment or retention score."""
    return [
        m.text
        for m in site.messages_to(userid)
        if "what you gained" in m.text.lower() or "testing out saved you" in m.text.lower()
    ]


def test_completion_message_once_with_the_right_numbers(
    site: SimulatedMoodle, run_sync: Any, clock: Any
) -> None:
    learners = fixture_learners()
    l11, l02 = learners["learner11"], learners["learner02"]
    run_sync()  # testing out completes learner11's Listening, Questioning and Closing
    assert insight_messages(site, l11["userid"]) == []
    for cmid in (5, 6):  # learner11 does Objections themself
        site.complete_activity(l11["userid"], cmid, time=clock.now)
    clock.advance(days=1)
    site.mark_signoff(l11["userid"], 2, MGR["mgr2"], time=clock.now)
    site.mark_signoff(l02["userid"], 2, MGR["mgr1"], time=clock.now)
    site.run_completion_cron()
    clock.advance(hours=1)
    run_sync()
    clock.advance(hours=1)
    run_sync()
    (text,) = insight_messages(site, l11["userid"])
    saved = len(activities_tested_out(l11)) * MINUTES_PER_ACTIVITY
    assert saved == 90
    assert "saved you about 1 h 30 min" in text and "6 activities" in text
    # one message on completion day: the job aid and what they gained (nobody had been
    # asked to sign for them yet, so no word on who signed)
    assert text.startswith("<p>Well done, Kemi: you have completed")
    assert "Customer conversation checklist" in text
    # no post-assessment: no rank and no score list on what they knew before the course
    assert "ahead of" not in text and "pre-check" not in text
    assert "gained" not in text  # nothing gained before a post-assessment or refresher
    assert len(site.messages_to(l11["userid"])) == 2  # the pre-check note, then this one
    # learner02 did every activity themself and has no post-assessment: nothing gained
    # to tell, so only the sign-off news and the job aid
    assert insight_messages(site, l02["userid"]) == []
    # completed before the first sync (the start line): left to `buyin backfill`
    assert insight_messages(site, learners["learner01"]["userid"]) == []
    assert insight_messages(site, learners["learner07"]["userid"]) == []


def test_completions_before_mapped_since_are_left_to_backfill(
    site: SimulatedMoodle, run_sync: Any, clock: Any, mapping_dir: Path
) -> None:
    learners = fixture_learners()
    set_mapping(
        mapping_dir,
        'learner_role = "student"',
        'learner_role = "student"\nmapped_since = "2026-11-20"',
    )
    run_sync()
    l02 = learners["learner02"]
    site.mark_signoff(l02["userid"], 2, MGR["mgr1"], time=clock.now)
    site.run_completion_cron()
    clock.advance(hours=1)
    run_sync()
    for name in ("learner01", "learner07"):  # completed 35 and 8 days ago
        assert insight_messages(site, learners[name]["userid"]) == []
        assert not any("checklist" in m.text for m in site.messages_to(learners[name]["userid"]))
    # learner02 completed after it: told who signed off, with the job aid, in one message
    (told,) = [m.text for m in site.messages_to(l02["userid"]) if "signed off your" in m.text]
    assert "Customer conversation checklist" in told


def test_no_rank_on_what_a_learner_knew_before_the_course(
    site: SimulatedMoodle, run_sync: Any, clock: Any
) -> None:
    learners = fixture_learners()
    l08 = learners["learner08"]  # awaiting sign-off, pre-check 12.5%
    assert ahead_share("learner08") < 0.5
    run_sync()
    clock.advance(days=1)
    site.mark_signoff(l08["userid"], 2, MGR["mgr2"], time=clock.now)
    run_sync()
    texts = [m.text for m in site.messages_to(l08["userid"])]
    assert any("has signed off your completion" in t for t in texts)
    for text in texts:
        assert "ahead of" not in text and "bottom" not in text and "behind" not in text


def digests(site: SimulatedMoodle, userid: int) -> list[str]:
    return [m.text for m in site.messages_to(userid) if "how your team is doing" in m.text]


def test_manager_digest_once_a_week_with_the_right_numbers(
    site: SimulatedMoodle, run_sync: Any, clock: Any, mapping_dir: Path
) -> None:
    add_insights(mapping_dir, 'manager_digest_weekday = "monday"')
    learners = fixture_learners()
    run_sync()  # Monday 2026-11-23 (ISO week 48)
    clock.advance(hours=5)
    run_sync()
    assert {m: len(digests(site, uid)) for m, uid in MGR.items()} == dict.fromkeys(MGR, 1)
    first_now = clock.now - 5 * 3600
    text = digests(site, MGR["mgr1"])[0]
    team = [n for n, lr in sorted(learners.items()) if lr["manager"] == "mgr1"]
    for n in team:
        assert "{firstname} {lastname}".format(**learners[n]) in text
    assert "Waiting for your sign-off: 1 (Ben Carter)" in text
    stuck = [
        "{firstname} {lastname}".format(**learners[n])
        for n in team
        if learners[n]["cc101_expected_status"] not in ("complete", "awaiting_signoff")
        and (m := moved_at(learners[n])) is not None
        and first_now - m >= 14 * DAY
    ]
    assert stuck and f"(no progress in 14 days): {', '.join(stuck)}." in text
    l03 = learners["learner03"]
    attempt = first_attempt(l03)
    assert attempt is not None
    detail = ", ".join(
        f"{t} {round(v / 2 * 100)}%" for t, v in attempt["per_topic_correct"].items()
    )
    assert f"pre-check {detail}" in text
    clock.advance(days=2)  # Wednesday, same week: nothing new
    run_sync()
    assert len(digests(site, MGR["mgr1"])) == 1
    clock.advance(days=5)  # the next Monday: week 49
    run_sync()
    run_sync()
    assert {m: len(digests(site, uid)) for m, uid in MGR.items()} == dict.fromkeys(MGR, 2)


def test_no_digest_without_the_setting(site: SimulatedMoodle, run_sync: Any) -> None:
    run_sync()
    assert all(digests(site, uid) == [] for uid in MGR.values())


def test_html_without_pygal_says_what_to_install(
    site: SimulatedMoodle, run_sync: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sync()
    monkeypatch.setitem(sys.modules, "pygal", None)  # as if the extra were not installed
    out = invoke(settings, "report", "program", "cc101")
    assert out.exit_code == 78
    assert "moodle-buyin[report]" in out.output
    assert invoke(settings, "report", "program", "cc101", "--format", "json").exit_code == 0
