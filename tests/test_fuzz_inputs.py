"""Inputs never end in a traceback: mapping files, configuration and state files
mutated at random (hypothesis), each run through `sync`, `doctor` and `status`
against the simulated site. Every outcome is an exit code from the README's table
and a message, never a traceback."""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buyin.cli import main
from buyin.simulator import SimulatedMoodle, generate_scenario
from support import REPO, Clock

# the state fixture's bytes make a long repr in hypothesis' report
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")

#: the exit codes the README documents
DOCUMENTED = {0, 1, 2, 3, 74, 75, 78}
COMMANDS = ("sync", "doctor", "status")
EXAMPLE = (REPO / "mappings" / "examples" / "cc101.toml").read_bytes()


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.fixture(autouse=True)
def in_tmp_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # relative state paths land here, not in the repository


@contextmanager
def workspace() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="buyin-fuzz-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run(
    args: list[str], *, env: dict[str, str] | None = None, site: bool = True
) -> dict[str, Result]:
    """Every command once, against a fresh simulated site."""
    results = {}
    for command in COMMANDS:
        sim = SimulatedMoodle(generate_scenario(), clock=Clock())
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            sim.register(rsps)
            base = {"BUYIN_URL": sim.url, "BUYIN_TOKEN": sim.token, "BUYIN_RETRIES": "2"}
            results[command] = CliRunner().invoke(
                main, [*args, command], env={**base, **(env or {})}
            )
    return results


def assert_no_traceback(results: dict[str, Result]) -> None:
    for command, result in results.items():
        assert not (result.exception and not isinstance(result.exception, SystemExit)), (
            f"{command}: {type(result.exception).__name__}: {result.exception}"
        )
        assert result.exit_code in DOCUMENTED, (command, result.exit_code, result.output)
        assert "Traceback" not in result.output, (command, result.output)
        if result.exit_code not in (0, 1):
            assert result.output.strip(), command  # said why


# -- mappings --------------------------------------------------------------------------

ODD_VALUES = [
    b"nan", b"inf", b"-inf", b"1e300", b"-1", b"0", b"99999999999999999999", b"1.5",
    b'"x"', b"true", b"[]", b"{}", b'""', b"-0.0", b"2147483648", b"1e-300",
]  # fmt: skip


def _numbers(text: bytes) -> list[tuple[int, int]]:
    import re

    return [m.span(1) for m in re.finditer(rb"= *(-?[0-9][0-9.e+-]*)", text)]


@st.composite
def mutated_mapping(draw: st.DrawFn) -> bytes:
    text = EXAMPLE
    operation = draw(st.sampled_from(["value", "bytes", "truncate", "deep", "line", "value"]))
    if operation == "value":
        spans = _numbers(text)
        start, end = spans[draw(st.integers(0, len(spans) - 1))]
        return text[:start] + draw(st.sampled_from(ODD_VALUES)) + text[end:]
    position = draw(st.integers(0, len(text)))
    if operation == "bytes":
        return text[:position] + draw(st.binary(min_size=1, max_size=8)) + text[position:]
    if operation == "truncate":
        return text[:position]
    if operation == "deep":
        depth = draw(st.integers(10, 600))
        key = draw(st.sampled_from([b"[", b"{a="]))
        close = b"]" if key == b"[" else b"}"
        return text + b"\nzz = " + key * depth + (b"" if key == b"[" else b"1") + close * depth
    lines = text.split(b"\n")
    index = draw(st.integers(0, len(lines) - 1))
    return b"\n".join(lines[:index] + lines[index + 1 :])  # a line dropped


@fuzz(200)
@given(mapping=mutated_mapping())
def test_a_mutated_mapping_never_ends_in_a_traceback(mapping: bytes) -> None:
    with workspace() as tmp:
        mappings = tmp / "mappings"
        mappings.mkdir()
        (mappings / "cc101.toml").write_bytes(mapping)
        results = run(["--state", str(tmp / "state.sqlite"), "--mappings", str(mappings)])
    assert_no_traceback(results)


