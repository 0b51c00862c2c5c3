"""Helpers shared by the tests (import as `from support import ...`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "moodle"
REPO = Path(__file__).resolve().parents[1]
#: the shared scenario's generated_at: the simulated site's "now" by default
SCENARIO_NOW = 1795392514
DAY = 86400


def load_scenario() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "scenario.json").read_text())
    return data


@dataclass
class Clock:
    now: int = SCENARIO_NOW + 3600

    def __call__(self) -> int:
        return self.now

    def advance(self, *, days: float = 0, hours: float = 0) -> int:
        self.now += int(days * DAY + hours * 3600)
        return self.now


def set_mapping(mapping_dir: Path, old: str, new: str) -> None:
    """Edit the example mapping in place (tests vary one setting at a time)."""
    path = mapping_dir / "cc101.toml"
    text = path.read_text()
    assert old in text, f"{old!r} not in the mapping"
    path.write_text(text.replace(old, new))


def precheck_messages(site: Any, userid: int) -> list[Any]:
    """The pre-check result messages a user received (not kickoffs, digests, job aids)."""
    return [
        m
        for m in site.messages_to(userid)
        if "thank you for taking the" in m.text.lower() or " you took the " in m.text
    ]


def news_since(mapping_dir: Path, day: str = "2026-01-01") -> None:
    """Set the example mapping's start line (``mapped_since``) back to ``day``, so the
    scenario's months of history are news to the first sync (as after a backfill)."""
    set_mapping(
        mapping_dir, 'learner_role = "student"', f'learner_role = "student"\nmapped_since = "{day}"'
    )
