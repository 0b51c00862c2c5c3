"""local_buyin_get_progress and local_buyin_complete_activities on the simulated site:
the same facts as the core functions answer for the same learner (issue #12)."""

from __future__ import annotations

from typing import Any

from buyin.simulator import SimulatedMoodle
from buyin.simulator.model import ROLE_STUDENT
from test_simulator import call

COURSE = 2


def _quizzes(site: SimulatedMoodle) -> list[int]:
    return [q.id for q in site.state.quizzes.values() if q.course == COURSE]


def _students(site: SimulatedMoodle) -> list[int]:
    return sorted(
        uid
        for (uid, cid), enrolment in site.state.enrolments.items()
        if cid == COURSE and ROLE_STUDENT in enrolment.roleids
    )


def _all_pages(site: SimulatedMoodle, limit: int, **params: Any) -> list[dict[str, Any]]:
    learners: list[dict[str, Any]] = []
    cursor = 0
    while True:
        page = call(
            site, "local_buyin_get_progress", courseid=COURSE, cursor=cursor, limit=limit, **params
        )
        learners += page["learners"]
        cursor = page["nextcursor"]
        if not cursor:
            return learners


def test_progress_holds_what_the_core_functions_answer(plugin_site: SimulatedMoodle) -> None:
    quizids = _quizzes(plugin_site)
    learners = _all_pages(plugin_site, 500, quizids=quizids)
    page_aggregation = call(plugin_site, "local_buyin_get_progress", courseid=COURSE)["aggregation"]
    assert any(a["gradeitemmarks"] for lr in learners for a in lr["attempts"])
    enrolled = sorted(uid for uid, cid in plugin_site.state.enrolments if cid == COURSE)
    assert [lr["userid"] for lr in learners] == enrolled
    compared = 0  # learners whose course completion core answered (not everyone enrolled has one)
    for learner in learners:
        uid = learner["userid"]
        core = call(
            plugin_site,
            "core_completion_get_activities_completion_status",
            courseid=COURSE,
            userid=uid,
        )
        assert [(a["cmid"], a["state"], a["timecompleted"]) for a in learner["activities"]] == [
            (s["cmid"], s["state"], s["timecompleted"]) for s in core["statuses"]
        ]
        course = call(
            plugin_site, "core_completion_get_course_completion_status", courseid=COURSE, userid=uid
        )
        if "completionstatus" in course:
            compared += 1
            assert [c["timecompleted"] is not None for c in learner["completion"]["criteria"]] == [
                c["complete"] for c in course["completionstatus"]["completions"]
            ]
            assert page_aggregation == course["completionstatus"]["aggregation"]
            assert (learner["completion"]["timecompleted"] is not None) == course[
                "completionstatus"
            ]["completed"]
        for quizid in quizids:
            attempts = call(
                plugin_site,
                "mod_quiz_get_user_attempts",
                quizid=quizid,
                userid=uid,
                status="all",
            )["attempts"]
            mine = [a for a in learner["attempts"] if a["quiz"] == quizid]
            assert [(a["id"], a["state"]) for a in mine] == [
                (a["id"], a["state"]) for a in attempts
            ]
            assert [a["gradeitemmarks"] for a in mine if a["state"] == "finished"] == [
                a.get("gradeitemmarks", []) for a in attempts if a["state"] == "finished"
            ]
    assert compared >= 20  # the learners of the scenario, not only the managers


def test_pages_cover_every_learner_once(plugin_site: SimulatedMoodle) -> None:
    every = [lr["userid"] for lr in _all_pages(plugin_site, 500)]
    paged = [lr["userid"] for lr in _all_pages(plugin_site, 5)]
    assert paged == every and len(set(paged)) == len(paged) > 5


def _complete(site: SimulatedMoodle, userid: int, cmid: int) -> bool:
    held = site.state.activity_completions.get((userid, cmid))
    return held is not None and held.state != 0


def test_since_returns_only_learners_with_a_change(
    plugin_site: SimulatedMoodle, clock: Any
) -> None:
    clock.advance(days=30)
    learner = _students(plugin_site)[-1]  # not started
    cmid = next(  # one the learner has not completed: an unchanged state writes nothing
        a.cmid
        for a in plugin_site.state.activities.values()
        if a.course == COURSE and a.completion and not _complete(plugin_site, learner, a.cmid)
    )
    done = call(
        plugin_site,
        "local_buyin_complete_activities",
        items=[{"userid": learner, "cmid": cmid, "newstate": 1}],
    )
    assert done["items"][0]["status"], done
    changed = _all_pages(plugin_site, 500, since=clock.now)
    assert [lr["userid"] for lr in changed] == [learner]


def test_complete_activities_gives_each_item_its_result(plugin_site: SimulatedMoodle) -> None:
    learners = _students(plugin_site)[-2:]  # not started
    # the scenario tracks every activity of the course: stop tracking the pre-check quiz
    quiz = next(
        a
        for a in plugin_site.state.activities.values()
        if a.course == COURSE and a.modname == "quiz"
    )
    quiz.completion = 0
    tracked = [  # not completed by either: an unchanged state writes nothing (as in Moodle)
        a.cmid
        for a in plugin_site.state.activities.values()
        if a.course == COURSE
        and a.completion
        and not any(_complete(plugin_site, uid, a.cmid) for uid in learners)
    ]
    untracked = [
        a.cmid
        for a in plugin_site.state.activities.values()
        if a.course == COURSE and not a.completion
    ]
    items = [{"userid": uid, "cmid": tracked[0], "newstate": 1} for uid in learners]
    assert untracked
    items += [{"userid": learners[0], "cmid": untracked[0], "newstate": 1}]
    answer = call(plugin_site, "local_buyin_complete_activities", items=items)
    assert [r["status"] for r in answer["items"]] == [True, True, False]
    for uid in learners:
        held = plugin_site.state.activity_completions[(uid, tracked[0])]
        assert held.state == 1 and held.overrideby == plugin_site.state.agent_userid
    assert answer["items"][2]["warningcode"] == "nottracked"


def test_complete_activities_without_the_capability_fails_per_item(
    plugin_site: SimulatedMoodle,
) -> None:
    plugin_site.deny_capability(
        "core_completion_override_activity_completion_status", "moodle/course:overridecompletion"
    )
    learner = _students(plugin_site)[-1]  # not started
    cmid = next(  # one the learner has not completed: an unchanged state writes nothing
        a.cmid
        for a in plugin_site.state.activities.values()
        if a.course == COURSE and a.completion and not _complete(plugin_site, learner, a.cmid)
    )
    answer = call(
        plugin_site,
        "local_buyin_complete_activities",
        items=[{"userid": learner, "cmid": cmid, "newstate": 1}],
    )
    assert answer["items"][0]["warningcode"] == "nopermissions"
    assert "Override activity completion status" in answer["items"][0]["message"]
    assert (learner, cmid) not in plugin_site.state.activity_completions or (
        plugin_site.state.activity_completions[(learner, cmid)].overrideby is None
    )
