"""Settings: flag > environment > file > default, the token's sources, HTTPS, paths."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from buyin.config import (
    SETTINGS,
    TOKEN_ENV,
    Secret,
    Settings,
    check_url,
    load_settings,
    read_token_file,
)
from buyin.errors import ConfigurationError, InsecureURLError, exit_code_for

TOKEN = "f00dfeedcafe0123456789abcdef0123"


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No stray ./buyin.toml or BUYIN_* variable may leak into a test."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    for name in list(os.environ):
        if name.startswith("BUYIN_"):
            monkeypatch.delenv(name)


def write_config(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def token_file(path: Path, token: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token + "\n", encoding="utf-8")
    path.chmod(mode)
    return path


def toml_value(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


# --- precedence -------------------------------------------------------------------

# per setting: a value for the file, the environment and the flag, and how to read the
# outcome from Settings (token_file is seen through the token it yields)
Reader = Callable[[Settings], Any]


def _attr(key: str) -> Reader:
    return lambda s: getattr(s, key)


def _precedence_cases(tmp: Path) -> dict[str, tuple[Any, Any, Any, Reader]]:
    tokens = {
        origin: str(token_file(tmp / "tokens" / origin, f"token-from-{origin}"))
        for origin in ("file", "env", "flag")
    }
    return {
        "url": (
            "https://file.example.org",
            "https://env.example.org",
            "https://flag.example.org",
            _attr("url"),
        ),
        "token_file": (
            tokens["file"],
            tokens["env"],
            tokens["flag"],
            lambda s: s.token.reveal(),
        ),
        "state_path": (
            "/srv/file.sqlite",
            "/srv/env.sqlite",
            "/srv/flag.sqlite",
            _attr("state_path"),
        ),
        "mapping_dir": ("/srv/file-maps", "/srv/env-maps", "/srv/flag-maps", _attr("mapping_dir")),
        "concurrency": (2, 3, 5, _attr("concurrency")),
        "timeout": (11.5, 12.5, 13.5, _attr("timeout")),
        "retries": (6, 7, 8, _attr("retries")),
        "reconcile_hours": (1.5, 2.5, 3.5, _attr("reconcile_hours")),
        "page_size": (100, 200, 300, _attr("page_size")),
        "retry_failed_runs": (2, 4, 6, _attr("retry_failed_runs")),
        "state_retention_days": (30.0, 60.0, 120.0, _attr("state_retention_days")),
    }


def _expected(key: str, value: Any) -> Any:
    if key in ("state_path", "mapping_dir"):
        return Path(value)
    if key == "token_file":
        return Path(value).read_text().strip()
    return value


def test_the_precedence_table_covers_every_setting(tmp_path: Path) -> None:
    assert set(_precedence_cases(tmp_path)) == {s.key for s in SETTINGS}


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.key for s in SETTINGS])
@pytest.mark.parametrize("winner", ["flag", "env", "file", "default"])
def test_flag_beats_env_beats_file_beats_default(setting: Any, winner: str, tmp_path: Path) -> None:
    file_value, env_value, flag_value, read = _precedence_cases(tmp_path)[setting.key]
    layers = ["flag", "env", "file", "default"]
    present = layers[layers.index(winner) :]

    config = write_config(
        tmp_path / "conf" / "buyin.toml",
        f"{setting.key} = {toml_value(file_value)}\n" if "file" in present else "",
    )
    env = {setting.env: str(env_value)} if "env" in present else {}
    flags = {setting.key: flag_value} if "flag" in present else {}

    settings = load_settings(flags, env, config)

    if winner == "default":
        if setting.key == "token_file":
            assert settings.token.reveal() == ""
        elif setting.key in ("state_path", "mapping_dir"):
            assert read(settings) == config.parent / setting.default
        else:
            assert read(settings) == setting.default
    else:
        chosen = {"flag": flag_value, "env": env_value, "file": file_value}[winner]
        assert read(settings) == _expected(setting.key, chosen)


def test_none_flags_are_not_set(tmp_path: Path) -> None:
    config = write_config(tmp_path / "buyin.toml", "concurrency = 9\n")
    assert load_settings({"concurrency": None}, {}, config).concurrency == 9


def test_empty_environment_variable_is_not_set(tmp_path: Path) -> None:
    config = write_config(tmp_path / "buyin.toml", "retries = 9\n")
    assert load_settings({}, {"BUYIN_RETRIES": ""}, config).retries == 9


def test_settings_may_sit_in_a_buyin_table(tmp_path: Path) -> None:
    config = write_config(tmp_path / "buyin.toml", "[buyin]\npage_size = 50\n")
    assert load_settings({}, {}, config).page_size == 50


def test_buyin_config_env_names_the_file(tmp_path: Path) -> None:
    config = write_config(tmp_path / "elsewhere.toml", "page_size = 51\n")
    settings = load_settings({}, {"BUYIN_CONFIG": str(config)})
    assert settings.page_size == 51
    assert settings.config_file == config


def test_buyin_toml_in_the_working_directory_is_read() -> None:
    write_config(Path.cwd() / "buyin.toml", "page_size = 52\n")
    assert load_settings({}, {}).page_size == 52


def test_without_any_file_the_defaults_apply() -> None:
    settings = load_settings({}, {})
    assert settings.config_file is None
    assert settings.url == ""
    assert settings.state_path == Path.cwd() / "buyin-state.sqlite"
    assert settings.concurrency == 4


# --- the token ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [f'token = "{TOKEN}"\n', f'[buyin]\ntoken = "{TOKEN}"\n', f'token = "{TOKEN}"\n[buyin]\n'],
    ids=["top-level", "in-table", "beside-table"],
)
def test_a_token_in_the_file_is_refused(text: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "buyin.toml", text)
    with pytest.raises(ConfigurationError) as caught:
        load_settings({}, {TOKEN_ENV: "x"}, config)
    assert "token" in str(caught.value)
    assert str(config) in str(caught.value)
    assert TOKEN not in str(caught.value) and TOKEN not in caught.value.hint
    assert TOKEN_ENV in caught.value.hint and "token_file" in caught.value.hint
    assert exit_code_for(caught.value) == 78


def test_the_token_comes_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings({}, {TOKEN_ENV: f" {TOKEN}\n"})
    assert settings.token.reveal() == TOKEN


def test_the_environment_token_wins_over_token_file(tmp_path: Path) -> None:
    path = token_file(tmp_path / "tok", "from-file")
    settings = load_settings({"token_file": str(path)}, {TOKEN_ENV: TOKEN})
    assert settings.token.reveal() == TOKEN


def test_token_is_not_a_setting_and_cannot_come_from_a_flag() -> None:
    assert "token" not in {s.key for s in SETTINGS}
    settings = load_settings({"token": TOKEN}, {})
    assert settings.token.reveal() == ""


def test_token_file_with_mode_600_is_read(tmp_path: Path) -> None:
    path = token_file(tmp_path / "tok", TOKEN, 0o600)
    assert read_token_file(path) == TOKEN
    settings = load_settings({}, {"BUYIN_TOKEN_FILE": str(path)})
    assert settings.token.reveal() == TOKEN


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_token_file_readable_by_others_is_refused(mode: int, tmp_path: Path) -> None:
    path = token_file(tmp_path / "tok", TOKEN, mode)
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"token_file": str(path)}, {})
    assert str(path) in str(caught.value)
    assert caught.value.hint == f"Run: chmod 600 {path}"
    assert TOKEN not in str(caught.value)


def test_missing_or_empty_token_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        read_token_file(tmp_path / "nope")
    with pytest.raises(ConfigurationError, match="is empty"):
        read_token_file(token_file(tmp_path / "empty", "  "))


def test_the_token_never_shows_in_settings(tmp_path: Path) -> None:
    settings = load_settings({"url": "https://m.example.org"}, {TOKEN_ENV: TOKEN})
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert TOKEN not in repr(settings.token) and TOKEN not in str(settings.token)
    assert settings.token == Secret(TOKEN)
    assert settings.token != Secret("other")


def test_require_site_names_what_is_missing() -> None:
    with pytest.raises(ConfigurationError, match="URL"):
        load_settings({}, {TOKEN_ENV: TOKEN}).require_site()
    with pytest.raises(ConfigurationError, match="token") as caught:
        load_settings({"url": "https://m.example.org"}, {}).require_site()
    assert TOKEN_ENV in caught.value.hint
    load_settings({"url": "https://m.example.org"}, {TOKEN_ENV: TOKEN}).require_site()


# --- unknown keys, bad types ----------------------------------------------------------


def test_unknown_keys_are_refused_by_name(tmp_path: Path) -> None:
    config = write_config(tmp_path / "buyin.toml", "concurency = 3\nsite = 'x'\nretries = 2\n")
    with pytest.raises(ConfigurationError) as caught:
        load_settings({}, {}, config)
    assert "concurency" in str(caught.value) and "site" in str(caught.value)
    assert "retries" not in str(caught.value)
    assert "concurrency" in caught.value.hint


def test_keys_beside_the_buyin_table_are_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path / "buyin.toml", "retries = 2\n[buyin]\npage_size = 5\n")
    with pytest.raises(ConfigurationError, match="unknown setting"):
        load_settings({}, {}, config)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('concurrency = "four"', "concurrency"),
        ("concurrency = true", "concurrency"),
        ("concurrency = 2.5", "concurrency"),
        ("concurrency = 0", "concurrency"),
        ("retries = -1", "retries"),
        ("timeout = -5.0", "timeout"),
        ("timeout = nan", "timeout"),
        ("timeout = inf", "timeout"),
        ("reconcile_hours = [1]", "reconcile_hours"),
        ("page_size = -100", "page_size"),
        ("url = 5", "url"),
        ("state_path = 1", "state_path"),
        ("mapping_dir = false", "mapping_dir"),
    ],
)
def test_bad_values_in_the_file_are_refused_naming_the_setting(
    text: str, key: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "buyin.toml", text + "\n")
    with pytest.raises(ConfigurationError) as caught:
        load_settings({}, {}, config)
    assert str(caught.value).startswith(f"{config}: {key} must be")
    assert key in caught.value.hint


@pytest.mark.parametrize(
    ("env", "value"),
    [("BUYIN_RETRIES", "abc"), ("BUYIN_CONCURRENCY", "-2"), ("BUYIN_TIMEOUT", "nan")],
)
def test_bad_values_in_the_environment_are_refused_naming_the_variable(
    env: str, value: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings({}, {env: value})
    assert str(caught.value).startswith(f"{env}: ")
    assert value in str(caught.value)


def test_bad_flag_is_refused_naming_the_flag() -> None:
    with pytest.raises(ConfigurationError, match=r"^--timeout: timeout must be positive"):
        load_settings({"timeout": 0}, {})


def test_numbers_from_the_environment_are_parsed() -> None:
    settings = load_settings({}, {"BUYIN_TIMEOUT": "2.5", "BUYIN_PAGE_SIZE": "250"})
    assert settings.timeout == 2.5 and settings.page_size == 250


def test_invalid_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    config = write_config(tmp_path / "buyin.toml", "url = \n")
    with pytest.raises(ConfigurationError, match="not valid TOML") as caught:
        load_settings({}, {}, config)
    assert str(config) in str(caught.value)


def test_missing_config_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read configuration file"):
        load_settings({}, {}, tmp_path / "nope.toml")


# --- the URL ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://moodle.example.org",
        "http://10.0.0.5",
        "http://localhost.example.org",
        "HTTP://m.org",
    ],
)
def test_plain_http_is_refused(url: str) -> None:
    with pytest.raises(InsecureURLError) as caught:
        check_url(url)
    assert "https://" in caught.value.hint
    assert exit_code_for(caught.value) == 78
    with pytest.raises(InsecureURLError):
        load_settings({"url": url}, {})


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]/", "http://[::1]"),
        ("http://localhost", "http://localhost"),
        ("http://127.0.0.2/moodle/", "http://127.0.0.2/moodle"),
        ("https://moodle.example.org/", "https://moodle.example.org"),
        (" https://moodle.example.org/lms ", "https://moodle.example.org/lms"),
    ],
)
def test_https_and_loopback_http_are_accepted(url: str, normalised: str) -> None:
    assert check_url(url) == normalised
    assert load_settings({"url": url}, {}).url == normalised


@pytest.mark.parametrize("url", ["moodle.example.org", "ftp://moodle.example.org", "https://"])
def test_a_url_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_url(url)
    assert not isinstance(caught.value, InsecureURLError)
    assert "not an http(s) URL" in str(caught.value)


# --- paths ------------------------------------------------------------------------------


def test_relative_paths_in_the_file_are_relative_to_the_file(tmp_path: Path) -> None:
    conf = tmp_path / "etc" / "buyin"
    token_file(conf / "secrets" / "token", TOKEN)
    config = write_config(
        conf / "buyin.toml",
        'state_path = "var/state.sqlite"\nmapping_dir = "maps"\ntoken_file = "secrets/token"\n',
    )
    settings = load_settings({}, {}, config)
    assert settings.state_path == conf / "var" / "state.sqlite"
    assert settings.mapping_dir == conf / "maps"
    assert settings.token.reveal() == TOKEN


def test_default_paths_sit_next_to_the_config_file(tmp_path: Path) -> None:
    config = write_config(tmp_path / "etc" / "buyin.toml", "")
    settings = load_settings({}, {}, config)
    assert settings.state_path == tmp_path / "etc" / "buyin-state.sqlite"
    assert settings.mapping_dir == tmp_path / "etc" / "mappings"


def test_relative_paths_from_flags_and_env_are_relative_to_the_working_directory(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path / "etc" / "buyin.toml", 'state_path = "in-etc.sqlite"\n')
    token_file(Path.cwd() / "tok", TOKEN)
    settings = load_settings(
        {"state_path": "mine.sqlite"},
        {"BUYIN_MAPPINGS": "maps", "BUYIN_TOKEN_FILE": "tok"},
        config,
    )
    assert settings.state_path == Path.cwd() / "mine.sqlite"
    assert settings.mapping_dir == Path.cwd() / "maps"
    assert settings.token.reveal() == TOKEN


def test_absolute_and_home_paths_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = write_config(
        tmp_path / "etc" / "buyin.toml",
        f'state_path = "{tmp_path}/abs.sqlite"\nmapping_dir = "~/m"\n',
    )
    settings = load_settings({}, {}, config)
    assert settings.state_path == tmp_path / "abs.sqlite"
    assert settings.mapping_dir == tmp_path / "home" / "m"
