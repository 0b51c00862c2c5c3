"""Helpers of the tests against the real Moodle of ``shared/moodle/site`` with local_buyin
(tests marked ``site``): its env, ``site.sh php``/``psql``, and a browser-like login.

Skipped without MOODLE_SITE_DIR, MOODLE_URL and MOODLE_PLUGIN_TOKEN (``site.sh env``);
``site.sh`` is found beside the repository (``../shared/moodle/site/site.sh``) or at
MOODLE_SITE_SH.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import requests

from support import REPO

URL = os.environ.get("MOODLE_URL", "")
TOKEN = os.environ.get("MOODLE_PLUGIN_TOKEN", "")
SITE_DIR = os.environ.get("MOODLE_SITE_DIR", "")
SITE_SH = Path(
    os.environ.get("MOODLE_SITE_SH", str(REPO.parent / "shared" / "moodle" / "site" / "site.sh"))
)

needs_site = [
    pytest.mark.site,
    pytest.mark.skipif(
        not (URL and TOKEN and SITE_DIR and SITE_SH.exists()),
        reason="needs a real Moodle with local_buyin: MOODLE_SITE_DIR, MOODLE_URL, "
        "MOODLE_PLUGIN_TOKEN (site.sh env) and site.sh",
    ),
]


def site(*args: str) -> str:
    """``site.sh`` with ``args``; its output."""
    result = subprocess.run(
        [str(SITE_SH), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MOODLE_SITE_DIR": SITE_DIR},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def php(tmp_path: Path, code: str) -> str:
    """PHP code run as a CLI script inside the site (config.php loaded)."""
    script = tmp_path / f"script-{uuid.uuid4().hex}.php"
    script.write_text(
        "<?php\ndefine('CLI_SCRIPT', true);\nrequire(getenv('LAB') . '/moodle/config.php');\n"
        + code
    )
    return site("php", str(script))


def sql(query: str) -> list[list[str]]:
    out = site("psql", "-A", "-t", "-F", "\t", "-c", query)
    return [line.split("\t") for line in out.splitlines() if line]


def login(username: str, password: str) -> requests.Session:
    """A browser session logged in as ``username``."""
    session = requests.Session()
    page = session.get(f"{URL}/login/index.php", timeout=30)
    token = re.search(r'name="logintoken" value="([^"]+)"', page.text)
    form = {"username": username, "password": password}
    if token:
        form["logintoken"] = token.group(1)
    answer = session.post(f"{URL}/login/index.php", data=form, timeout=30)
    assert "loginerrormessage" not in answer.text, f"{username} could not log in"
    return session