def test_a_nan_pass_mark_is_named_in_the_mapping_error(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "cc101.toml").write_bytes(EXAMPLE.replace(b"pass_mark = 0.8", b"pass_mark = nan"))
    results = run(["--state", str(tmp_path / "s.sqlite"), "--mappings", str(mappings)])
    assert results["sync"].exit_code == 78
    assert "precheck.pass_mark: nan is not a number" in results["sync"].output


# -- configuration -----------------------------------------------------------------------

SETTING_VALUES = {
    "timeout": ["1e300", "nan", "inf", "-1", "0", "3601", "x", "5"],
    "concurrency": ["0", "-3", "65", "1e9", "2.5", "4", "x"],
    "retries": ["0", "101", "1e10", "3"],
    "page_size": ["0", "999999999999999999999", "100"],
    "reconcile_hours": ["1e300", "nan", "0.5"],
    "url": [
        "http://127.0.0.1:99999", "http://127.0.0.1:0", "http://[::1", "ftp://x", "",
        "http://example.org", "https://", "http://127.0.0.1:-1", "\xff",
    ],
    "state_path": ["/dev/null", "/", "/proc/version", "", "\x01"],
    "token_file": ["/tmp", "/nonexistent/token", "/dev/null"],
}  # fmt: skip
ENV_NAMES = {
    "timeout": "BUYIN_TIMEOUT",
    "concurrency": "BUYIN_CONCURRENCY",
    "retries": "BUYIN_RETRIES",
    "page_size": "BUYIN_PAGE_SIZE",
    "reconcile_hours": "BUYIN_RECONCILE_HOURS",
    "url": "BUYIN_URL",
    "state_path": "BUYIN_STATE",
    "token_file": "BUYIN_TOKEN_FILE",
}


@st.composite
def configuration(draw: st.DrawFn) -> tuple[bytes | None, dict[str, str]]:
    key = draw(st.sampled_from(sorted(SETTING_VALUES)))
    value = draw(st.sampled_from(SETTING_VALUES[key]))
    where = draw(st.sampled_from(["file", "env", "raw"]))
    if where == "env":
        env = {ENV_NAMES[key]: value}
        if key == "token_file":
            env["BUYIN_TOKEN"] = ""
        return None, env
    if where == "raw":
        junk = draw(st.binary(min_size=1, max_size=6))
        return b"timeout = 5\n" + junk + b"\n", {}
    literal = value if key in ("timeout", "concurrency", "retries", "page_size") else repr(value)
    literal = literal.replace("'", '"').replace("\\x", "\\u00")
    env = {"BUYIN_TOKEN": ""} if key == "token_file" else {}
    return f"{key} = {literal}\n".encode(), {**env, ENV_NAMES[key]: ""}


@fuzz(80)
@given(variant=configuration())
def test_a_configuration_variant_never_ends_in_a_traceback(
    variant: tuple[bytes | None, dict[str, str]],
) -> None:
    text, env = variant
    with workspace() as tmp:
        mappings = tmp / "mappings"
        mappings.mkdir()
        (mappings / "cc101.toml").write_bytes(EXAMPLE)
        args = ["--mappings", str(mappings)]
        if (
            "state_path" not in (text or b"").decode("utf-8", "replace")
            and "BUYIN_STATE" not in env
        ):
            args += ["--state", str(tmp / "state.sqlite")]
        if text is not None:
            (tmp / "buyin.toml").write_bytes(text)
            env = {**env, "BUYIN_CONFIG": str(tmp / "buyin.toml")}
        results = run(args, env={k: v for k, v in env.items() if v or k == "BUYIN_TOKEN"})
    assert_no_traceback(results)


def test_an_out_of_range_port_is_a_configuration_error_not_a_transient_one(
    tmp_path: Path,
) -> None:
    results = run(["--state", str(tmp_path / "s")], env={"BUYIN_URL": "http://127.0.0.1:99999"})
    assert results["sync"].exit_code == 78
    assert "port" in results["sync"].output


def test_a_token_file_that_is_a_directory_has_its_own_message(tmp_path: Path) -> None:
    env = {"BUYIN_TOKEN": "", "BUYIN_TOKEN_FILE": str(tmp_path)}
    results = run(["--state", str(tmp_path / "s")], env=env)
    assert results["doctor"].exit_code == 78
    assert f"token file {tmp_path} is a directory" in results["doctor"].output


