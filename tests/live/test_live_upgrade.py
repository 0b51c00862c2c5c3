"""The upgrade from local_buyin's previous release (0.3.0, from git history) to the
checkout, on the real site with Moodle's own upgrade: every row of every local_buyin
table is kept, and the agent goes on from where it was.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from live_support import PLUGIN, Agent, RealMoodle, own_site, php_problems, write_mappings

from support import REPO

pytestmark = pytest.mark.live

#: the last commit with local_buyin 0.3.0 (2026120300)
PREVIOUS = "d7657bd"
TABLES = ("local_buyin_signoff", "local_buyin_figures", "local_buyin_lease")


def previous_release(target: Path) -> Path:
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", PREVIOUS, "plugin_contract/moodle/local_buyin"],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"local_buyin 0.3.0 needs the git history ({PREVIOUS})")
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "plugin_contract" / "moodle" / "local_buyin"


def rows(moodle: RealMoodle) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for table in TABLES:
        out = moodle.sql(f"select row_to_json(t) from mdl_{table} t order by id")
        found[table] = [json.loads(r[0]) for r in out]
    return found


@pytest.fixture(scope="module")
def upgraded(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[RealMoodle, dict[str, Any], dict[str, Any], str, Agent]:
    moodle = own_site()
    tmp = tmp_path_factory.mktemp("upgrade")
    old = previous_release(tmp / "old")
    moodle.reset()
    moodle.install_plugin(old)
    token = moodle.enable_plugin_service()
    agent = Agent(moodle, tmp / "agent", token)
    write_mappings(agent.mappings)
    agent.sync()
    mgr1 = moodle.user_tokens("mgr1")["mgr1"]
    decided = moodle.call(
        "local_buyin_record_signoff", mgr1, courseid=2, userid=10, decision="signed"
    )
    assert decided.get("status") is True, decided
    before = rows(moodle)
    out = moodle.install_plugin(PLUGIN)
    return moodle, before, rows(moodle), out, agent


def test_the_previous_release_left_rows_to_keep(upgraded: Any) -> None:
    _moodle, before, _after, _out, _agent = upgraded
    assert (
        before["local_buyin_signoff"]
        and before["local_buyin_figures"]
        and before["local_buyin_lease"]
    )
    assert "signed" in {r["status"] for r in before["local_buyin_signoff"]}


def test_moodles_upgrade_succeeds_without_notices(upgraded: Any) -> None:
    moodle, _before, _after, out, _agent = upgraded
    version = re.search(r"\$plugin->version\s*=\s*(\d+)", (PLUGIN / "version.php").read_text())
    assert version
    if version[1] != "2026120300":  # the checkout is a newer release than 0.3.0
        assert "completed successfully" in out
    assert php_problems(out) == []
    installed = moodle.value(
        "select value from mdl_config_plugins where plugin = 'local_buyin' and name = 'version'"
    )
    assert installed == version[1]


@pytest.mark.parametrize("table", TABLES)
def test_every_row_is_kept(upgraded: Any, table: str) -> None:
    _moodle, before, after, _out, _agent = upgraded
    kept = {r["id"]: r for r in after[table]}
    for row in before[table]:
        assert row["id"] in kept, f"{table} row {row['id']} lost"
        new = kept[row["id"]]
        assert {k: new.get(k) for k in row} == row, f"{table} row {row['id']} changed"


def test_the_agent_goes_on_after_the_upgrade(upgraded: Any) -> None:
    moodle, before, _after, _out, agent = upgraded
    agent.sync()
    requests = rows(moodle)["local_buyin_signoff"]
    assert sorted(r["userid"] for r in requests) == sorted(
        r["userid"] for r in before["local_buyin_signoff"]
    )
