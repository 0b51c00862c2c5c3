"""Helpers for tests/test_contract.py: the captured Moodle answers, classified, and
walks of a response alongside its schema (where a key can be removed, where a value's
type can be changed)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "moodle"
CAPTURES = FIXTURES / "captures"
SIGNATURES = FIXTURES / "signatures.json"

# Captures whose response is not JSON, and why: they cannot be validated.
NON_JSON_REASONS = {
    "core_webservice_get_site_info--xml-default-format": (
        "XML response: the request left out moodlewsrestformat=json, so Moodle answered "
        "in its default XML format; the contract describes JSON responses only"
    ),
}


@dataclass(frozen=True)
class Capture:
    name: str  # file name without .json
    function: str
    variant: str | None
    content_type: str
    response: Any
    index_errorcode: str | None

    @property
    def is_json(self) -> bool:
        return self.content_type.split(";")[0].strip() == "application/json"

    @property
    def is_error(self) -> bool:
        r = self.response
        return isinstance(r, dict) and "exception" in r and "errorcode" in r

    @property
    def is_success(self) -> bool:
        return self.is_json and not self.is_error


def load_index() -> list[dict[str, Any]]:
    index: list[dict[str, Any]] = json.loads((CAPTURES / "_index.json").read_text())
    return index


def load_captures() -> list[Capture]:
    errorcodes = {entry["file"]: entry.get("errorcode") for entry in load_index()}
    out = []
    for path in sorted(CAPTURES.glob("*.json")):
        if path.name == "_index.json":
            continue
        data = json.loads(path.read_text())
        out.append(
            Capture(
                name=path.stem,
                function=data["function"],
                variant=data.get("variant"),
                content_type=data.get("content_type", ""),
                response=data["response"],
                index_errorcode=errorcodes.get(path.name),
            )
        )
    return out


def load_signatures() -> dict[str, Any]:
    functions: dict[str, Any] = json.loads(SIGNATURES.read_text())["functions"]
    return functions


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def jpath(parts: list[str | int]) -> str:
    """The JSON path the contract is expected to report, written out independently."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += "[" + str(part) + "]"
        elif _IDENT.match(part):
            text += "." + part
        else:
            text += '["' + part + '"]'
    return text


def _types(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def walk(
    schema: dict[str, Any], value: Any, parts: list[str | int]
) -> Iterator[tuple[list[str | int], dict[str, Any], Any]]:
    """Every (path, schema, value) of a response that its schema describes."""
    yield parts, schema, value
    if isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                yield from walk(sub, value[key], [*parts, key])
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            yield from walk(schema["items"], item, [*parts, i])


def required_key_sites(schema: dict[str, Any], response: Any) -> list[tuple[list[str | int], str]]:
    """(path of an object, one of its required keys) for every object in the response."""
    sites: list[tuple[list[str | int], str]] = []
    for parts, sub, value in walk(schema, response, []):
        if isinstance(value, dict):
            sites.extend((parts, key) for key in sub.get("required", []) if key in value)
    return sites


def type_change_sites(
    schema: dict[str, Any], response: Any
) -> list[tuple[list[str | int], Any, list[str]]]:
    """(path, value, allowed types) of every non-null scalar whose schema forbids strings."""
    sites: list[tuple[list[str | int], Any, list[str]]] = []
    for parts, sub, value in walk(schema, response, []):
        types = _types(sub)
        if (
            parts
            and value is not None
            and isinstance(value, (bool, int, float))
            and types
            and "string" not in types
        ):
            sites.append((parts, value, types))
    return sites


def spread(items: list[Any], count: int) -> list[Any]:
    """Up to ``count`` items spread over the list (first, last, and between)."""
    if len(items) <= count:
        return list(items)
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


def get_at(document: Any, parts: list[str | int]) -> Any:
    for part in parts:
        document = document[part]
    return document
