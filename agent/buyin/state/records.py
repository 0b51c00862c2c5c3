"""Every state record checked against the model's types before a run uses it.

A state file can be well-formed SQLite and still hold a record no run can use: a
number where a time belongs, a JSON object missing a field, an action of an unknown
kind (a hand edit, a bad restore, a disk that flipped a byte). :func:`check_records`
reads every row of every table, decodes each column into the type the model gives it
(the SQL type of the column as ``PRAGMA table_info`` declares it, the enums, and the
shape of each JSON column: the model's dataclasses, checked field by field), and
names the first record that does not fit: table, key, field, what was expected and
what was found. :class:`~buyin.state.store.State` runs it when it opens the file, so
a damaged record stops the command (exit 74) before anything is pulled or pushed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import sqlite3
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypedDict

from buyin.errors import StateError
from buyin.model.actions import PARAMS, Kind, params_from_json
from buyin.model.history import HistoryPoint
from buyin.model.ledger import ScheduleStatus, Status
from buyin.model.names import Names
from buyin.model.poll import PollState
from buyin.model.snapshot import Course, Directory, LearnerData, Person, Quiz, SignoffRow
from buyin.state.db import Database, expected_columns


@dataclass(frozen=True)
class Damage:
    """One record that does not fit: where, which field, what was expected and found."""

    table: str
    #: the record's key columns and values, e.g. ``(("program", "cc101"), ("userid", 9))``
    key: tuple[tuple[str, Any], ...]
    field: str
    expected: str
    found: str

    def where(self) -> str:
        return ", ".join(f"{name}={value!r}" for name, value in self.key)

    def __str__(self) -> str:
        return (
            f"holds a damaged record: table {self.table}, record {self.where()}, "
            f"field {self.field}: expected {self.expected}, found {self.found}"
        )

    def delete_statement(self) -> str:
        """The SQL that removes the record (the one-record repair)."""
        where = " AND ".join(
            f"{name}={value}" if isinstance(value, int) else f"{name}='{value}'"
            for name, value in self.key
        )
        return f"DELETE FROM {self.table} WHERE {where};"


class Mismatch(ValueError):
    """A value that is not of the expected type (``path``: where inside the value)."""

    def __init__(self, path: str, expected: str, found: Any) -> None:
        super().__init__(f"{path}: expected {expected}")
        self.path = path
        self.expected = expected
        self.found = found


def shown(value: Any) -> str:
    """A found value as the error shows it (short)."""
    text = repr(value) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- the model's types, checked ---------------------------------------------------


def type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if hint is type(None) or hint is None:
        return "null"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in typing.get_args(hint))
    if isinstance(hint, type) and issubclass(hint, Enum):
        return "one of " + ", ".join(repr(m.value) for m in hint)
    if dataclasses.is_dataclass(hint) or typing.is_typeddict(hint):
        return f"an object ({getattr(hint, '__name__', 'record')})"
    names = {int: "an integer", float: "a number", str: "a text", bool: "true or false"}
    if hint in names:
        return names[hint]
    if origin in (list, tuple, set, frozenset, Sequence):
        return "a list"
    if origin in (dict, Mapping) or hint is dict:
        return "an object"
    return getattr(hint, "__name__", str(hint))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def conform(value: Any, hint: Any, path: str) -> None:
    """Raise :class:`Mismatch` where ``value`` (decoded from JSON or a model object) is
    not of type ``hint``: scalars, unions, enums, lists/tuples/sets, mappings, the
    model's dataclasses (an object or an instance) and typed dicts, field by field.
    A JSON object's keys stand for integer keys where the type has them."""
    try:
        checker(hint)(value)
    except Mismatch as exc:
        raise Mismatch(path + exc.path, exc.expected, exc.found) from None


#: a compiled check: returns when the value fits, else raises Mismatch with the path
#: inside the value ("" for the value itself, ".key", "[0]")
Checker = Callable[[Any], None]


def _inside(check: Checker, value: Any, step: str) -> None:
    try:
        check(value)
    except Mismatch as exc:
        raise Mismatch(step + exc.path, exc.expected, exc.found) from None


def _scalar(types_: tuple[type, ...], expected: str) -> Checker:
    def check(value: Any) -> None:
        if type(value) not in types_:
            raise Mismatch("", expected, value)

    return check


def _any(_value: Any) -> None:
    return None


