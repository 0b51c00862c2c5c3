"""The command line against the simulated site: what the user sees and the exit codes."""

from __future__ import annotations

from pathlib import Path

import responses
from click.testing import CliRunner

from buyin.cli import main
from buyin.config import Settings
from buyin.simulator import SimulatedMoodle
from buyin.state import RunLock
from support import invoke


def test_doctor_passes_on_the_scenario_site(site: SimulatedMoodle, settings: Settings) -> None:
    result = invoke(settings, "doctor")
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert "[ok  ] cc101 (cc101.toml): pre-check quiz 9: CC101 Pre-check" in result.output


def test_doctor_names_a_function_missing_from_the_service(
    site: SimulatedMoodle, settings: Settings
) -> None:
    site.service_functions.discard("core_completion_override_activity_completion_status")
    result = invoke(settings, "doctor")
    assert result.exit_code == 78
    assert (
        "[FAIL] function core_completion_override_activity_completion_status: "
        "not in the token's service" in result.output
    )


def test_doctor_with_a_bad_token_names_the_token(site: SimulatedMoodle, settings: Settings) -> None:
    result = invoke(settings, "doctor", token="not-the-token")
    assert result.exit_code == 78
    assert "rejected the web-service token (invalidtoken)" in result.output
    assert "BUYIN_TOKEN" in result.output
    assert "not-the-token" not in result.output + (result.stderr_bytes or b"").decode()


def test_doctor_on_an_unreachable_site_exits_75_after_its_retries(
    settings: Settings, no_sleep: list[float]
) -> None:
    import requests
    from urllib3.exceptions import NewConnectionError

    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.POST,
            settings.url + "/webservice/rest/server.php",
            body=requests.ConnectionError(NewConnectionError(None, "Connection refused")),
        )
        result = invoke(settings, "doctor")
        assert len(rsps.calls) == 3  # BUYIN_RETRIES
    assert result.exit_code == 75
    assert "cannot connect to" in result.output
    assert len(no_sleep) == 2


def test_doctor_names_a_role_that_nobody_holds(
    site: SimulatedMoodle, settings: Settings, mapping_dir: Path
) -> None:
    from support import set_mapping

    set_mapping(mapping_dir, 'role = "signoff"', 'role = "approver"')
    result = invoke(settings, "doctor")
    assert result.exit_code == 78
    assert "role 'approver' is not held by anyone enrolled in the course" in result.output


def test_sync_while_another_holds_the_lock_exits_3(
    site: SimulatedMoodle, settings: Settings
) -> None:
    digest = site.state_digest()
    with RunLock(settings.state_path):
        result = invoke(settings, "sync")
    assert result.exit_code == 3
    assert "another buyin run holds the lock" in result.output
    assert site.state_digest() == digest


def test_bad_mapping_exits_78_and_pushes_nothing(
    site: SimulatedMoodle, settings: Settings, mapping_dir: Path
) -> None:
    (mapping_dir / "broken.toml").write_text(
        '[program]\nid = "broken"\ncourse = 2\n[precheck]\nquiz = 9\npass_mark = 1.5\n'
    )
    digest = site.state_digest()
    result = invoke(settings, "sync")
    assert result.exit_code == 78
    assert "broken.toml: precheck.pass_mark" in result.output
    assert site.state_digest() == digest
    assert site.calls == []


def test_sync_prints_results_and_one_metrics_line_when_asked(
    site: SimulatedMoodle, settings: Settings
) -> None:
    result = invoke(settings, "sync", "--metrics")
    assert result.exit_code == 0, result.output
    assert ", failed 0" in result.output
    metrics = [line for line in result.output.splitlines() if line.startswith("metrics ")]
    assert len(metrics) == 1
    # the course (everyone, then active only), the refresher course (for follow-ups)
    # and the poll's course (who may answer)
    assert "core_enrol_get_enrolled_users=4" in metrics[0]
    assert "calls=" in metrics[0] and "retries=0" in metrics[0]


def test_usage_error_exits_2(settings: Settings) -> None:
    result = CliRunner().invoke(main, ["sync", "--no-such-flag"])
    assert result.exit_code == 2


def test_status_before_any_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--state", str(tmp_path / "none.sqlite"), "status"])
    assert result.exit_code == 0
    assert "no runs yet" in result.output


def test_demo_runs_end_to_end() -> None:
    result = CliRunner().invoke(main, ["demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "learner11: " in result.output and "Listening" in result.output
    assert "learner17: skipped: pre-check attempt in progress" in result.output
    # the second sync on the unchanged site does nothing
    third = result.output.split("3. Sync again")[1]
    assert "cc101: nothing to do" in third


def test_token_file_with_loose_permissions_is_refused(
    site: SimulatedMoodle, settings: Settings, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text(settings.token.reveal())
    token.chmod(0o644)
    config = tmp_path / "buyin.toml"
    config.write_text(f'url = "{settings.url}"\ntoken_file = "token"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "doctor"], env={"BUYIN_TOKEN": ""})
    assert result.exit_code == 78
    assert f"chmod 600 {token}" in result.output
