"""The figures local_buyin's My team and My results pages show (issue #13): pushed by
the agent after each sync through local_buyin_save_figures, only what changed, and the
same figures as the team report."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from buyin.config import Settings
from buyin.report.load import build_team_report
from buyin.report.pushed import digest
from buyin.simulator import SimulatedMoodle
from support import Clock
from test_cli import invoke

FIGURES = "local_buyin_save_figures"


def _saved(site: SimulatedMoodle, since: int = 0) -> list[dict[str, Any]]:
    """Every item the agent sent to local_buyin_save_figures since a call index."""
    return [item for fn, params in site.calls[since:] if fn == FIGURES for item in params["items"]]


def _userid(site: SimulatedMoodle, username: str) -> int:
    return next(u.id for u in site.state.users.values() if u.username == username)


def test_the_figures_pushed_for_a_managers_team_equal_the_team_report(
    site: SimulatedMoodle, run_sync: Any, settings: Settings, clock: Clock
) -> None:
    site.install_plugin()
    assert run_sync().exit_code == 0
    clock.advance(hours=30)
    assert run_sync().exit_code == 0
    checked = 0
    for manager in ("mgr1", "mgr2", "mgr3"):
        mid = _userid(site, manager)
        report = build_team_report(settings, manager)
        (team,) = report.programmes
        rows = {f.userid: f for f in site.plugin.team(mid) if f.figures.get("stage") != "left"}
        assert set(rows) == {m.figures.userid for m in team.members}
        for member in team.members:
            f = member.figures
            pushed = rows[f.userid].figures
            assert rows[f.userid].courseid == site.state.courses[2].id
            assert pushed["stage"] == f.status
            assert (pushed["precheck"], pushed["post"], pushed["retention"]) == (
                f.precheck,
                f.post,
                f.retention,
            )
            assert pushed["history"] == [
                {"at": p.at, "precheck": p.precheck, "post": p.post, "retention": p.retention}
                for p in member.scores
            ]
            assert (pushed["activities_done"], pushed["activities_total"]) == (
                f.activities_done,
                f.activities_total,
            )
            assert pushed["awaiting_since"] == f.awaiting_since
            assert pushed["tested_out"] == f.tested_out
            assert pushed["minutes_saved"] == f.minutes_saved
            checked += 1
        own = site.plugin.figures.get((2, mid, "manager"))
        if team.ask is None:
            assert own is None
        else:
            assert own is not None
            assert own.figures["topics"] == list(team.ask.topics)
            assert [(m["topic"], m["pre"], m["post"]) for m in own.figures["moves"]] == [
                (m.topic, m.pre, m.post) for m in team.ask.moves
            ]
    assert checked >= 6
    # the poll: mgr1 and mgr2 answered, mgr3 did not
    assert (2, _userid(site, "mgr1"), "manager") in site.plugin.figures
    assert (2, _userid(site, "mgr3"), "manager") not in site.plugin.figures


def test_an_unchanged_site_pushes_no_figures_and_a_change_pushes_only_its_learner(
    site: SimulatedMoodle, run_sync: Any, clock: Clock
) -> None:
    site.install_plugin()
    run_sync()
    first = _saved(site)
    assert first and all(item["role"] in ("learner", "manager") for item in first)
    clock.advance(hours=0.1)
    run_sync()  # verifies what the first pushed
    clock.advance(hours=0.1)
    mark = len(site.calls)
    assert run_sync().exit_code == 0
    assert Counter(fn for fn, _ in site.calls[mark:])[FIGURES] == 0

    # a manager signs on the plugin's page: that learner's stage moves, nobody else's
    learner, request = next(
        (uid, r) for (_, uid), r in site.plugin.requests.items() if r.status == "requested"
    )
    site.plugin_decide(learner, request.courseid, request.managerid, "signed", time=clock.now)
    site.run_completion_cron()  # Moodle completes the course
    clock.advance(hours=0.1)
    mark = len(site.calls)
    assert run_sync().exit_code == 0
    clock.advance(hours=0.1)
    run_sync()
    changed = _saved(site, mark)
    assert {(i["userid"], i["role"]) for i in changed} == {(learner, "learner")}
    assert site.plugin.figures[(request.courseid, learner, "learner")].figures["stage"] == (
        "complete"
    )


def test_the_digest_names_the_content_whatever_the_key_order() -> None:
    assert digest({"a": 1, "b": [1, 2]}) == digest({"b": [1, 2], "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})


def _rows(actions: list[Any]) -> set[tuple[int, str, str]]:
    return {
        (a.userid, a.params.role, json.dumps(a.params.figures, sort_keys=True)) for a in actions
    }


def test_a_dry_run_lists_the_figures_the_run_then_pushes(
    plugin_site: SimulatedMoodle, run_sync: Any, settings: Settings
) -> None:
    dry = run_sync(dry_run=True)
    (outcome,) = dry.outcomes
    assert outcome.figures is not None
    planned = _rows(outcome.figures.actions)
    assert len(planned) >= 6
    assert _saved(plugin_site) == []  # a dry run pushes nothing
    printed = invoke(settings, "sync", "--dry-run").stdout
    assert f"{len(planned)} rows of figures for local_buyin's pages to save" in printed
    assert printed.count("'s figures for the My results and My team pages") == sum(
        role == "learner" for _, role, _ in planned
    )

    assert run_sync().exit_code == 0
    pushed = {
        (item["userid"], item["role"], json.dumps(json.loads(item["figures"]), sort_keys=True))
        for item in _saved(plugin_site)
    }
    # what the dry run listed is what the run pushed (every planned action applied)
    assert pushed == planned
