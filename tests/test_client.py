"""MoodleClient: the request it sends, the typed errors it raises from Moodle's error
envelopes (as captured on a real Moodle 5.1), its retry policy, contract validation,
metrics and token redaction. No test sleeps: ``sleep`` is a recorder."""

from __future__ import annotations

import copy
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from urllib3.exceptions import NewConnectionError

from buyin import __version__
from buyin.errors import (
    EXIT_CONFIG,
    EXIT_UNREACHABLE,
    BuyinError,
    ConfigurationError,
    ContractError,
    FunctionNotInServiceError,
    InvalidParameterError,
    InvalidTokenError,
    MissingPermissionError,
    MoodleError,
    NotFoundError,
    RequireLoginError,
    RoleNotAssignableError,
    TransientError,
    UnknownFunctionError,
    exit_code_for,
)
from buyin.logsetup import redact_secret, setup_logging
from buyin.moodle.client import CallMetrics, MoodleClient

CAPTURES = Path(__file__).resolve().parent / "fixtures" / "moodle" / "captures"
SITE = "https://moodle.example.org"
ENDPOINT = SITE + "/webservice/rest/server.php"
TOKEN = "0123456789abcdef0123456789abcdef"
SITE_INFO = "core_webservice_get_site_info"


def capture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CAPTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def site_info() -> Any:
    return copy.deepcopy(capture(SITE_INFO)["response"])


def body_of(call: Any) -> str:
    body = call.request.body
    return body.decode() if isinstance(body, bytes) else str(body)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> MoodleClient:
    return MoodleClient(SITE + "/", TOKEN, sleep=sleeps.append, retries=3)


# --- the request ----------------------------------------------------------------------


