"""The import direction: rules and the model load no I/O library, and the layer
contract (pyproject's [tool.importlinter]) holds and would catch a reversal."""

from __future__ import annotations

import json
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import buyin.messages
import buyin.model
import buyin.rules

REPO = Path(__file__).resolve().parents[1]
IO_LIBRARIES = ("requests", "urllib3", "sqlite3", "_sqlite3", "tenacity", "jsonschema", "fcntl")


def _modules(package: object) -> list[str]:
    path = package.__path__  # type: ignore[attr-defined]
    prefix = package.__name__ + "."  # type: ignore[attr-defined]
    return [prefix + m.name for m in pkgutil.iter_modules(path)]


@pytest.mark.parametrize(
    "module",
    ["buyin.rules", *_modules(buyin.rules), *_modules(buyin.model), *_modules(buyin.messages)],
)
def test_a_rule_or_model_module_loads_no_io_library(module: str) -> None:
    code = (
        f"import sys, json; import {module}; "
        f"print(json.dumps(sorted(m for m in {IO_LIBRARIES!r} if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == [], f"{module} loads {out.strip()}"


def _lint_imports() -> str:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
        "lint-imports"
    )
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    return exe


def test_the_layer_contract_holds() -> None:
    run = subprocess.run([_lint_imports(), "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_layer_contract_fails_on_a_reversed_import(tmp_path: Path) -> None:
    """A copy of the package where a rule imports the pusher: the contract must break."""
    copy = tmp_path / "agent"
    shutil.copytree(REPO / "agent", copy, ignore=shutil.ignore_patterns("__pycache__"))
    rule = copy / "buyin" / "rules" / "kickoff.py"
    rule.write_text(rule.read_text(encoding="utf-8") + "\nimport buyin.push  # reversed\n")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    run = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(copy), "PATH": str(Path(sys.executable).parent)},
    )
    assert run.returncode != 0
    assert "buyin.rules is not allowed to import buyin.push" in run.stdout


def test_every_module_of_the_package_is_in_the_layer_contract() -> None:
    import tomllib

    import buyin

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in contracts["contracts"] if c["type"] == "layers"]
    named = {name.strip() for layer in layers for name in layer.split("|")}
    modules = {f"buyin.{m.name}" for m in pkgutil.iter_modules(buyin.__path__)}
    assert modules - named == set(), "modules outside the import contract"
