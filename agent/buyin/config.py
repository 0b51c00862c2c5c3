"""Settings: ``buyin.toml``, environment, flags. Precedence flag > env > file > default.

The token never comes from a flag: from ``BUYIN_TOKEN`` or from ``token_file``
(a file only its owner may read). It is wrapped in :class:`Secret` so that no
repr, log line or error can show it.
"""

from __future__ import annotations

import ipaddress
import math
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from buyin.errors import ConfigurationError, InsecureURLError

DEFAULT_CONFIG_FILE = "buyin.toml"


class Secret:
    """A string that never shows itself in repr/str."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Setting:
    """One setting: its TOML key, environment variable, type, default and meaning."""

    key: str
    env: str
    kind: type
    default: Any
    help: str
    #: the largest value accepted (numbers); beyond it is a mistake, not a wish
    maximum: float = math.inf


#: Every setting, in the order the README documents them.
SETTINGS: tuple[Setting, ...] = (
    Setting("url", "BUYIN_URL", str, "", "Moodle site URL (https://; http only on loopback)"),
    Setting("token_file", "BUYIN_TOKEN_FILE", str, "", "file holding the token (mode 600)"),
    Setting("state_path", "BUYIN_STATE", str, "buyin-state.sqlite", "SQLite state file"),
    Setting("mapping_dir", "BUYIN_MAPPINGS", str, "mappings", "directory of programme *.toml"),
    Setting("concurrency", "BUYIN_CONCURRENCY", int, 4, "web-service calls in flight at once", 64),
    Setting("timeout", "BUYIN_TIMEOUT", float, 30.0, "seconds per request", 3600),
    Setting("retries", "BUYIN_RETRIES", int, 5, "attempts per call on transient errors", 100),
    Setting(
        "reconcile_hours",
        "BUYIN_RECONCILE_HOURS",
        float,
        24.0,
        "full reconciliation every N hours (otherwise only learners who moved)",
        24.0 * 366,
    ),
    Setting("page_size", "BUYIN_PAGE_SIZE", int, 1000, "enrolled users fetched per call", 100000),
    Setting(
        "retry_failed_runs",
        "BUYIN_RETRY_FAILED_RUNS",
        int,
        3,
        "runs a failed write is tried on; then not until its mapping or Moodle changes, "
        "or `buyin retry`",
        100,
    ),
    Setting(
        "state_retention_days",
        "BUYIN_STATE_RETENTION_DAYS",
        float,
        90.0,
        "days a run's detail is kept in the state (its counts always are)",
        3660.0,
    ),
)
_BY_KEY = {s.key: s for s in SETTINGS}
TOKEN_ENV = "BUYIN_TOKEN"
CONFIG_ENV = "BUYIN_CONFIG"


@dataclass(frozen=True)
class Settings:
    url: str
    token: Secret = field(repr=True)
    state_path: Path
    mapping_dir: Path
    concurrency: int = 4
    timeout: float = 30.0
    retries: int = 5
    reconcile_hours: float = 24.0
    page_size: int = 1000
    retry_failed_runs: int = 3
    state_retention_days: float = 90.0
    config_file: Path | None = None

    def require_site(self) -> None:
        """Raise unless a site URL and a token are configured."""
        if not self.url:
            raise ConfigurationError(
                "no Moodle site URL is configured",
                hint="Set url in buyin.toml or BUYIN_URL.",
            )
        if not self.token:
            raise ConfigurationError(
                "no web-service token is configured",
                hint=f"Set {TOKEN_ENV}, or token_file in buyin.toml (a file with mode 600).",
            )


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    try:
        if setting.kind is int and not isinstance(value, bool):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError  # 2.5 connections: refuse rather than truncate
            result: Any = int(value)
        elif setting.kind is float and not isinstance(value, bool):
            result = float(value)
        elif setting.kind is str and isinstance(value, str):
            result = value
        else:
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"{origin}: {setting.key} must be {setting.kind.__name__}, got {value!r}",
            hint=f"Fix {setting.key} ({setting.help}).",
        ) from None
    if setting.kind in (int, float) and not (math.isfinite(result) and result > 0):
        raise ConfigurationError(
            f"{origin}: {setting.key} must be positive, got {value!r}",
            hint=f"Fix {setting.key} ({setting.help}).",
        )
    if setting.kind in (int, float) and result > setting.maximum:
        raise ConfigurationError(
            f"{origin}: {setting.key} must be at most {setting.maximum:g}, got {value!r}",
            hint=f"Fix {setting.key} ({setting.help}).",
        )
    return result


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read configuration file {path}: {exc.strerror}",
            hint="Pass --config with an existing file, or create buyin.toml.",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(
            f"configuration file {path} is not valid TOML: {exc}",
            hint="Fix the TOML syntax.",
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"configuration file {path} is not UTF-8 text (byte {exc.start})",
            hint="Save it as UTF-8.",
        ) from None
    except RecursionError:
        raise ConfigurationError(
            f"configuration file {path} nests tables or arrays too deeply",
            hint="buyin.toml holds flat settings; see the README.",
        ) from None
    section = data.get("buyin", data)
    if not isinstance(section, dict):
        raise ConfigurationError(f"{path}: [buyin] must be a table", hint="See the README.")
    # keys beside a [buyin] table would otherwise be silently ignored (a token among them)
    outside = set(data) - {"buyin"} if "buyin" in data else set()
    if "token" in section or "token" in outside:
        raise ConfigurationError(
            f"{path}: a token must not be written in the configuration file",
            hint=f"Remove 'token'; use {TOKEN_ENV} or token_file (mode 600).",
        )
    unknown = sorted((set(section) - set(_BY_KEY)) | outside)
    if unknown:
        raise ConfigurationError(
            f"{path}: unknown setting(s) {', '.join(unknown)}",
            hint="Known settings: " + ", ".join(_BY_KEY),
        )
    return section


def read_token_file(path: Path) -> str:
    if path.is_dir():
        raise ConfigurationError(
            f"token file {path} is a directory",
            hint="Set token_file (BUYIN_TOKEN_FILE) to the file holding the token, not its directory.",
        )
    try:
        info = path.stat()
    except OSError:
        raise ConfigurationError(
            f"token file {path} does not exist",
            hint="Create it with the token and `chmod 600`.",
        ) from None
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"token file {path} is readable by other users (mode {stat.filemode(info.st_mode)})",
            hint=f"Run: chmod 600 {path}",
        )
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"cannot read the token file {path}: {getattr(exc, 'strerror', None) or exc}",
            hint="token_file must be a readable text file holding only the token.",
        ) from None
    if not token:
        raise ConfigurationError(f"token file {path} is empty", hint="Put the token in it.")
    return token


def check_url(url: str) -> str:
    """Normalise the site URL; refuse plain HTTP except on loopback."""
    url = url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        if parts.port == 0:  # raises ValueError when out of range
            raise ValueError("port 0")
    except ValueError as exc:
        raise ConfigurationError(
            f"site URL {url!r} is not a valid URL ({exc})",
            hint="Set url to the Moodle site's address, e.g. https://moodle.example.org "
            "(a port, if any, between 1 and 65535).",
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"site URL {url!r} is not an http(s) URL",
            hint="Set url to the Moodle site's address, e.g. https://moodle.example.org",
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise InsecureURLError(url)
    return url


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Resolve every setting: flag > environment > file > default."""
    env = os.environ if env is None else env
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    if config_file is None and env.get(CONFIG_ENV):
        config_file = Path(env[CONFIG_ENV])
    file_values: dict[str, Any] = {}
    if config_file is not None:
        file_values = _read_file(config_file)
    elif Path(DEFAULT_CONFIG_FILE).exists():
        config_file = Path(DEFAULT_CONFIG_FILE)
        file_values = _read_file(config_file)

    resolved: dict[str, Any] = {}
    #: settings given on the command line or in the environment: their relative
    #: paths are relative to the working directory, not to the configuration file
    from_caller: set[str] = set()
    for setting in SETTINGS:
        if setting.key in flags:
            resolved[setting.key] = _coerce(setting, flags[setting.key], "--" + setting.key)
            from_caller.add(setting.key)
        elif env.get(setting.env):
            resolved[setting.key] = _coerce(setting, env[setting.env], setting.env)
            from_caller.add(setting.key)
        elif setting.key in file_values:
            resolved[setting.key] = _coerce(setting, file_values[setting.key], str(config_file))
        else:
            resolved[setting.key] = setting.default

    base = config_file.parent if config_file is not None else Path.cwd()

    def _path(key: str) -> Path:
        p = Path(resolved[key]).expanduser()
        if p.is_absolute():
            return p
        return (Path.cwd() if key in from_caller else base) / p

    token = env.get(TOKEN_ENV, "").strip()
    if not token and resolved["token_file"]:
        token = read_token_file(_path("token_file"))
    url = check_url(resolved["url"]) if resolved["url"] else ""
    kwargs = {f.name: resolved[f.name] for f in fields(Settings) if f.name in resolved}
    kwargs.update(
        url=url,
        token=Secret(token),
        state_path=_path("state_path"),
        mapping_dir=_path("mapping_dir"),
        config_file=config_file,
    )
    return Settings(**kwargs)
