"""Silent no-ops are said (issue 15): a sign-off role nobody holds, a course with no
learners, a pre-check quiz with no attempts. Sync still exits 0; its summary and
`status` name the cause and what to check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from buyin.config import Settings
from buyin.simulator import SimulatedMoodle
from support import invoke, set_mapping

CC101, SIGNOFF_ROLE, STUDENT, QUIZ = 2, 10, 5, 9


def warnings(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("warning:")]


def nobody_holds_the_signoff_role(site: SimulatedMoodle, mappings: Path) -> None:
    for (_uid, course), enrolment in site.state.enrolments.items():
        if course == CC101:
            enrolment.roleids = [r for r in enrolment.roleids if r != SIGNOFF_ROLE] or [STUDENT]


def no_learners(site: SimulatedMoodle, mappings: Path) -> None:
    # by id: a role name nobody holds already stops the programme (exit 78)
    set_mapping(mappings, 'learner_role = "student"', "learner_role = 5")
    for (uid, course), enrolment in list(site.state.enrolments.items()):
        if course == CC101 and STUDENT in enrolment.roleids:
            site.unenrol(uid, CC101)


def no_attempts(site: SimulatedMoodle, mappings: Path) -> None:
    site.state.attempts.clear()


@pytest.mark.parametrize(
    ("setup", "said"),
    [
        (
            nobody_holds_the_signoff_role,
            "cc101: the sign-off role 'signoff' is held by nobody in CC101",
        ),
        (no_learners, "cc101: CC101 has no learners with the role 5: nothing to do"),
        (no_attempts, "cc101: the pre-check quiz 'CC101 Pre-check' has no attempts yet"),
    ],
    ids=["signoff role held by nobody", "no learners", "quiz without attempts"],
)
def test_a_silent_noop_is_a_warning_in_the_summary_and_in_status(
    site: SimulatedMoodle,
    settings: Settings,
    setup: Callable[[SimulatedMoodle, Path], None],
    said: str,
) -> None:
    setup(site, settings.mapping_dir)
    synced = invoke(settings, "sync")
    assert synced.exit_code == 0, synced.output
    [warning] = warnings(synced)
    assert warning.startswith(f"warning: {said}")
    status = invoke(settings, "status")
    assert warnings(status) == [warning]
    assert "warnings" not in status.output.replace("warning:", "")


def test_a_site_as_expected_has_no_warnings(site: SimulatedMoodle, settings: Settings) -> None:
    synced = invoke(settings, "sync")
    assert synced.exit_code == 0
    assert warnings(synced) == []
    assert warnings(invoke(settings, "status")) == []


def test_the_warning_goes_once_the_cause_is_fixed(
    site: SimulatedMoodle, settings: Settings
) -> None:
    attempts = dict(site.state.attempts)
    no_attempts(site, settings.mapping_dir)
    assert warnings(invoke(settings, "sync"))
    site.state.attempts.update(attempts)
    assert warnings(invoke(settings, "sync")) == []
    assert warnings(invoke(settings, "status")) == []
