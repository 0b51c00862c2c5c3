#!/usr/bin/env python3
"""Generate the web-service contract: one JSON Schema per Moodle function's response.

Reads the return structures Moodle declares (``external_function_info``) from
``tests/fixtures/moodle/signatures.json`` and, when present,
``plugin_contract/local_buyin.signatures.json`` (the plugin's own functions, same
format), and writes ``plugin_contract/schemas/<function>.json`` for every function
that exists on the site.

    python tools/gen_schemas.py           # (re)generate
    python tools/gen_schemas.py --check   # exit 1 if the files on disk differ

Mapping of Moodle's description to JSON Schema (draft 2020-12):

- external_single_structure -> ``object`` with ``properties``; unknown keys are
  tolerated (no ``additionalProperties: false``), so a newer Moodle adding a key does
  not break the agent.
- external_multiple_structure -> ``array`` with ``items``.
- external_value: PARAM_INT -> integer, PARAM_FLOAT -> number, PARAM_BOOL -> boolean,
  every other PARAM_* (raw, text, alpha*, url, ...) -> string.
- allownull (NULL_ALLOWED) -> the type also admits ``null``.
- VALUE_REQUIRED keys are required (Moodle's ``clean_returnvalue`` throws when one is
  missing). VALUE_DEFAULT keys are required only when they are scalars:
  ``clean_returnvalue`` fills in the default for an ``external_value`` but not for a
  missing structure, so a VALUE_DEFAULT array/object may be absent (observed:
  ``core_course_get_contents`` leaves ``modules[].contents`` out for a module with no
  files). VALUE_OPTIONAL keys may be absent.
- A function returning nothing (``returns: null``; Moodle answers JSON ``null``) gets
  ``{"type": "null"}``.
- A top-level object response must not be an error envelope
  (``{"exception", "errorcode", "message"}``): Moodle answers errors with HTTP 200,
  and a response whose keys are all optional would otherwise accept one.

Where a real Moodle answer (``tests/fixtures/moodle/captures``) differs from the
declared structure, the deviation is in :data:`OVERRIDES` below, with the reason.
Do not edit the generated files by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORE_SIGNATURES = "tests/fixtures/moodle/signatures.json"
PLUGIN_SIGNATURES = "plugin_contract/local_buyin.signatures.json"
SCHEMA_DIR = "plugin_contract/schemas"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://moodle-buyin.invalid/contract/"

SCALAR_TYPES = {"int": "integer", "float": "number", "bool": "boolean"}  # else: string
ENVELOPE_KEYS = ["exception", "errorcode", "message"]


@dataclass(frozen=True)
class Override:
    """One deviation from the declared signature, backed by a real capture.

    ``path`` addresses a node of the declared return structure: ``$`` is the response,
    ``.key`` a key of a single structure, ``[]`` the items of a multiple structure.
    ``types`` replaces the JSON types of a scalar (``null`` is still added when
    Moodle allows it); ``required=False`` makes a declared required key optional.
    """

    function: str
    path: str
    why: str
    types: tuple[str, ...] | None = None
    required: bool | None = None


OVERRIDES: tuple[Override, ...] = (
    # PARAM_RAW is passed through unchanged by Moodle's clean_returnvalue (no cast to
    # string), so a raw value keeps PHP's type. Course format options are stored
    # as numbers for numeric options (hiddensections, coursedisplay, ...).
    Override(
        "core_course_get_courses",
        "$[].courseformatoptions[].value",
        why="PARAM_RAW, but numeric format options come as JSON integers "
        "(captures core_course_get_courses*.json: hiddensections 0, coursedisplay 1)",
        types=("string", "integer"),
    ),
    Override(
        "core_course_get_courses_by_field",
        "$.courses[].courseformatoptions[].value",
        why="PARAM_RAW, but numeric format options come as JSON integers "
        "(captures core_course_get_courses_by_field*.json)",
        types=("string", "integer"),
    ),
    # "grade for the quiz (or empty or "notyetgraded")": a string before grading,
    # the grade as a JSON number once graded (capture: 7.5).
    Override(
        "mod_quiz_get_attempt_review",
        "$.grade",
        why="PARAM_RAW; a graded attempt's grade is a JSON number "
        "(captures mod_quiz_get_attempt_review*.json: 7.5), else a string",
        types=("string", "number"),
    ),
)


class SignatureError(Exception):
    """The signatures file is not what the generator understands."""


def _with_null(types: list[str], allownull: bool) -> str | list[str]:
    out = list(types)
    if allownull and "null" not in out:
        out.append("null")
    return out[0] if len(out) == 1 else out


class _Generator:
    def __init__(self, overrides: tuple[Override, ...]) -> None:
        self._overrides = {(o.function, o.path): o for o in overrides}
        self._used: set[tuple[str, str]] = set()

    def _override(self, function: str, path: str) -> Override | None:
        found = self._overrides.get((function, path))
        if found is not None:
            self._used.add((function, path))
        return found

    def unused(self) -> list[Override]:
        return [o for key, o in self._overrides.items() if key not in self._used]

    def node(self, function: str, desc: dict[str, Any], path: str) -> dict[str, Any]:
        kind = desc.get("type")
        allownull = bool(desc.get("allownull", False))
        override = self._override(function, path)
        schema: dict[str, Any] = {}
        if kind == "object":
            if override is not None and override.types is not None:
                raise SignatureError(f"{function} {path}: types override on a structure")
            schema["type"] = _with_null(["object"], allownull)
            properties: dict[str, Any] = {}
            required: list[str] = []
            for key, sub in desc.get("keys", {}).items():
                sub_path = f"{path}.{key}"
                properties[key] = self.node(function, sub, sub_path)
                if self._is_required(function, sub, sub_path):
                    required.append(key)
            schema["properties"] = properties
            if required:
                schema["required"] = required
        elif kind == "array":
            if override is not None and override.types is not None:
                raise SignatureError(f"{function} {path}: types override on a structure")
            schema["type"] = _with_null(["array"], allownull)
            if "items" not in desc:
                raise SignatureError(f"{function} {path}: array without items")
            schema["items"] = self.node(function, desc["items"], f"{path}[]")
        elif isinstance(kind, str):
            if override is not None and override.types is not None:
                types = list(override.types)
            else:
                types = [SCALAR_TYPES.get(kind, "string")]
            schema["type"] = _with_null(types, allownull)
        else:
            raise SignatureError(f"{function} {path}: no type")
        text = (desc.get("desc") or "").strip()
        if text and path != "$":
            schema["description"] = text
        return schema

    def _is_required(self, function: str, desc: dict[str, Any], path: str) -> bool:
        declared = desc.get("required")
        if declared == "required":
            result = True
        elif declared == "default":
            # clean_returnvalue fills in defaults only for external_value
            result = desc.get("type") not in ("object", "array")
        elif declared == "optional":
            result = False
        else:
            raise SignatureError(f"{function} {path}: unknown 'required' {declared!r}")
        override = self._overrides.get((function, path))
        if override is not None and override.required is not None:
            self._used.add((function, path))
            result = override.required
        return result


def function_schema(
    function: str, info: dict[str, Any], source: str, gen: _Generator
) -> dict[str, Any]:
    """The contract schema of one function's response."""
    doc: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{ID_BASE}{function}.json",
        "title": function,
        "description": info.get("description") or "",
        "x-moodle": {
            "type": info.get("type") or "read",
            "capabilities": info.get("capabilities") or "",
            "deprecated": bool(info.get("deprecated", False)),
            "source": source,
        },
    }
    returns = info.get("returns")
    if returns is None:
        if gen._override(function, "$") is not None:
            raise SignatureError(f"{function}: override on a null response")
        doc["type"] = "null"
        return doc
    body = gen.node(function, returns, "$")
    keys = returns.get("keys", {})
    if returns.get("type") == "object" and not set(ENVELOPE_KEYS) & set(keys):
        body["not"] = {
            "description": "a Moodle error envelope is not a response",
            "required": list(ENVELOPE_KEYS),
        }
    doc.update(body)
    return doc


