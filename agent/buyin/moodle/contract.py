"""The web-service contract: what each Moodle function may answer.

One JSON Schema (draft 2020-12) per function, generated from the structures Moodle
declares by ``tools/gen_schemas.py`` into ``plugin_contract/schemas/``. Every
response is checked with :func:`validate_response` before anything uses it; a
response that breaks the contract raises :class:`~buyin.errors.ContractError`
naming the function, the JSON path (``$[3].roles[0].roleid``) and the problem.

Validation runs on every response, some of them thousands of users long, so each
schema is also compiled into a plain-Python checker for the few keywords the
generator emits (``type``, ``properties``, ``required``, ``items``, ``not``), with
the same meaning as in JSON Schema. A response the checker accepts is valid; one it
rejects, or a schema it cannot compile, goes to jsonschema's Draft 2020-12
validator, which decides and explains.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from buyin.errors import ContractError
from buyin.resources import data_path

SCHEMA_DIR = "plugin_contract/schemas"
SERVICE_FILE = "plugin_contract/service.json"

_FUNCTION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JSON_TYPE_OF = {dict: "object", list: "array", str: "string", bool: "boolean", float: "number"}


@cache
def schema_for(function: str) -> dict[str, Any]:
    """The contract schema of ``function``'s response (cached; do not mutate it)."""
    if not _FUNCTION_NAME.match(function):
        raise ContractError(function, "$", "no contract schema for this function")
    try:
        path = data_path(f"{SCHEMA_DIR}/{function}.json")
    except FileNotFoundError:
        raise ContractError(function, "$", "no contract schema for this function") from None
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@cache
def _validator(function: str) -> Draft202012Validator:
    schema = schema_for(function)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate_response(function: str, payload: Any) -> None:
    """Raise :class:`ContractError` unless ``payload`` is a valid ``function`` response."""
    fast = _fast_check(function)
    if fast is not None and fast(payload):
        return
    validator = _validator(function)
    errors = list(validator.iter_errors(payload))
    if not errors:
        return
    error = _pick(errors)
    raise ContractError(function, _error_path(error), _problem(error))


def known_functions() -> list[str]:
    """Every function that has a contract schema, sorted."""
    directory = data_path(SCHEMA_DIR)
    return sorted(p.stem for p in directory.glob("*.json"))


def load_service() -> dict[str, Any]:
    """``plugin_contract/service.json``: the functions the agent calls and why."""
    service: dict[str, Any] = json.loads(data_path(SERVICE_FILE).read_text(encoding="utf-8"))
    return service


# --- the fast path -----------------------------------------------------------------

Check = Callable[[Any], bool]

_FAST_KEYWORDS = frozenset(
    {"$schema", "$id", "title", "description", "x-moodle", "type"}
    | {"properties", "required", "items", "not"}
)


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPE_CHECKS: dict[str, Check] = {
    "null": lambda value: value is None,
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "number": _is_number,
    "integer": _is_integer,
}


class _Unsupported(Exception):
    """The schema uses something the fast checker does not implement."""


def _type_check(declared: Any) -> Check | None:
    if declared is None:
        return None
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list) or not names:
        raise _Unsupported
    try:
        checks = [_TYPE_CHECKS[name] for name in names]
    except (KeyError, TypeError):
        raise _Unsupported from None
    if len(checks) == 1:
        return checks[0]
    return lambda value: any(check(value) for check in checks)


def _compile(schema: Any) -> Check:
    if not isinstance(schema, dict) or not _FAST_KEYWORDS.issuperset(schema):
        raise _Unsupported
    type_ok = _type_check(schema.get("type"))
    raw_properties = schema.get("properties", {})
    required = schema.get("required", [])
    if not isinstance(raw_properties, dict) or not isinstance(required, list):
        raise _Unsupported
    properties = tuple((key, _compile(sub)) for key, sub in raw_properties.items())
    required_keys = tuple(required)
    items = _compile(schema["items"]) if "items" in schema else None
    negated = _compile(schema["not"]) if "not" in schema else None

    def check(value: Any) -> bool:
        if type_ok is not None and not type_ok(value):
            return False
        if isinstance(value, dict):
            for key in required_keys:
                if key not in value:
                    return False
            for key, sub in properties:
                if key in value and not sub(value[key]):
                    return False
        elif items is not None and isinstance(value, list):
            for item in value:
                if not items(item):
                    return False
        return negated is None or not negated(value)

    return check


@cache
def _fast_check(function: str) -> Check | None:
    try:
        return _compile(schema_for(function))
    except _Unsupported:
        return None


# --- error reporting ----------------------------------------------------------------


def _pick(errors: list[ValidationError]) -> ValidationError:
    # An error envelope where a response was expected says more than the keys it lacks.
    for error in errors:
        if error.validator == "not" and not error.absolute_path:
            return error
    best = best_match(errors)
    return best if best is not None else errors[0]


def json_path(parts: Any) -> str:
    """``["a", 3, "b"]`` -> ``$.a[3].b`` (keys that are not identifiers are quoted)."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(str(part)):
            out.append(f".{part}")
        else:
            out.append(f"[{json.dumps(str(part))}]")
    return "".join(out)


def _missing_key(error: ValidationError) -> str | None:
    instance = error.instance
    required = error.validator_value
    if not isinstance(instance, dict) or not isinstance(required, list):
        return None
    missing = [key for key in required if key not in instance]
    for key in missing:
        if error.message.startswith(f"{key!r} "):
            return str(key)
    return str(missing[0]) if missing else None


def _error_path(error: ValidationError) -> str:
    parts = list(error.absolute_path)
    if error.validator == "required":
        key = _missing_key(error)
        if key is not None:
            parts.append(key)
    return json_path(parts)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, list):
        return f"array of {len(value)} item{'' if len(value) == 1 else 's'}"
    return _JSON_TYPE_OF.get(type(value), type(value).__name__)


def _problem(error: ValidationError) -> str:
    if error.validator == "required":
        key = _missing_key(error)
        if key is not None:
            return f"required key {key!r} is missing"
    if error.validator == "type":
        expected = error.validator_value
        wanted = " or ".join(expected) if isinstance(expected, list) else str(expected)
        return f"expected {wanted}, got {_describe(error.instance)}"
    if error.validator == "not" and isinstance(error.instance, dict):
        code = error.instance.get("errorcode")
        return f"a Moodle error envelope (errorcode {code!r}) instead of a response"
    message = str(error.message)
    return message if len(message) <= 200 else message[:197] + "..."