# -- state files ---------------------------------------------------------------------------

TABLES = ["runs", "actions", "schedule", "learners", "history", "meta", "signoffs", "programmes"]
JSON_COLUMNS = [
    ("learners", "data"), ("runs", "counts"), ("actions", "payload"), ("actions", "reason"),
    ("programmes", "retention"), ("programmes", "structure"), ("programmes", "directory"),
    ("schedule", "payload"), ("history", "data"),
]  # fmt: skip


@pytest.fixture(scope="module")
def synced_state(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A state file after one sync of the example programme."""
    tmp = tmp_path_factory.mktemp("state")
    mappings = tmp / "mappings"
    mappings.mkdir()
    (mappings / "cc101.toml").write_bytes(EXAMPLE)
    sim = SimulatedMoodle(generate_scenario(), clock=Clock())
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sim.register(rsps)
        env = {"BUYIN_URL": sim.url, "BUYIN_TOKEN": sim.token}
        args = ["--state", str(tmp / "s.sqlite"), "--mappings", str(mappings), "sync"]
        assert CliRunner().invoke(main, args, env=env).exit_code == 0
    db = sqlite3.connect(tmp / "s.sqlite")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return (tmp / "s.sqlite").read_bytes()


@st.composite
def damage(draw: st.DrawFn) -> tuple[str, int, bytes]:
    kind = draw(
        st.sampled_from(["truncate", "random", "overwrite", "foreign", "drop", "json", "version"])
    )
    return kind, draw(st.integers(0, 1 << 16)), draw(st.binary(min_size=1, max_size=64))


def _damage(path: Path, original: bytes, kind: str, number: int, junk: bytes) -> None:
    if kind == "truncate":
        path.write_bytes(original[: number % len(original)])
    elif kind == "random":
        # drawn from the example's number, so hypothesis can replay a failure
        path.write_bytes(random.Random(number).randbytes(len(original)))
    elif kind == "overwrite":
        at = number % len(original)
        path.write_bytes(original[:at] + junk + original[at + len(junk) :])
    else:
        path.write_bytes(original)
        db = sqlite3.connect(path)
        if kind == "foreign":
            path.unlink()
            db.close()
            db = sqlite3.connect(path)
            db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        elif kind == "drop":
            db.execute(f"DROP TABLE {TABLES[number % len(TABLES)]}")
        elif kind == "json":
            table, column = JSON_COLUMNS[number % len(JSON_COLUMNS)]
            db.execute(f"UPDATE {table} SET {column}=?", (junk.decode("latin-1"),))
        else:
            db.execute(f"PRAGMA user_version = {number % 10}")
        db.commit()
        db.close()


@fuzz(45)
@given(damaged=damage())
def test_a_damaged_state_file_never_ends_in_a_traceback(
    synced_state: bytes, damaged: tuple[str, int, bytes]
) -> None:
    with workspace() as tmp:
        mappings = tmp / "mappings"
        mappings.mkdir()
        (mappings / "cc101.toml").write_bytes(EXAMPLE)
        _damage(tmp / "s.sqlite", synced_state, *damaged)
        results = run(["--state", str(tmp / "s.sqlite"), "--mappings", str(mappings)])
    assert_no_traceback(results)


def test_doctor_names_a_damaged_state_file(synced_state: bytes, tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "cc101.toml").write_bytes(EXAMPLE)
    _damage(tmp_path / "s.sqlite", synced_state, "drop", TABLES.index("meta"), b"")
    results = run(["--state", str(tmp_path / "s.sqlite"), "--mappings", str(mappings)])
    assert results["doctor"].exit_code == 74
    assert "[FAIL] state file" in results["doctor"].output
    assert "lacks the table(s) meta" in results["doctor"].output
    assert results["sync"].exit_code == 74


def test_another_applications_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    _damage(path, b"x", "foreign", 0, b"")
    results = run(["--state", str(path), "--mappings", str(tmp_path)])
    assert results["status"].exit_code == 74
    assert "is not a moodle-buyin state file (it holds the table(s) invoices)" in (
        results["status"].output
    )
    db = sqlite3.connect(path)
    assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["invoices"]
    db.close()
