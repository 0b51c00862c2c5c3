"""Damage the state, one field at a time: the cases, generated from a state file.

Every column of one record of each table (of each action kind, each meta prefix), as
``PRAGMA table_info`` declares it, and every field inside each JSON column, found by
walking the stored value, each given values of the wrong type or removed. Used by
tests/test_state_damage.py (one damage per field) and tools/crash_campaign.py
(every damage).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: what an integer, a text and a JSON field are replaced with
WRONG: dict[str, tuple[Any, ...]] = {
    "INTEGER": ("x", None, 1.5),
    "TEXT": (None, ""),
}
WRONG_JSON = ("x", 7, None, {})
WRONG_DOCUMENT = ("[]", "null", "{", "{}")
#: the sentinel for "remove this key"
REMOVED = object()


@dataclass(frozen=True)
class Case:
    table: str
    rowid: int
    column: str
    #: inside a JSON column: the keys and list indexes down to the damaged field
    path: tuple[str | int, ...]
    value: Any

    def __str__(self) -> str:
        where = ".".join(str(p) for p in (self.column, *self.path))
        shown = "removed" if self.value is REMOVED else json.dumps(self.value)
        return f"{self.table}[{self.rowid}].{where} = {shown}"


def json_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every field of a JSON value (the first of each list and of each object whose
    keys are ids: the others have the same shape)."""
    if isinstance(value, dict):
        keys = list(value)
        if keys and all(k.lstrip("-").isdigit() for k in keys):
            keys = keys[:1]
        for key in keys:
            yield (*path, key)
            yield from json_paths(value[key], (*path, key))
    elif isinstance(value, list) and value:
        yield (*path, 0)
        yield from json_paths(value[0], (*path, 0))


def damaged(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    if value is REMOVED:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copy


def sample_rows(db: sqlite3.Connection, table: str) -> list[sqlite3.Row]:
    """One record of the table (of actions, one of each kind)."""
    rows = db.execute(f"SELECT rowid AS _rowid, * FROM {table} ORDER BY rowid").fetchall()
    if table == "actions":
        kinds: dict[str, sqlite3.Row] = {}
        for row in rows:
            kinds.setdefault(row["kind"], row)
        return list(kinds.values())
    if table == "meta":
        prefixes: dict[str, sqlite3.Row] = {}
        for row in rows:
            prefixes.setdefault(str(row["key"]).split(":")[0], row)
        return list(prefixes.values())
    return rows[:1]


def cases(state: Path) -> list[Case]:
    db = sqlite3.connect(state)
    db.row_factory = sqlite3.Row
    found: list[Case] = []
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in sorted(tables):
        columns = db.execute(f"PRAGMA table_info({table})").fetchall()
        for row in sample_rows(db, table):
            for column in columns:
                name, sql_type = str(column["name"]), str(column["type"]).upper()
                for value in WRONG.get(sql_type, ()):
                    found.append(Case(table, row["_rowid"], name, (), value))
                try:
                    document = json.loads(row[name]) if isinstance(row[name], str) else None
                except ValueError:
                    document = None
                if not isinstance(document, dict):
                    continue
                for text in WRONG_DOCUMENT:
                    found.append(Case(table, row["_rowid"], name, (), text))
                for path in json_paths(document):
                    for value in (*WRONG_JSON, REMOVED):
                        found.append(Case(table, row["_rowid"], name, path, value))
    db.close()
    return found


def apply(state: Path, case: Case) -> bool:
    """Damage the record (False where SQLite itself refuses the value)."""
    db = sqlite3.connect(state)
    try:
        if case.path:
            (text,) = db.execute(
                f"SELECT {case.column} FROM {case.table} WHERE rowid=?", (case.rowid,)
            ).fetchone()
            value: Any = json.dumps(damaged(json.loads(text), case.path, case.value))
        else:
            value = case.value
        with db:
            db.execute(
                f"UPDATE {case.table} SET {case.column}=? WHERE rowid=?", (value, case.rowid)
            )
        return True
    except sqlite3.IntegrityError:  # NOT NULL, CHECK, UNIQUE: SQLite keeps such damage out
        return False
    finally:
        db.close()


def one_per_field(found: list[Case]) -> list[Case]:
    """One damage of each field (the wrong values taken in turn across the fields)."""
    fields: dict[tuple[str, int, str, tuple[str | int, ...]], list[Case]] = {}
    for case in found:
        fields.setdefault((case.table, case.rowid, case.column, case.path), []).append(case)
    return [choices[i % len(choices)] for i, choices in enumerate(fields.values())]


@dataclass
class Tally:
    """What the damages gave: exit codes (per command), refused by SQLite, failures."""

    cases: int = 0
    refused_by_sqlite: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    #: the tables with a damage the sync refused (exit 74)
    refused_in: set[str] = field(default_factory=set)

    def line(self, name: str) -> str:
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(self.outcomes.items()))
        return (
            f"{name}: {self.cases} damages, {self.refused_by_sqlite} refused by SQLite itself; "
            f"{shown}; failures {len(self.failures)}"
        )


