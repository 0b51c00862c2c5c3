"""The wheel: built from the repository, installed into a fresh virtual environment,
run from outside the repository. It must carry the contract and the mapping schema
and read them from its own installation, never from a source checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from buyin import __version__

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DATA_FILES = [
    "buyin/_data/plugin_contract/schemas/core_webservice_get_site_info.json",
    "buyin/_data/plugin_contract/service.json",
    "buyin/_data/mappings/schema.json",
    "buyin/_data/mappings/examples/cc101.toml",
]
# what pip or build print when no package index can be reached
NETWORK_TROUBLE = (
    "Could not find a version that satisfies",
    "No matching distribution found",
    "NewConnectionError",
    "Network is unreachable",
    "Temporary failure in name resolution",
    "Name or service not known",
    "ProxyError",
    "ConnectTimeoutError",
    "Connection refused",
)


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    outside: Path  # a working directory outside the repository

    @property
    def bin(self) -> Path:
        return self.venv / "bin"


def _env() -> dict[str, str]:
    """The environment without anything that would point Python at the repository."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("BUYIN_")
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def _run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def _network_trouble(result: subprocess.CompletedProcess[str]) -> bool:
    output = result.stdout + result.stderr
    return any(sign in output for sign in NETWORK_TROUBLE)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("packaging")
    dist = root / "dist"
    outside = root / "elsewhere"
    outside.mkdir()

    build = _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)], root)
    if build.returncode != 0 and _network_trouble(build):
        # the isolated build could not fetch hatchling: build with the one installed here
        build = _run(
            [
                sys.executable,
                "-m",
                "build",
                "--wheel",
                "--no-isolation",
                "--outdir",
                str(dist),
                str(REPO),
            ],
            root,
        )
    assert build.returncode == 0, build.stdout + build.stderr
    wheels = sorted(dist.glob("moodle_buyin-*.whl"))
    assert len(wheels) == 1, wheels

    venv = root / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], root)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()

    pip = _run([str(venv / "bin" / "python"), "-m", "pip", "install", str(wheels[0])], outside)
    if pip.returncode != 0 and _network_trouble(pip):
        pytest.skip(
            f"pip cannot reach a package index for the wheel's dependencies:\n{pip.stderr[-800:]}"
        )
    assert pip.returncode == 0, pip.stdout + pip.stderr

    yield Installed(wheel=wheels[0], venv=venv, outside=outside)


def test_the_wheel_carries_the_data_files(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        for name in DATA_FILES:
            assert name in names, name
        assert (
            wheel.read("buyin/_data/mappings/schema.json")
            == (REPO / "mappings" / "schema.json").read_bytes()
        )
        schemas = {n for n in names if n.startswith("buyin/_data/plugin_contract/schemas/")}
        on_disk = list((REPO / "plugin_contract" / "schemas").glob("*.json"))
        assert len(schemas) == len(on_disk)
        assert "buyin/py.typed" in names
        assert not any(n.startswith(("tests/", "agent/")) for n in names)


def test_buyin_version_runs_from_the_installed_venv(installed: Installed) -> None:
    result = _run([str(installed.bin / "buyin"), "--version"], installed.outside)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"buyin, version {__version__}"


def test_buyin_doctor_help_runs_from_the_installed_venv(installed: Installed) -> None:
    result = _run([str(installed.bin / "buyin"), "doctor", "--help"], installed.outside)
    assert result.returncode == 0, result.stderr
    assert "Usage: buyin doctor" in result.stdout
    assert "Check the site against the contract" in result.stdout


def test_the_installed_package_reads_its_own_data(installed: Installed) -> None:
    code = (
        "import buyin, sysconfig\n"
        "from buyin.resources import data_path\n"
        "from buyin.moodle.contract import schema_for, load_service\n"
        "from buyin.mapping import load_mapping\n"
        "print(sysconfig.get_paths()['purelib'])\n"
        "print(buyin.__file__)\n"
        "print(data_path('mappings/schema.json'))\n"
        "print(data_path('plugin_contract/service.json'))\n"
        "assert schema_for('core_webservice_get_site_info')\n"
        "assert load_service()\n"
        "print(len(load_mapping(data_path('mappings/examples/cc101.toml')).precheck.topics))\n"
    )
    result = _run([str(installed.bin / "python"), "-c", code], installed.outside)
    assert result.returncode == 0, result.stderr
    purelib, module, schema, service, topics = result.stdout.split("\n")[:5]

    site_packages = Path(purelib).resolve()
    assert site_packages.is_relative_to(installed.venv.resolve())
    for path in (module, schema, service):
        resolved = Path(path).resolve()
        assert resolved.is_relative_to(site_packages), path
        assert not resolved.is_relative_to(REPO), path
    assert Path(schema).resolve() == site_packages / "buyin" / "_data" / "mappings" / "schema.json"
    assert topics == "4"
