"""Moodle's REST request encoding: PHP-style flattening of nested parameters.

``{"courseids": [2, 3]}`` becomes ``courseids[0]=2&courseids[1]=3``;
``{"options": [{"name": "userfields", "value": "id"}]}`` becomes
``options[0][name]=userfields&options[0][value]=id``. Booleans are sent as 1/0
(Moodle refuses ``true``); empty lists and dicts are left out (PHP cannot
receive them); ``None`` values are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

#: PHP's ``max_input_vars``: the form fields one request may carry. PHP drops every
#: field past it without an error, so a larger batch would silently lose its last items.
#: Moodle 4.1 and later refuse to install or upgrade below 5000 (``check_max_input_vars``
#: in lib/upgradelib.php, a required check of admin/environment.xml), so every site the
#: agent supports takes at least this many.
MAX_INPUT_VARS = 5000
#: The budget of form fields per web-service call that every batch size derives from
#: (:func:`items_per_call`): ``MAX_INPUT_VARS`` less 1,000 kept spare for the call's own
#: fields (``wstoken``, ``wsfunction``, ``moodlewsrestformat``) and any other parameter.
FIELD_BUDGET = MAX_INPUT_VARS - 1000


def items_per_call(fields_per_item: int, *, cap: int | None = None) -> int:
    """How many items of a list parameter fit in one call: the field budget over the
    fields one item flattens to (``messages[0][touserid]``, ``messages[0][text]``, … is
    one field each), and at most ``cap`` where the function itself limits the list."""
    fitting = max(1, FIELD_BUDGET // max(1, fields_per_item))
    return fitting if cap is None else min(fitting, cap)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _walk(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(f"{prefix}[{key}]" if prefix else str(key), item)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(f"{prefix}[{index}]", item)
    else:
        yield prefix, _scalar(value)


def flatten(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten nested parameters into ordered form fields, PHP-style."""
    return list(_walk("", params))


def _split_key(key: str) -> list[str]:
    head, sep, rest = key.partition("[")
    parts = [head]
    if sep:
        for piece in ("[" + rest).split("]"):
            if piece.startswith("["):
                parts.append(piece[1:])
    return parts


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {k: _listify(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return node


def unflatten(body: str) -> dict[str, Any]:
    """Parse a form body back into nested parameters, the way PHP's $_POST does.

    Every scalar stays a string, as PHP gives it to Moodle's parameter validation.
    Keys that are all digits become lists.
    """
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = _split_key(key)
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    result = _listify(root)
    assert isinstance(result, dict)
    return result
