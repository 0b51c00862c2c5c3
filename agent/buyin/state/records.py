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
    model's dataclasses (an object or an instance) and typed dicts, field by field."""
    if hint is Any or hint is object:
        return
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        errors: list[Mismatch] = []
        for arg in args:
            try:
                conform(value, arg, path)
                return
            except Mismatch as exc:
                errors.append(exc)
        deepest = max(errors, key=lambda e: len(e.path))
        if deepest.path != path:  # the value has the right shape, one of its fields not
            raise deepest
        raise Mismatch(path, type_name(hint), value)
    if hint is type(None) or hint is None:
        if value is not None:
            raise Mismatch(path, "null", value)
        return
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            hint(value)
        except ValueError:
            raise Mismatch(path, type_name(hint), value) from None
        return
    if hint is bool:
        if not isinstance(value, bool):
            raise Mismatch(path, "true or false", value)
        return
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Mismatch(path, "an integer", value)
        return
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Mismatch(path, "a number", value)
        return
    if hint is str:
        if not isinstance(value, str):
            raise Mismatch(path, "a text", value)
        return
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        _conform_fields(value, hint, path, dataclass_=True)
        return
    if typing.is_typeddict(hint):
        _conform_fields(value, hint, path, dataclass_=False)
        return
    if origin in (list, tuple, set, frozenset, Sequence, typing.AbstractSet):
        if isinstance(value, str | bytes | Mapping) or not isinstance(
            value, list | tuple | set | frozenset
        ):
            raise Mismatch(path, "a list", value)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise Mismatch(path, f"a list of {len(args)}", value)
            for i, (item, arg) in enumerate(zip(value, args, strict=True)):
                conform(item, arg, f"{path}[{i}]")
            return
        item_hint = args[0] if args else Any
        for i, item in enumerate(value):
            conform(item, item_hint, f"{path}[{i}]")
        return
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise Mismatch(path, "an object", value)
        key_hint, value_hint = args if args else (Any, Any)
        for k, v in value.items():
            conform(_json_key(k, key_hint), key_hint, f"{path}.{k}")
            conform(v, value_hint, f"{path}.{k}")
        return
    if isinstance(hint, type) and not isinstance(value, hint):
        raise Mismatch(path, type_name(hint), value)


def _json_key(key: Any, hint: Any) -> Any:
    """A JSON object's key as the model's mapping has it (JSON keys are texts)."""
    if hint is int and isinstance(key, str):
        try:
            return int(key)
        except ValueError:
            return key
    return key


def _conform_fields(value: Any, cls: Any, path: str, *, dataclass_: bool) -> None:
    hints = _hints(cls)
    if dataclass_ and isinstance(value, cls):
        for name, hint in hints.items():
            conform(getattr(value, name), hint, f"{path}.{name}")
        return
    if not isinstance(value, Mapping):
        raise Mismatch(path, type_name(cls), value)
    if dataclass_:
        required = {
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
    else:
        required = set(cls.__required_keys__)
    for name in sorted(required - set(value)):
        raise Mismatch(f"{path}.{name}", type_name(hints[name]) + " (missing)", None)
    for name, hint in hints.items():
        if name in value:
            conform(value[name], hint, f"{path}.{name}")


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


def row_damage(table: Table, row: Mapping[str, Any]) -> Damage | None:
    """What does not fit in one row of ``table`` (None: it fits)."""
    columns = _declared()[table.name]
    key = tuple((name, row[name]) for name in table.key)
    try:
        for name, (sql_type, notnull) in columns.items():
            if name in row:  # an older schema (a migration under way) lacks newer columns
                _column(row[name], sql_type, notnull, name)
        for name, enum in table.enums.items():
            conform(row[name], enum, name)
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


def damaged_records(db: Database) -> Iterator[Damage]:
    """Every record of the state that does not fit, table by table."""
    present = db.tables()
    for table in TABLES:
        if table.name not in present:
            continue
        with db.connection() as conn:
            cursor = conn.execute(f"SELECT * FROM {table.name}")
            rows = cursor.fetchmany(500)
            while rows:
                for row in rows:
                    damage = row_damage(table, dict(zip(row.keys(), tuple(row), strict=True)))
                    if damage is not None:
                        yield damage
                rows = cursor.fetchmany(500)


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
    record, with what to do; nothing when every record fits."""
    damage = next(damaged_records(db), None)
    if damage is not None:
        raise StateError(str(db.path), str(damage), hint=what_to_do(db, damage))
