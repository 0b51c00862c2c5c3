"""local_buyin upgrades from 0.3.0 to this version on a real Moodle with every row intact.

It resets the site (``site.sh reset``), so it runs only with MOODLE_SITE_RESET=1 besides
the site's env (tests/site_support.py): 0.3.0 (from git history) is installed and a sync
fills its tables (requests, figures, the lease); one request gets a decision; then this
plugin is installed over it through Moodle's upgrade, and every row of the three tables
must read the same, with the notifications table and the message providers added.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from buyin.cli import main
from site_support import SITE_SH, URL, needs_site, site, sql
from support import REPO

#: the commit of local_buyin 0.3.0
V030 = "d7657bd"
TABLES = ("local_buyin_signoff", "local_buyin_figures", "local_buyin_lease")

pytestmark = [
    *needs_site,
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("MOODLE_SITE_RESET") != "1", reason="resets the site"),
]


def rows(table: str) -> list[list[str]]:
    return sql(f"select * from mdl_{table} order by id")


def test_upgrading_from_0_3_0_keeps_every_request_decision_figure_and_lease(
    tmp_path: Path,
) -> None:
    old = tmp_path / "v030"
    old.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", V030, "plugin_contract/moodle/local_buyin"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    site("reset")
    site("plugin", str(old / "plugin_contract/moodle/local_buyin"))
    site("php", str(SITE_SH.parent / "scripts/enable_plugin_service.php"))
    token = site("env").split("MOODLE_PLUGIN_TOKEN=")[-1].split()[0].strip("'\"")
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "cc101.toml").write_text((REPO / "mappings/examples/cc101.toml").read_text())
    args = ["--url", URL, "--state", str(tmp_path / "state.sqlite"), "--mappings", str(mappings)]
    synced = CliRunner().invoke(main, [*args, "sync"], env={"BUYIN_TOKEN": token})
    assert synced.exit_code == 0, synced.output
    sql(
        "update mdl_local_buyin_signoff set status = 'rejected', decidedby = managerid, "
        "timedecided = timerequested + 60, comment = 'needs more work' "
        "where id = (select min(id) from mdl_local_buyin_signoff)"
    )
    before = {table: rows(table) for table in TABLES}
    assert all(before.values()), before
    site("plugin", str(REPO / "plugin_contract/moodle/local_buyin"))
    after = {table: rows(table) for table in TABLES}
    # a field added by a later step (the lease's token) comes last: the old ones are intact
    assert {t: [r[: len(before[t][0])] for r in after[t]] for t in TABLES} == before
    version = re.search(
        r"\$plugin->version\s*=\s*(\d+);",
        (REPO / "plugin_contract/moodle/local_buyin/version.php").read_text(),
    )
    assert version is not None
    assert sql(
        "select value from mdl_config_plugins where plugin = 'local_buyin' and name = 'version'"
    ) == [[version.group(1)]]
    providers = {
        r[0] for r in sql("select name from mdl_message_providers where component = 'local_buyin'")
    }
    assert {"signoff", "signoffdecision", "precheck", "teamdigest", "poll"} <= providers
    assert sql("select count(*) from mdl_local_buyin_notification") == [["0"]]
