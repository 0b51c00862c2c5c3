"""The SQLite connection: WAL mode, numbered migrations, transactions, error wrapping.

The schema evolves by :data:`MIGRATIONS`, recorded in ``PRAGMA user_version``. Any
SQLite error a state operation meets (at open or later) becomes a
:class:`~buyin.errors.StateError` naming the file (exit 74).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import re
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from buyin.errors import ConfigurationError, StateError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    Record = TypeVar("Record", bound=DataclassInstance)

P = ParamSpec("P")
R = TypeVar("R")
D = TypeVar("D", bound="Database")


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
    # 4: per-programme state in its own table (was six "<name>:<program>" meta keys)
    """
    CREATE TABLE programmes (
        program TEXT PRIMARY KEY,
        mapped_at INTEGER,
        reconciled_at INTEGER,
        retention TEXT NOT NULL DEFAULT '{}',
        structure TEXT,
        directory TEXT,
        plugin TEXT
    );
    INSERT INTO programmes (program)
        SELECT DISTINCT substr(key, instr(key, ':') + 1) FROM meta
        WHERE key GLOB 'reconciled:*' OR key GLOB 'mapped_at:*' OR key GLOB 'retention:*'
           OR key GLOB 'structure:*' OR key GLOB 'directory:*' OR key GLOB 'plugin:*';
    UPDATE programmes SET
        mapped_at = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'mapped_at:' || program),
        reconciled_at =
            (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'reconciled:' || program),
        retention = coalesce((SELECT value FROM meta WHERE key = 'retention:' || program), '{}'),
        structure = (SELECT value FROM meta WHERE key = 'structure:' || program),
        directory = (SELECT value FROM meta WHERE key = 'directory:' || program),
        plugin = (SELECT value FROM meta WHERE key = 'plugin:' || program);
    DELETE FROM meta
        WHERE key GLOB 'reconciled:*' OR key GLOB 'mapped_at:*' OR key GLOB 'retention:*'
           OR key GLOB 'structure:*' OR key GLOB 'directory:*' OR key GLOB 'plugin:*';
    """,
    # 5: the run lock, held in the database too (one row: who runs; buyin.state.holder)
    """
    CREATE TABLE run_holder (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        since INTEGER NOT NULL
    );
    """,
    # 6: history grows with change, not with runs: a learner's point is written when it
    # changed, and its seen_at moved on while it holds (NULL: seen at `at` only); the
    # schedule's pending items found without a scan of the done ones
    """
    ALTER TABLE history ADD COLUMN seen_at INTEGER;
    CREATE INDEX schedule_program_status ON schedule(program, status, due_at);
    CREATE INDEX actions_program_kind ON actions(program, kind);
    """,
)


def dumps(value: Any) -> str:
    """JSON as the state stores it: compact, keys sorted."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def json_object(text: str) -> dict[str, Any]:
    """A JSON column that holds an object (every JSON column of the state does): anything
    else is a damaged record (ValueError, which :func:`decoded` readers report)."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"a JSON object was expected, not {type(value).__name__}")
    return value


def from_row(cls: type[Record], row: sqlite3.Row, **decoded: Any) -> Record:
    """A stored record from its row: the columns named like its fields, then ``decoded``
    (the JSON and enum columns, converted) over them."""
    names = {f.name for f in dataclasses.fields(cls)}.intersection(row.keys())
    return cls(**{**{name: row[name] for name in names}, **decoded})


def refuse_special(path: Path) -> None:
    """A state path that exists must be a regular file (not /dev/null, a directory...)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # absent, or its directory cannot be made: said when it is created
        return
    if not stat.S_ISREG(mode):
        raise ConfigurationError(
            f"state_path {path} is not a regular file",
            hint="Set state_path (BUYIN_STATE) to a file of its own, e.g. /var/lib/buyin/state.sqlite.",
        )


def state_error(path: Path, exc: sqlite3.Error | UnicodeDecodeError) -> StateError:
    """An SQLite error as the user meets it: the file, what happened, what to do."""
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return StateError(
            str(path),
            f"is busy ({text})",
            hint="Another process holds it: run again when that one has finished.",
        )
    if "readonly" in text:
        return StateError(
            str(path),
            f"cannot be written ({text})",
            hint="Make the file and its directory writable by the agent's user.",
        )
    return StateError(str(path), f"failed ({text})")


def expected_tables() -> set[str]:
    """The tables the migrations create: a state file lacking one is damaged."""
    return {name for script in MIGRATIONS for name in re.findall(r"CREATE TABLE (\w+)", script)}


def expected_columns() -> dict[str, frozenset[str]]:
    """The columns of each table once every migration ran (built in memory once)."""
    return _columns_after(MIGRATIONS)


@functools.cache
def _columns_after(migrations: tuple[str, ...]) -> dict[str, frozenset[str]]:
    db = sqlite3.connect(":memory:")
    try:
        for script in migrations:
            for statement in script.split(";"):
                if statement.strip():
                    db.execute(statement)
        return {
            table: frozenset(str(c[1]) for c in db.execute(f"PRAGMA table_info({table})"))
            for script in migrations
            for table in re.findall(r"CREATE TABLE (\w+)", script)
        }
    finally:
        db.close()


