"""The Moodle REST client: one ``call(function, **params)``.

- POST form body to ``/webservice/rest/server.php`` (the token never in a URL),
  PHP-style flattening (:mod:`buyin.moodle.encoding`), ``moodlewsrestformat=json``.
- Moodle's error envelope (HTTP 200 with ``exception``/``errorcode``) becomes a
  typed error here and nowhere else (:func:`error_from_envelope`).
- Transient failures (connection errors, timeouts, 429, 5xx, database read
  errors) are retried by one tenacity policy, the only retry of the agent (no loop
  around it): exponential backoff with jitter, ``Retry-After`` honoured, the sleep
  injectable, ``retries`` attempts in all. A write is retried only when it is
  idempotent (the caller says so), when the failure proves the request never
  reached Moodle (connection refused, 429/503), or after its ``verify`` hook has
  read back what Moodle holds of it (a message batch whose answer was lost).
- Every response is validated against its function's contract schema.
- One pooled session, a timeout on every request, a call counter per function.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)
from urllib3.exceptions import NameResolutionError, NewConnectionError

from buyin import __version__
from buyin.errors import (
    BuyinError,
    ConfigurationError,
    ContractError,
    FunctionNotInServiceError,
    Interrupted,
    InvalidParameterError,
    InvalidTokenError,
    MissingPermissionError,
    MoodleError,
    NotFoundError,
    RequireLoginError,
    RoleNotAssignableError,
    TransientError,
    UnknownFunctionError,
)
from buyin.moodle.contract import validate_response
from buyin.moodle.encoding import MAX_INPUT_VARS, flatten

if TYPE_CHECKING:
    from buyin.config import Settings

log = logging.getLogger("buyin.moodle.client")

ENDPOINT = "/webservice/rest/server.php"
#: Moodle errors that mean "try again" (database read failures, busy site)
TRANSIENT_ERRORCODES = frozenset({"dmlreadexception", "dmlwriteexception", "servicenotavailable"})


class _Stop:
    """Set by the command line's signal handler: the signal that asked us to stop."""

    signum: int | None = None


STOP = _Stop()


def request_stop(signum: int | None) -> None:
    """Let no further call start (``None``: clear, for the next run in this process)."""
    STOP.signum = signum


def _sleep(seconds: float) -> None:
    """The default wait between retries (tests replace it: no test sleeps)."""
    time.sleep(seconds)


#: reads back an in-doubt write: the params still to send, or None where Moodle holds it all
Verify = Callable[[dict[str, Any]], dict[str, Any] | None]


class _SafeToRetry(TransientError):
    """The request never reached Moodle (refused connection, 429, 503): safe even for writes."""