def test_request_is_a_form_post_with_the_token_in_the_body_only(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    mock.post(ENDPOINT, json=site_info())
    result = client.call(SITE_INFO)

    assert result["sitename"] == site_info()["sitename"]
    assert len(mock.calls) == 1
    request = mock.calls[0].request
    assert request.method == "POST"
    assert request.url == ENDPOINT
    assert TOKEN not in request.url
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    fields = parse_qs(body_of(mock.calls[0]))
    assert fields == {
        "wstoken": [TOKEN],
        "wsfunction": [SITE_INFO],
        "moodlewsrestformat": ["json"],
    }


def test_request_identifies_the_agent(mock: responses.RequestsMock, client: MoodleClient) -> None:
    mock.post(ENDPOINT, json=site_info())
    client.call(SITE_INFO)
    assert mock.calls[0].request.headers["User-Agent"] == f"moodle-buyin/{__version__}"


def test_parameters_are_flattened_and_booleans_sent_as_1_0(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    excl = capture("core_course_get_contents--excludecontents")
    mock.post(ENDPOINT, json=excl["response"])
    client.call(
        "core_course_get_contents",
        courseid=2,
        options=[{"name": "excludecontents", "value": True}, {"name": "x", "value": False}],
    )
    fields = parse_qs(body_of(mock.calls[0]))
    assert fields["courseid"] == ["2"]
    assert fields["options[0][name]"] == ["excludecontents"]
    assert fields["options[0][value]"] == ["1"]
    assert fields["options[1][value]"] == ["0"]
    assert "true" not in body_of(mock.calls[0]).lower()


# --- error envelopes -> typed errors ------------------------------------------------------

# every --error-* capture: (expected class, exit code, text the message must contain)
ENVELOPES: dict[str, tuple[type[BuyinError], int, str]] = {
    "core_webservice_get_site_info--error-invalid-token": (InvalidTokenError, 78, SITE),
    "core_user_create_users--error-function-not-in-service": (
        FunctionNotInServiceError,
        78,
        "core_user_create_users",
    ),
    "core_course_get_contents--error-invalid-parameter": (
        InvalidParameterError,
        78,
        "core_course_get_contents",
    ),
    "core_course_get_contents--error-invalid-parameter-debug": (
        InvalidParameterError,
        78,
        "courseid",
    ),
    "core_course_get_contents--error-missing-parameter": (
        InvalidParameterError,
        78,
        "invalidparameter",
    ),
    "core_course_get_contents--error-missing-parameter-debug": (
        InvalidParameterError,
        78,
        "Missing required key in single structure: courseid",
    ),
    "mod_quiz_get_user_quiz_attempts--error-invalid-status": (
        InvalidParameterError,
        78,
        "mod_quiz_get_user_quiz_attempts",
    ),
    "core_cohort_get_cohorts--error-missing-capability": (
        MissingPermissionError,
        78,
        "View site-wide cohorts",
    ),
    "core_cohort_get_cohorts--error-missing-capability-debug": (
        MissingPermissionError,
        78,
        "View site-wide cohorts",
    ),
    "core_user_update_users--error-missing-capability": (
        MissingPermissionError,
        78,
        "Update user profiles",
    ),
    "enrol_manual_enrol_users--error-role-not-assignable": (
        RoleNotAssignableError,
        78,
        "permission to assign this role (9)",
    ),
    "core_completion_get_course_completion_status--error-course-not-accessible": (
        RequireLoginError,
        78,
        "requireloginerror",
    ),
    "mod_quiz_get_user_quiz_attempts--error-course-not-accessible": (
        RequireLoginError,
        78,
        "requireloginerror",
    ),
    # known_functions is not given here, so invalidrecordunknown is a missing record
    "core_course_get_contents--error-no-such-course": (
        NotFoundError,
        78,
        "invalidrecordunknown",
    ),
    "core_course_get_contents--error-no-such-course-debug": (NotFoundError, 78, "invalidrecord"),
    "core_competency_list_plan_competencies--error-no-plan": (
        NotFoundError,
        78,
        "core_competency_list_plan_competencies",
    ),
    "core_no_such_function--error-unknown-function": (NotFoundError, 78, "core_no_such_function"),
    # the manager poll: an unknown feedback id, a token that cannot open its course
    **{
        f"mod_feedback_{name}--error-{variant}": (error, 78, text)
        for name in (
            "get_feedback_access_information",
            "get_items",
            "get_non_respondents",
            "get_responses_analysis",
            "get_analysis",
        )
        for variant, error, text in (
            ("invalid-feedbackid", NotFoundError, f"mod_feedback_{name}"),
            ("noperm-token", RequireLoginError, "requireloginerror"),
        )
    },
    "mod_feedback_get_non_respondents--error-invalid-sort": (
        InvalidParameterError,
        78,
        "mod_feedback_get_non_respondents",
    ),
}
#: named as errors, but Moodle answers them with an empty list and a warning
WARNING_CAPTURES = {
    "mod_feedback_get_feedbacks_by_courses--error-invalid-course",
    "mod_feedback_get_feedbacks_by_courses--error-noperm-token",
}


def test_every_error_capture_has_an_expectation() -> None:
    on_disk = {p.stem for p in CAPTURES.glob("*--error-*.json")}
    assert on_disk == set(ENVELOPES) | WARNING_CAPTURES


@pytest.mark.parametrize("name", sorted(ENVELOPES))
def test_error_envelope_becomes_a_typed_error(
    name: str, mock: responses.RequestsMock, client: MoodleClient
) -> None:
    cap = capture(name)
    expected, code, text = ENVELOPES[name]
    mock.post(ENDPOINT, json=cap["response"])

    with pytest.raises(BuyinError) as caught:
        client.call(cap["function"], **cap["params"])

    error = caught.value
    assert type(error) is expected
    assert exit_code_for(error) == code
    assert text in str(error)
    assert error.hint
    assert TOKEN not in str(error) and TOKEN not in error.hint
    # a Moodle error is an answer, not a transient failure: asked once, never retried
    assert len(mock.calls) == 1
    assert client.metrics.failures[cap["function"]] == 1


def test_invalid_token_names_the_token_and_the_site(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    mock.post(ENDPOINT, json=capture(f"{SITE_INFO}--error-invalid-token")["response"])
    with pytest.raises(InvalidTokenError) as caught:
        client.call(SITE_INFO)
    assert isinstance(caught.value, ConfigurationError)
    assert caught.value.exit_code == EXIT_CONFIG == 78
    assert "token" in str(caught.value)
    assert SITE in str(caught.value)
    assert "BUYIN_TOKEN" in caught.value.hint


def test_function_not_in_service_names_the_function(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    cap = capture("core_user_create_users--error-function-not-in-service")
    mock.post(ENDPOINT, json=cap["response"])
    with pytest.raises(FunctionNotInServiceError) as caught:
        client.call("core_user_create_users", **cap["params"])
    assert caught.value.function == "core_user_create_users"
    assert "core_user_create_users" in caught.value.hint


def test_invalid_parameter_is_a_contract_error(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    mock.post(
        ENDPOINT, json=capture("core_course_get_contents--error-invalid-parameter")["response"]
    )
    with pytest.raises(ContractError) as caught:
        client.call("core_course_get_contents", courseid="abc")
    assert isinstance(caught.value, InvalidParameterError)
    assert caught.value.function == "core_course_get_contents"


def test_missing_capability_names_the_capability(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    mock.post(
        ENDPOINT, json=capture("core_cohort_get_cohorts--error-missing-capability")["response"]
    )
    with pytest.raises(MissingPermissionError) as caught:
        client.call("core_cohort_get_cohorts", cohortids=[1])
    assert "(View site-wide cohorts)" in str(caught.value)
    assert "core_cohort_get_cohorts" in str(caught.value)
    assert "Define roles" in caught.value.hint


def test_role_not_assignable_hint_names_allow_role_assignments(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    cap = capture("enrol_manual_enrol_users--error-role-not-assignable")
    mock.post(ENDPOINT, json=cap["response"])
    with pytest.raises(MissingPermissionError) as caught:
        client.call("enrol_manual_enrol_users", idempotent=False, **cap["params"])
    assert "Allow role assignments" in caught.value.hint
    assert caught.value.function == "enrol_manual_enrol_users"


def test_unknown_function_is_told_apart_from_a_missing_record_by_known_functions(
    mock: responses.RequestsMock, sleeps: list[float]
) -> None:
    unknown = capture("core_no_such_function--error-unknown-function")["response"]
    no_course = capture("core_course_get_contents--error-no-such-course")["response"]
    mock.post(ENDPOINT, json=unknown)
    mock.post(ENDPOINT, json=no_course)
    known = {f["name"] for f in site_info()["functions"]}
    assert "core_course_get_contents" in known and "core_no_such_function" not in known
    client = MoodleClient(SITE, TOKEN, sleep=sleeps.append, known_functions=known)

    with pytest.raises(UnknownFunctionError) as unknown_error:
        client.call("core_no_such_function")
    assert unknown_error.value.function == "core_no_such_function"
    assert "core_no_such_function" in str(unknown_error.value)

    with pytest.raises(NotFoundError) as missing:
        client.call("core_course_get_contents", courseid=99999)
    assert missing.value.errorcode == "invalidrecordunknown"
    assert not isinstance(missing.value, UnknownFunctionError)


def test_other_envelopes_keep_function_errorcode_and_message(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    mock.post(
        ENDPOINT,
        json={"exception": "moodle_exception", "errorcode": "somethingodd", "message": "Odd."},
    )
    with pytest.raises(MoodleError) as caught:
        client.call(SITE_INFO)
    assert type(caught.value) is MoodleError
    assert caught.value.errorcode == "somethingodd"
    assert str(caught.value) == f"{SITE_INFO}: Moodle answered somethingodd: Odd."


# --- retries ---------------------------------------------------------------------------


def test_http_500_twice_then_success_is_retried(
    mock: responses.RequestsMock, client: MoodleClient, sleeps: list[float]
) -> None:
    mock.post(ENDPOINT, status=500, body="oops")
    mock.post(ENDPOINT, status=500, body="oops")
    mock.post(ENDPOINT, json=site_info())

    result = client.call(SITE_INFO)

    assert result == site_info()
    assert len(mock.calls) == 3
    assert client.metrics.retries[SITE_INFO] == 2
    assert client.metrics.failures[SITE_INFO] == 0
    assert len(sleeps) == 2
    assert all(s > 0 for s in sleeps)


def test_backoff_is_exponential_with_jitter_and_bounded(
    mock: responses.RequestsMock, sleeps: list[float]
) -> None:
    for _ in range(7):
        mock.post(ENDPOINT, status=502)
    client = MoodleClient(SITE, TOKEN, sleep=sleeps.append, retries=7, max_backoff=5.0)

    with pytest.raises(TransientError):
        client.call(SITE_INFO)

    assert len(sleeps) == 6
    # attempt n waits 0.5 * 2**(n-1) plus up to 1 s of jitter, never above max_backoff
    for n, slept in enumerate(sleeps, start=1):
        base = min(0.5 * 2 ** (n - 1), 5.0)
        assert base <= slept <= min(base + 1.0, 5.0)
    assert sleeps[1] < sleeps[2] < sleeps[3]  # [1, 2] < [2, 3] < [4, 5]
    assert sleeps[-2:] == [5.0, 5.0]


def test_retrying_emits_no_warnings(
    mock: responses.RequestsMock, client: MoodleClient, sleeps: list[float]
) -> None:
    mock.post(ENDPOINT, status=500)
    mock.post(ENDPOINT, json=site_info())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. a deprecated tenacity parameter
        client.call(SITE_INFO)
    assert len(sleeps) == 1


def test_jitter_varies_the_waits(mock: responses.RequestsMock) -> None:
    runs: list[list[float]] = [[], []]
    for sleeps in runs:
        mock.post(ENDPOINT, status=500)
        mock.post(ENDPOINT, status=500)
        mock.post(ENDPOINT, json=site_info())
        MoodleClient(SITE, TOKEN, sleep=sleeps.append, retries=3).call(SITE_INFO)
    assert len(runs[0]) == len(runs[1]) == 2
    assert runs[0] != runs[1]


def test_retry_after_is_honoured(
    mock: responses.RequestsMock, client: MoodleClient, sleeps: list[float]
) -> None:
    mock.post(ENDPOINT, status=503, headers={"Retry-After": "7"})
    mock.post(ENDPOINT, json=site_info())

    client.call(SITE_INFO)

    assert len(sleeps) == 1
    assert sleeps[0] >= 7


def test_retry_after_longer_than_max_backoff_still_wins(
    mock: responses.RequestsMock, sleeps: list[float]
) -> None:
    mock.post(ENDPOINT, status=429, headers={"Retry-After": "60"})
    mock.post(ENDPOINT, json=site_info())
    MoodleClient(SITE, TOKEN, sleep=sleeps.append, max_backoff=5).call(SITE_INFO)
    assert sleeps == [60.0]


def test_connection_errors_are_retried_then_transient_error_exit_75(
    mock: responses.RequestsMock, client: MoodleClient, sleeps: list[float]
) -> None:
    for _ in range(5):
        mock.post(ENDPOINT, body=requests.ConnectionError("connection refused"))

    with pytest.raises(TransientError) as caught:
        client.call(SITE_INFO)

    assert len(mock.calls) == client.retries == 3
    assert len(sleeps) == 2
    assert caught.value.exit_code == EXIT_UNREACHABLE == 75
    assert exit_code_for(caught.value) == 75
    assert SITE in str(caught.value)
    assert client.metrics.failures[SITE_INFO] == 1
    assert client.metrics.retries[SITE_INFO] == 2


def test_moodle_database_read_error_is_retried(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    mock.post(
        ENDPOINT,
        json={"exception": "dml_read_exception", "errorcode": "dmlreadexception", "message": "x"},
    )
    mock.post(ENDPOINT, json=site_info())
    assert client.call(SITE_INFO) == site_info()
    assert len(mock.calls) == 2


MESSAGE = capture("core_message_send_instant_messages")


def send_message(client: MoodleClient) -> Any:
    return client.call("core_message_send_instant_messages", idempotent=False, **MESSAGE["params"])


def test_read_timeout_on_a_write_is_not_retried(
    mock: responses.RequestsMock, client: MoodleClient, sleeps: list[float]
) -> None:
    mock.post(ENDPOINT, body=requests.ReadTimeout("read timed out"))
    mock.post(ENDPOINT, json=MESSAGE["response"])

    with pytest.raises(TransientError) as caught:
        send_message(client)

    assert len(mock.calls) == 1
    assert sleeps == []
    assert caught.value.exit_code == 75


def test_http_500_on_a_write_is_not_retried(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    mock.post(ENDPOINT, status=500)
    mock.post(ENDPOINT, json=MESSAGE["response"])
    with pytest.raises(TransientError):
        send_message(client)
    assert len(mock.calls) == 1


def test_a_connection_broken_after_sending_a_write_is_not_retried(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    # e.g. a reset while Moodle was answering: it may have stored the messages
    mock.post(
        ENDPOINT, body=requests.ConnectionError("Connection aborted.", ConnectionResetError())
    )
    mock.post(ENDPOINT, json=MESSAGE["response"])
    with pytest.raises(TransientError):
        send_message(client)
    assert len(mock.calls) == 1


def test_a_redirect_is_not_followed_and_names_the_target(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    mock.post(ENDPOINT, status=307, headers={"Location": "http://elsewhere.example.net/x"})
    with pytest.raises(ConfigurationError) as caught:
        client.call(SITE_INFO)
    assert "redirects (HTTP 307) to http://elsewhere.example.net/x" in str(caught.value)
    assert len(mock.calls) == 1


def test_other_request_failures_are_transient(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    mock.post(ENDPOINT, body=requests.exceptions.ChunkedEncodingError("truncated"))
    mock.post(ENDPOINT, json=site_info())
    assert client.call(SITE_INFO) == site_info()


def test_read_timeout_on_a_read_is_retried(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    mock.post(ENDPOINT, body=requests.ReadTimeout("read timed out"))
    mock.post(ENDPOINT, json=site_info())
    assert client.call(SITE_INFO) == site_info()
    assert len(mock.calls) == 2


@pytest.mark.parametrize(
    "failure",
    [
        {
            "body": requests.ConnectionError(
                NewConnectionError(None, "Failed to establish a new connection: refused")
            )
        },
        {"body": requests.ConnectTimeout("connect timed out")},
        {"status": 503},
        {"status": 429},
    ],
    ids=["connection-error", "connect-timeout", "503", "429"],
)
def test_a_write_that_never_reached_moodle_is_retried(
    failure: dict[str, Any],
    mock: responses.RequestsMock,
    client: MoodleClient,
    sleeps: list[float],
) -> None:
    mock.post(ENDPOINT, **failure)
    mock.post(ENDPOINT, json=MESSAGE["response"])

    assert send_message(client) == MESSAGE["response"]
    assert len(mock.calls) == 2
    assert len(sleeps) == 1
    assert client.metrics.retries["core_message_send_instant_messages"] == 1


# --- response validation ----------------------------------------------------------------


def test_a_response_breaking_the_schema_is_a_contract_error(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    broken = site_info()
    broken["functions"][1]["version"] = 3
    mock.post(ENDPOINT, json=broken)

    with pytest.raises(ContractError) as caught:
        client.call(SITE_INFO)

    assert caught.value.function == SITE_INFO
    assert caught.value.path == "$.functions[1].version"
    assert SITE_INFO in str(caught.value) and "$.functions[1].version" in str(caught.value)
    assert exit_code_for(caught.value) == 78
    assert len(mock.calls) == 1


def test_validation_can_be_switched_off(mock: responses.RequestsMock) -> None:
    mock.post(ENDPOINT, json={"whatever": 1})
    assert MoodleClient(SITE, TOKEN, validate=False).call(SITE_INFO) == {"whatever": 1}


def test_a_non_json_answer_is_a_contract_error(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    xml = capture(f"{SITE_INFO}--xml-default-format")["response"]
    mock.post(ENDPOINT, body=xml, content_type="application/xml")
    with pytest.raises(ContractError) as caught:
        client.call(SITE_INFO)
    assert "not JSON" in str(caught.value)
    assert caught.value.function == SITE_INFO
    assert len(mock.calls) == 1


def test_an_http_404_says_the_url_may_be_wrong(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    mock.post(ENDPOINT, status=404, body="<html>Not found</html>")
    with pytest.raises(MoodleError) as caught:
        client.call(SITE_INFO)
    assert caught.value.errorcode == "http404"
    assert "site's root" in str(caught.value)
    assert len(mock.calls) == 1


def test_a_null_answer_is_accepted_where_the_contract_allows_it(
    mock: responses.RequestsMock, client: MoodleClient
) -> None:
    cap = capture("enrol_manual_enrol_users")
    assert cap["response"] is None
    mock.post(ENDPOINT, body="null", content_type="application/json")
    assert client.call("enrol_manual_enrol_users", **cap["params"]) is None


# --- the token never shows ------------------------------------------------------------


def test_repr_does_not_show_the_token() -> None:
    client = MoodleClient(SITE, TOKEN)
    assert TOKEN not in repr(client)
    assert SITE in repr(client)


def _raised(client: MoodleClient, mock: responses.RequestsMock, **answer: Any) -> BuyinError:
    mock.post(ENDPOINT, **answer)
    with pytest.raises(BuyinError) as caught:
        client.call(SITE_INFO)
    return caught.value


@pytest.mark.parametrize(
    "answer",
    [
        {"body": f"<html>Fatal error: token {TOKEN} is bad</html>"},
        {"body": requests.exceptions.SSLError(f"certificate verify failed for {TOKEN}")},
        {"body": requests.ConnectionError(f"cannot connect ?wstoken={TOKEN}")},
        {"body": requests.ReadTimeout(f"timeout {TOKEN}")},
        {"status": 500, "body": f"error {TOKEN}"},
        {"json": {"exception": "x", "errorcode": "invalidtoken", "message": TOKEN}},
        {"json": {"exception": "x", "errorcode": "other", "message": "m", "debuginfo": TOKEN}},
    ],
    ids=["non-json", "tls", "connection", "timeout", "http500", "invalidtoken", "envelope"],
)
def test_no_error_shows_the_token(answer: dict[str, Any], mock: responses.RequestsMock) -> None:
    client = MoodleClient(SITE, TOKEN, sleep=lambda _: None, retries=1)
    error = _raised(client, mock, **answer)
    assert TOKEN not in str(error)
    assert TOKEN not in error.hint
    assert TOKEN not in repr(error)


@pytest.fixture
def buyin_logging() -> Iterator[None]:
    logger = logging.getLogger("buyin")
    level, handlers = logger.level, list(logger.handlers)
    redact_secret(TOKEN)
    setup_logging(2)
    yield
    for handler in list(logger.handlers):
        if handler not in handlers:
            logger.removeHandler(handler)
    logger.setLevel(level)


def test_the_token_never_reaches_the_log(
    buyin_logging: None,
    mock: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
    sleeps: list[float],
) -> None:
    caplog.set_level(logging.DEBUG)
    client = MoodleClient(SITE, TOKEN, sleep=sleeps.append, retries=2)
    mock.post(ENDPOINT, status=500, body=f"error {TOKEN}")
    mock.post(ENDPOINT, json=site_info())
    # a parameter that happens to carry the token (e.g. pasted into a message)
    client.call(SITE_INFO, serviceshortnames=[f"x{TOKEN}"])
    log = logging.getLogger("buyin.anything")
    log.debug("token is %s", TOKEN)
    log.info(f"formatted {TOKEN}")
    try:
        raise RuntimeError(f"failed with {TOKEN}")
    except RuntimeError:
        log.exception("call failed")

    assert any(
        r.name == "buyin.moodle.client" and r.levelno == logging.DEBUG for r in caplog.records
    )
    assert any(
        r.name == "buyin.moodle.client" and "retrying" in r.getMessage() for r in caplog.records
    )
    assert "token is ***" in caplog.text
    assert "RuntimeError: failed with ***" in caplog.text
    assert TOKEN not in caplog.text
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


# --- metrics -------------------------------------------------------------------------


def test_metrics_count_calls_per_function_and_retries(
    mock: responses.RequestsMock, sleeps: list[float]
) -> None:
    metrics = CallMetrics()
    client = MoodleClient(SITE, TOKEN, sleep=sleeps.append, retries=3, metrics=metrics)
    contents = capture("core_course_get_contents")
    mock.post(ENDPOINT, json=site_info())
    mock.post(ENDPOINT, status=503)
    mock.post(ENDPOINT, json=contents["response"])
    mock.post(ENDPOINT, json=contents["response"])

    client.call(SITE_INFO)
    client.call("core_course_get_contents", courseid=2)
    client.call("core_course_get_contents", courseid=2)

    assert metrics.calls == {SITE_INFO: 1, "core_course_get_contents": 3}
    assert metrics.total_calls == len(mock.calls) == 4
    assert metrics.retries == {"core_course_get_contents": 1}
    assert sum(metrics.failures.values()) == 0
    line = metrics.line()
    assert line.startswith("calls=4 retries=1 failures=0 ws_seconds=")
    assert "core_course_get_contents=3" in line
    assert f"{SITE_INFO}=1" in line


def test_metrics_count_failures(mock: responses.RequestsMock, client: MoodleClient) -> None:
    mock.post(ENDPOINT, json=capture(f"{SITE_INFO}--error-invalid-token")["response"])
    with pytest.raises(InvalidTokenError):
        client.call(SITE_INFO)
    assert client.metrics.failures == {SITE_INFO: 1}
    assert "failures=1" in client.metrics.line()
