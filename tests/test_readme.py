"""The README stays true: its mapping example is valid, every setting and command is documented."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from click.testing import CliRunner

from buyin.cli import main
from buyin.config import SETTINGS
from buyin.mapping import parse_mapping
from support import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_mapping_example_is_a_valid_mapping() -> None:
    block = README.split("### Programme mappings", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    programme = parse_mapping(tomllib.loads(block), Path("README.md"))
    assert programme.signoff is not None and programme.followup is not None
    assert programme.poll is not None and programme.poll.options == {1: "Listening"}


def test_every_setting_and_its_environment_variable_is_documented() -> None:
    for setting in SETTINGS:
        assert f"`{setting.key}`" in README, setting.key
        assert f"`{setting.env}`" in README, setting.env
    assert "`BUYIN_TOKEN`" in README


def test_every_command_is_documented_with_an_example() -> None:
    commands = sorted(main.commands)  # type: ignore[attr-defined]
    assert {"backfill", "demo", "doctor", "init", "report", "status", "sync"} <= set(commands)
    for name in commands:
        assert re.search(rf"^buyin {name}\b", README, re.MULTILINE), name
        assert CliRunner().invoke(main, [name, "--help"]).exit_code == 0


def test_the_quick_start_installs_then_runs_demo_and_tests() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "pip install . && .venv/bin/buyin demo" in quick
    assert "pip install -e '.[test]' && .venv/bin/pytest" in quick
    ci = (REPO / ".ci" / "run").read_text()
    assert "pip install -q -e '.[test]' && .venv/bin/pytest" in ci


def test_the_exit_table_is_in_the_readme_and_in_help() -> None:
    from buyin.errors import EXIT_TABLE

    runner = CliRunner()
    helps = [runner.invoke(main, [*cmd, "--help"]).output for cmd in ([], ["sync"], ["backfill"])]
    for code, meaning in EXIT_TABLE:
        assert f"| {code} | {meaning} |" in README, code
        for text in helps:
            assert meaning in " ".join(text.split()), (code, text)