@dataclass
class CallMetrics:
    """Counts per run: calls per function, retries, failures, time spent."""

    calls: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, function: str, *, retry: bool = False, failed: bool = False) -> None:
        with self._lock:
            if retry:
                self.retries[function] += 1
            elif failed:
                self.failures[function] += 1
            else:
                self.calls[function] += 1

    def add_time(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def line(self) -> str:
        """The one metrics line a run ends with."""
        per_fn = " ".join(f"{fn}={n}" for fn, n in sorted(self.calls.items()))
        return (
            f"calls={self.total_calls} retries={sum(self.retries.values())} "
            f"failures={sum(self.failures.values())} ws_seconds={self.seconds:.2f} {per_fn}"
        ).rstrip()


def error_from_envelope(
    function: str,
    envelope: dict[str, Any],
    site: str,
    known_functions: set[str] | None = None,
) -> BuyinError:
    """The one place that turns Moodle's error envelope into a typed error.

    Moodle answers ``invalidrecordunknown`` both for an unknown function and for a
    missing record; ``known_functions`` (from site info) tells them apart.
    """
    code = str(envelope.get("errorcode") or "")
    exception = str(envelope.get("exception") or "")
    message = str(envelope.get("message") or "")
    debuginfo = str(envelope.get("debuginfo") or "")
    if code == "invalidtoken":
        return InvalidTokenError(site)
    if code == "accessexception" or "webservice_access_exception" in exception:
        return FunctionNotInServiceError(function)
    if code in ("invalidrecordunknown", "invalidrecord"):
        if known_functions is not None and function not in known_functions:
            return UnknownFunctionError(function)
        return NotFoundError(function, code, message, exception)
    if code == "invalidparameter":
        return InvalidParameterError(function, debuginfo)
    if code == "nopermissions" or "required_capability_exception" in exception:
        return MissingPermissionError(
            function,
            message,
            "Grant the capability named above to the agent's role "
            "(Site administration > Users > Permissions > Define roles).",
        )
    if code == "wsusercannotassign":
        return RoleNotAssignableError(function, message)
    if code == "requireloginerror":
        return RequireLoginError(function, code, message, exception)
    if code in TRANSIENT_ERRORCODES:
        return TransientError(f"{function}: Moodle answered {code}: {message}")
    return MoodleError(function, code, message, exception)


def _never_sent(exc: BaseException) -> bool:
    """True when the connection failed before the request left (refused, unknown host)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError | NameResolutionError):
            return True
        stack.extend(a for a in current.args if isinstance(a, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)
    return False


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class MoodleClient:
    """A Moodle REST web-service client. Thread-safe; share one per run."""

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> MoodleClient:
        """The client for the configured site (its URL, token, timeout and retries)."""
        settings.require_site()
        return cls(
            settings.url,
            settings.token.reveal(),
            session=session,
            timeout=settings.timeout,
            retries=settings.retries,
            sleep=sleep,
        )

    def __init__(
        self,
        url: str,
        token: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        retries: int = 5,
        sleep: Callable[[float], None] | None = None,
        max_backoff: float = 30.0,
        validate: bool = True,
        metrics: CallMetrics | None = None,
        known_functions: set[str] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self.session = session or requests.Session()
        # a new Session already carries python-requests' User-Agent: replace that one
        if self.session.headers.get("User-Agent") in (None, requests.utils.default_user_agent()):
            self.session.headers["User-Agent"] = f"moodle-buyin/{__version__}"
        self.timeout = timeout
        self.retries = max(1, retries)
        self.sleep = sleep or _sleep
        self.max_backoff = max_backoff
        self.validate = validate
        self.metrics = metrics or CallMetrics()
        #: functions the site knows (from site info); an unknown-function envelope
        #: for a function outside it is reported as such
        self.known_functions = known_functions

    def __repr__(self) -> str:
        return f"MoodleClient(url={self.url!r}, token='***')"

    def redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    # -- the one entry point -------------------------------------------------

    def call(
        self,
        function: str,
        /,
        *,
        idempotent: bool = True,
        verify: Verify | None = None,
        **params: Any,
    ) -> Any:
        """Call a web-service function and return its validated response.

        The one retry policy of every call: ``retries`` attempts in all, whatever
        fails. ``idempotent=False`` marks a write that must not be repeated blindly
        (a message): it is retried when Moodle surely did not receive it, or, given
        ``verify``, after ``verify(params)`` has read back what Moodle holds and
        answered what is still to send (None: nothing, the call returns None).
        """
        pending: dict[str, Any] | None = params
        in_doubt = False

        def attempt() -> Any:
            nonlocal pending, in_doubt
            if in_doubt and verify is not None and pending is not None:
                pending = verify(pending)  # a read: it may fail and be retried in turn
                in_doubt = False
            if pending is None:
                return None
            try:
                return self._call_once(function, pending)
            except _SafeToRetry:
                raise
            except TransientError:
                in_doubt = not idempotent  # the write may have arrived: read it back first
                raise

        def retry_on(exc: BaseException) -> bool:
            if idempotent or verify is not None:
                return isinstance(exc, TransientError)
            return isinstance(exc, _SafeToRetry)

        def before_sleep(state: RetryCallState) -> None:
            self.metrics.count(function, retry=True)
            exc = state.outcome.exception() if state.outcome else None
            log.warning("retrying %s after: %s", function, self.redact(str(exc)))

        retrying = Retrying(
            retry=retry_if_exception(retry_on),
            stop=stop_after_attempt(self.retries),
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except BuyinError:
            self.metrics.count(function, failed=True)
            raise

    def _wait(self, state: RetryCallState) -> float:
        # 0.5 s, 1 s, 2 s, ... plus up to 1 s of jitter, capped (tenacity's
        # wait_exponential_jitter, written out: its `initial` is deprecated)
        exponent = min(state.attempt_number - 1, 32)
        backoff = min(0.5 * 2.0**exponent + random.uniform(0, 1), self.max_backoff)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return min(max(backoff, exc.retry_after), max(self.max_backoff, exc.retry_after))
        return backoff

    def _call_once(self, function: str, params: dict[str, Any]) -> Any:
        if STOP.signum is not None:  # SIGTERM/SIGINT: no call starts after it
            raise Interrupted(STOP.signum)
        fields = [
            ("wstoken", self._token),
            ("wsfunction", function),
            ("moodlewsrestformat", "json"),
            *flatten(params),
        ]
        if len(fields) > MAX_INPUT_VARS:
            # PHP would drop the fields past max_input_vars without a word: never send it
            raise ContractError(
                function,
                "request",
                f"{len(fields)} form fields, over PHP's max_input_vars ({MAX_INPUT_VARS})",
                hint="A batch size that does not derive from encoding.FIELD_BUDGET: report it.",
            )
        body = urlencode(fields)
        self.metrics.count(function)
        started = time.monotonic()
        log.debug("call %s %s", function, self.redact(json.dumps(params, default=str)[:500]))
        try:
            response = self.session.post(
                self.url + ENDPOINT,
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=self.timeout,
                # a redirect would re-send the token elsewhere, perhaps over plain HTTP
                allow_redirects=False,
            )
        except requests.ConnectTimeout:
            raise _SafeToRetry(f"{function}: connection to {self.url} timed out") from None
        except requests.Timeout:
            raise TransientError(
                f"{function}: {self.url} did not answer within {self.timeout:g}s"
            ) from None
        except requests.exceptions.SSLError as exc:
            raise ConfigurationError(
                f"TLS verification of {self.url} failed: {self.redact(str(exc))[:200]}",
                hint="Fix the site's certificate (chain, name, expiry); the agent never skips "
                "verification. A private CA can be named with REQUESTS_CA_BUNDLE.",
            ) from None
        except requests.ConnectionError as exc:
            if _never_sent(exc):
                raise _SafeToRetry(f"{function}: cannot connect to {self.url}") from None
            # the connection broke after the request may have arrived: not safe for a write
            raise TransientError(f"{function}: the connection to {self.url} broke") from None
        except requests.RequestException as exc:
            raise TransientError(
                f"{function}: {type(exc).__name__} talking to {self.url}"
            ) from None
        finally:
            self.metrics.add_time(time.monotonic() - started)
        return self._interpret(function, response)

    def _interpret(self, function: str, response: requests.Response) -> Any:
        status = response.status_code
        if 300 <= status < 400:
            location = response.headers.get("Location", "?")
            raise ConfigurationError(
                f"{self.url}{ENDPOINT} redirects (HTTP {status}) to {location}",
                hint="Set url to the site's real address (the token is never sent to a redirect).",
            )
        if status in (429, 503):
            raise _SafeToRetry(
                f"{function}: {self.url} answered HTTP {status} (busy)",
                retry_after=_retry_after(response),
            )
        if status >= 500:
            raise TransientError(
                f"{function}: {self.url} answered HTTP {status}",
                retry_after=_retry_after(response),
            )
        if status >= 400:
            raise MoodleError(
                function,
                f"http{status}",
                f"HTTP {status} from {self.url}{ENDPOINT}; is url the Moodle site's root?",
            )
        try:
            payload = response.json()
        except ValueError:
            snippet = self.redact(response.text[:120]).replace("\n", " ")
            raise ContractError(
                function,
                "$",
                f"the answer is not JSON ({snippet!r})",
                hint="Check url points to the Moodle site root and web services (REST) are enabled.",
            ) from None
        if isinstance(payload, dict) and "exception" in payload and "errorcode" in payload:
            raise error_from_envelope(function, payload, self.url, self.known_functions)
        if self.validate:
            validate_response(function, payload)
        return payload
