"""Linear to 100,000 learners (issue #24): the indexes and the state that grows with
change leave every outcome as it was, and each per-learner question is answered from
a map built once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from buyin.config import Settings
from buyin.model.ledger import Ledger, LedgerEntry, Status
from buyin.model.standing import Ranking, ahead_of
from buyin.moodle.client import MoodleClient
from buyin.moodle.fetch import SiteInfo, fetch_plugin_signoffs, reads_signoffs_after
from buyin.moodle.poll import fetch_non_respondents
from buyin.simulator import SimulatedMoodle
from buyin.state import State
from scale_outcomes import CASES, ledger_lines
from support import REPO, Clock

#: mgr1, the lab's first manager
MGR = 5
GOLDEN = json.loads((REPO / "tests" / "fixtures" / "scale_ledger.json").read_text())


@pytest.mark.parametrize(("size", "path"), CASES)
def test_the_ledger_is_the_one_written_before_the_indexes(size: int, path: str) -> None:
    """Test-outs, messages, sign-off requests and figures: every key, status, attempt
    count, time and payload as the code before the change left them."""
    before = GOLDEN[f"{size}-{path}"]
    after = ledger_lines(size, path)
    assert {line.split()[0].split(":")[0] for line in after} >= {"override", "message"}
    assert after == before


def _entry(key: str, kind: str, uid: int, status: Status, **reason: object) -> LedgerEntry:
    return LedgerEntry(
        key, "p", kind, uid, "t", {}, dict(reason), status, 1, None, 0, 0,
        100 if status == Status.APPLIED else None,
    )  # fmt: skip


def test_the_ledger_answers_per_learner_from_its_index() -> None:
    ledger = Ledger(
        {
            "o1": _entry("o1", "override", 1, Status.APPLIED),
            "o2": _entry("o2", "override", 1, Status.FAILED),
            "o3": _entry("o3", "override", 2, Status.APPLIED),
            "m": _entry("m", "message", 2, Status.APPLIED, parts=[{"key": "a"}, {"key": "b"}]),
        }
    )
    assert [e.key for e in ledger.applied("override")[1]] == ["o1"]
    assert [e.key for e in ledger.applied("override")[2]] == ["o3"]
    assert ledger.applied("enrol") == {}
    assert ledger.merged_into("b") == ledger["m"]
    assert ledger.merged_into("c") is None
    assert ledger.messages_on(2, "d", lambda _t: "d") == ["m"]
    assert ledger.messages_on(1, "d", lambda _t: "d") == []


@pytest.mark.parametrize(
    "scores",
    [{}, {1: 0.5}, {1: 0.5, 2: 0.5}, {1: 0.1, 2: 0.9, 3: 0.5, 4: 0.5, 5: 0.0}],
)
def test_one_sort_ranks_as_comparing_with_every_other(scores: dict[int, float]) -> None:
    ranking = Ranking(scores)
    for uid, score in scores.items():
        others = [s for o, s in scores.items() if o != uid]
        assert ranking.ahead_of(uid) == ahead_of(score, others)


def test_the_signoff_cursor_never_reads_a_settled_row_twice(
    plugin_site: SimulatedMoodle, settings: Settings, clock: Clock
) -> None:
    """All of a run's requests share one second: the next read starts after the last
    one (time and id), and a decision made later in that second is still read."""
    client = MoodleClient.from_settings(settings, sleep=lambda _s: None)
    learners = [9, 10, 11]
    t = clock.now
    plugin_site._fn_local_buyin_request_signoffs(
        [{"courseid": 2, "userid": uid, "managerid": MGR} for uid in learners]
    )
    rows, changed, kept = fetch_plugin_signoffs(client, 2, None, settled_before=t - 300)
    assert changed == set(learners)
    assert (kept["cursor"], kept["after"]) == (0, 0)  # too recent to be settled
    # a decision in the very second the requests were read: not lost
    plugin_site.plugin_decide(10, 2, MGR, "signed", time=t)
    clock.advance(hours=1)
    rows, changed, kept = fetch_plugin_signoffs(client, 2, kept, settled_before=clock.now - 300)
    assert changed == {10} and rows[10].signed
    assert kept["cursor"] == t and kept["after"] == max(r.id for r in rows.values())
    # settled: the next read starts after it and reads nothing
    position = {"since": kept["cursor"], "afterid": kept["after"], "courseid": 2}
    assert client.call("local_buyin_get_signoffs", **position)["signoffs"] == []
    # a later decision is read, alone
    plugin_site.plugin_decide(11, 2, MGR, "rejected", time=clock.now)
    clock.advance(hours=1)
    rows, changed, kept = fetch_plugin_signoffs(client, 2, kept, settled_before=clock.now - 300)
    assert changed == {11} and rows[11].status == "rejected"
    position = {"since": kept["cursor"], "afterid": kept["after"], "courseid": 2}
    assert client.call("local_buyin_get_signoffs", **position)["signoffs"] == []


def test_an_older_plugin_is_read_inclusively() -> None:
    def site(version: str) -> SiteInfo:
        name = "local_buyin_get_signoffs"
        return SiteInfo("u", 1, "", "", frozenset({name}), {name: version})

    assert not reads_signoffs_after(site("2026120300"))
    assert not reads_signoffs_after(site("?"))
    assert reads_signoffs_after(site("2026120402"))


def test_the_non_respondents_come_in_one_call_and_are_moodles_own(
    plugin_site: SimulatedMoodle, settings: Settings
) -> None:
    client = MoodleClient.from_settings(settings, sleep=lambda _s: None)
    by_core = fetch_non_respondents(client, 1)  # mod_feedback's pages
    SiteInfo.fetch(client)  # the service's functions, local_buyin 0.4.0's among them
    before = len(plugin_site.calls)
    by_plugin = fetch_non_respondents(client, 1)
    assert [name for name, _ in plugin_site.calls[before:]] == ["local_buyin_get_non_respondents"]
    assert by_plugin == by_core and by_plugin


def test_a_ledger_read_again_sees_every_write_since(tmp_path: Path) -> None:
    """The ledger kept between reads is the table: planned, marked, forgotten and
    retried entries, per programme and for all, as a fresh connection reads them."""
    path = tmp_path / "state.sqlite"
    state = State(path)
    run = state.start_run("sync", 10)

    def plan(key: str, program: str = "p") -> None:
        state.record_planned(
            key=key, run_id=run, program=program, kind="message", userid=1, target="t",
            payload={"touserid": 1, "text": key}, reason={}, now=10,
        )  # fmt: skip

    plan("a")
    plan("b", "q")
    assert set(state.ledger("p")) == {"a"} and set(state.ledger()) == {"a", "b"}
    plan("c")
    state.mark("a", Status.APPLIED, 20)
    state.mark("c", Status.FAILED, 20, error="no")
    plan("d")
    state.forget_planned("d")
    state.retry("p")
    with pytest.raises(RuntimeError), state.transaction():
        plan("e")
        raise RuntimeError  # rolled back: never in the ledger
    fresh = State(path)
    try:
        for program in ("p", "q", None):
            assert dict(state.ledger(program)) == dict(fresh.ledger(program))
        assert state.ledger("p")["a"].status == Status.APPLIED
        assert set(state.ledger()) == {"a", "b", "c"}
    finally:
        fresh.close()
        state.close()


def test_old_runs_detail_is_compacted_and_their_counts_kept(tmp_path: Path) -> None:
    state = State(tmp_path / "state.sqlite")
    day = 86400
    try:
        old = state.start_run("sync", 10)
        state.finish_run(old, 20, "ok", {"applied": 3}, "metrics run=1 calls=9")
        for key, at in (("figures:c2:l9:aaa", 20), ("figures:c2:l9:bbb", 30)):
            state.record_planned(
                key=key, run_id=old, program="p", kind="figures", userid=9, target="t",
                payload={}, reason={}, now=at,
            )  # fmt: skip
            state.mark(key, Status.APPLIED, at)
        state.record_planned(
            key="figures:c2:l10:ccc", run_id=old, program="p", kind="figures", userid=10,
            target="t", payload={}, reason={}, now=20,
        )  # fmt: skip
        state.mark("figures:c2:l10:ccc", Status.APPLIED, 20)
        assert state.compact(20 + day, 1) == {"runs": 0, "figures": 0}  # not old yet
        assert state.compact(100 * day, 90) == {"runs": 1, "figures": 1}
        [run] = state.runs()
        assert run.counts == {"applied": 3} and run.metrics == ""
        # the newest figures of each person stay: what Moodle holds is still known
        assert set(state.ledger("p")) == {"figures:c2:l9:bbb", "figures:c2:l10:ccc"}
    finally:
        state.close()