def decoded(method: Callable[Concatenate[D, P], R]) -> Callable[Concatenate[D, P], R]:
    """A reader whose rows are decoded (JSON, enums): a damaged row becomes a StateError."""

    @functools.wraps(method)
    def wrapper(self: D, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise StateError(
                str(self.path), f"holds a damaged record ({type(exc).__name__}: {exc})"
            ) from exc

    return wrapper


class Database:
    """One SQLite connection, guarded by a lock (the push runs in threads)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else Path(":memory:")
        if str(self.path) != ":memory:":
            refuse_special(self.path)
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
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # not SQLite, or damaged
            self.db.close()
            raise StateError(str(self.path), f"is unreadable ({exc})") from exc
        try:
            self.migrate()
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """The connection, held for the block; an SQLite error becomes a StateError."""
        with self._lock:
            try:
                yield self.db
            # SQLite's message about a damaged schema may itself hold undecodable bytes
            except (sqlite3.Error, UnicodeDecodeError) as exc:
                raise state_error(self.path, exc) from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing. Nested, it joins the enclosing transaction (so several
        writes can be made one), whose end commits or rolls back all of them."""
        with self.connection() as db:
            if db.in_transaction:
                yield db
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                self._rollback()
                raise
            db.execute("COMMIT")

    def _rollback(self) -> None:
        # SQLite may have rolled back already (a full disk, an I/O error)
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self.connection() as db:
            return db.execute(sql, args).fetchall()

    def select(
        self,
        table: str,
        columns: str = "*",
        *,
        order: str = "",
        limit: int | None = None,
        **where: object,
    ) -> list[sqlite3.Row]:
        """Rows of ``table`` whose columns equal the ``where`` values (``None``: any)."""
        given = {column: value for column, value in where.items() if value is not None}
        sql = f"SELECT {columns} FROM {table}"
        if given:
            sql += " WHERE " + " AND ".join(f"{column}=?" for column in given)
        if order:
            sql += f" ORDER BY {order}"
        args = list(given.values())
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return self.rows(sql, args)

    def row(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self.connection() as db:
            row: sqlite3.Row | None = db.execute(sql, args).fetchone()
            return row

    # -- schema ------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        row = self.row("PRAGMA user_version")
        return int(row[0]) if row else 0

    def tables(self) -> set[str]:
        rows = self.rows("SELECT name FROM sqlite_master WHERE type='table'")
        return {str(r[0]) for r in rows if not str(r[0]).startswith("sqlite_")}

    def damaged_columns(self) -> str:
        """Tables whose columns differ from what the migrations made ("" when none)."""
        found = []
        for table, columns in sorted(expected_columns().items()):
            have = {str(c[1]) for c in self.rows(f"PRAGMA table_info({table})")}
            lacking = columns - have
            if have and lacking:
                found.append(f"{table} lacks {', '.join(sorted(lacking))}")
        return "; ".join(found)

    def check(self) -> list[str]:
        """What is wrong with the file (empty: nothing): integrity, schema version, tables."""
        problems = [str(r[0]) for r in self.rows("PRAGMA quick_check") if str(r[0]).lower() != "ok"]
        if self.schema_version != len(MIGRATIONS):
            problems.append(f"schema version {self.schema_version}, expected {len(MIGRATIONS)}")
        missing = expected_tables() - self.tables()
        if missing:
            problems.append("missing table(s) " + ", ".join(sorted(missing)))
        damaged = self.damaged_columns()
        if damaged:
            problems.append("damaged table definition(s): " + damaged)
        return problems

    def migrate(self) -> None:
        with self.connection():
            current = self.schema_version
            foreign = self.tables() - expected_tables()
            if current == 0 and foreign:
                raise StateError(
                    str(self.path),
                    "is not a moodle-buyin state file (it holds the table(s) "
                    + ", ".join(sorted(foreign))
                    + ")",
                    hint="Point state_path (BUYIN_STATE) at a file of its own; "
                    "leave this one to the application that wrote it.",
                )
            if current > len(MIGRATIONS):
                raise ConfigurationError(
                    f"state database {self.path} was written by a newer moodle-buyin "
                    f"(schema {current}, this one knows {len(MIGRATIONS)})",
                    hint="Upgrade moodle-buyin, or point state_path at another file.",
                )
            for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                with self.transaction() as db:
                    for statement in script.split(";"):
                        if statement.strip():
                            db.execute(statement)
                    db.execute(f"PRAGMA user_version = {version}")
            missing = expected_tables() - self.tables()
            if missing:
                raise StateError(str(self.path), "lacks the table(s) " + ", ".join(sorted(missing)))
            damaged = self.damaged_columns()
            if damaged:
                raise StateError(
                    str(self.path), "holds a damaged table definition (" + damaged + ")"
                )