#: a command run against a state file: (exit code, output, the exception if not an exit)
Command = Callable[[Path, str], tuple[int, str, BaseException | None]]


def run_damages(
    reference: Path,
    found: list[Case],
    workdir: Path,
    buyin: Command,
    writes: Callable[[], int],
    fresh: Callable[[], None] = lambda: None,
) -> Tally:
    """Each case on a copy of ``reference``: `sync` then `status`. A failure is a
    traceback, an exit other than 0, 74, 78 (a cached id Moodle no longer knows: the
    run stops naming the call) and 1 (a cached id swapped for another that Moodle
    knows: the write it makes is refused, named in the run's report; both heal at the
    next reconciliation, which reads the structure again), a 74 that does not name the
    record or comes after a write reached Moodle."""
    tally = Tally(cases=len(found))
    for i, case in enumerate(found):
        state = workdir / f"damage-{i % 2}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{state}{suffix}").unlink(missing_ok=True)
        shutil.copy(reference, state)
        if not apply(state, case):
            tally.refused_by_sqlite += 1
            continue
        fresh()  # each case is a state of its own: its lease starts afresh
        before = writes()
        for command in ("sync", "status"):
            code, output, exception = buyin(state, command)
            key = f"{command} {code}"
            if command == "sync" and code == 74:
                tally.refused_in.add(case.table)
            tally.outcomes[key] = tally.outcomes.get(key, 0) + 1
            if exception is not None or "Traceback" in output:
                tally.failures.append(f"{case}: {command}: {exception!r}")
            elif code == 1 and command == "sync" and "failed" in output:
                pass  # a cached id swapped for another's: Moodle refused that write (named)
            elif code not in (0, 74, 78):
                tally.failures.append(f"{case}: {command} exit {code}: {output[-300:]}")
            elif code == 78 and "Moodle answered" not in output:
                tally.failures.append(f"{case}: {command} exit 78: {output[-300:]}")
            elif code == 74 and (
                "holds a damaged record" not in output or "what to do:" not in output
            ):
                tally.failures.append(f"{case}: {command} exit 74: {output[-300:]}")
            elif code == 74 and writes() != before:
                tally.failures.append(f"{case}: {command}: wrote to Moodle before refusing")
    return tally


def damage_campaign(variant: str, workdir: Path, *, every: bool) -> Tally:
    """A site (core, or with local_buyin) behind `responses`, a state left by two syncs,
    then its damages (one per field, or ``every`` one), each run with `sync` and
    `status` in-process. The commands take the scenario's clock."""
    import responses
    from click.testing import CliRunner

    from buyin.cli import main
    from buyin.simulator import SimulatedMoodle, generate_scenario
    from support import REPO, Clock, news_since

    clock = Clock()
    site = SimulatedMoodle(generate_scenario(), clock=clock)
    if variant == "plugin":
        site.install_plugin()
    mappings = workdir / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "mappings" / "examples" / "cc101.toml", mappings / "cc101.toml")
    news_since(mappings)
    runner = CliRunner()
    env = {"BUYIN_URL": site.url, "BUYIN_TOKEN": site.token, "BUYIN_RETRIES": "1"}

    def run(state: Path, command: str) -> tuple[int, str, BaseException | None]:
        result = runner.invoke(
            main, ["--state", str(state), "--mappings", str(mappings), command], env=env
        )
        exception = result.exception
        return (
            result.exit_code,
            result.output,
            None if isinstance(exception, SystemExit) else exception,
        )

    from buyin import sync as sync_module

    kept_clock = sync_module.system_clock
    sync_module.system_clock = clock
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            site.register(rsps)
            reference = workdir / "reference.sqlite"
            for _ in range(2):  # everything sent, then a run that finds nothing to do
                code, output, _exc = run(reference, "sync")
                if code != 0:
                    raise AssertionError(output)
            found = cases(reference)
            if not every:
                found = one_per_field(found)
            return run_damages(
                reference,
                found,
                workdir,
                run,
                lambda: len(site.write_calls()),
                site.plugin.leases.clear,
            )
    finally:
        sync_module.system_clock = kept_clock
