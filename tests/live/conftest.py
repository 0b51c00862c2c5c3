"""Fixtures of the live tier (tests marked `live`, helpers in live_support.py).

Every test needs ``MOODLE_URL`` and ``MOODLE_TOKEN`` (skipped otherwise). Tests that
write, install the plugin or read Moodle's database need the project's own site
(``../shared/moodle/site/site.sh``, or ``MOODLE_SITE_SH``) serving that ``MOODLE_URL``:
each module's steps start from ``site.sh reset``; against any other site they are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_support import PluginSite, Steps, WallClock, own_site


@pytest.fixture
def clock() -> WallClock:
    """The root conftest's frozen clock, replaced: the real site runs on real time."""
    return WallClock()


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Steps]:
    """The project's own site reset to the scenario, for one module's steps."""
    moodle = own_site()
    moodle.reset()
    yield Steps(moodle, tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> PluginSite:
    """site.sh reset, local_buyin from the checkout installed with Moodle's upgrade, its
    service enabled as the README tells an admin (scripts/enable_plugin_service.php);
    the database then saved, so each module starts from it in seconds."""
    moodle = own_site()
    moodle.reset()
    out = moodle.install_plugin()
    token = moodle.enable_plugin_service()
    dump = tmp_path_factory.mktemp("plugin-site") / "moodle.dump"
    moodle.save(dump)
    return PluginSite(dump, out, token)


@pytest.fixture(scope="module")
def plugin_steps(plugin_site: PluginSite, tmp_path_factory: pytest.TempPathFactory) -> Steps:
    """The plugin site as installed (restored), for one module's steps."""
    moodle = own_site()
    moodle.restore(plugin_site.dump)
    return Steps(moodle, tmp_path_factory.mktemp("live-plugin"), plugin_site.token)
