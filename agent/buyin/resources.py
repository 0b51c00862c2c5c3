"""Where the packaged data files are: the contract schemas, service.json, the
mapping schema and the example mappings.

In an installed wheel they live in ``buyin/_data/``; in a source checkout
(editable install, tests) they are read from the repository's top level, which
is where they are maintained.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGED = Path(__file__).resolve().parent / "_data"
_SOURCE = Path(__file__).resolve().parents[2]


def data_path(relative: str) -> Path:
    """Path of a data file, e.g. ``data_path("plugin_contract/service.json")``."""
    for root in (_PACKAGED, _SOURCE):
        candidate = root / relative
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"moodle-buyin data file {relative} is missing from this installation; reinstall moodle-buyin"
    )
