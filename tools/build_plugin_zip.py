#!/usr/bin/env python3
"""Build the installable zip of the Moodle plugin local_buyin.

    python tools/build_plugin_zip.py                  # -> dist/local_buyin.zip
    python tools/build_plugin_zip.py --output PATH

Moodle's plugin installer (Site administration > Plugins > Install plugins) expects a
zip holding one folder named after the plugin (``buyin/`` for ``local_buyin``), with
``version.php`` directly inside it. Everything under
``plugin_contract/moodle/local_buyin`` goes in, tests included (Moodle plugins ship
their tests), except editor and OS litter.

The zip is deterministic: entries sorted, every timestamp fixed, fixed permissions, so
the same sources always give the same bytes (and the same checksum).
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_DIR = ROOT / "plugin_contract" / "moodle" / "local_buyin"
FOLDER = "buyin"
DEFAULT_OUTPUT = ROOT / "dist" / "local_buyin.zip"
FIXED_TIME = (2024, 1, 1, 0, 0, 0)
EXCLUDED_NAMES = {".DS_Store", "Thumbs.db", "__pycache__", ".git", ".idea", ".vscode"}
EXCLUDED_SUFFIXES = (".swp", ".swo", "~", ".orig", ".rej", ".pyc")


def plugin_files(plugin_dir: Path = PLUGIN_DIR) -> list[Path]:
    """The files to ship, relative to the plugin folder, sorted."""
    files = []
    for path in plugin_dir.rglob("*"):
        rel = path.relative_to(plugin_dir)
        if any(part in EXCLUDED_NAMES for part in rel.parts):
            continue
        if path.is_dir() or path.name.endswith(EXCLUDED_SUFFIXES):
            continue
        files.append(rel)
    return sorted(files, key=lambda p: p.as_posix())


def build(output: Path = DEFAULT_OUTPUT, plugin_dir: Path = PLUGIN_DIR) -> Path:
    """Write the zip and return its path."""
    if not (plugin_dir / "version.php").is_file():
        raise FileNotFoundError(f"{plugin_dir}/version.php not found")
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        dirs: set[str] = set()
        entries: list[tuple[str, Path | None]] = []
        for rel in plugin_files(plugin_dir):
            parents = [p.as_posix() for p in reversed(rel.parents) if p.as_posix() != "."]
            for parent in parents:
                if parent not in dirs:
                    dirs.add(parent)
                    entries.append((f"{FOLDER}/{parent}/", None))
            entries.append((f"{FOLDER}/{rel.as_posix()}", plugin_dir / rel))
        entries.append((f"{FOLDER}/", None))
        for name, source in sorted(entries, key=lambda e: e[0]):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.create_system = 3  # Unix, so the permissions below are honoured.
            if source is None:
                info.external_attr = (0o40755 << 16) | 0x10
                zf.writestr(info, b"")
            else:
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, source.read_bytes())
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the zip (default: {DEFAULT_OUTPUT.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)
    path = build(args.output)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
