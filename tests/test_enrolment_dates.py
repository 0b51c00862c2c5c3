"""With local_buyin, the history keeps each learner's enrolment start as Moodle holds it,
so `enrolled:FROM..TO` cohorts use Moodle's dates, not the day the agent first saw them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from buyin.model.history import HistoryPoint
from buyin.simulator import SimulatedMoodle
from buyin.state import State


def _points(state_path: Path) -> dict[int, HistoryPoint]:
    state = State(state_path)
    try:
        return {uid: HistoryPoint.from_json(data) for uid, _at, data in state.history("cc101")}
    finally:
        state.close()


def test_the_history_keeps_moodles_enrolment_start_where_the_plugin_reads_progress(
    site: SimulatedMoodle, run_sync: Any, settings: Any
) -> None:
    site.install_plugin()
    assert run_sync().exit_code == 0
    points = _points(settings.state_path)
    assert points
    for uid, point in points.items():
        enrolment = site.enrolment(uid, 2)
        assert enrolment is not None
        expected = enrolment.timestart or enrolment.timecreated
        assert point.enrolled_at == expected, uid
        assert point.enrolled_at != point.first_seen  # the course ran before the first sync


def test_without_the_plugin_the_history_says_it_does_not_know(run_sync: Any, settings: Any) -> None:
    assert run_sync().exit_code == 0
    points = _points(settings.state_path)
    assert points
    assert all(p.enrolled_at is None for p in points.values())
