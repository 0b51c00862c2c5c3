"""The live tier: `doctor` and a read-only dry-run sync against a real Moodle.

Runs only when MOODLE_URL and MOODLE_TOKEN are set (and is skipped otherwise), against
any site; the tests that write (tests/live/) need the project's own site:

    MOODLE_URL=https://moodle.example.org MOODLE_TOKEN=... pytest -m live

MOODLE_MAPPINGS may name a directory of programme mappings for that site; by
default the example mapping of the scenario's CC101 is used, which fits a site
seeded like tests/fixtures/moodle/scenario.json. Nothing is written to Moodle.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from buyin.cli import main
from support import REPO

URL = os.environ.get("MOODLE_URL", "")
TOKEN = os.environ.get("MOODLE_TOKEN", "")

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not (URL and TOKEN), reason="MOODLE_URL and MOODLE_TOKEN are not set"),
]


@pytest.fixture
def live_args(tmp_path: Path) -> list[str]:
    mappings = (
        Path(os.environ.get("MOODLE_MAPPINGS", "")) if os.environ.get("MOODLE_MAPPINGS") else None
    )
    if mappings is None:
        mappings = tmp_path / "mappings"
        mappings.mkdir()
        shutil.copy(REPO / "mappings" / "examples" / "cc101.toml", mappings / "cc101.toml")
    return ["--url", URL, "--state", str(tmp_path / "state.sqlite"), "--mappings", str(mappings)]


def test_doctor_against_the_live_site(live_args: list[str]) -> None:
    result = CliRunner().invoke(main, [*live_args, "doctor"], env={"BUYIN_TOKEN": TOKEN})
    assert TOKEN not in result.output
    assert "site reachable and token valid" in result.output
    assert result.exit_code in (0, 78), result.output


def test_dry_run_sync_against_the_live_site_changes_nothing(live_args: list[str]) -> None:
    result = CliRunner().invoke(main, [*live_args, "sync", "--dry-run"], env={"BUYIN_TOKEN": TOKEN})
    assert TOKEN not in result.output
    assert result.exit_code in (0, 1), result.output
    assert "dry run: nothing was changed in Moodle" in result.output
    assert "metrics run=" not in result.output  # printed on request only (--metrics, -v)


def test_dry_run_prints_its_calls_on_request(live_args: list[str]) -> None:
    result = CliRunner().invoke(
        main, [*live_args, "sync", "--dry-run", "--metrics"], env={"BUYIN_TOKEN": TOKEN}
    )
    assert result.exit_code in (0, 1), result.output
    assert "metrics run=" in result.output
    assert "core_webservice_get_site_info=" in result.output
