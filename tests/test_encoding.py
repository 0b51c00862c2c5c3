"""PHP-style request encoding (buyin.moodle.encoding) against the request bodies a real
Moodle 5.1 accepted (tests/fixtures/moodle/captures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from buyin.moodle.encoding import flatten, unflatten

CAPTURES = Path(__file__).resolve().parent / "fixtures" / "moodle" / "captures"

# Captures whose params cannot reproduce their request_body, and why.
NOT_REPRODUCIBLE = {
    "core_webservice_get_site_info--xml-default-format": (
        "the capture deliberately left out moodlewsrestformat=json (to show Moodle then "
        "answers XML); the client always sends it, so the body cannot be reproduced"
    ),
}
# Captures sent differently from the client's POST whose body is still compared.
SENT_OTHERWISE = {
    "core_course_get_courses--GET": (
        "sent as a GET query string, not a POST body; the bracketed encoding is the same, "
        "so request_body is still compared"
    ),
}


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _capture_params() -> list[Any]:
    params = []
    for path in sorted(CAPTURES.glob("*.json")):
        if path.name == "_index.json":
            continue
        marks = []
        if path.stem in NOT_REPRODUCIBLE:
            marks.append(pytest.mark.skip(reason=NOT_REPRODUCIBLE[path.stem]))
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def _body(function: str, params: dict[str, Any]) -> str:
    fields = [
        ("wstoken", "<TOKEN>"),
        ("wsfunction", function),
        ("moodlewsrestformat", "json"),
        *flatten(params),
    ]
    # the captures show the token placeholder unquoted
    return urlencode(fields).replace("wstoken=%3CTOKEN%3E", "wstoken=<TOKEN>", 1)


def _as_php_sees_it(value: Any) -> Any:
    """What PHP's $_POST holds for a value: strings, booleans as 1/0, empties gone."""
    if isinstance(value, dict):
        out = {str(k): _as_php_sees_it(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in out.items() if v not in ({}, [])}
    if isinstance(value, list | tuple):
        items = [_as_php_sees_it(v) for v in value]
        return [v for v in items if v not in ({}, [])]
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def test_every_capture_is_classified() -> None:
    names = {p.stem for p in CAPTURES.glob("*.json")}
    assert set(NOT_REPRODUCIBLE) <= names
    assert set(SENT_OTHERWISE) <= names
    assert len(names - {"_index"}) >= 80


@pytest.mark.parametrize("path", _capture_params())
def test_flatten_reproduces_the_captured_body(path: Path) -> None:
    capture = _load(path)
    assert _body(capture["function"], capture["params"]) == capture["request_body"]


@pytest.mark.parametrize("path", _capture_params())
def test_unflatten_round_trips_the_captured_body(path: Path) -> None:
    capture = _load(path)
    expected = {
        "wstoken": "<TOKEN>",
        "wsfunction": capture["function"],
        "moodlewsrestformat": "json",
        **_as_php_sees_it(capture["params"]),
    }
    assert unflatten(capture["request_body"]) == expected


def test_nested_arrays_and_objects_are_flattened_php_style() -> None:
    params = {
        "courseids": [2, 3],
        "options": {"ids": [2]},
        "criteria": [{"key": "username", "value": "learner08"}],
    }
    assert flatten(params) == [
        ("courseids[0]", "2"),
        ("courseids[1]", "3"),
        ("options[ids][0]", "2"),
        ("criteria[0][key]", "username"),
        ("criteria[0][value]", "learner08"),
    ]


def test_booleans_become_1_and_0() -> None:
    fields = flatten({"a": True, "b": False, "opts": [{"name": "x", "value": True}]})
    assert fields == [("a", "1"), ("b", "0"), ("opts[0][name]", "x"), ("opts[0][value]", "1")]
    assert "true" not in urlencode(fields).lower()


def test_empty_lists_dicts_and_none_are_left_out() -> None:
    assert flatten({"ids": [], "options": {}, "x": None, "y": 0}) == [("y", "0")]
    assert flatten({"groups": [[], [4]]}) == [("groups[1][0]", "4")]


def test_integral_floats_are_sent_as_integers() -> None:
    assert flatten({"grade": 7.5, "courseid": 2.0}) == [("grade", "7.5"), ("courseid", "2")]


def test_unflatten_keeps_scalars_as_strings_and_digit_keys_as_lists() -> None:
    body = "a=1&b%5B0%5D=x&b%5B1%5D=y&c%5Bk%5D%5B0%5D%5Bn%5D=&d=%26%3D"
    assert unflatten(body) == {"a": "1", "b": ["x", "y"], "c": {"k": [{"n": ""}]}, "d": "&="}


def test_unflatten_orders_list_items_by_index_not_by_position() -> None:
    assert unflatten("l%5B10%5D=c&l%5B2%5D=b&l%5B0%5D=a") == {"l": ["a", "b", "c"]}


# --- round-trip over arbitrary nested structures ----------------------------------

_keys = st.from_regex(r"[a-z_][a-z0-9_]{0,7}", fullmatch=True)
_scalars = st.integers(min_value=-(10**12), max_value=10**12) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12
)
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, min_size=1, max_size=4)
        | st.dictionaries(_keys, children, min_size=1, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(_keys, _values, min_size=1, max_size=5))
def test_flatten_then_unflatten_round_trips(params: dict[str, Any]) -> None:
    body = urlencode(flatten(params))
    assert unflatten(body) == _as_php_sees_it(params)


@given(st.dictionaries(_keys, st.booleans() | st.lists(st.booleans(), min_size=1), min_size=1))
def test_booleans_round_trip_as_1_and_0(params: dict[str, Any]) -> None:
    decoded = unflatten(urlencode(flatten(params)))
    assert decoded == _as_php_sees_it(params)
    assert all(v in ("0", "1") for _, v in flatten(params))
