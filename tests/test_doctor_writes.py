"""doctor checks every capability a write of sync needs, changing nothing in Moodle: with
any one of them removed from the agent (the simulated site's denied_capabilities) it
fails naming the capability and what to do."""

from __future__ import annotations

import pytest
from click.testing import Result

from buyin.config import Settings
from buyin.simulator import SimulatedMoodle
from test_cli import invoke


def team_groups_on(settings: Settings) -> None:
    path = settings.mapping_dir / "cc101.toml"
    text = path.read_text(encoding="utf-8")
    anchor = "escalate_after_days = 7\n"
    assert anchor in text
    path.write_text(text.replace(anchor, anchor + "team_groups = true\n"), encoding="utf-8")


def failed(result: Result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("[FAIL]")]


def test_doctor_checks_every_write_and_changes_nothing(
    site: SimulatedMoodle, settings: Settings
) -> None:
    team_groups_on(settings)
    digest = site.state_digest()
    result = invoke(settings, "doctor")
    assert result.exit_code == 0, result.output
    assert site.state_digest() == digest
    out = result.stdout
    for line in (
        "[ok  ] may send messages (core_message_send_instant_messages): "
        "moodle/site:sendmessage: allowed (a message to no one: nothing sent)",
        "[ok  ] cc101 (cc101.toml): may complete activities "
        "(core_completion_override_activity_completion_status): "
        "moodle/course:overridecompletion: allowed",
        "[ok  ] cc101 (cc101.toml): may enrol in CC101 as signoff (enrol_manual_enrol_users): "
        "enrol/manual:enrol, moodle/role:assign: allowed (a batch Moodle rolled back: "
        "nothing enrolled)",
        "[ok  ] cc101 (cc101.toml): may enrol in CC201 as student (enrol_manual_enrol_users)",
        "[ok  ] cc101 (cc101.toml): may give the role signoff (core_role_assign_roles): "
        "moodle/role:assign: allowed",
        "[ok  ] cc101 (cc101.toml): may read the team groups (core_group_get_course_groups)",
        "[ok  ] cc101 (cc101.toml): may create team groups (core_group_create_groups): "
        "moodle/course:managegroups: allowed (a batch Moodle rolled back: no group created)",
    ):
        assert line in out, out


CAPABILITIES = [
    ("core_completion_override_activity_completion_status", "moodle/course:overridecompletion"),
    ("enrol_manual_enrol_users", "enrol/manual:enrol"),
    ("core_role_assign_roles", "moodle/role:assign"),
    ("core_message_send_instant_messages", "moodle/site:sendmessage"),
    ("core_group_get_course_groups", "moodle/course:managegroups"),
    ("core_group_create_groups", "moodle/course:managegroups"),
]


@pytest.mark.parametrize(("function", "capability"), CAPABILITIES)
def test_doctor_fails_naming_each_capability_removed(
    site: SimulatedMoodle, settings: Settings, function: str, capability: str
) -> None:
    team_groups_on(settings)
    site.deny_capability(function, capability)
    result = invoke(settings, "doctor")
    assert result.exit_code == 78, result.output
    lines = failed(result)
    assert lines, result.output
    for line in lines:  # one line per course the write is made in
        assert f"({function})" in line and f"needs {capability}" in line
    assert "Grant " in result.stdout and "to the agent's role" in result.stdout


def test_doctor_fails_naming_the_group_member_capability_once_a_group_exists(
    site: SimulatedMoodle, settings: Settings
) -> None:
    team_groups_on(settings)
    assert invoke(settings, "sync").exit_code == 0  # creates the team groups
    site.deny_capability("core_group_add_group_members", "moodle/course:managegroups")
    digest = site.state_digest()
    result = invoke(settings, "doctor")
    assert result.exit_code == 78, result.output
    assert site.state_digest() == digest
    (line,) = failed(result)
    assert "(core_group_add_group_members)" in line and "moodle/course:managegroups" in line


def test_doctor_names_allow_role_assignments_and_the_approvers_affected(
    site: SimulatedMoodle, settings: Settings
) -> None:
    """#16: the agent may not give the sign-off role, and mgr1 (the fallback approver)
    is not enrolled in the course with it."""
    mgr1 = next(u.id for u in site.state.users.values() if u.username == "mgr1")
    site.state.enrolments.pop((mgr1, 2))
    site.assignable_roles.discard(10)
    result = invoke(settings, "doctor")
    assert result.exit_code == 78
    enrol = next(x for x in failed(result) if "may enrol in CC101 as signoff" in x)
    assert enrol.endswith("; approvers affected: mgr1")
    assert "Allow role assignments, tick signoff" in result.stdout


def test_doctor_with_the_plugin_checks_its_bulk_override_function(
    site: SimulatedMoodle, settings: Settings
) -> None:
    site.install_plugin()
    site.deny_capability("local_buyin_complete_activities", "moodle/course:overridecompletion")
    result = invoke(settings, "doctor")
    assert result.exit_code == 78, result.output
    (line,) = failed(result)
    assert "(local_buyin_complete_activities)" in line
    assert "moodle/course:overridecompletion" in line