@functools.cache
def checker(hint: Any) -> Checker:
    """The check of ``hint``, built once per type (the state holds many records)."""
    if hint is Any or hint is object:
        return _any
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is type(None) or hint is None:
        return _scalar((type(None),), "null")
    if hint is bool:
        return _scalar((bool,), "true or false")
    if hint is int:
        return _scalar((int,), "an integer")
    if hint is float:
        return _scalar((int, float), "a number")
    if hint is str:
        return _scalar((str,), "a text")
    if origin in (typing.Union, types.UnionType):
        return _union(hint, args)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _fields(hint, dataclass_=True)
    if typing.is_typeddict(hint):
        return _fields(hint, dataclass_=False)
    if origin in (list, tuple, set, frozenset, Sequence, typing.AbstractSet):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return _fixed(tuple(checker(a) for a in args))
        return _items(checker(args[0]) if args else _any)
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        key_hint, value_hint = args if args else (Any, Any)
        return _mapping(key_hint is int, checker(key_hint), checker(value_hint))
    if isinstance(hint, type):
        expected = type_name(hint)

        def instance(value: Any) -> None:
            if not isinstance(value, hint):
                raise Mismatch("", expected, value)

        return instance
    return _any


def _union(hint: Any, args: tuple[Any, ...]) -> Checker:
    nullable = type(None) in args
    options = [checker(a) for a in args if a is not type(None)]
    expected = type_name(hint)

    def check(value: Any) -> None:
        if value is None and nullable:
            return
        deepest: Mismatch | None = None
        for option in options:
            try:
                option(value)
                return
            except Mismatch as exc:
                if deepest is None or len(exc.path) > len(deepest.path):
                    deepest = exc
        if deepest is not None and deepest.path:  # the right shape, one of its fields not
            raise deepest
        raise Mismatch("", expected, value)

    return check


def _enum(enum: type[Enum]) -> Checker:
    values = frozenset(m.value for m in enum)
    expected = type_name(enum)

    def check(value: Any) -> None:
        try:
            fits = value in values
        except TypeError:  # unhashable
            fits = False
        if not fits:
            raise Mismatch("", expected, value)

    return check


def _items(item: Checker) -> Checker:
    def check(value: Any) -> None:
        if type(value) not in (list, tuple, set, frozenset):
            raise Mismatch("", "a list", value)
        for i, each in enumerate(value):
            _inside(item, each, f"[{i}]")

    return check


def _fixed(items: tuple[Checker, ...]) -> Checker:
    def check(value: Any) -> None:
        if type(value) not in (list, tuple) or len(value) != len(items):
            raise Mismatch("", f"a list of {len(items)}", value)
        for i, (each, item) in enumerate(zip(value, items, strict=True)):
            _inside(item, each, f"[{i}]")

    return check


def _mapping(int_keys: bool, key: Checker, item: Checker) -> Checker:
    def check(value: Any) -> None:
        if not isinstance(value, Mapping):
            raise Mismatch("", "an object", value)
        for k, v in value.items():
            _inside(key, _json_key(k) if int_keys else k, f".{k}")
            _inside(item, v, f".{k}")

    return check


def _json_key(key: Any) -> Any:
    """A JSON object's key as the model's mapping has it (JSON keys are texts)."""
    if isinstance(key, str):
        try:
            return int(key)
        except ValueError:
            return key
    return key


