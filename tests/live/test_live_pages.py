"""local_buyin's pages on the real site (sign-off, My results, My team) fetched over HTTP
as learners and managers logged in with their passwords, after a plugin-path sync: no PHP
notice or warning (the site runs with developer debugging), each person sees only what is
theirs, and the page's content passes axe-core (WCAG 2 A/AA) in headless Chromium.

axe-core is read from ``AXE_CORE_JS`` (.ci/run installs it from npm); without it or
without Chromium the accessibility check is skipped, the rest runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from live_support import RealMoodle, Steps, php_problems

from support import load_scenario

pytestmark = pytest.mark.live

SCENARIO = load_scenario()
LEARNERS = SCENARIO["learners"]
MANAGERS = SCENARIO["managers"]
PAGES = {
    "signoff": "/local/buyin/index.php",
    "myresults": "/local/buyin/myresults.php",
    "myteam": "/local/buyin/myteam.php",
}
PEOPLE = ("mgr1", "mgr2", "learner02", "learner08")


def _name(person: dict[str, str]) -> str:
    return f"{person['firstname']} {person['lastname']}"


def _team(manager: str) -> set[str]:
    return {_name(learner) for learner in LEARNERS.values() if learner["manager"] == manager}


@pytest.fixture(scope="module")
def pages(plugin_steps: Steps) -> dict[tuple[str, str], tuple[int, str]]:
    moodle = plugin_steps.moodle
    plugin_steps.agent(plugin=True).sync()
    fetched: dict[tuple[str, str], tuple[int, str]] = {}
    for who in PEOPLE:
        session = moodle.login(who)
        for page, path in PAGES.items():
            answer = session.get(f"{moodle.url}{path}", timeout=60)
            fetched[(who, page)] = (answer.status_code, answer.text)
    return fetched


@pytest.fixture(scope="module")
def moodle(plugin_steps: Steps) -> RealMoodle:
    return plugin_steps.moodle


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("who", PEOPLE)
def test_no_php_notice_or_warning(
    pages: dict[tuple[str, str], tuple[int, str]], who: str, page: str
) -> None:
    status, html = pages[(who, page)]
    assert status in (200, 303), (status, html[:500])
    assert php_problems(html) == []


@pytest.mark.parametrize("manager", ["mgr1", "mgr2"])
def test_a_manager_sees_only_their_own_teams_requests(
    pages: dict[tuple[str, str], tuple[int, str]], manager: str
) -> None:
    _status, html = pages[(manager, "signoff")]
    waiting = {_name(LEARNERS[n]) for n in SCENARIO["expected_summary"]["cc101_awaiting_signoff"]}
    mine = waiting & _team(manager)
    assert mine, "the scenario has one of their team waiting"
    for name in mine:
        assert name in html
    for name in waiting - mine:
        assert name not in html, f"{manager} sees {name}'s request"


@pytest.mark.parametrize("manager", ["mgr1", "mgr2"])
def test_my_team_shows_no_one_from_another_team(
    pages: dict[tuple[str, str], tuple[int, str]], manager: str
) -> None:
    _status, html = pages[(manager, "myteam")]
    others = {_name(lr) for lr in LEARNERS.values()} - _team(manager)
    assert [name for name in others if name in html] == []


@pytest.mark.parametrize("learner", ["learner02", "learner08"])
def test_a_learner_sees_nobody_elses_results_or_requests(
    pages: dict[tuple[str, str], tuple[int, str]], learner: str
) -> None:
    others = {_name(lr) for n, lr in LEARNERS.items() if n != learner}
    for page in PAGES:
        _status, html = pages[(learner, page)]
        assert [name for name in others if name in html] == [], page


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def axe_violations(html: str, url: str, tmp_path: Path) -> list[dict[str, object]]:
    """axe-core's WCAG 2 A/AA violations in the page's main region, rendered by headless
    Chromium with the site's own CSS (a copy of the page with axe added, <base> the site)."""
    axe = Path(os.environ.get("AXE_CORE_JS", "")).read_text()
    runner = (
        "<script>" + axe + "</script><script>"
        "axe.run({include: [['#region-main']]}, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(function (r) {"
        "var pre = document.createElement('pre'); pre.id = 'axe-verdict';"
        "pre.textContent = JSON.stringify(r.violations.map(function (v) { return {id: v.id,"
        " impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(function (n) {"
        " return n.html.slice(0, 200); })}; })); document.body.appendChild(pre); });</script>"
    )
    page = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)  # Moodle's JS needs its session
    page = page.replace("<head>", f'<head><base href="{url}">', 1).replace(
        "</body>", runner + "</body>", 1
    )
    file = tmp_path / "page.html"
    file.write_text(page)
    dom = subprocess.run(
        [
            str(_chromium()),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--virtual-time-budget=20000",
            "--dump-dom",
            file.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    found = re.search(r'<pre id="axe-verdict">(.*?)</pre>', dom, re.S)
    assert found, "axe-core gave no verdict"
    import html as html_lib

    result: list[dict[str, object]] = json.loads(html_lib.unescape(found[1]))
    return result


@pytest.mark.skipif(
    not (
        os.environ.get("AXE_CORE_JS") and Path(os.environ["AXE_CORE_JS"]).is_file() and _chromium()
    ),
    reason="needs AXE_CORE_JS (axe.min.js from npm's axe-core) and Chromium",
)
@pytest.mark.parametrize(
    ("who", "page"), [("mgr1", "signoff"), ("mgr1", "myteam"), ("learner02", "myresults")]
)
def test_the_page_passes_axe_core(
    pages: dict[tuple[str, str], tuple[int, str]],
    moodle: RealMoodle,
    who: str,
    page: str,
    tmp_path: Path,
) -> None:
    _status, html = pages[(who, page)]
    assert axe_violations(html, f"{moodle.url}{PAGES[page]}", tmp_path) == []