def _load(relative: str) -> dict[str, Any]:
    data = json.loads((ROOT / relative).read_text(encoding="utf-8"))
    functions = data.get("functions") if isinstance(data, dict) else None
    if not isinstance(functions, dict):
        raise SignatureError(f"{relative}: no 'functions' object")
    return functions


def generate(overrides: tuple[Override, ...] = OVERRIDES) -> dict[str, str]:
    """File name -> file text of every schema the signatures call for."""
    sources = [CORE_SIGNATURES]
    if (ROOT / PLUGIN_SIGNATURES).exists():
        sources.append(PLUGIN_SIGNATURES)
    gen = _Generator(overrides)
    out: dict[str, str] = {}
    for source in sources:
        for function, info in sorted(_load(source).items()):
            if not isinstance(info, dict) or not info.get("exists", False):
                continue
            name = f"{function}.json"
            if name in out:
                raise SignatureError(f"{function} is declared in more than one signatures file")
            doc = function_schema(function, info, source, gen)
            out[name] = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    stale = gen.unused()
    if stale:
        listed = ", ".join(f"{o.function} {o.path}" for o in stale)
        raise SignatureError(f"overrides that match no declared node: {listed}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the files on disk differ; write nothing"
    )
    args = parser.parse_args(argv)
    try:
        files = generate()
    except SignatureError as exc:
        print(f"gen_schemas: {exc}", file=sys.stderr)
        return 2
    target = ROOT / SCHEMA_DIR
    existing = {p.name for p in target.glob("*.json")} if target.is_dir() else set()
    differ = sorted(
        name
        for name, text in files.items()
        if not (target / name).exists() or (target / name).read_text(encoding="utf-8") != text
    )
    extra = sorted(existing - set(files))
    if args.check:
        for name in differ:
            print(f"out of date: {SCHEMA_DIR}/{name}", file=sys.stderr)
        for name in extra:
            print(f"not generated (stale): {SCHEMA_DIR}/{name}", file=sys.stderr)
        if differ or extra:
            print("run: python tools/gen_schemas.py", file=sys.stderr)
            return 1
        return 0
    target.mkdir(parents=True, exist_ok=True)
    for name in differ:
        (target / name).write_text(files[name], encoding="utf-8")
    for name in extra:
        (target / name).unlink()
    print(f"{len(files)} schemas in {SCHEMA_DIR}: {len(differ)} written, {len(extra)} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
