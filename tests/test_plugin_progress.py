"""The agent on a site with local_buyin 0.2.0: one progress read per page of learners
and overrides in bulk (issue #12); the same end state as the core path."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import requests

from buyin.config import Secret, Settings
from buyin.moodle.client import MoodleClient
from buyin.moodle.progress import ProgressRead, read_course
from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.state import State
from buyin.sync import Syncer
from support import Clock

REPO = Path(__file__).resolve().parents[1]
PER_LEARNER = {
    "core_completion_get_activities_completion_status",
    "core_completion_get_course_completion_status",
    "mod_quiz_get_user_quiz_attempts",
    "mod_quiz_get_user_attempts",
    "core_completion_override_activity_completion_status",
}

#: the example maps the manager poll: its course, feedback and questions on the first
#: sync, then each sync its course's enrolments, the answers and the non-respondents
POLL_FIRST = 6
POLL_STEADY = 3


def _held(site: SimulatedMoodle) -> dict[str, Any]:
    """What Moodle holds that the agent writes."""
    state = site.state
    return {
        "completions": {
            k: (v.state, v.overrideby) for k, v in sorted(state.activity_completions.items())
        },
        "course_completions": sorted(state.course_completions),
        "enrolments": sorted(
            (k, sorted(v.roleids), v.timestart, v.timeend) for k, v in state.enrolments.items()
        ),
        "messages": sorted((m.useridfrom, m.useridto, m.text) for m in state.messages),
        "signoff_requests": sorted(
            (k, r.managerid, r.status) for k, r in site.plugin.requests.items()
        ),
    }


def test_first_sync_with_the_plugin_reads_by_page_and_writes_in_bulk(
    site: SimulatedMoodle, run_sync: Any
) -> None:
    site.install_plugin()
    assert run_sync().exit_code == 0
    calls = Counter(fn for fn, _ in site.calls)
    assert not PER_LEARNER & set(calls), calls
    assert calls["local_buyin_get_progress"] == 1
    assert calls["local_buyin_complete_activities"] == 1
    # issue #12: at most 12 calls, reads and writes, besides the poll's (#14), the one push
    # of the My results / My team figures (#13) and the programme's lease (#15), which came
    # after the target was set
    later = ("local_buyin_save_figures", "local_buyin_acquire_lease")
    assert [calls[fn] for fn in later] == [1, 1]
    assert sum(calls.values()) - sum(calls[fn] for fn in later) <= 12 + POLL_FIRST, calls
    assert any(v.overrideby for v in site.state.activity_completions.values())


def test_an_unchanged_site_and_the_reconciliation_cost_little(
    site: SimulatedMoodle, run_sync: Any, clock: Any
) -> None:
    site.install_plugin()
    run_sync()
    first = len(site.calls)
    clock.advance(hours=0.1)
    run_sync()  # verifies what the first pushed
    mark = len(site.calls)
    clock.advance(hours=0.1)
    assert run_sync().exit_code == 0
    # one site-info call per run, one for the lease (its fencing token changes every run,
    # issue #25), then at most four for the programme and the poll's three
    steady = [fn for fn, _ in site.calls[mark:] if fn != "core_webservice_get_site_info"]
    assert steady.count("local_buyin_acquire_lease") == 1
    steady.remove("local_buyin_acquire_lease")
    assert len(steady) <= 4 + POLL_STEADY, steady
    # awaiting sign-off costs nothing per learner: the progress read says who changed
    assert not PER_LEARNER & set(steady)
    mark = len(site.calls)
    clock.advance(days=2)
    run_sync()
    assert len(site.calls) - mark <= first


def _three_syncs(
    tmp_path: Path, clock: Clock, *, plugin: bool, learners: int = 24
) -> SimulatedMoodle:
    """The default scenario, synced three times an hour apart, on a fresh site."""
    site = SimulatedMoodle(generate_scenario(learners=learners), clock=clock)
    if plugin:
        site.install_plugin()
    work = tmp_path / ("plugin" if plugin else "core")
    (work / "mappings").mkdir(parents=True)
    mapping = (REPO / "mappings" / "examples" / "cc101.toml").read_text()
    # the same sign-off channel both ways: only the progress reads and overrides differ
    mapping = mapping.replace("[signoff]\n", '[signoff]\nchannel = "completion_report"\n')
    (work / "mappings" / "cc101.toml").write_text(mapping)
    settings = Settings(
        url=site.url,
        token=Secret(site.token),
        state_path=work / "state.sqlite",
        mapping_dir=work / "mappings",
    )
    session = requests.Session()
    session.mount(site.url, site.adapter())
    client = MoodleClient.from_settings(settings, session=session, sleep=lambda _s: None)
    for _ in range(3):
        state = State(settings.state_path)
        try:
            assert Syncer(settings, client, state, clock=clock).run().exit_code == 0
        finally:
            state.close()
        clock.advance(hours=1)
    return site


def test_the_default_scenario_ends_the_same_with_and_without_the_plugin(tmp_path: Path) -> None:
    start = Clock().now
    core = _three_syncs(tmp_path, Clock(start), plugin=False)
    plugin = _three_syncs(tmp_path, Clock(start), plugin=True)
    assert any(v.overrideby for v in plugin.state.activity_completions.values())
    assert _held(plugin) == _held(core)


# -- who is enrolled, from the progress read alone -----------------------------------------

CC101 = 2
ANNA, BEN = 9, 10


def _enrolled_listings(site: SimulatedMoodle, since: int, courseid: int) -> int:
    return sum(
        1
        for fn, fields in site.calls[since:]
        if fn == "core_enrol_get_enrolled_users" and int(fields["courseid"]) == courseid
    )


def _read(site: SimulatedMoodle, known: dict[str, Any] | None, since: int) -> ProgressRead:
    client = MoodleClient(site.url, site.token, sleep=lambda _s: None)
    return read_course(client, CC101, (), ("manager",), known, since)


def test_a_steady_run_with_the_plugin_never_lists_the_course_enrolments(
    site: SimulatedMoodle, run_sync: Any, clock: Any
) -> None:
    site.install_plugin()
    run_sync()
    clock.advance(hours=0.1)
    run_sync()
    mark = len(site.calls)
    clock.advance(hours=0.1)

    assert run_sync().exit_code == 0

    steady = [fn for fn, _ in site.calls[mark:]]
    assert _enrolled_listings(site, 0, CC101) == 0
    assert "core_user_get_users_by_field" not in steady  # enrolled managers came with it
    assert steady.count("local_buyin_get_progress") == 1
    # the lease: one call per run (its fencing token changes every run, issue #25)
    assert steady.count("local_buyin_acquire_lease") == 1
    steady.remove("local_buyin_acquire_lease")
    # the site, then contents, the progress read, sign-off changes, the refresher's grades
    assert len(steady) <= 1 + 4 + POLL_STEADY, steady


def test_the_roster_follows_a_role_and_a_manager_changed_since_the_last_read(
    site: SimulatedMoodle, clock: Clock
) -> None:
    site.install_plugin()
    first = _read(site, None, 0)
    assert {p.id for p in first.people} == {u for u, c in site.state.enrolments if c == CC101}
    clock.advance(hours=1)
    since = clock.now
    site.set_profile_field(ANNA, "manager", "mgr3")
    site.enrol(BEN, CC101, 10)  # Ben also gets the sign-off role
    mark = len(site.calls)

    later = _read(site, first.roster, since)

    assert set(later.changed) == {ANNA, BEN}
    people = {p.id: p for p in later.people}
    assert people.keys() == {p.id for p in first.people}
    assert people[ANNA].custom["manager"] == "mgr3"
    assert set(people[BEN].roles) == {5, 10}
    assert [fn for fn, _ in site.calls[mark:]] == ["local_buyin_get_progress"]


def test_a_learner_unenrolled_since_the_last_read_leaves_the_roster(
    site: SimulatedMoodle, clock: Clock
) -> None:
    site.install_plugin()
    first = _read(site, None, 0)
    clock.advance(hours=1)
    site.unenrol(ANNA, CC101)
    mark = len(site.calls)

    later = _read(site, first.roster, clock.now)

    # nothing changed "since", but one fewer is enrolled: everyone is read again
    assert ANNA not in {p.id for p in later.people}
    assert len(later.people) == len(first.people) - 1 and later.full
    assert [fn for fn, _ in site.calls[mark:]] == ["local_buyin_get_progress"] * 2
