"""Fixtures of the live tier (tests marked `live`, helpers in live_support.py).

Every test needs ``MOODLE_URL`` and ``MOODLE_TOKEN`` (skipped otherwise). Tests that
write, install the plugin or read Moodle's database need the project's own site
(``../shared/moodle/site/site.sh``, or ``MOODLE_SITE_SH``) serving that ``MOODLE_URL``:
each module's steps start from ``site.sh reset``; against any other site they are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from live_support import OWN_SITE, SITE_SH, TOKEN, URL, RealMoodle, Steps, WallClock


@pytest.fixture
def clock() -> WallClock:
    """The root conftest's frozen clock, replaced: the real site runs on real time."""
    return WallClock()


def own_site() -> RealMoodle:
    if not (URL and TOKEN):
        pytest.skip("MOODLE_URL and MOODLE_TOKEN are not set")
    if not OWN_SITE:
        pytest.skip(f"needs the project's own site ({SITE_SH}) serving MOODLE_URL")
    return RealMoodle(URL, TOKEN)


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Steps]:
    """The project's own site reset to the scenario, for one module's steps."""
    moodle = own_site()
    moodle.reset()
    yield Steps(moodle, tmp_path_factory.mktemp("live"))
