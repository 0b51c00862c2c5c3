"""The SQLite state: migrations, the action ledger (and its named queries), schedule,
learner cache, history, meta, per-programme state, transactions, errors, and the run
lock (in-process and across processes)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from buyin.errors import (
    EXIT_LOCKED,
    EXIT_STATE,
    ConfigurationError,
    LockedError,
    StateError,
    exit_code_for,
)
from buyin.model.ledger import Ledger, LedgerEntry, ProgrammeState, ScheduleStatus, Status
from buyin.state import MIGRATIONS, CachedLearner, RunLock, State
from buyin.state import db as state_db


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "state.sqlite"


@pytest.fixture
def state(db_path: Path) -> Iterator[State]:
    st = State(db_path)
    yield st
    st.close()


def plan(st: State, key: str, now: int = 100, **overrides: Any) -> None:
    args: dict[str, Any] = {
        "key": key,
        "run_id": st.start_run("sync", now),
        "program": "cc101",
        "kind": "override",
        "userid": 12,
        "target": "cm45",
        "payload": {"cmid": 45, "newstate": 1},
        "reason": {"topic": "Listening"},
        "now": now,
    }
    args.update(overrides)
    st.record_planned(**args)


# --- schema -----------------------------------------------------------------------


def test_fresh_database_is_migrated_and_in_wal_mode(state: State, db_path: Path) -> None:
    assert db_path.exists()
    assert state.schema_version == len(MIGRATIONS) >= 1
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        raw.close()
    assert {"runs", "actions", "schedule", "learners", "history", "meta"} <= tables


def test_reopening_does_not_rerun_migrations(state: State, db_path: Path) -> None:
    state.set_meta("kept", "yes")
    state.close()
    # the first migration creates tables without IF NOT EXISTS: re-running it would fail
    again = State(db_path)
    try:
        assert again.schema_version == len(MIGRATIONS)
        assert again.get_meta("kept") == "yes"
    finally:
        again.close()


def test_new_migrations_run_once_on_an_older_database(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    State(db_path).close()
    extra = "CREATE TABLE extra (id INTEGER PRIMARY KEY); INSERT INTO extra (id) VALUES (1)"
    monkeypatch.setattr(state_db, "MIGRATIONS", (*MIGRATIONS, extra))
    for _ in range(2):
        st = State(db_path)
        assert st.schema_version == len(MIGRATIONS) + 1
        assert st.db.execute("SELECT COUNT(*) FROM extra").fetchone()[0] == 1
        st.close()


def test_a_failing_migration_leaves_the_version_unchanged(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    State(db_path).close()
    broken = "CREATE TABLE half (id INTEGER); INSERT INTO nowhere VALUES (1)"
    monkeypatch.setattr(state_db, "MIGRATIONS", (*MIGRATIONS, broken))
    with pytest.raises(StateError) as caught:
        State(db_path)
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert str(db_path) in str(caught.value) and exit_code_for(caught.value) == EXIT_STATE
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert raw.execute("SELECT name FROM sqlite_master WHERE name='half'").fetchone() is None
    finally:
        raw.close()


def test_a_database_from_a_newer_version_is_refused(db_path: Path) -> None:
    State(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    raw.close()

    with pytest.raises(ConfigurationError) as caught:
        State(db_path)
    assert str(db_path) in str(caught.value)
    assert "newer" in str(caught.value)
    assert "state_path" in caught.value.hint
    assert exit_code_for(caught.value) == 78


def test_an_unwritable_state_directory_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigurationError, match="state directory"):
        State(blocker / "sub" / "state.sqlite")


def test_in_memory_state_works() -> None:
    st = State(":memory:")
    try:
        assert st.schema_version == len(MIGRATIONS)
        st.set_meta("k", "v")
        assert st.get_meta("k") == "v"
    finally:
        st.close()


# --- runs ---------------------------------------------------------------------------


def test_runs_are_recorded_newest_first(state: State) -> None:
    first = state.start_run("sync", 100)
    second = state.start_run("backfill", 200)
    state.finish_run(first, 150, "ok", {"applied": 3}, "calls=5")

    runs = state.runs()
    assert [r.id for r in runs] == [second, first]
    assert runs[1].ended_at == 150 and runs[1].outcome == "ok"
    assert runs[1].counts == {"applied": 3} and runs[1].metrics == "calls=5"
    assert runs[0].outcome == "running" and runs[0].ended_at is None
    assert runs[0].mode == "backfill"


# --- the ledger --------------------------------------------------------------------


def test_planned_then_applied(state: State) -> None:
    plan(state, "override:u12:cm45", now=100)
    entry = state.entry("override:u12:cm45")
    assert entry is not None
    assert entry.status == "planned" and entry.status is Status.PLANNED
    assert entry.attempts == 0 and entry.applied_at is None
    assert entry.payload == {"cmid": 45, "newstate": 1}
    assert entry.reason == {"topic": "Listening"}
    assert (entry.program, entry.kind, entry.userid, entry.target) == (
        "cc101",
        "override",
        12,
        "cm45",
    )

    state.mark("override:u12:cm45", Status.APPLIED, 130)

    entry = state.entry("override:u12:cm45")
    assert entry is not None
    assert entry.status == "applied"
    assert entry.applied_at == 130
    assert entry.attempts == 1
    assert entry.updated_at == 130 and entry.created_at == 100
    assert entry.last_error is None


def test_failed_then_retried_then_applied_counts_attempts(state: State) -> None:
    plan(state, "k", now=100)
    state.mark("k", Status.FAILED, 110, error="nopermissions")
    failed = state.entry("k")
    assert failed is not None
    assert (failed.status, failed.attempts, failed.last_error, failed.applied_at) == (
        "failed",
        1,
        "nopermissions",
        None,
    )
    state.mark("k", Status.APPLIED, 120)
    done = state.entry("k")
    assert done is not None
    assert (done.status, done.attempts, done.last_error, done.applied_at) == (
        "applied",
        2,
        None,
        120,
    )


def test_skipped_without_an_attempt(state: State) -> None:
    plan(state, "k")
    state.mark("k", Status.SKIPPED, 105, attempted=False)
    entry = state.entry("k")
    assert entry is not None
    assert (entry.status, entry.attempts, entry.applied_at) == ("skipped", 0, None)


def test_an_unknown_status_is_refused_by_the_database(state: State) -> None:
    plan(state, "k")
    with pytest.raises(StateError) as caught:
        state.mark("k", "done", 105)  # type: ignore[arg-type]
    assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)
    entry = state.entry("k")
    assert entry is not None and entry.status == "planned"


def test_record_planned_upserts_on_the_key(state: State) -> None:
    plan(state, "k", now=100, payload={"v": 1})
    state.mark("k", Status.FAILED, 110, error="boom")
    plan(state, "k", now=200, payload={"v": 2}, reason={"why": "again"})

    assert len(state.ledger()) == 1
    entry = state.entry("k")
    assert entry is not None
    assert entry.status == "planned"
    assert entry.payload == {"v": 2} and entry.reason == {"why": "again"}
    assert entry.created_at == 100 and entry.updated_at == 200
    # new parameters (the mapping changed) start the count of failed runs again
    assert entry.attempts == 0
    state.mark("k", Status.FAILED, 210, error="boom")
    plan(state, "k", now=300, payload={"v": 2})
    assert state.entry("k").attempts == 1  # type: ignore[union-attr]  # same parameters: remembered


def test_ledger_entries_and_counts(state: State) -> None:
    plan(state, "a", now=100)
    plan(state, "b", now=101, program="cc201")
    plan(state, "c", now=102)
    state.mark("a", Status.APPLIED, 110)
    state.mark("c", Status.FAILED, 111, error="x")

    assert set(state.ledger()) == {"a", "b", "c"}
    assert set(state.ledger("cc101")) == {"a", "c"}
    assert [e.key for e in state.entries()] == ["c", "a", "b"]
    assert [e.key for e in state.entries(Status.FAILED)] == ["c"]
    assert state.counts_by_status() == {"applied": 1, "planned": 1, "failed": 1}
    assert state.entry("nope") is None


def test_a_failed_transaction_leaves_nothing(state: State) -> None:
    with pytest.raises(RuntimeError), state.transaction() as db:
        db.execute("INSERT INTO meta (key, value) VALUES ('half', 'done')")
        raise RuntimeError("killed")
    assert state.get_meta("half") is None


# --- schedule ------------------------------------------------------------------------


def test_schedule_is_idempotent_on_its_key(state: State) -> None:
    for due in (500, 900):  # the second call changes nothing
        state.schedule(
            key="followup:u12:c2",
            program="cc101",
            kind="followup",
            userid=12,
            due_at=due,
            payload={"n": due},
            now=100,
        )
    state.schedule(
        key="refresher:u13:c2", program="cc101", kind="refresher", userid=13, due_at=300,
        payload={}, now=100,
    )  # fmt: skip

    items = state.scheduled("cc101")
    assert [i.key for i in items] == ["refresher:u13:c2", "followup:u12:c2"]
    assert items[1].due_at == 500 and items[1].payload == {"n": 500}
    assert items[1].status == "pending"
    assert state.scheduled("cc201") == []

    state.set_schedule_status("refresher:u13:c2", ScheduleStatus.DONE)
    assert [i.key for i in state.scheduled()] == ["followup:u12:c2"]
    assert [i.key for i in state.scheduled(status=ScheduleStatus.DONE)] == ["refresher:u13:c2"]


# --- learner cache, history, meta ----------------------------------------------------------


def test_learner_cache_round_trips(state: State) -> None:
    learners = [
        CachedLearner("cc101", 12, "sig-a", {"topics": {"Listening": 1.0}}, 100, 100, None),
        CachedLearner("cc101", 13, "sig-b", {}, 100, 100, "no manager named"),
    ]
    state.save_learners("cc101", learners)
    assert state.cached_learners("cc101") == {12: learners[0], 13: learners[1]}
    assert state.cached_learners("cc201") == {}
    assert state.undecided() == [("cc101", 13, "no manager named")]

    # an update keeps first_seen, replaces the rest
    state.save_learners("cc101", [CachedLearner("cc101", 13, "sig-c", {"x": 1}, 999, 200, None)])
    updated = state.cached_learners("cc101")[13]
    assert (updated.signature, updated.data, updated.first_seen, updated.fetched_at) == (
        "sig-c",
        {"x": 1},
        100,
        200,
    )
    assert updated.undecided is None
    assert state.undecided() == []


def test_history_is_appended_and_read_in_order(state: State) -> None:
    run1 = state.start_run("sync", 100)
    run2 = state.start_run("sync", 200)
    state.add_history(run1, "cc101", {12: {"progress": 0.25}, 13: {"progress": 0.5}}, 100)
    state.add_history(run2, "cc101", {12: {"progress": 0.75}}, 200)
    state.add_history(run2, "cc201", {12: {"progress": 1.0}}, 200)

    assert state.history("cc101", 12) == [
        (12, 100, {"progress": 0.25}),
        (12, 200, {"progress": 0.75}),
    ]
    assert state.history("cc101") == [
        (12, 100, {"progress": 0.25}),
        (13, 100, {"progress": 0.5}),
        (12, 200, {"progress": 0.75}),
    ]
    assert state.history("cc999") == []


def test_meta_round_trips_and_overwrites(state: State) -> None:
    assert state.get_meta("last_sync") is None
    state.set_meta("last_sync", "100")
    state.set_meta("last_sync", "200")
    assert state.get_meta("last_sync") == "200"


def test_data_survives_reopening(state: State, db_path: Path) -> None:
    plan(state, "k")
    state.mark("k", Status.APPLIED, 150)
    state.close()
    again = State(db_path)
    try:
        entry = again.entry("k")
        assert entry is not None and entry.status == "applied" and entry.applied_at == 150
    finally:
        again.close()


# --- per-programme state ---------------------------------------------------------------


def test_a_programme_never_synced_has_empty_state(state: State) -> None:
    assert state.programme("cc101") == ProgrammeState("cc101")


def test_programme_state_round_trips(state: State) -> None:
    kept = ProgrammeState(
        program="cc101",
        mapped_at=100,
        reconciled_at=200,
        retention={12: 0.75, 13: 1.0},
        structure={"sections": [1, 2]},
        directory={"5": {"username": "mgr"}},
        plugin=None,
    )
    state.save_programme(kept)
    assert state.programme("cc101") == kept
    state.save_programme(ProgrammeState("cc101", mapped_at=100, plugin={"version": 2}))
    assert state.programme("cc101") == ProgrammeState("cc101", mapped_at=100, plugin={"version": 2})
    assert state.programme("cc201") == ProgrammeState("cc201")


def test_migration_4_moves_the_per_programme_meta_keys_into_programmes(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state_db, "MIGRATIONS", MIGRATIONS[:3])
    old = State(db_path)
    for key, value in {
        "reconciled:cc101": "200",
        "mapped_at:cc101": "100",
        "retention:cc101": '{"12": 0.5}',
        "structure:cc101": '{"sections": []}',
        "directory:cc101": '{"5": "x"}',
        "plugin:cc101": '{"version": 1}',
        "mapped_at:cc:201": "300",
        "last_sync": "kept",
    }.items():
        old.set_meta(key, value)
    old.close()
    monkeypatch.setattr(state_db, "MIGRATIONS", MIGRATIONS)

    with contextlib.closing(State(db_path)) as st:
        assert st.schema_version == len(MIGRATIONS) >= 4
        assert st.programme("cc101") == ProgrammeState(
            program="cc101",
            mapped_at=100,
            reconciled_at=200,
            retention={12: 0.5},
            structure={"sections": []},
            directory={"5": "x"},
            plugin={"version": 1},
        )
        assert st.programme("cc:201") == ProgrammeState("cc:201", mapped_at=300)
        keys = {r[0] for r in st.db.execute("SELECT key FROM meta")}
        assert keys == {"last_sync", "records_checked"}  # the digests of records found fitting


# --- transactions --------------------------------------------------------------------


def test_writes_inside_one_transaction_are_all_or_nothing(state: State) -> None:
    run = state.start_run("sync", 100)
    with pytest.raises(RuntimeError), state.transaction():
        state.save_learners("cc101", [CachedLearner("cc101", 12, "s", {}, 100, 100, None)])
        state.add_history(run, "cc101", {12: {"progress": 1.0}}, 100)
        state.save_programme(ProgrammeState("cc101", mapped_at=100))
        raise RuntimeError("killed between two writes")
    assert state.cached_learners("cc101") == {}
    assert state.history("cc101") == []
    assert state.programme("cc101") == ProgrammeState("cc101")

    with state.transaction():
        state.save_programme(ProgrammeState("cc101", mapped_at=100))
        state.set_meta("k", "v")
    assert state.programme("cc101").mapped_at == 100 and state.get_meta("k") == "v"


# --- the ledger's named queries --------------------------------------------------------


def entry(key: str, status: Status, **fields: Any) -> LedgerEntry:
    values: dict[str, Any] = {
        "key": key,
        "program": "cc101",
        "kind": "message",
        "userid": 12,
        "target": "",
        "payload": {},
        "reason": {},
        "status": status,
        "attempts": 1,
        "last_error": None,
        "created_at": 100,
        "updated_at": 100,
        "applied_at": 100 if status == Status.APPLIED else None,
    }
    values.update(fields)
    return LedgerEntry(**values)


def test_the_ledger_answers_the_questions_sync_and_the_rules_ask() -> None:
    followup = {"rule": "followup"}
    entries = [
        entry("enrol:u1", Status.APPLIED, kind="enrol", userid=1, reason=followup,
              payload={"timestart": 500}),
        entry("enrol:u2", Status.SKIPPED, kind="enrol", userid=2, reason=followup),
        entry("enrol:u3", Status.APPLIED, kind="enrol", userid=3, reason=followup,
              payload={"timestart": 900}),
        entry("enrol:u4", Status.FAILED, kind="enrol", userid=4, reason=followup),
        entry("override:u1", Status.APPLIED, kind="override", userid=1),
        entry("override:u5", Status.PLANNED, kind="override", userid=5),
        entry("digest:b", Status.APPLIED, reason={"rule": "digest"}, applied_at=300),
        entry("digest:a", Status.APPLIED, reason={"rule": "digest"}, applied_at=300),
        entry("digest:c", Status.APPLIED, reason={"rule": "digest"}, applied_at=200),
        entry("digest:d", Status.FAILED, reason={"rule": "digest"}, userid=6),
    ]  # fmt: skip
    ledger = Ledger({e.key: e for e in entries})

    assert len(ledger) == 10 and ledger["enrol:u1"].userid == 1
    assert ledger.status("enrol:u2") is Status.SKIPPED and ledger.status("nope") is None
    assert ledger.done("enrol:u1") and ledger.done("enrol:u2")
    assert not ledger.done("enrol:u4") and not ledger.done("nope")
    assert [e.key for e in ledger.delivered("digest")] == ["digest:c", "digest:a", "digest:b"]
    assert {uid: [e.key for e in es] for uid, es in ledger.applied("override").items()} == {
        1: ["override:u1"]
    }
    assert ledger.settled_learners("enrol", "followup") == {1, 2, 3}
    assert ledger.started_enrolments("followup", 600) == {1}
    assert ledger.unsettled_learners() == {4, 5, 6}
    assert ledger.in_doubt() == {"override:u5", "digest:d"}
    assert Ledger.of(ledger) is ledger and Ledger.of({}) == Ledger()


def test_the_state_reads_the_ledger_as_a_ledger(state: State) -> None:
    plan(state, "a")
    plan(state, "b", program="cc201")
    state.mark("a", Status.APPLIED, 110)
    ledger = state.ledger("cc101")
    assert isinstance(ledger, Ledger) and list(ledger) == ["a"] and ledger.done("a")


# --- the run lock -----------------------------------------------------------------


def test_a_second_lock_is_refused_while_the_first_holds_it(db_path: Path) -> None:
    first = RunLock(db_path)
    first.acquire()
    try:
        with pytest.raises(LockedError) as caught:
            RunLock(db_path).acquire()
        assert caught.value.exit_code == EXIT_LOCKED == 3
        assert exit_code_for(caught.value) == 3
        assert str(first.path) in str(caught.value)
    finally:
        first.release()

    with RunLock(db_path) as second:
        assert second.path == Path(str(db_path) + ".lock")


@pytest.mark.parametrize("alias", ["path", "symlink", "hardlink"])
def test_the_lock_is_the_files_identity_not_its_path(db_path: Path, alias: str) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    State(db_path).close()
    other = db_path.parent / "other-name.sqlite"
    if alias == "symlink":
        other.symlink_to(db_path)
    elif alias == "hardlink":
        other.hardlink_to(db_path)
    else:
        other = db_path
    with RunLock(db_path), pytest.raises(LockedError) as caught:
        RunLock(other).acquire()
    assert caught.value.exit_code == EXIT_LOCKED
    if alias != "hardlink":  # the holder is named beside the real file; a hard link has none
        assert f"pid {os.getpid()}" in str(caught.value)
    with RunLock(other):  # released: the next run goes on
        pass


def test_the_lock_is_released_when_the_with_block_fails(db_path: Path) -> None:
    with pytest.raises(RuntimeError), RunLock(db_path):
        raise RuntimeError("sync crashed")
    with RunLock(db_path):
        pass


def test_release_is_idempotent(db_path: Path) -> None:
    lock = RunLock(db_path)
    lock.acquire()
    lock.release()
    lock.release()
    with RunLock(db_path):
        pass


HOLDER = """
import sys
from pathlib import Path
from buyin.state import RunLock

lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
sys.stdin.readline()
lock.release()
print("released", flush=True)
"""


def test_a_lock_held_by_another_process_is_refused(db_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "locked"

        with pytest.raises(LockedError) as caught:
            RunLock(db_path).acquire()
        assert caught.value.exit_code == 3
        assert f"pid {holder.pid}" in str(caught.value)

        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "released"
        with RunLock(db_path):
            pass
    finally:
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0
        holder.stdout.close()


def test_a_killed_holder_leaves_no_stale_lock(db_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.wait(timeout=30)
    holder.stdin.close()
    holder.stdout.close()
    with RunLock(db_path):
        pass


def test_an_unreadable_state_file_is_a_state_error_with_its_own_exit_code(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite"
    path.write_text("this is not a database, it is a shopping list\n" * 100)
    with pytest.raises(StateError) as caught:
        State(path)
    assert str(path) in str(caught.value) and "is unreadable" in str(caught.value)
    assert "move it aside" in caught.value.hint and "buyin sync" in caught.value.hint
    assert exit_code_for(caught.value) == EXIT_STATE == 74


def test_an_sqlite_error_after_opening_is_a_state_error_naming_the_file(
    state: State, db_path: Path
) -> None:
    raw = sqlite3.connect(db_path)
    raw.execute("DROP TABLE runs")
    raw.commit()
    raw.close()
    with pytest.raises(StateError) as caught:
        state.runs()
    assert str(db_path) in str(caught.value) and "no such table" in str(caught.value)
    assert exit_code_for(caught.value) == EXIT_STATE
    with pytest.raises(StateError):
        state.start_run("sync", 100)
    # the failed write left no transaction open
    assert not state.db.in_transaction


def test_buyin_status_on_a_damaged_state_file_exits_74(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from buyin.cli import main

    path = tmp_path / "state.sqlite"
    path.write_text("this is not a database, it is a shopping list\n" * 100)
    result = CliRunner().invoke(main, ["--state", str(path), "status"])
    assert result.exit_code == EXIT_STATE
    assert f"the state database {path} is unreadable" in result.output
    assert "move it aside" in result.output


def test_a_state_file_whose_table_lost_a_column_is_refused_naming_it(tmp_path: Path) -> None:
    """Found by the fuzzer: one byte overwritten in the schema renamed a column, and
    `status` ended in a KeyError."""
    from click.testing import CliRunner

    from buyin.cli import main

    path = tmp_path / "state.sqlite"
    State(path).close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE signoffs RENAME COLUMN note TO nope")
    db.commit()
    db.close()
    result = CliRunner().invoke(main, ["--state", str(path), "status"])
    assert result.exit_code == EXIT_STATE
    assert "holds a damaged table definition (signoffs lacks note)" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_json_column_holding_a_scalar_is_a_damaged_record(tmp_path: Path) -> None:
    """Found by the fuzzer: learners.data set to `0` (valid JSON, not an object) ended
    in an AttributeError inside the pull."""
    path = tmp_path / "state.sqlite"
    state = State(path)
    state.save_learners("cc101", [CachedLearner("cc101", 9, "sig", {"activities": {}}, 1, 1, None)])
    state.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE learners SET data = '0'")
    db.commit()
    db.close()
    with pytest.raises(StateError) as caught:
        State(path)  # every record is checked when the state is opened
    assert "holds a damaged record: table learners, record program='cc101', userid=9" in str(
        caught.value
    )
    assert "field data: expected a JSON object, found 0" in str(caught.value)
    assert "DELETE FROM learners WHERE program='cc101' AND userid=9;" in str(caught.value.hint)
