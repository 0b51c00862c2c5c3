"""The manager poll (SPEC §4.6, issue #14): the simulated Feedback, the mapping's
``[poll]``, the agent's invitations and reminders, doctor, and what the reports show.

Expected figures come from tests/fixtures/moodle/scenario.json (``poll``: mgr1 and mgr2
answered, mgr3 and mgr4 did not) and are computed here by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from buyin.cli import main
from buyin.config import Settings
from buyin.errors import MappingError
from buyin.mapping import load_mapping
from buyin.model.clock import parse_day
from buyin.model.history import HistoryPoint
from buyin.model.poll import PollAnswer, PollState
from buyin.model.programme import Poll
from buyin.moodle.encoding import flatten
from buyin.report.html import programme_html, team_html
from buyin.report.load import build_programme_report, build_team_report
from buyin.report.team import team_programme
from buyin.rules.poll import current_round
from buyin.simulator import SimulatedMoodle
from support import Clock, load_scenario, set_mapping

POLL = load_scenario()["poll"]
MGR = {name: int(uid) for name, uid in POLL["non_respondents"].items()} | {
    name: int(r["userid"]) for name, r in POLL["respondents"].items()
}


def poll_messages(site: SimulatedMoodle, userid: int, words: str) -> list[Any]:
    """Messages with ``words`` (any case: a part of a merged message starts a sentence)."""
    return [m for m in site.messages_to(userid) if words.lower() in m.text.lower()]


def invitations(site: SimulatedMoodle, userid: int) -> list[Any]:
    return poll_messages(site, userid, "Tell us in two minutes")


def reminders(site: SimulatedMoodle, userid: int) -> list[Any]:
    return poll_messages(site, userid, "a reminder: what should")


def test_non_respondents_are_invited_once_and_reminded_once(
    site: SimulatedMoodle, run_sync: Any, clock: Clock
) -> None:
    run_sync()
    sent = len(site.state.messages)
    clock.advance(hours=1)
    run_sync()  # a second sync sends nothing new
    assert len(site.state.messages) == sent
    for name in ("mgr3", "mgr4"):
        [invite] = invitations(site, MGR[name])
        assert f"/mod/feedback/view.php?id={POLL['cmid']}" in invite.text
        assert reminders(site, MGR[name]) == []
    for name in ("mgr1", "mgr2"):
        assert invitations(site, MGR[name]) == []
    clock.advance(days=2)
    run_sync()
    assert all(reminders(site, MGR[n]) == [] for n in ("mgr3", "mgr4"))
    clock.advance(days=1, hours=1)
    run_sync()
    for name in ("mgr3", "mgr4"):
        assert len(invitations(site, MGR[name])) == 1
        assert len(reminders(site, MGR[name])) == 1
    clock.advance(days=7)
    run_sync()
    for name in ("mgr3", "mgr4"):
        assert len(invitations(site, MGR[name])) == len(reminders(site, MGR[name])) == 1


def test_a_manager_who_answers_after_the_invitation_is_not_reminded(
    site: SimulatedMoodle, run_sync: Any, clock: Clock
) -> None:
    run_sync()
    site.submit_feedback(POLL["feedbackid"], MGR["mgr3"], {"problems": "2", "impact": "3"})
    clock.advance(days=4)
    run_sync()
    assert len(invitations(site, MGR["mgr3"])) == 1 and reminders(site, MGR["mgr3"]) == []
    assert len(reminders(site, MGR["mgr4"])) == 1
    # mgr3 hears once what their team's scores say about the topic they named
    [thanks] = poll_messages(site, MGR["mgr3"], "thank you for telling us")
    assert "You asked about Questioning" in thanks.text


def test_a_manager_who_cannot_answer_is_enrolled_before_the_invitation(
    site: SimulatedMoodle, run_sync: Any
) -> None:
    site.unenrol(MGR["mgr4"], POLL["courseid"])
    run_sync()
    enrolment = site.enrolment(MGR["mgr4"], POLL["courseid"])
    assert enrolment is not None and enrolment.roleids == [5]  # student: may submit
    assert len(invitations(site, MGR["mgr4"])) == 1
    assert len(site.calls_of("enrol_manual_enrol_users")) == 1


# --- the simulated Feedback ------------------------------------------------------------


def call(site: SimulatedMoodle, function: str, **params: Any) -> Any:
    head = [("wstoken", site.token), ("wsfunction", function), ("moodlewsrestformat", "json")]
    _status, _headers, text = site.handle(urlencode(head + flatten(params)))
    return json.loads(text)


def test_the_simulated_feedback_takes_an_answer_and_pages_the_responses(
    site: SimulatedMoodle,
) -> None:
    fid = POLL["feedbackid"]
    site.submit_feedback(fid, MGR["mgr4"], {"problems": "4", "impact": "2", "other": "a &amp; b"})
    first = call(site, "mod_feedback_get_responses_analysis", feedbackid=fid, page=0, perpage=2)
    second = call(site, "mod_feedback_get_responses_analysis", feedbackid=fid, page=1, perpage=2)
    assert first["totalattempts"] == second["totalattempts"] == 3
    # sorted by last name: Becker (mgr4), Haddad (mgr2), Whitfield (mgr1)
    assert [a["userid"] for a in first["attempts"] + second["attempts"]] == [
        MGR["mgr4"],
        MGR["mgr2"],
        MGR["mgr1"],
    ]
    assert first["attempts"][0]["responses"][0]["printval"] == "Calls end without a clear next step"
    left = call(site, "mod_feedback_get_non_respondents", feedbackid=fid)
    assert [u["userid"] for u in left["users"]] == [MGR["mgr3"]] and left["total"] == 1
    analysis = call(site, "mod_feedback_get_analysis", feedbackid=fid)
    assert analysis["completedcount"] == 3
    closing = json.loads(analysis["itemsdata"][0]["data"][3])
    assert closing == {
        "answertext": "Calls end without a clear next step",
        "answercount": 2,
        "quotient": 2 / 3,
    }


def test_an_anonymous_feedback_answers_without_users(site: SimulatedMoodle) -> None:
    site.state.feedbacks[POLL["feedbackid"]].anonymous = 1
    answer = call(site, "mod_feedback_get_responses_analysis", feedbackid=POLL["feedbackid"])
    assert answer["attempts"] == [] and answer["totalattempts"] == 0
    assert answer["totalanonattempts"] == 2
    assert all("userid" not in a for a in answer["anonattempts"])
    access = call(site, "mod_feedback_get_feedback_access_information", feedbackid=1)
    assert access["isanonymous"] is True


# --- the mapping -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where", "problem"),
    [
        ('3 = "Objections"', '3 = "Objection handling"', "poll.options.3", "not a topic"),
        ('3 = "Objections"', '0 = "Objections"', "poll.options", "does not match"),
        ('ask = "start"', 'ask = "every"', "poll", "every_weeks"),
        ('ask = "start"', 'ask = "weekly"', "poll.ask", "weekly"),
        ("activity = 14", "activity = 0", "poll.activity", ""),
    ],
)
def test_a_bad_poll_mapping_names_the_key(
    mapping_dir: Path, old: str, new: str, where: str, problem: str
) -> None:
    set_mapping(mapping_dir, old, new)
    with pytest.raises(MappingError) as caught:
        load_mapping(mapping_dir / "cc101.toml")
    assert f"cc101.toml: {where}" in str(caught.value)
    assert problem in str(caught.value)


def test_a_mapped_option_beyond_the_question_stops_the_programme_by_name(
    site: SimulatedMoodle, run_sync: Any, mapping_dir: Path
) -> None:
    set_mapping(mapping_dir, '4 = "Closing"', '4 = "Closing"\n5 = "Closing"')
    report = run_sync()
    error = report.outcomes[0].error
    assert error is not None and "poll.options.5" in str(error)
    assert "has 4 options" in str(error)
    assert site.write_calls() == []


def test_answers_are_read_page_by_page(
    site: SimulatedMoodle, run_sync: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("buyin.moodle.poll.POLL_PAGE", 1)
    run_sync()
    pages = site.calls_of("mod_feedback_get_responses_analysis")
    assert [p["page"] for p in pages] == [0, 1]
    assert invitations(site, MGR["mgr1"]) == [] and len(invitations(site, MGR["mgr3"])) == 1


# --- doctor ----------------------------------------------------------------------------


def doctor(settings: Settings) -> Any:
    return CliRunner().invoke(
        main,
        ["--state", str(settings.state_path), "--mappings", str(settings.mapping_dir), "doctor"],
        env={"BUYIN_URL": settings.url, "BUYIN_TOKEN": settings.token.reveal()},
    )


def test_doctor_checks_the_poll(site: SimulatedMoodle, settings: Settings) -> None:
    result = doctor(settings)
    assert result.exit_code == 0, result.output
    assert "poll activity 14 in 'LEAD100': Feedback 'What should training solve" in result.output
    assert "poll not anonymous" in result.output
    assert "poll responses readable" in result.output


def test_doctor_fails_an_anonymous_poll_and_says_what_it_costs(
    site: SimulatedMoodle, settings: Settings
) -> None:
    site.state.feedbacks[POLL["feedbackid"]].anonymous = 1
    result = doctor(settings)
    assert result.exit_code == 78
    assert "aggregate counts only" in result.output
    assert "Record user names" in result.output


def test_doctor_fails_when_the_agent_cannot_read_the_responses(
    site: SimulatedMoodle, settings: Settings
) -> None:
    site.deny_capability("mod_feedback_get_responses_analysis", "mod/feedback:viewreports")
    result = doctor(settings)
    assert result.exit_code == 78
    assert "poll responses readable" in result.output and "View reports" in result.output


# --- the reports -----------------------------------------------------------------------


def test_the_programme_report_shows_what_managers_asked_for(
    site: SimulatedMoodle, run_sync: Any, settings: Settings
) -> None:
    run_sync()
    report = build_programme_report(settings, "cc101")
    assert report.poll is not None
    counts = {t.topic: t.managers for t in report.poll.topics}
    assert counts == POLL["expected"]["problems_counts"]
    assert report.poll.responses == 2 and report.poll.waiting == 2
    assert report.poll.impact_mean == POLL["expected"]["impact_average"]
    # free text unescaped from Moodle's storage ...
    assert report.poll.comments == (POLL["respondents"]["mgr1"]["answers"]["other"],)
    page = programme_html(report)
    assert "What managers asked for" in page
    # ... and escaped again on the page
    assert "can&#x27;t coach" in page and "reviews &amp; short" in page
    assert "&amp;#039;" not in page
    # the managers' teams' pre-check on the topics they named, by hand from the scenario
    closing = next(t for t in report.poll.topics if t.topic == "Closing")
    assert closing.pre == pytest.approx(team_precheck("mgr1", "Closing"), abs=1e-4)


def team_precheck(manager: str, topic: str) -> float:
    learners = load_scenario()["learners"].values()
    scores = [
        min(
            (a for a in lr["precheck"]["attempts"] if a.get("timefinish")),
            key=lambda a: a["attempt"],
        )["per_topic_correct"][topic]
        / 2
        for lr in learners
        if lr["manager"] == manager and any(a.get("timefinish") for a in lr["precheck"]["attempts"])
    ]
    return sum(scores) / len(scores)


def test_the_team_report_shows_the_managers_own_answer(
    site: SimulatedMoodle, run_sync: Any, settings: Settings
) -> None:
    run_sync()
    team = build_team_report(settings, "mgr1")
    ask = team.programmes[0].ask
    assert ask is not None and ask.topics == ("Listening", "Closing")
    listening = team_precheck("mgr1", "Listening")
    assert ask.moves[0].line() == (
        f"you asked about Listening; your team's Listening score at the pre-check: "
        f"{round(listening * 100)} %"
    )
    assert "What you asked training to solve" in team_html(team)
    assert build_team_report(settings, "mgr3").programmes[0].ask is None


def test_you_asked_about_closing_and_your_teams_closing_score_moved() -> None:
    # mgr 5's team: two learners; Closing pre-check 1/2 and 1/4 (mean 0.375 -> 38 %),
    # post 3/4 and 7/8 (mean 0.8125 -> 81 %)
    def point(pre: float, post: float) -> HistoryPoint:
        return HistoryPoint(
            line_manager=5, precheck={"Closing": pre}, post={"Closing": post}, fullname="x"
        )

    rows = [(10, 1000, point(0.5, 0.75)), (11, 1000, point(0.25, 0.875))]
    poll = PollState(
        feedbackid=1,
        cmid=14,
        courseid=4,
        name="poll",
        url="u",
        anonymous=False,
        answers={5: PollAnswer(5, "Dana Whitfield", 900, ("Closing",), 5, "")},
    )
    team = team_programme("cc101", rows, 5, topics=["Closing"], poll=poll)
    assert team.ask is not None
    assert [m.line() for m in team.ask.moves] == [
        "you asked about Closing; your team's Closing score went from 38 % to 81 %"
    ]


# --- rounds ----------------------------------------------------------------------------

WEEK = 7 * 86400


def poll_cfg(**kw: Any) -> Poll:
    return Poll(activity=14, course="LEAD100", options={1: "Listening"}, **kw)


def test_one_round_from_the_start_unless_asked_again() -> None:
    assert current_round(poll_cfg(), 1000, 1000 + 52 * WEEK) == ("start", 1000)
    every = poll_cfg(ask="every", every_weeks=6)
    assert current_round(every, 1000, 1000 + 5 * WEEK) == ("r1", 1000)
    assert current_round(every, 1000, 1000 + 13 * WEEK) == ("r3", 1000 + 12 * WEEK)


def test_a_cohort_round_opens_days_before_the_cohort_starts() -> None:
    cfg = poll_cfg(ask="cohort", cohort_starts=("2027-01-11", "2027-03-01"), days_before=14)
    opens = parse_day("2027-01-11") - 14 * 86400
    assert current_round(cfg, 0, opens - 1) is None
    assert current_round(cfg, 0, opens) == ("c2027-01-11", opens)
    second = current_round(cfg, 0, parse_day("2027-02-20"))
    assert second is not None and second[0] == "c2027-03-01"
