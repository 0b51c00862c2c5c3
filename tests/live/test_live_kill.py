"""A plugin-path sync killed (SIGKILL) in the middle on the real site, then the next
sync: Moodle ends holding what an uninterrupted run leaves (every message once, the
same overrides, enrolments, groups and sign-off requests).
"""

from __future__ import annotations

import signal
import time

import pytest
from live_support import Holding, PluginSite, RealMoodle, Steps, difference

pytestmark = pytest.mark.live


def writes(moodle: RealMoodle) -> int:
    """How many of the agent's writes Moodle holds so far."""
    return int(
        moodle.value(
            "select (select count(*) from mdl_course_modules_completion where overrideby = 3)"
            " + (select count(*) from mdl_messages where useridfrom = 3)"
            " + (select count(*) from mdl_notifications where useridfrom = 3)"
            " + (select count(*) from mdl_local_buyin_signoff)"
        )
    )


@pytest.fixture(scope="module")
def runs(plugin_steps: Steps, plugin_site: PluginSite) -> tuple[Holding, Holding, int, int]:
    moodle = plugin_steps.moodle
    plugin_steps.agent(plugin=True, name="uninterrupted").sync()
    want = moodle.holding()
    total = writes(moodle)

    moodle.restore(plugin_site.dump)
    agent = plugin_steps.agent(plugin=True, name="killed")
    proc = agent.start("sync")
    landed = 0
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        landed = writes(moodle)
        if landed > 0:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the sync ended before it could be killed"
    agent.sync()
    return want, moodle.holding(), landed, total


def test_the_sync_was_killed_half_way(runs: tuple[Holding, Holding, int, int]) -> None:
    _want, _got, landed, total = runs
    assert 0 < landed < total


def test_the_next_sync_ends_as_an_uninterrupted_run(
    runs: tuple[Holding, Holding, int, int],
) -> None:
    want, got, _landed, _total = runs
    assert difference(got, want) == []
