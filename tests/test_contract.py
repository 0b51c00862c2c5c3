"""The web-service contract (plugin_contract/schemas) against what a real Moodle 5.1
answered (tests/fixtures/moodle/captures)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from buyin.errors import ContractError
from buyin.moodle import contract
from contract_helpers import (
    NON_JSON_REASONS,
    REPO,
    Capture,
    get_at,
    jpath,
    load_captures,
    load_index,
    load_signatures,
    required_key_sites,
    spread,
    type_change_sites,
)

CAPTURES = load_captures()
SIGNATURES = load_signatures()
SUCCESS = [c for c in CAPTURES if c.is_success]
ERRORS = [c for c in CAPTURES if c.is_error]
NON_JSON = [c for c in CAPTURES if not c.is_json]


def _success_params() -> list[Any]:
    params = [pytest.param(c, id=c.name) for c in SUCCESS]
    params += [
        pytest.param(
            c,
            id=c.name,
            marks=pytest.mark.skip(reason=NON_JSON_REASONS.get(c.name, "not JSON")),
        )
        for c in NON_JSON
    ]
    return params


def _reject(function: str, payload: Any) -> ContractError:
    with pytest.raises(ContractError) as caught:
        contract.validate_response(function, payload)
    return caught.value


# --- the captures themselves ----------------------------------------------------------


def test_captures_are_classified_as_the_index_says() -> None:
    index = {entry["file"]: entry for entry in load_index()}
    assert sorted(index) == sorted(f"{c.name}.json" for c in CAPTURES)
    for c in CAPTURES:
        assert (index[f"{c.name}.json"]["errorcode"] is not None) == c.is_error, c.name
        if c.variant and c.variant.startswith("error-"):
            # mod_feedback_get_feedbacks_by_courses refuses a course with a warning, not an
            # exception: the capture says so in its note
            note = json.loads(
                (REPO / "tests/fixtures/moodle/captures" / f"{c.name}.json").read_text()
            ).get("note", "")
            assert c.is_error or note.startswith("not an exception"), (
                f"{c.name} is named as an error but is not an envelope"
            )
    assert len(SUCCESS) > 50
    assert len(ERRORS) >= 15


def test_only_the_known_non_json_captures_are_skipped() -> None:
    assert sorted(c.name for c in NON_JSON) == sorted(NON_JSON_REASONS)
    for c in NON_JSON:
        assert isinstance(c.response, str)
        assert c.response.lstrip().startswith("<?xml")


# --- every captured success validates ---------------------------------------------------


@pytest.mark.parametrize("capture", _success_params())
def test_captured_response_validates(capture: Capture) -> None:
    contract.validate_response(capture.function, capture.response)


def test_every_captured_function_has_a_schema() -> None:
    known = set(contract.known_functions())
    missing = []
    for c in CAPTURES:
        exists = SIGNATURES.get(c.function, {}).get("exists", False)
        if (c.is_success or exists) and c.function not in known:
            missing.append(c.name)
    assert missing == []


def test_function_that_does_not_exist_has_no_schema() -> None:
    ghosts = [c for c in CAPTURES if not SIGNATURES.get(c.function, {}).get("exists", False)]
    assert [c.function for c in ghosts] == ["core_no_such_function"]
    assert "core_no_such_function" not in contract.known_functions()
    error = _reject("core_no_such_function", {})
    assert (error.function, error.path) == ("core_no_such_function", "$")
    assert error.problem == "no contract schema for this function"


def test_known_functions_are_the_existing_signatures() -> None:
    existing = sorted(name for name, info in SIGNATURES.items() if info.get("exists"))
    plugin = REPO / "plugin_contract" / "local_buyin.signatures.json"
    if plugin.exists():
        functions = json.loads(plugin.read_text())["functions"]
        existing = sorted(existing + [n for n, i in functions.items() if i.get("exists")])
    assert contract.known_functions() == existing


def test_schema_file_layout() -> None:
    for function in contract.known_functions():
        schema = contract.schema_for(function)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == f"https://moodle-buyin.invalid/contract/{function}.json"
        assert schema["title"] == function
        assert set(schema["x-moodle"]) == {"type", "capabilities", "deprecated", "source"}
        assert "type" in schema
        Draft202012Validator.check_schema(schema)
        if function in SIGNATURES:
            info = SIGNATURES[function]
            assert schema["description"] == info["description"]
            assert schema["x-moodle"]["type"] == info["type"]
            assert schema["x-moodle"]["deprecated"] == info["deprecated"]
            if info["returns"] is None:
                assert schema["type"] == "null"


# --- broken responses are rejected, naming function and path -------------------------


def _required_cases() -> list[Any]:
    cases = []
    for c in SUCCESS:
        if c.response is None:
            continue
        sites = required_key_sites(contract.schema_for(c.function), c.response)
        for parts, key in spread(sites, 3):
            cases.append(pytest.param(c, parts, key, id=f"{c.name}:{jpath([*parts, key])}"))
    return cases


def _type_cases() -> list[Any]:
    cases = []
    for c in SUCCESS:
        if c.response is None:
            continue
        sites = type_change_sites(contract.schema_for(c.function), c.response)
        for parts, value, types in spread(sites, 3):
            cases.append(pytest.param(c, parts, value, types, id=f"{c.name}:{jpath(parts)}"))
    return cases


REQUIRED_CASES = _required_cases()
TYPE_CASES = _type_cases()


def test_mutation_cases_cover_many_captures() -> None:
    assert len({case.values[0].name for case in REQUIRED_CASES}) >= 40
    assert len({case.values[0].name for case in TYPE_CASES}) >= 40


@pytest.mark.parametrize(("capture", "parts", "key"), REQUIRED_CASES)
def test_missing_required_key_is_rejected(capture: Capture, parts: list[Any], key: str) -> None:
    broken = copy.deepcopy(capture.response)
    del get_at(broken, parts)[key]
    error = _reject(capture.function, broken)
    assert error.function == capture.function
    assert error.path == jpath([*parts, key])
    assert error.problem == f"required key '{key}' is missing"
    assert capture.function in str(error) and error.path in str(error)


@pytest.mark.parametrize(("capture", "parts", "value", "types"), TYPE_CASES)
def test_wrong_type_is_rejected(
    capture: Capture, parts: list[Any], value: Any, types: list[str]
) -> None:
    broken = copy.deepcopy(capture.response)
    get_at(broken, parts[:-1])[parts[-1]] = str(value)
    error = _reject(capture.function, broken)
    assert error.function == capture.function
    assert error.path == jpath(parts)
    assert error.problem == f"expected {' or '.join(types)}, got string '{value}'"


@pytest.mark.parametrize(
    ("name", "mutate", "path", "problem"),
    [
        pytest.param(
            "core_enrol_get_enrolled_users",
            lambda r: r[3]["roles"][0].pop("roleid"),
            "$[3].roles[0].roleid",
            "required key 'roleid' is missing",
            id="enrolled-users-roleid-missing",
        ),
        pytest.param(
            "core_enrol_get_enrolled_users",
            lambda r: r[3]["roles"][0].__setitem__("roleid", "7"),
            "$[3].roles[0].roleid",
            "expected integer or null, got string '7'",
            id="enrolled-users-roleid-string",
        ),
        pytest.param(
            "core_completion_get_course_completion_status",
            lambda r: r["completionstatus"]["completions"][2].__setitem__("type", "4"),
            "$.completionstatus.completions[2].type",
            "expected integer or null, got string '4'",
            id="completion-type-string",
        ),
        pytest.param(
            "core_completion_get_course_completion_status",
            lambda r: r.pop("completionstatus"),
            "$.completionstatus",
            "required key 'completionstatus' is missing",
            id="completionstatus-missing",
        ),
        pytest.param(
            "mod_quiz_get_user_quiz_attempts",
            lambda r: r["attempts"][1]["gradeitemmarks"][2].__setitem__("grade", "1.5"),
            "$.attempts[1].gradeitemmarks[2].grade",
            "expected number or null, got string '1.5'",
            id="gradeitemmark-grade-string",
        ),
        pytest.param(
            "core_webservice_get_site_info",
            lambda r: r.__setitem__("functions", None),
            "$.functions",
            "expected array, got null",
            id="site-info-functions-null",
        ),
        pytest.param(
            "core_webservice_get_site_info",
            lambda r: r.__setitem__("functions", {}),
            "$.functions",
            "expected array, got object",
            id="site-info-functions-object",
        ),
    ],
)
def test_named_paths(name: str, mutate: Any, path: str, problem: str) -> None:
    capture = next(c for c in CAPTURES if c.name == name)
    broken = copy.deepcopy(capture.response)
    mutate(broken)
    error = _reject(capture.function, broken)
    assert (error.function, error.path, error.problem) == (capture.function, path, problem)


def test_tolerates_unknown_keys_and_absent_optional_keys() -> None:
    users = copy.deepcopy(next(c for c in SUCCESS if c.name == "core_enrol_get_enrolled_users"))
    payload = users.response
    payload[0]["a_key_from_a_newer_moodle"] = {"anything": [1, 2]}
    payload[1] = {"id": payload[1]["id"], "fullname": payload[1]["fullname"]}
    contract.validate_response(users.function, payload)


def test_null_response_functions() -> None:
    contract.validate_response("enrol_manual_enrol_users", None)
    error = _reject("enrol_manual_enrol_users", {"warnings": []})
    assert (error.path, error.problem) == ("$", "expected null, got object")


# --- error envelopes are not responses --------------------------------------------------


@pytest.mark.parametrize(
    "capture", [pytest.param(c, id=c.name) for c in ERRORS if c.function in SIGNATURES]
)
def test_error_envelope_is_not_a_valid_response(capture: Capture) -> None:
    error = _reject(capture.function, capture.response)
    assert error.function == capture.function
    assert error.path == "$"
    if SIGNATURES[capture.function]["exists"]:
        assert error.problem != "no contract schema for this function"
    else:
        assert error.problem == "no contract schema for this function"


def test_invalid_token_envelope_is_not_site_info() -> None:
    capture = next(
        c for c in ERRORS if c.name == "core_webservice_get_site_info--error-invalid-token"
    )
    error = _reject("core_webservice_get_site_info", capture.response)
    assert error.path == "$"
    assert (
        error.problem == "a Moodle error envelope (errorcode 'invalidtoken') instead of a response"
    )


def test_error_envelopes_cover_several_functions() -> None:
    assert len({c.function for c in ERRORS}) >= 8


# --- the fast path agrees with jsonschema ----------------------------------------------


def _mutations(response: Any) -> st.SearchStrategy[Any]:
    replacements: st.SearchStrategy[Any] = st.sampled_from(
        [None, "7", 7, 7.5, True, [], {}, {"x": 1}]
    )

    @st.composite
    def mutate(draw: st.DrawFn) -> Any:
        doc = copy.deepcopy(response)
        for _ in range(draw(st.integers(1, 3))):
            spots: list[tuple[Any, Any]] = []
            stack: list[Any] = [doc]
            while stack:
                node = stack.pop()
                if isinstance(node, dict):
                    spots.extend((node, k) for k in node)
                    stack.extend(node.values())
                elif isinstance(node, list):
                    spots.extend((node, i) for i in range(len(node)))
                    stack.extend(node)
            if not spots:
                return copy.deepcopy(draw(replacements))
            parent, key = draw(st.sampled_from(spots))
            if isinstance(parent, dict) and draw(st.booleans()):
                del parent[key]
            else:
                # a copy: sampled_from hands out the same object every time, and a shared
                # dict put inside itself by a later mutation made a cycle (endless walk)
                parent[key] = copy.deepcopy(draw(replacements))
        return doc

    return mutate()


_SMALL = [c for c in SUCCESS if len(json.dumps(c.response)) < 20000 and c.response is not None]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_checker_agrees_with_jsonschema(data: st.DataObject) -> None:
    capture = data.draw(st.sampled_from(_SMALL))
    payload = data.draw(_mutations(capture.response))
    schema = contract.schema_for(capture.function)
    fast = contract._fast_check(capture.function)
    assert fast is not None
    assert fast(payload) == Draft202012Validator(schema).is_valid(payload)


# --- service.json -----------------------------------------------------------------------


def test_service_functions_have_schemas_and_match_signatures() -> None:
    service = contract.load_service()
    names = [f["name"] for f in service["functions"]]
    assert names and len(names) == len(set(names))
    known = set(contract.known_functions())
    for entry in service["functions"]:
        name = entry["name"]
        assert name in known, f"{name} has no contract schema"
        assert SIGNATURES.get(name, {}).get("exists") is True, f"{name} not on the site"
        assert entry["type"] == SIGNATURES[name]["type"], name
        assert contract.schema_for(name)["x-moodle"]["type"] == entry["type"], name


# --- the generator ----------------------------------------------------------------------


def test_generated_schemas_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_schemas.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _copy_generator(tmp_path: Path) -> Path:
    for relative in ("tools/gen_schemas.py", "tests/fixtures/moodle/signatures.json"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / relative, tmp_path / relative)
    shutil.copytree(REPO / "plugin_contract" / "schemas", tmp_path / "plugin_contract" / "schemas")
    plugin = REPO / "plugin_contract" / "local_buyin.signatures.json"
    if plugin.exists():
        shutil.copy(plugin, tmp_path / "plugin_contract" / plugin.name)
    return tmp_path / "tools" / "gen_schemas.py"


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=False
    )


def test_check_detects_a_changed_and_a_stale_schema(tmp_path: Path) -> None:
    script = _copy_generator(tmp_path)
    schemas = tmp_path / "plugin_contract" / "schemas"
    assert _run(script, "--check").returncode == 0
    edited = schemas / "core_webservice_get_site_info.json"
    edited.write_text(edited.read_text().replace('"integer"', '"string"', 1))
    (schemas / "core_gone_function.json").write_text("{}\n")
    result = _run(script, "--check")
    assert result.returncode == 1
    assert "core_webservice_get_site_info.json" in result.stderr
    assert "core_gone_function.json" in result.stderr
    assert _run(script).returncode == 0
    assert _run(script, "--check").returncode == 0
    assert not (schemas / "core_gone_function.json").exists()


def test_generator_reads_the_plugin_signatures(tmp_path: Path) -> None:
    script = _copy_generator(tmp_path)
    plugin = tmp_path / "plugin_contract" / "local_buyin.signatures.json"
    functions: dict[str, Any] = (
        json.loads(plugin.read_text())["functions"] if plugin.exists() else {}
    )
    functions["local_buyin_test_probe"] = {
        "exists": True,
        "type": "write",
        "description": "probe",
        "capabilities": "local/buyin:signoff",
        "deprecated": False,
        "returns": {
            "type": "object",
            "required": "required",
            "allownull": False,
            "keys": {
                "done": {"type": "bool", "required": "required", "allownull": False},
                "note": {"type": "text", "required": "optional", "allownull": True},
                "items": {
                    "type": "array",
                    "required": "default",
                    "allownull": False,
                    "items": {"type": "int", "required": "required", "allownull": False},
                },
            },
        },
    }
    functions["local_buyin_absent"] = {"exists": False}
    plugin.write_text(json.dumps({"functions": functions}))
    assert _run(script).returncode == 0
    schemas = tmp_path / "plugin_contract" / "schemas"
    assert not (schemas / "local_buyin_absent.json").exists()
    probe = json.loads((schemas / "local_buyin_test_probe.json").read_text())
    assert probe["x-moodle"] == {
        "type": "write",
        "capabilities": "local/buyin:signoff",
        "deprecated": False,
        "source": "plugin_contract/local_buyin.signatures.json",
    }
    assert probe["type"] == "object"
    assert probe["required"] == ["done"]
    assert probe["properties"]["note"]["type"] == ["string", "null"]
    assert probe["properties"]["items"] == {"type": "array", "items": {"type": "integer"}}
