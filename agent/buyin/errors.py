"""One exception root, subtrees by what the user has to do about it.

- :class:`ConfigurationError`: fix the configuration, the mapping or the site's
  permissions, then run again. Exit 78 (EX_CONFIG); nothing is pushed.
- :class:`ContractError`: Moodle answered something the contract does not allow
  (or we asked wrongly). That programme stops; the message names the function
  and the JSON path.
- :class:`TransientError`: the site could not be reached or was overloaded;
  retried by the client's one policy, and when the retries are spent the run
  saves what it did and exits 75 (EX_TEMPFAIL); a refusal stays exit 1.
- :class:`StateError`: the state database is damaged or cannot be read or
  written. Exit 74 (EX_IOERR), not 1 ("some actions failed").

Every message names the thing at fault and what to do. Exit codes are decided
here and only here (:func:`exit_code_for`).
"""

from __future__ import annotations

from typing import Final

EXIT_OK: Final = 0
EXIT_ACTIONS_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_LOCKED: Final = 3
EXIT_STATE: Final = 74
EXIT_UNREACHABLE: Final = 75
EXIT_CONFIG: Final = 78

#: the one exit table: `buyin --help`, `sync --help`, `backfill --help` and the README show it
EXIT_TABLE: Final[tuple[tuple[str, str], ...]] = (
    (str(EXIT_OK), "success"),
    (str(EXIT_ACTIONS_FAILED), "some actions failed or were refused (the rest applied)"),
    (str(EXIT_USAGE), "usage"),
    (
        str(EXIT_LOCKED),
        "another sync holds the lock, or another agent a programme's lease, or this state "
        "is a copy or an old backup of the one that last ran (its lease token is not current)",
    ),
    (
        str(EXIT_STATE),
        "the state database is damaged or unusable, or holds a record that does not fit "
        "(named, with what to do)",
    ),
    (
        str(EXIT_UNREACHABLE),
        "Moodle failed temporarily past every retry: what was done is saved, the next run resumes",
    ),
    (str(EXIT_CONFIG), "configuration or permission error (nothing pushed)"),
    (
        "130 / 143",
        "stopped by SIGINT / SIGTERM, at any moment from start-up to exit (the next sync resumes)",
    ),
)


def exit_table() -> str:
    """The exit table as `--help` prints it (one line per code)."""
    return "\n".join(f"{code:>9}  {meaning}" for code, meaning in EXIT_TABLE)


class BuyinError(Exception):
    """Root of every error moodle-buyin raises on purpose."""

    exit_code: int = EXIT_CONFIG
    #: what the user should do about it; shown under the message
    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return self.message


# --- configuration: fix something, then run again --------------------------------


class ConfigurationError(BuyinError):
    """The configuration, a mapping file or the site's set-up must be fixed."""

    exit_code = EXIT_CONFIG


class MappingError(ConfigurationError):
    """A programme mapping file is invalid; names the file and the key path."""

    def __init__(self, path: str, keypath: str, problem: str) -> None:
        where = f"{path}: {keypath}" if keypath else path
        super().__init__(
            f"mapping {where}: {problem}",
            hint="Correct the mapping file; nothing was pushed.",
        )
        self.path = path
        self.keypath = keypath
        self.problem = problem


class InvalidTokenError(ConfigurationError):
    """Moodle does not know the token."""

    def __init__(self, site: str) -> None:
        super().__init__(
            f"Moodle at {site} rejected the web-service token (invalidtoken)",
            hint="Set BUYIN_TOKEN or token_file to a valid token of the buyin service "
            "(Site administration > Server > Web services > Manage tokens).",
        )


class FunctionNotInServiceError(ConfigurationError):
    """The function exists but is not in the token's external service."""

    def __init__(self, function: str) -> None:
        super().__init__(
            f"web-service function {function} is not in the token's service (accessexception)",
            hint=f"Add {function} to the service (Site administration > Server > Web services "
            "> External services > Functions), or install local_buyin which predefines it.",
        )
        self.function = function


class UnknownFunctionError(ConfigurationError):
    """The site does not have this function at all (older Moodle, missing plugin)."""

    def __init__(self, function: str) -> None:
        super().__init__(
            f"web-service function {function} does not exist on this site",
            hint="Upgrade Moodle or install the plugin that provides it "
            "(see plugin_contract/service.json for the minimum version).",
        )
        self.function = function


class MissingPermissionError(ConfigurationError):
    """The token's user lacks a capability or a role-assignment permission."""

    def __init__(self, function: str, what: str, hint: str) -> None:
        super().__init__(f"{function}: {what}", hint=hint)
        self.function = function
        self.what = what


class RoleNotAssignableError(MissingPermissionError):
    """The agent's role may not assign a role (wsusercannotassign): refuses that item only."""

    def __init__(self, function: str, what: str) -> None:
        super().__init__(
            function,
            what,
            "Let the agent's role assign that role: Site administration > Users > Permissions "
            "> Define roles > (agent's role) > Allow role assignments.",
        )


class InsecureURLError(ConfigurationError):
    def __init__(self, url: str) -> None:
        super().__init__(
            f"site URL {url} uses plain HTTP",
            hint="Use https:// (HTTP is allowed only for 127.0.0.1, ::1 or localhost).",
        )


