"""The SQLite state: runs, the action ledger, the schedule, learner cache, insight history.

Standard-library sqlite3 in WAL mode; the schema evolves by numbered migrations
recorded in ``PRAGMA user_version``. Every action goes through the ledger:
recorded ``planned`` before it is pushed, ``applied``/``failed``/``skipped``
after. A ``planned`` row left by a killed run is verified against Moodle by the
next run before anything is repeated.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from buyin.errors import ConfigurationError, FatalError, LockedError

MIGRATIONS: tuple[str, ...] = (
    # 1: the foundation
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        mode TEXT NOT NULL,
        outcome TEXT NOT NULL DEFAULT 'running',
        counts TEXT NOT NULL DEFAULT '{}',
        metrics TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE actions (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        run_id INTEGER REFERENCES runs(id),
        program TEXT NOT NULL,
        kind TEXT NOT NULL,
        userid INTEGER NOT NULL,
        target TEXT NOT NULL,
        payload TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL CHECK (status IN ('planned', 'applied', 'failed', 'skipped')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        applied_at INTEGER
    );
    CREATE INDEX actions_program_status ON actions(program, status);
    CREATE INDEX actions_program_user ON actions(program, userid);
    CREATE TABLE schedule (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        program TEXT NOT NULL,
        kind TEXT NOT NULL,
        userid INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'cancelled')),
        created_at INTEGER NOT NULL
    );
    CREATE INDEX schedule_due ON schedule(status, due_at);
    CREATE TABLE learners (
        program TEXT NOT NULL,
        userid INTEGER NOT NULL,
        signature TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL DEFAULT '{}',
        first_seen INTEGER NOT NULL,
        fetched_at INTEGER NOT NULL,
        undecided TEXT,
        PRIMARY KEY (program, userid)
    );
    CREATE TABLE history (
        id INTEGER PRIMARY KEY,
        run_id INTEGER REFERENCES runs(id),
        program TEXT NOT NULL,
        userid INTEGER NOT NULL,
        at INTEGER NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX history_program_user ON history(program, userid, at);
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: sign-off requests as the ledger and Moodle show them (a projection, rebuilt each run)
    """
    CREATE TABLE signoffs (
        program TEXT NOT NULL,
        userid INTEGER NOT NULL,
        status TEXT NOT NULL,
        approver INTEGER,
        awaiting_since INTEGER,
        requested_at INTEGER,
        reminders INTEGER NOT NULL DEFAULT 0,
        escalated_to INTEGER,
        escalated_at INTEGER,
        signed_at INTEGER,
        latency_seconds INTEGER,
        note TEXT NOT NULL DEFAULT '',
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (program, userid)
    );
    CREATE INDEX signoffs_status ON signoffs(status, approver);
    """,
    # 3: who signed, where the local_buyin plugin tells
    """
    ALTER TABLE signoffs ADD COLUMN signed_by INTEGER;
    """,
)


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    program: str
    kind: str
    userid: int
    target: str
    payload: dict[str, Any]
    reason: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    created_at: int
    updated_at: int
    applied_at: int | None


@dataclass(frozen=True)
class ScheduledItem:
    key: str
    program: str
    kind: str
    userid: int
    due_at: int
    payload: dict[str, Any]
    status: str


@dataclass(frozen=True)
class CachedLearner:
    program: str
    userid: int
    signature: str
    data: dict[str, Any]
    first_seen: int
    fetched_at: int
    undecided: str | None


@dataclass(frozen=True)
class RunRecord:
    id: int
    started_at: int
    ended_at: int | None
    mode: str
    outcome: str
    counts: dict[str, Any]
    metrics: str


def _entry(row: sqlite3.Row) -> LedgerEntry:
    return LedgerEntry(
        key=row["key"],
        program=row["program"],
        kind=row["kind"],
        userid=row["userid"],
        target=row["target"],
        payload=json.loads(row["payload"]),
        reason=json.loads(row["reason"]),
        status=row["status"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        applied_at=row["applied_at"],
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class State:
    """The agent's SQLite database. One connection, guarded by a lock (threads push)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else Path(":memory:")
        if str(self.path) != ":memory:":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigurationError(
                    f"cannot create the state directory {self.path.parent}: {exc.strerror}",
                    hint="Set state_path (BUYIN_STATE) to a writable location.",
                ) from None
        try:
            self.db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise ConfigurationError(
                f"cannot open the state database {self.path}: {exc}",
                hint="Set state_path (BUYIN_STATE) to a writable file.",
            ) from None
        self.db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        try:
            with self._lock:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA foreign_keys=ON")
                self.db.execute("PRAGMA busy_timeout=10000")
        except sqlite3.DatabaseError as exc:  # not an SQLite file, or a damaged one
            self.db.close()
            raise FatalError(
                f"the state database {self.path} is unreadable ({exc})",
                hint="Move it aside and run again (a fresh state refetches everything and "
                "repeats nothing Moodle already holds), or restore it from a backup.",
            ) from None
        try:
            self.migrate()
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    # -- schema ------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        with self._lock:
            current = self.schema_version
            if current > len(MIGRATIONS):
                raise ConfigurationError(
                    f"state database {self.path} was written by a newer moodle-buyin "
                    f"(schema {current}, this one knows {len(MIGRATIONS)})",
                    hint="Upgrade moodle-buyin, or point state_path at another file.",
                )
            for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in script.split(";"):
                        if statement.strip():
                            self.db.execute(statement)
                    self.db.execute(f"PRAGMA user_version = {version}")
                    self.db.execute("COMMIT")
                except Exception:
                    self.db.execute("ROLLBACK")
                    raise

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            else:
                self.db.execute("COMMIT")

    # -- runs --------------------------------------------------------------------

    def start_run(self, mode: str, now: int) -> int:
        with self.transaction() as db:
            cur = db.execute("INSERT INTO runs (started_at, mode) VALUES (?, ?)", (now, mode))
            return int(cur.lastrowid or 0)

    def finish_run(
        self, run_id: int, now: int, outcome: str, counts: Mapping[str, Any], metrics: str
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET ended_at=?, outcome=?, counts=?, metrics=? WHERE id=?",
                (now, outcome, _dumps(counts), metrics, run_id),
            )

    def runs(self, limit: int = 10) -> list[RunRecord]:
        with self._lock:
            rows = self.db.execute(
                "SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [
            RunRecord(
                id=r["id"],
                started_at=r["started_at"],
                ended_at=r["ended_at"],
                mode=r["mode"],
                outcome=r["outcome"],
                counts=json.loads(r["counts"]),
                metrics=r["metrics"],
            )
            for r in rows
        ]

    # -- the action ledger ---------------------------------------------------------

    def ledger(self, program: str | None = None) -> dict[str, LedgerEntry]:
        with self._lock:
            if program is None:
                rows = self.db.execute("SELECT * FROM actions").fetchall()
            else:
                rows = self.db.execute(
                    "SELECT * FROM actions WHERE program=?", (program,)
                ).fetchall()
        return {r["key"]: _entry(r) for r in rows}

    def entry(self, key: str) -> LedgerEntry | None:
        with self._lock:
            row = self.db.execute("SELECT * FROM actions WHERE key=?", (key,)).fetchone()
        return _entry(row) if row else None

    def entries(self, status: str | None = None, limit: int = 1000) -> list[LedgerEntry]:
        with self._lock:
            if status is None:
                rows = self.db.execute(
                    "SELECT * FROM actions ORDER BY updated_at DESC, id DESC LIMIT ?", (limit,)
                ).fetchall()
            else:
                rows = self.db.execute(
                    "SELECT * FROM actions WHERE status=? ORDER BY updated_at DESC, id DESC LIMIT ?",
                    (status, limit),
                ).fetchall()
        return [_entry(r) for r in rows]

    def record_planned(
        self,
        *,
        key: str,
        run_id: int,
        program: str,
        kind: str,
        userid: int,
        target: str,
        payload: Mapping[str, Any],
        reason: Mapping[str, Any],
        now: int,
    ) -> None:
        """Record an action as planned, before it is pushed (upsert on the key)."""
        with self.transaction() as db:
            db.execute(
                """
                INSERT INTO actions (key, run_id, program, kind, userid, target, payload, reason,
                                     status, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'planned', ?, ?)
                ON CONFLICT(key) DO UPDATE SET run_id=excluded.run_id, status='planned',
                    payload=excluded.payload, reason=excluded.reason, updated_at=excluded.updated_at
                """,
                (
                    key,
                    run_id,
                    program,
                    kind,
                    userid,
                    target,
                    _dumps(payload),
                    _dumps(reason),
                    now,
                    now,
                ),
            )

    def mark(
        self, key: str, status: str, now: int, *, error: str | None = None, attempted: bool = True
    ) -> None:
        with self.transaction() as db:
            db.execute(
                """
                UPDATE actions SET status=?, last_error=?, updated_at=?,
                    attempts = attempts + ?,
                    applied_at = CASE WHEN ?='applied' THEN ? ELSE applied_at END
                WHERE key=?
                """,
                (status, error, now, 1 if attempted else 0, status, now, key),
            )

    def counts_by_status(self) -> dict[str, int]:
        with self._lock:
            rows = self.db.execute(
                "SELECT status, COUNT(*) AS n FROM actions GROUP BY status"
            ).fetchall()
        return {r["status"]: r["n"] for r in rows}

    # -- schedule ------------------------------------------------------------------

    def schedule(
        self,
        *,
        key: str,
        program: str,
        kind: str,
        userid: int,
        due_at: int,
        payload: Mapping[str, Any],
        now: int,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                """
                INSERT INTO schedule (key, program, kind, userid, due_at, payload, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING
                """,
                (key, program, kind, userid, due_at, _dumps(payload), now),
            )

    def scheduled(self, program: str | None = None, status: str = "pending") -> list[ScheduledItem]:
        with self._lock:
            sql = "SELECT * FROM schedule WHERE status=?"
            args: list[Any] = [status]
            if program is not None:
                sql += " AND program=?"
                args.append(program)
            rows = self.db.execute(sql + " ORDER BY due_at, id", args).fetchall()
        return [
            ScheduledItem(
                key=r["key"],
                program=r["program"],
                kind=r["kind"],
                userid=r["userid"],
                due_at=r["due_at"],
                payload=json.loads(r["payload"]),
                status=r["status"],
            )
            for r in rows
        ]

    def set_schedule_status(self, key: str, status: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE schedule SET status=? WHERE key=?", (status, key))

    # -- learner cache -------------------------------------------------------------

    def cached_learners(self, program: str) -> dict[int, CachedLearner]:
        with self._lock:
            rows = self.db.execute("SELECT * FROM learners WHERE program=?", (program,)).fetchall()
        return {
            r["userid"]: CachedLearner(
                program=r["program"],
                userid=r["userid"],
                signature=r["signature"],
                data=json.loads(r["data"]),
                first_seen=r["first_seen"],
                fetched_at=r["fetched_at"],
                undecided=r["undecided"],
            )
            for r in rows
        }

    def save_learners(self, program: str, learners: Sequence[CachedLearner]) -> None:
        with self.transaction() as db:
            db.executemany(
                """
                INSERT INTO learners (program, userid, signature, data, first_seen, fetched_at,
                                      undecided)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(program, userid) DO UPDATE SET signature=excluded.signature,
                    data=excluded.data, fetched_at=excluded.fetched_at,
                    undecided=excluded.undecided
                """,
                [
                    (
                        program,
                        c.userid,
                        c.signature,
                        _dumps(c.data),
                        c.first_seen,
                        c.fetched_at,
                        c.undecided,
                    )
                    for c in learners
                ],
            )

    def undecided(self) -> list[tuple[str, int, str]]:
        with self._lock:
            rows = self.db.execute(
                "SELECT program, userid, undecided FROM learners WHERE undecided IS NOT NULL "
                "ORDER BY program, userid"
            ).fetchall()
        return [(r["program"], r["userid"], r["undecided"]) for r in rows]

    # -- sign-off records -------------------------------------------------------------

    SIGNOFF_COLUMNS = (
        "userid",
        "status",
        "approver",
        "awaiting_since",
        "requested_at",
        "reminders",
        "escalated_to",
        "escalated_at",
        "signed_at",
        "signed_by",
        "latency_seconds",
        "note",
    )

    def save_signoffs(self, program: str, rows: Sequence[Mapping[str, Any]], now: int) -> None:
        """Replace the programme's sign-off records with ``rows`` (dicts of SIGNOFF_COLUMNS)."""
        cols = self.SIGNOFF_COLUMNS
        with self.transaction() as db:
            db.execute("DELETE FROM signoffs WHERE program=?", (program,))
            db.executemany(
                f"INSERT INTO signoffs (program, {', '.join(cols)}, updated_at) "
                f"VALUES (?, {', '.join('?' for _ in cols)}, ?)",
                [(program, *(row.get(c) for c in cols), now) for row in rows],
            )

    def signoffs(self, program: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            if program is None:
                rows = self.db.execute(
                    "SELECT * FROM signoffs ORDER BY program, approver, userid"
                ).fetchall()
            else:
                rows = self.db.execute(
                    "SELECT * FROM signoffs WHERE program=? ORDER BY approver, userid", (program,)
                ).fetchall()
        return [dict(r) for r in rows]

    # -- history and meta ----------------------------------------------------------

    def add_history(
        self, run_id: int, program: str, points: Mapping[int, Mapping[str, Any]], now: int
    ) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO history (run_id, program, userid, at, data) VALUES (?, ?, ?, ?, ?)",
                [(run_id, program, uid, now, _dumps(data)) for uid, data in points.items()],
            )

    def history(
        self, program: str, userid: int | None = None
    ) -> list[tuple[int, int, dict[str, Any]]]:
        with self._lock:
            if userid is None:
                rows = self.db.execute(
                    "SELECT userid, at, data FROM history WHERE program=? ORDER BY at, id",
                    (program,),
                ).fetchall()
            else:
                rows = self.db.execute(
                    "SELECT userid, at, data FROM history WHERE program=? AND userid=? "
                    "ORDER BY at, id",
                    (program, userid),
                ).fetchall()
        return [(r["userid"], r["at"], json.loads(r["data"])) for r in rows]

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )


class RunLock:
    """An exclusive, non-blocking lock next to the state file (fcntl.flock).

    The kernel releases it when the process dies, so a killed run never leaves a
    stale lock behind.
    """

    def __init__(self, state_path: Path) -> None:
        self.path = Path(str(state_path) + ".lock")
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create the lock file {self.path}: {exc.strerror}",
                hint="Set state_path (BUYIN_STATE) to a writable location.",
            ) from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise LockedError(str(self.path), holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
