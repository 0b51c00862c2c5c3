"""Shared fixtures: the simulated Moodle behind `responses`, an injected clock,
settings pointing at a temporary state and the example mapping."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from buyin.config import Secret, Settings
from buyin.moodle.client import MoodleClient
from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.state import State
from buyin.sync import Syncer, SyncReport
from support import REPO, Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def no_wall_clock(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    """Every command a test runs reads the test's clock, never today's date: the suite
    passes on any day (CI runs it a second time with the process clock moved)."""
    monkeypatch.setattr("buyin.sync.system_clock", clock)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """No test sleeps: the client's default wait between retries is recorded instead
    (the waits asked for, in order; a client given its own ``sleep`` uses that)."""
    waits: list[float] = []
    monkeypatch.setattr("buyin.moodle.client._sleep", waits.append)
    return waits


@pytest.fixture
def site(clock: Clock) -> Iterator[SimulatedMoodle]:
    sim = SimulatedMoodle(generate_scenario(), clock=clock)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sim.register(rsps)
        yield sim


@pytest.fixture
def plugin_site(site: SimulatedMoodle) -> SimulatedMoodle:
    """The simulated site with local_buyin installed."""
    site.install_plugin()
    return site


@pytest.fixture
def mapping_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "mappings"
    directory.mkdir()
    shutil.copy(REPO / "mappings" / "examples" / "cc101.toml", directory / "cc101.toml")
    return directory


@pytest.fixture
def settings(tmp_path: Path, site: SimulatedMoodle, mapping_dir: Path) -> Settings:
    return Settings(
        url=site.url,
        token=Secret(site.token),
        state_path=tmp_path / "state.sqlite",
        mapping_dir=mapping_dir,
        concurrency=4,
        retries=6,
    )


@pytest.fixture
def run_sync(settings: Settings, clock: Clock) -> Iterator[Any]:
    """Run one sync (or dry run) in-process, no sleeping, against the simulated site."""
    states: list[State] = []

    def _run(*, dry_run: bool = False, program: str | None = None) -> SyncReport:
        client = MoodleClient.from_settings(settings, sleep=lambda _s: None)
        state = State(settings.state_path)
        states.append(state)
        return Syncer(settings, client, state, clock=clock).run(dry_run=dry_run, program=program)

    yield _run
    for state in states:
        state.close()


@pytest.fixture
def state(settings: Settings) -> Iterator[State]:
    db = State(settings.state_path)
    yield db
    db.close()


@pytest.fixture(scope="session")
def nine_weeks(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The nine-week simulation (tests/nine_weeks.py), run once for every test reading it."""
    from nine_weeks import simulate

    return simulate(tmp_path_factory.mktemp("nine-weeks"))