# --- contract: Moodle answered something we cannot use ----------------------------


class ContractError(BuyinError):
    """A response (or our request) breaks the web-service contract."""

    exit_code = EXIT_CONFIG

    def __init__(self, function: str, path: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(
            f"{function}: response breaks the contract at {path or '$'}: {problem}",
            hint=hint
            or "Check the site's Moodle version against plugin_contract/service.json; "
            "report it with `buyin -v` output if the site is supported.",
        )
        self.function = function
        self.path = path
        self.problem = problem


class InvalidParameterError(ContractError):
    """Moodle refused our parameters (invalidparameter)."""

    def __init__(self, function: str, detail: str) -> None:
        BuyinError.__init__(
            self,
            f"{function}: Moodle refused the parameters (invalidparameter){': ' + detail if detail else ''}",
            hint="Check the ids in the mapping; with debugging on, Moodle names the parameter.",
        )
        self.function = function
        self.path = ""
        self.problem = detail


class MoodleError(BuyinError):
    """Any other error envelope: names the function, exception and errorcode."""

    exit_code = EXIT_CONFIG

    def __init__(self, function: str, errorcode: str, message: str, exception: str = "") -> None:
        super().__init__(
            f"{function}: Moodle answered {errorcode}: {message}",
            hint="See Moodle's message above; `buyin doctor` checks the site set-up.",
        )
        self.function = function
        self.errorcode = errorcode
        self.exception = exception
        self.moodle_message = message


class RequireLoginError(MoodleError):
    """The course is not accessible to the token's user."""


class NotFoundError(MoodleError):
    """A record (course, user, activity) does not exist."""


# --- transient: try again later ---------------------------------------------------


class TransientError(BuyinError):
    """The site is unreachable, timing out or overloaded. Retried; exit 75 at the end."""

    exit_code = EXIT_UNREACHABLE

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(
            message,
            hint="Moodle could not be reached; the next run picks up where this one stopped.",
        )
        self.retry_after = retry_after


# --- the run itself ---------------------------------------------------------------


class StateError(BuyinError):
    """The state database is damaged, or SQLite cannot read or write it."""

    exit_code = EXIT_STATE
    hint = (
        "Restore the file from a backup; or move it aside and run `buyin sync --dry-run`: "
        "a new state is built from Moodle, which skips what Moodle already holds, but "
        "messages already sent are not known to it and would be sent again."
    )

    def __init__(self, path: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"the state database {path} {problem}", hint=hint)
        self.path = path
        self.problem = problem


class LockedError(BuyinError):
    """Another sync holds the lock."""

    exit_code = EXIT_LOCKED

    def __init__(self, path: str, holder: str = "") -> None:
        super().__init__(
            f"another buyin run holds the lock {path}{' (' + holder + ')' if holder else ''}",
            hint="Wait for it to finish; cron can simply run again later.",
        )


class LeaseHeldError(BuyinError):
    """A programme's lease in Moodle is held by another agent (another state file)."""

    exit_code = EXIT_LOCKED

    def __init__(self, programme: str, holder: str, until: str, where: str = "local_buyin") -> None:
        super().__init__(
            f"programme {programme} is run by another agent: its lease in Moodle "
            f"({where}) is held by {holder} until {until}; nothing was done for it",
            hint="Run each programme from one agent (one state file). If that agent is "
            "gone for good, its lease lapses then (each of its runs renews it), or run "
            "`buyin release-lease` where it ran (`buyin release-lease --force` here).",
        )


class LeaseFencedError(BuyinError):
    """The programme's lease moved on since this state's last run: this state is a
    copy, or an old backup (its fencing token is not the lease's current one)."""

    exit_code = EXIT_LOCKED

    def __init__(self, programme: str, where: str, until: str) -> None:
        super().__init__(
            f"programme {programme}: this state file is not the one that last ran it: "
            f"the programme's lease in Moodle ({where}) was renewed by a later run of "
            "this agent from another copy of its state (a copied state folder, or this "
            "is an old backup restored); nothing was done for it, so nothing is sent twice",
            hint="Run the programme from the state that holds the lease (the original "
            "folder). If this state is the one to keep and the other is gone for good, run "
            "`buyin release-lease --force` here, then sync (what the other sent after this "
            f"copy was made may be sent again); or wait until the lease lapses ({until}).",
        )


class Interrupted(BaseException):
    """SIGTERM or SIGINT: no call starts after it; the call in flight finishes.

    A BaseException (like KeyboardInterrupt), so no ``except BuyinError`` that goes
    on with the next action catches it. Exit 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        import signal

        self.signum = signum
        self.name = signal.Signals(signum).name
        self.exit_code = 128 + signum
        super().__init__(
            f"interrupted by {self.name}: stopped after the call in flight; "
            "the next sync resumes where this one stopped"
        )


def exit_code_for(error: BaseException) -> int:
    """The single place that maps an error to a process exit code."""
    if isinstance(error, BuyinError | Interrupted):
        return error.exit_code
    return EXIT_ACTIONS_FAILED
