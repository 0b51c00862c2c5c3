"""Moodle's exceptions as the simulated site raises them: :class:`WsError` (answered
as the error envelope), its common constructors, and the envelopes a queued fault
may name."""

from __future__ import annotations

#: errorcodes a queued fault may name, with Moodle's exception class and message
ERROR_ENVELOPES: dict[str, tuple[str, str]] = {
    "dmlreadexception": ("dml_read_exception", "Error reading from database"),
    "dmlwriteexception": ("dml_write_exception", "Error writing to database"),
    "invalidtoken": ("core\\exception\\moodle_exception", "Invalid token - token not found"),
    "accessexception": ("webservice_access_exception", "Access control exception"),
    "servicerequireslogin": (
        "core\\exception\\moodle_exception",
        "Service requires login",
    ),
    "requireloginerror": (
        "core\\exception\\require_login_exception",
        "Course or activity not accessible.",
    ),
    "nopermissions": (
        "core\\exception\\required_capability_exception",
        "Sorry, but you do not currently have permissions to do that ().",
    ),
    "invalidparameter": (
        "core\\exception\\invalid_parameter_exception",
        "Invalid parameter value detected",
    ),
    "invalidrecordunknown": ("dml_missing_record_exception", "Can't find data record in database."),
}


class WsError(Exception):
    """A Moodle exception, answered as the JSON error envelope."""

    def __init__(
        self, exception: str, errorcode: str, message: str, debuginfo: str | None = None
    ) -> None:
        super().__init__(message)
        self.exception = exception
        self.errorcode = errorcode
        self.message = message
        self.debuginfo = debuginfo


def invalid(detail: str | None = None) -> WsError:
    """An invalid_parameter_exception; ``detail`` is its debuginfo."""
    return WsError(
        "core\\exception\\invalid_parameter_exception",
        "invalidparameter",
        "Invalid parameter value detected",
        detail,
    )


def moodle_error(errorcode: str, message: str) -> WsError:
    """A plain moodle_exception."""
    return WsError("core\\exception\\moodle_exception", errorcode, message)


def collision_error() -> WsError:
    """What the real site answered when two overrides for one learner overlapped (NOTES.md)."""
    exception, message = ERROR_ENVELOPES["dmlwriteexception"]
    return WsError(exception, "dmlwriteexception", message)