def _fields(cls: Any, *, dataclass_: bool) -> Checker:
    hints = _hints(cls)
    if dataclass_:
        required = {
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
    else:
        required = set(cls.__required_keys__)
    expected = type_name(cls)
    missing = {name: type_name(hints[name]) + " (missing)" for name in required}
    # compiled lazily: a type may refer to itself (a merged message's parts)
    compiled: dict[str, Checker] = {}

    def field_check(name: str) -> Checker:
        if name not in compiled:
            compiled[name] = checker(hints[name])
        return compiled[name]

    def check(value: Any) -> None:
        if dataclass_ and isinstance(value, cls):
            for name in hints:
                _inside(field_check(name), getattr(value, name), f".{name}")
            return
        if not isinstance(value, Mapping):
            raise Mismatch("", expected, value)
        for name in sorted(required):
            if name not in value:
                raise Mismatch(f".{name}", missing[name], None)
        for name in hints:
            if name in value:
                _inside(field_check(name), value[name], f".{name}")

    return check


def decoded_as(decode: Callable[[Any], Any], hint: Any) -> Callable[[Any, str], None]:
    """A check: ``decode`` (the model's own reader) must accept the value, and what
    it makes must be of type ``hint``."""

    def check(value: Any, path: str) -> None:
        try:
            made = decode(value)
        except Mismatch:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            conform(value, hint, path)  # names the field at fault where it can
            raise Mismatch(
                path, f"{type_name(hint)} ({type(exc).__name__}: {exc})", value
            ) from None
        conform(made, hint, path)

    return check


def typed(hint: Any) -> Callable[[Any, str], None]:
    def check(value: Any, path: str) -> None:
        conform(value, hint, path)

    return check


# -- the shapes of the JSON columns that are not a model dataclass -----------------


class Counts(TypedDict, total=False):
    """runs.counts (buyin.sync.SyncReport.counts)"""

    applied: int
    failed: int
    planned: int
    calls: int
    programmes: int
    undecided: int
    warnings: list[str]


class Reason(TypedDict, total=False):
    """actions.reason: why the rules asked (a merged message lists its parts), and the
    details the rules read back (buyin.rules)."""

    rule: str
    parts: list[Part]
    minutes_saved: float
    course: int
    attempt: int
    #: the kickoff manager note: learner ids; the sign-off digest: id -> name
    learners: list[int] | dict[str, str]


class PartKey(TypedDict):
    key: str


class Part(PartKey, total=False):
    reason: Reason


class Locale(TypedDict):
    lang: str
    timezone: str


class ScheduledPayload(TypedDict, total=False):
    rule: str


class Feedback(TypedDict):
    id: int
    cmid: int
    courseid: int
    name: str
    anonymous: bool


class PollStructure(TypedDict):
    feedback: Feedback
    ids: dict[str, int]
    ratings: dict[str, int]
    option_count: int


class Access(TypedDict):
    suspended: bool
    enrolments: list[list[int]]


class RosterEntry(TypedDict):
    person: Person
    access: Access


class RosterPeople(TypedDict):
    people: dict[str, RosterEntry]
    roles: dict[str, int]


class Roster(RosterPeople, total=False):
    fields: list[str]


class Structure(TypedDict, total=False):
    """programmes.structure: the course structure as pulled last (buyin.moodle.pull)."""

    refs: dict[str, Any]
    course: Course
    quiz: Quiz | None
    post_quiz: Quiz | None
    refresher: Course | None
    poll: PollStructure | None
    progress_at: int | None
    roster: Roster | None


class PluginCache(TypedDict, total=False):
    """programmes.plugin: local_buyin's sign-off requests as read last."""

    rows: dict[str, SignoffRow]
    cursor: int
    #: the id of the last row read at ``cursor`` (local_buyin 2026120402's afterid)
    after: int


def _int_keys(value: Any, path: str) -> None:
    if isinstance(value, Mapping):
        for k in value:
            try:
                int(k)
            except (TypeError, ValueError):
                raise Mismatch(f"{path}.{k}", "a learner id as key", k) from None


def retention(value: Any, path: str) -> None:
    conform(value, dict[str, float], path)
    _int_keys(value, path)


def learner_data(value: Any, path: str) -> None:
    conform(value, dict[str, Any], path)
    _int_keys(value.get("activities"), f"{path}.activities")
    if value.get("locale"):  # kept beside the progress by buyin.moodle.pull
        conform(value["locale"], Locale, f"{path}.locale")
    decoded_as(LearnerData.from_json, LearnerData)(value, path)


def directory(value: Any, path: str) -> None:
    conform(value, dict[str, Any], path)
    conform(value.get("asked", []), list[str], f"{path}.asked")
    decoded_as(Directory.from_json, Directory)(value, path)


def action_payload(row: Mapping[str, Any]) -> Callable[[Any, str], None]:
    def check(value: Any, path: str) -> None:
        kind = Kind(row["kind"])  # the kind column is checked first
        decoded_as(lambda v: params_from_json(kind, v), PARAMS[kind])(value, path)

    return check


# -- the tables ----------------------------------------------------------------------

#: a check of one decoded JSON value (raises Mismatch), or a factory given the row
Check = Callable[[Any, str], None]


@dataclass(frozen=True)
class Table:
    name: str
    #: the columns that name a record
    key: tuple[str, ...]
    #: enum columns
    enums: Mapping[str, type[Enum]] = dataclasses.field(default_factory=dict)
    #: JSON columns (an object, or NULL where the column allows it) and their check
    json: Mapping[str, Check] = dataclasses.field(default_factory=dict)
    #: JSON columns whose check depends on the row (the payload on the action's kind)
    json_of_row: Mapping[str, Callable[[Mapping[str, Any]], Check]] = dataclasses.field(
        default_factory=dict
    )


TABLES: tuple[Table, ...] = (
    Table("runs", ("id",), json={"counts": typed(Counts)}),
    Table(
        "actions",
        ("key",),
        enums={"kind": Kind, "status": Status},
        json={"reason": typed(Reason)},
        json_of_row={"payload": action_payload},
    ),
    Table(
        "schedule",
        ("key",),
        enums={"kind": Kind, "status": ScheduleStatus},
        json={"payload": typed(ScheduledPayload)},
    ),
    Table("learners", ("program", "userid"), json={"data": learner_data}),
    Table("history", ("id",), json={"data": decoded_as(HistoryPoint.from_json, HistoryPoint)}),
    Table("meta", ("key",)),
    Table("signoffs", ("program", "userid")),
    Table(
        "programmes",
        ("program",),
        json={
            "retention": retention,
            "structure": typed(Structure),
            "directory": directory,
            "plugin": typed(PluginCache),
        },
    ),
    Table("run_holder", ("id",)),
)

#: meta rows whose value has a shape, by key prefix
META: Mapping[str, Check] = {
    "poll:": decoded_as(PollState.from_json, PollState),
    "names:": decoded_as(Names.from_json, Names),
    "lease:": typed(int),
    "verified:": typed(int),
}


@functools.cache
def _declared() -> dict[str, dict[str, tuple[str, bool]]]:
    """Each table's columns: (declared SQL type, NOT NULL), as the migrations make them."""
    db = sqlite3.connect(":memory:")
    try:
        from buyin.state.db import MIGRATIONS

        for script in MIGRATIONS:
            for statement in script.split(";"):
                if statement.strip():
                    db.execute(statement)
        return {
            table: {
                str(c[1]): (str(c[2]).upper(), bool(c[3]) or bool(c[5]))
                for c in db.execute(f"PRAGMA table_info({table})")
            }
            for table in expected_columns()
        }
    finally:
        db.close()


def _column(value: Any, sql_type: str, notnull: bool, path: str) -> None:
    if value is None:
        if notnull:
            raise Mismatch(path, "a value (the column is NOT NULL)", value)
        return
    if sql_type == "INTEGER":
        conform(value, int, path)
    elif sql_type == "TEXT":
        conform(value, str, path)
    elif sql_type in ("REAL", "NUMERIC"):
        conform(value, float, path)


def _json(value: str, path: str, *, nullable: bool) -> Any:
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise Mismatch(path, f"JSON ({exc})", value) from None
    if data is None and nullable:
        return None
    if not isinstance(data, dict):
        raise Mismatch(path, "a JSON object", data)
    return data


def row_damage(table: Table, row: Mapping[str, Any], *, deep: bool = True) -> Damage | None:
    """What does not fit in one row of ``table`` (None: it fits); without ``deep``, the
    columns and enums only (the JSON columns were found fitting and are unchanged)."""
    columns = _declared()[table.name]
    key = tuple((name, row[name]) for name in table.key)
    try:
        for name, (sql_type, notnull) in columns.items():
            if name in row:  # an older schema (a migration under way) lacks newer columns
                _column(row[name], sql_type, notnull, name)
        for name, enum in table.enums.items():
            conform(row[name], enum, name)
        if not deep:
            return None
        checks = {**table.json, **{n: of_row(row) for n, of_row in table.json_of_row.items()}}
        for name, check in checks.items():
            if row.get(name) is None:
                continue
            value = _json(row[name], name, nullable=not columns[name][1])
            if value is not None:
                check(value, name)
        if table.name == "meta":
            for prefix, check in META.items():
                if str(row["key"]).startswith(prefix):
                    if prefix in ("lease:", "verified:"):
                        try:
                            int(row["value"])
                        except ValueError:
                            raise Mismatch("value", "a time (an integer)", row["value"]) from None
                    else:
                        check(_json(row["value"], "value", nullable=False), "value")
    except Mismatch as exc:
        return Damage(table.name, key, exc.path, exc.expected, shown(exc.found))
    return None


#: rows are checked in chunks of rowids; a chunk whose content is unchanged since it was
#: last found fitting is not decoded again (meta CHECKED: each chunk's digest)
CHUNK = 1000
CHECKED = "records_checked"


def _digests(db: Database) -> dict[str, str]:
    stored = (
        db.row("SELECT value FROM meta WHERE key=?", (CHECKED,)) if "meta" in db.tables() else None
    )
    try:
        value = json.loads(str(stored["value"])) if stored is not None else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def damaged_records(
    db: Database,
    *,
    known: Mapping[str, str] | None = None,
    digests: dict[str, str] | None = None,
) -> Iterator[Damage]:
    """Every record of the state that does not fit, table by table; a chunk of rows
    whose digest is in ``known`` (found fitting before, unchanged since) is skipped.
    ``digests`` receives every chunk's digest (meta's excepted: it holds them)."""
    present = db.tables()
    known = known or {}
    for table in TABLES:
        if table.name not in present:
            continue
        for chunk, rows in _chunks(db, table):
            if digests is not None and table.name != "meta":
                digests[chunk.name] = chunk.digest
            deep = known.get(chunk.name) != chunk.digest
            for row in rows:
                damage = row_damage(table, row, deep=deep)
                if damage is not None:
                    yield damage


@dataclass(frozen=True)
class Chunk:
    name: str
    digest: str


def _deep_columns(table: Table) -> tuple[str, ...]:
    """The columns whose check is costly (JSON), and those it depends on."""
    if table.name == "meta":
        return ("key", "value")
    return (*table.json, *table.json_of_row, *(("kind",) if table.json_of_row else ()))


def _chunks(db: Database, table: Table) -> Iterator[tuple[Chunk, list[dict[str, Any]]]]:
    """The table's rows by chunk of rowids, each chunk with the digest of its costly
    columns (a time updated in place does not make its JSON decoded again)."""
    with db.connection() as conn:
        cursor = conn.execute(f"SELECT rowid AS _rowid_, * FROM {table.name} ORDER BY rowid")
        names = [d[0] for d in cursor.description][1:]
        deep = [names.index(c) + 1 for c in _deep_columns(table) if c in names]
        current: int | None = None
        rows: list[dict[str, Any]] = []
        digest = hashlib.blake2b(digest_size=16)
        for raw in cursor:
            index = int(raw[0]) // CHUNK
            if current is not None and index != current:
                yield Chunk(f"{table.name}:{current}", digest.hexdigest()), rows
                rows, digest = [], hashlib.blake2b(digest_size=16)
            current = index
            values = tuple(raw)
            costly = (values[0], *(values[i] for i in deep))
            digest.update(repr(costly).encode("utf-8", "surrogatepass"))
            rows.append(dict(zip(names, values[1:], strict=True)))
        if current is not None:
            yield Chunk(f"{table.name}:{current}", digest.hexdigest()), rows


def what_to_do(db: Database, damage: Damage) -> str:
    cache = (
        damage.table in ("learners", "history", "signoffs")
        or (
            damage.table == "programmes"
            and damage.field.split(".")[0] in ("structure", "directory", "plugin")
        )
        or (
            damage.table == "meta"
            and str(dict(damage.key).get("key", "")).startswith(("poll:", "names:"))
        )
    )
    delete = f'sqlite3 {db.path} "{damage.delete_statement()}"'
    if cache:
        return (
            f"This record is kept only to spare calls (the next sync reads it from Moodle again): "
            f"delete it with {delete}, then run again."
        )
    if damage.table == "actions":
        return (
            f"Restore the state file from a backup; or delete the record with {delete} "
            "(the next sync decides that action again from what Moodle holds, so a message "
            "it names may be sent once more)."
        )
    return f"Restore the state file from a backup; or delete the record with {delete}."


def check_records(db: Database) -> None:
    """Raise a :class:`~buyin.errors.StateError` (exit 74) naming the first damaged
    record, with what to do; nothing when every record fits. Chunks of rows unchanged
    since they were last found fitting are not decoded again (their digests are kept
    in the state: a large history costs a hash, not a decoding, per run)."""
    known = _digests(db)
    digests: dict[str, str] = {}
    damage = next(damaged_records(db, known=known, digests=digests), None)
    if damage is not None:
        raise StateError(str(db.path), str(damage), hint=what_to_do(db, damage))
    if digests != known:
        try:
            with db.transaction() as conn:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (CHECKED, json.dumps(digests, sort_keys=True)),
                )
        except StateError:  # a read-only state: checked in full again next time
            return
