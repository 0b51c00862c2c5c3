"""Static checks of the Moodle plugin local_buyin (plugin_contract/moodle/local_buyin).

The plugin's own PHPUnit tests need a Moodle checkout; these checks need none: they
keep the plugin consistent with the agent's contract (service.json, the signatures
file), with itself (lang strings, install.xml vs privacy provider) and installable
(zip layout, ``php -l`` when PHP is on PATH).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "plugin_contract" / "moodle" / "local_buyin"
SERVICE_JSON = ROOT / "plugin_contract" / "service.json"
SIGNATURES = ROOT / "plugin_contract" / "local_buyin.signatures.json"
PLUGIN_FUNCTIONS = [
    "local_buyin_request_signoffs",
    "local_buyin_get_signoffs",
    "local_buyin_record_signoff",
    "local_buyin_get_progress",
    "local_buyin_complete_activities",
    "local_buyin_save_figures",
    "local_buyin_acquire_lease",
    "local_buyin_release_lease",
    "local_buyin_get_non_respondents",
    "local_buyin_send_notifications",
]
TABLE = "local_buyin_signoff"
FIGURES_TABLE = "local_buyin_figures"
LEASE_TABLE = "local_buyin_lease"
NOTIFICATION_TABLE = "local_buyin_notification"

sys.path.insert(0, str(ROOT / "tools"))
import build_plugin_zip  # noqa: E402

PHP = shutil.which("php")
needs_php = pytest.mark.skipif(PHP is None, reason="php is not on PATH (apt-get install php-cli)")


def read(rel: str) -> str:
    return (PLUGIN / rel).read_text(encoding="utf-8")


def php_files() -> list[Path]:
    return sorted(PLUGIN.rglob("*.php"))


def php_block(text: str, start: str) -> str:
    """The text of the bracketed PHP array that follows ``start`` (balanced [ ])."""
    at = text.index(start)
    begin = text.index("[", at + len(start) - 1)
    depth = 0
    for i in range(begin, len(text)):
        if text[i] == "[":
            depth += 1
        elif text[i] == "]":
            depth -= 1
            if depth == 0:
                return text[begin : i + 1]
    raise AssertionError(f"unbalanced array after {start!r}")


# --- db/services.php ----------------------------------------------------------------


def services_php_service_functions() -> list[str]:
    services = php_block(read("db/services.php"), "$services = [")
    functions = php_block(services, "'functions' => [")
    return re.findall(r"'([a-z0-9_]+)'", functions)


def services_php_functions() -> dict[str, dict[str, str]]:
    block = php_block(read("db/services.php"), "$functions = [")
    found: dict[str, dict[str, str]] = {}
    for match in re.finditer(r"'(local_buyin_[a-z_]+)' => \[(.*?)\n    \],", block, re.S):
        attrs = dict(re.findall(r"'(\w+)' => '((?:[^'\\]|\\.)*)'", match.group(2)))
        found[match.group(1)] = attrs
    return found


def test_service_holds_exactly_the_contract_functions_and_the_plugins() -> None:
    contract = [f["name"] for f in json.loads(SERVICE_JSON.read_text())["functions"]]
    in_php = services_php_service_functions()
    assert len(in_php) == len(set(in_php)), "a function is listed twice in $services"
    missing = sorted(set(contract + PLUGIN_FUNCTIONS) - set(in_php))
    extra = sorted(set(in_php) - set(contract + PLUGIN_FUNCTIONS))
    assert not missing and not extra, (
        f"missing from services.php: {missing}; not in the contract: {extra}"
    )


def test_service_definition() -> None:
    services = php_block(read("db/services.php"), "$services = [")
    assert "'moodle-buyin' => [" in services
    assert "'shortname' => 'local_buyin'" in services
    assert "'restrictedusers' => 1" in services
    assert "'downloadfiles' => 0" in services
    assert re.search(r"'enabled' => [01],", services)


def test_plugin_functions_are_declared_with_their_classes() -> None:
    functions = services_php_functions()
    assert sorted(functions) == sorted(PLUGIN_FUNCTIONS)
    signatures = json.loads(SIGNATURES.read_text())["functions"]
    for name, attrs in functions.items():
        classname = attrs["classname"]
        assert classname == f"local_buyin\\external\\{name.removeprefix('local_buyin_')}"
        assert attrs["methodname"] == "execute"
        assert (
            PLUGIN / "classes" / "external" / f"{name.removeprefix('local_buyin_')}.php"
        ).is_file()
        sig = signatures[name]
        assert sig["classname"] == classname
        assert sig["type"] == attrs["type"], name
        assert sig["capabilities"] == attrs["capabilities"], name
        assert sig["component"] == "local_buyin"
        # The first PHP literal of the description (a long one is concatenated).
        assert sig["description"].startswith(attrs["description"].replace("\\'", "'")), name


def test_signatures_file_has_the_core_format() -> None:
    core = json.loads((ROOT / "tests/fixtures/moodle/signatures.json").read_text())
    core_keys = set(core["functions"]["core_completion_override_activity_completion_status"])
    ours = json.loads(SIGNATURES.read_text())
    assert sorted(ours["functions"]) == sorted(PLUGIN_FUNCTIONS)
    for name, fn in ours["functions"].items():
        assert set(fn) == core_keys, name


# --- version.php, lang --------------------------------------------------------------


def test_version_php() -> None:
    text = read("version.php")
    assert re.search(r"\$plugin->component\s*=\s*'local_buyin';", text)
    assert re.search(r"\$plugin->requires\s*=\s*2024100700;", text)
    assert re.search(r"\$plugin->supported\s*=\s*\[405,\s*501\];", text)
    assert re.search(r"\$plugin->version\s*=\s*\d{10};", text)
    assert re.search(r"\$plugin->maturity\s*=\s*MATURITY_(ALPHA|BETA|RC|STABLE);", text)
    assert re.search(r"\$plugin->release\s*=\s*'[^']+';", text)


def lang_strings() -> dict[str, str]:
    text = read("lang/en/local_buyin.php")
    return dict(re.findall(r"^\$string\['([^']+)'\]\s*=\s*'((?:[^'\\]|\\.)*)';", text, re.M))


def used_string_ids() -> set[str]:
    used: set[str] = {"pluginname"}
    patterns = [
        r"get_string\(\s*'([^']+)'\s*,\s*'local_buyin'",
        r"new\s+\\?lang_string\(\s*'([^']+)'\s*,\s*'local_buyin'",
        r"moodle_exception\(\s*'([^']+)'\s*,\s*'local_buyin'",
        r"'titleidentifier'\s*=>\s*'([^',]+),local_buyin'",
        r"->titleidentifier\s*=\s*'([^',]+),local_buyin'",
    ]
    for path in php_files():
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            used.update(re.findall(pattern, text))
        # Privacy metadata: every 'privacy:...' literal in the provider is a string id.
        if path.name == "provider.php" and "privacy" in path.parts:
            used.update(re.findall(r"'(privacy:[^']+)'", text))
    # The stringid chosen at run time in index.php.
    used.update(re.findall(r"'(\w+message)'", read("index.php")))
    for path in PLUGIN.rglob("*.mustache"):
        used.update(re.findall(r"\{\{#str\}\}\s*([\w:]+)\s*,\s*local_buyin\s*", path.read_text()))
    # Capabilities: local/buyin:x -> string buyin:x.
    used.update(
        f"buyin:{cap}" for cap in re.findall(r"'local/buyin:(\w+)' => \[", read("db/access.php"))
    )
    return used


def test_every_used_string_exists() -> None:
    defined = lang_strings()
    missing = sorted(used_string_ids() - set(defined))
    assert not missing, f"strings used but not in lang/en/local_buyin.php: {missing}"


def test_capability_strings_and_lang_file_sorted() -> None:
    defined = lang_strings()
    assert {"buyin:signoff", "buyin:agent", "pluginname"} <= set(defined)
    keys = list(defined)
    assert keys == sorted(keys), "Moodle keeps lang strings in alphabetical order"


def test_privacy_strings_exist_for_every_declared_field() -> None:
    defined = lang_strings()
    for field in privacy_declared_fields():
        assert f"privacy:metadata:{TABLE}:{field}" in defined


# --- install.xml vs privacy provider -------------------------------------------------


def install_xml_table(name: str = TABLE) -> ET.Element:
    root = ET.parse(PLUGIN / "db" / "install.xml").getroot()
    assert root.tag == "XMLDB"
    assert root.get("PATH") == "local/buyin/db"
    tables = {t.get("NAME"): t for t in root.findall("./TABLES/TABLE")}
    assert set(tables) == {TABLE, FIGURES_TABLE, LEASE_TABLE, NOTIFICATION_TABLE}
    return tables[name]


def privacy_declared_fields() -> list[str]:
    text = read("classes/privacy/provider.php")
    block = php_block(text, "add_database_table(signoff_manager::TABLE, [")
    return re.findall(r"'(\w+)' => 'privacy:metadata:", block)


def test_install_xml_is_valid_xmldb() -> None:
    table = install_xml_table()
    fields = {f.get("NAME"): f for f in table.findall("./FIELDS/FIELD")}
    assert next(iter(fields)) == "id"
    assert fields["id"].get("SEQUENCE") == "true"
    expected = {
        "id",
        "courseid",
        "userid",
        "managerid",
        "status",
        "timerequested",
        "timedecided",
        "decidedby",
        "comment",
        "timemodified",
    }
    assert set(fields) == expected
    for name, field in fields.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name)
        assert field.get("TYPE") in {"int", "char", "text", "number", "float", "binary"}
        assert field.get("NOTNULL") in {"true", "false"}
        assert field.get("SEQUENCE") in {"true", "false"}
        if field.get("TYPE") in {"int", "char"}:
            assert int(field.get("LENGTH", "0")) > 0, name
        if field.get("TYPE") == "text":
            assert field.get("DEFAULT") is None and field.get("LENGTH") is None, name
    for nullable in ("timedecided", "decidedby", "comment"):
        assert fields[nullable].get("NOTNULL") == "false", nullable
    for notnull in ("courseid", "userid", "managerid", "status", "timerequested", "timemodified"):
        assert fields[notnull].get("NOTNULL") == "true", notnull

    keys = table.findall("./KEYS/KEY")
    assert keys[0].get("TYPE") == "primary" and keys[0].get("FIELDS") == "id"
    foreign = {k.get("FIELDS"): (k.get("REFTABLE"), k.get("REFFIELDS")) for k in keys[1:]}
    assert foreign == {
        "courseid": ("course", "id"),
        "userid": ("user", "id"),
        "managerid": ("user", "id"),
        "decidedby": ("user", "id"),
    }
    indexes = {
        i.get("FIELDS").replace(" ", ""): i.get("UNIQUE") for i in table.findall("./INDEXES/INDEX")
    }
    assert indexes == {
        "courseid,userid": "true",
        "managerid,status": "false",
        "timemodified,id": "false",
    }
    names = [e.get("NAME") for e in keys + table.findall("./INDEXES/INDEX")]
    assert len(names) == len(set(names)), "key and index names must be unique in a table"
    # XMLDB refuses an index on exactly the fields of a key.
    key_fields = {k.get("FIELDS").replace(" ", "") for k in keys}
    assert not key_fields & set(indexes)


def test_the_lease_table_is_installed_and_upgraded_alike() -> None:
    table = install_xml_table(LEASE_TABLE)
    fields = [f.get("NAME") for f in table.findall("./FIELDS/FIELD")]
    created = ["id", "programme", "holder", "timeacquired", "timeexpires", "timemodified"]
    assert fields == [*created, "token"]  # the fencing token, 0.4.0
    [index] = table.findall("./INDEXES/INDEX")
    assert (index.get("FIELDS"), index.get("UNIQUE")) == ("programme", "true")
    upgrade = read("db/upgrade.php")
    step = upgrade[upgrade.index("new xmldb_table('local_buyin_lease')") :]
    assert re.findall(r"add_field\('([a-z]+)'", step)[: len(created)] == created
    # added by its own step, after the table's: every row kept
    token = upgrade[upgrade.index("if ($oldversion < 2026120401)") :]
    assert "new xmldb_field('token'" in token and "field_exists" in token
    version = re.search(r"\$plugin->version\s*=\s*(\d{10});", read("version.php"))
    assert version and f"upgrade_plugin_savepoint(true, {version.group(1)}" in upgrade
    # no personal data in it: the privacy provider says so
    assert LEASE_TABLE in read("classes/privacy/provider.php")


def test_privacy_provider_declares_the_personal_fields_of_the_table() -> None:
    table_fields = {f.get("NAME") for f in install_xml_table().findall("./FIELDS/FIELD")}
    declared = privacy_declared_fields()
    assert set(declared) <= table_fields, set(declared) - table_fields
    personal = {
        "userid",
        "managerid",
        "decidedby",
        "comment",
        "timerequested",
        "timedecided",
        "timemodified",
    }
    assert personal <= set(declared), personal - set(declared)
    provider = read("classes/privacy/provider.php")
    for interface in (
        r"\core_privacy\local\metadata\provider",
        r"\core_privacy\local\request\plugin\provider",
        r"\core_privacy\local\request\core_userlist_provider",
    ):
        assert interface in provider
    for method in (
        "get_metadata",
        "get_contexts_for_userid",
        "get_users_in_context",
        "export_user_data",
        "delete_data_for_all_users_in_context",
        "delete_data_for_user",
        "delete_data_for_users",
    ):
        assert f"public static function {method}(" in provider, method


def test_the_figures_table_is_declared_upgraded_and_covered_by_privacy() -> None:
    table = install_xml_table(FIGURES_TABLE)
    fields = [f.get("NAME") for f in table.findall("./FIELDS/FIELD")]
    assert fields == [
        "id",
        "courseid",
        "userid",
        "role",
        "managerid",
        "figures",
        "timecreated",
        "timemodified",
    ]
    indexes = {i.get("FIELDS").replace(" ", "") for i in table.findall("./INDEXES/INDEX")}
    assert indexes == {"courseid,userid,role", "managerid,role"}
    # the upgrade from 0.2.0 creates the same table with the same fields, keys and indexes
    upgrade = read("db/upgrade.php")
    version = re.search(r"\$plugin->version\s*=\s*(\d{10});", read("version.php"))
    assert version is not None
    assert f"if ($oldversion < {version.group(1)})" in upgrade
    assert f"upgrade_plugin_savepoint(true, {version.group(1)}, 'local', 'buyin')" in upgrade
    assert "upgrade_plugin_savepoint(true, 2026120300, 'local', 'buyin')" in upgrade
    assert "new xmldb_table('local_buyin_figures')" in upgrade
    figures_step = upgrade[upgrade.index("new xmldb_table('local_buyin_figures')") :]
    figures_step = figures_step[: figures_step.index("upgrade_plugin_savepoint")]
    assert re.findall(r"add_field\('(\w+)'", figures_step) == fields
    assert set(re.findall(r"add_index\('[\w-]+', XMLDB_INDEX_\w+, \[([^]]+)\]", figures_step)) == {
        "'courseid', 'userid', 'role'",
        "'managerid', 'role'",
    }
    privacy = (PLUGIN / "classes" / "privacy" / "figures_data.php").read_text()
    declared = re.findall(r"'(\w+)' => 'privacy:metadata:local_buyin_figures:", privacy)
    assert set(declared) == set(fields) - {"id"}
    strings = lang_strings()
    for field in declared:
        assert f"privacy:metadata:local_buyin_figures:{field}" in strings
    provider = read("classes/privacy/provider.php")
    for call in (
        "add_metadata",
        "add_contexts",
        "add_users",
        "export",
        "delete_course",
        "delete_user",
    ):
        assert f"figures_data::{call}(" in provider, call


def test_plugin_tests_follow_moodle_conventions() -> None:
    for rel in (
        "tests/external/request_signoffs_test.php",
        "tests/external/get_signoffs_test.php",
        "tests/external/record_signoff_test.php",
        "tests/privacy/provider_test.php",
        "tests/external/save_figures_test.php",
        "tests/privacy/figures_data_test.php",
        "tests/pages_test.php",
    ):
        text = read(rel)
        classname = Path(rel).stem
        assert re.search(rf"final class {classname} extends ", text), rel
        assert "@covers" in text, rel
        assert "resetAfterTest()" in text, rel
        namespace = (
            "local_buyin\\privacy"
            if "privacy" in rel
            else "local_buyin\\external"
            if "external" in rel
            else "local_buyin"
        )
        assert f"namespace {namespace};" in text, rel


# --- the zip ------------------------------------------------------------------------


def test_zip_builds_with_one_buyin_folder(tmp_path: Path) -> None:
    out = build_plugin_zip.build(tmp_path / "local_buyin.zip")
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert "buyin/version.php" in names
        assert "buyin/db/install.xml" in names
        assert "buyin/lang/en/local_buyin.php" in names
        assert all(n.startswith("buyin/") for n in names), [
            n for n in names if not n.startswith("buyin/")
        ]
        assert names == sorted(names)
        assert {zi.date_time for zi in zf.infolist()} == {build_plugin_zip.FIXED_TIME}
        assert zf.testzip() is None
    shipped = {n.removeprefix("buyin/") for n in names if not n.endswith("/")}
    on_disk = {p.relative_to(PLUGIN).as_posix() for p in PLUGIN.rglob("*") if p.is_file()}
    assert shipped == on_disk


def test_zip_is_deterministic(tmp_path: Path) -> None:
    first = build_plugin_zip.build(tmp_path / "a.zip").read_bytes()
    second = build_plugin_zip.build(tmp_path / "b.zip").read_bytes()
    assert first == second


def test_zip_cli(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "plugin.zip"
    assert build_plugin_zip.main(["--output", str(out)]) == 0
    assert out.is_file()


# --- PHP -----------------------------------------------------------------------------


@needs_php
@pytest.mark.parametrize("path", php_files(), ids=lambda p: p.relative_to(PLUGIN).as_posix())
def test_php_lint(path: Path) -> None:
    result = subprocess.run([PHP, "-l", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# Minimal stand-ins for Moodle's core_external classes: enough to run the plugin's
# execute_parameters()/execute_returns() outside Moodle and print them in the format
# of external_function_info (the signatures file), so the file cannot drift from the code.
DUMP_PHP = textwrap.dedent(
    r"""
    <?php
    namespace {
        define('MOODLE_INTERNAL', true);
        define('VALUE_REQUIRED', 1);
        define('VALUE_OPTIONAL', 2);
        define('VALUE_DEFAULT', 0);
        define('NULL_NOT_ALLOWED', false);
        define('NULL_ALLOWED', true);
        foreach (['INT' => 'int', 'ALPHA' => 'alpha', 'ALPHANUM' => 'alphanum', 'TEXT' => 'text',
                  'RAW' => 'raw', 'BOOL' => 'bool', 'FLOAT' => 'float', 'NOTAGS' => 'notags',
                  'PLUGIN' => 'plugin', 'ALPHANUMEXT' => 'alphanumext', 'USERNAME' => 'username'] as $k => $v) {
            define('PARAM_' . $k, $v);
        }
    }
    namespace core_external {
        class external_api {}
        abstract class external_description {
            public $desc; public $required; public $default; public $allownull;
            public function __construct($desc, $required, $default, $allownull) {
                $this->desc = $desc; $this->required = $required;
                $this->default = $default; $this->allownull = $allownull;
            }
        }
        class external_value extends external_description {
            public $type;
            public function __construct($type, $desc = '', $required = VALUE_REQUIRED, $default = null,
                    $allownull = NULL_ALLOWED) {
                parent::__construct($desc, $required, $default, $allownull);
                $this->type = $type;
            }
        }
        class external_single_structure extends external_description {
            public $keys;
            public function __construct(array $keys, $desc = '', $required = VALUE_REQUIRED, $default = null,
                    $allownull = NULL_NOT_ALLOWED) {
                parent::__construct($desc, $required, $default, $allownull);
                $this->keys = $keys;
            }
        }
        class external_function_parameters extends external_single_structure {}
        class external_multiple_structure extends external_description {
            public $content;
            public function __construct(external_description $content, $desc = '', $required = VALUE_REQUIRED,
                    $default = null, $allownull = NULL_NOT_ALLOWED) {
                parent::__construct($desc, $required, $default, $allownull);
                $this->content = $content;
            }
        }
        class external_warnings extends external_multiple_structure {
            public function __construct($itemdesc = 'item', $itemiddesc = 'item id',
                    $warningcodedesc = 'the warning code can be used by the client app to implement specific behaviour') {
                parent::__construct(new external_single_structure([
                    'item' => new external_value(PARAM_TEXT, $itemdesc, VALUE_OPTIONAL),
                    'itemid' => new external_value(PARAM_INT, $itemiddesc, VALUE_OPTIONAL),
                    'warningcode' => new external_value(PARAM_ALPHANUM, $warningcodedesc),
                    'message' => new external_value(PARAM_RAW, 'untranslated english message to explain the warning'),
                ], 'warning'), 'list of warnings', VALUE_OPTIONAL);
            }
        }
        function describe($d) {
            $required = [VALUE_REQUIRED => 'required', VALUE_OPTIONAL => 'optional', VALUE_DEFAULT => 'default'];
            if ($d instanceof external_value) {
                $out = ['type' => $d->type, 'required' => $required[$d->required]];
            } else if ($d instanceof external_single_structure) {
                $out = ['type' => 'object', 'required' => $required[$d->required]];
            } else {
                $out = ['type' => 'array', 'required' => $required[$d->required]];
            }
            if ($d->required === VALUE_DEFAULT) {
                $out['default'] = $d->default;
            }
            $out['allownull'] = (bool) $d->allownull;
            $out['desc'] = $d->desc;
            if ($d instanceof external_single_structure) {
                $out['keys'] = [];
                foreach ($d->keys as $k => $v) {
                    $out['keys'][$k] = describe($v);
                }
            } else if ($d instanceof external_multiple_structure) {
                $out['items'] = describe($d->content);
            }
            return $out;
        }
    }
    namespace {
        $dir = $argv[1];
        $names = ['request_signoffs', 'get_signoffs', 'record_signoff', 'get_progress', 'complete_activities',
                  'save_figures', 'acquire_lease', 'release_lease', 'get_non_respondents',
                  'send_notifications'];
        require_once("$dir/classes/local/item_results.php");
        foreach ($names as $name) {
            require_once("$dir/classes/external/$name.php");
        }
        $out = [];
        foreach ($names as $name) {
            $class = "local_buyin\\external\\$name";
            $out["local_buyin_$name"] = [
                'parameters' => \core_external\describe($class::execute_parameters()),
                'returns' => \core_external\describe($class::execute_returns()),
            ];
        }
        echo json_encode($out, JSON_PRETTY_PRINT);
    }
    """
).lstrip()


@needs_php
def test_signatures_file_matches_the_php_declarations(tmp_path: Path) -> None:
    script = tmp_path / "dump.php"
    script.write_text(DUMP_PHP)
    result = subprocess.run(
        [PHP, str(script), str(PLUGIN)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    declared = json.loads(result.stdout)
    signatures = json.loads(SIGNATURES.read_text())["functions"]
    for name in PLUGIN_FUNCTIONS:
        assert signatures[name]["parameters"] == declared[name]["parameters"], name
        assert signatures[name]["returns"] == declared[name]["returns"], name


def test_the_notification_table_is_declared_upgraded_and_covered_by_privacy() -> None:
    table = install_xml_table(NOTIFICATION_TABLE)
    fields = [f.get("NAME") for f in table.findall("./FIELDS/FIELD")]
    assert fields == [
        "id",
        "idempotencykey",
        "userid",
        "kind",
        "template",
        "messageid",
        "timecreated",
    ]
    [index] = table.findall("./INDEXES/INDEX")
    assert (index.get("FIELDS"), index.get("UNIQUE")) == ("idempotencykey", "true")
    upgrade = read("db/upgrade.php")
    step = upgrade[upgrade.index("new xmldb_table('local_buyin_notification')") :]
    step = step[: step.index("upgrade_plugin_savepoint")]
    assert re.findall(r"add_field\('(\w+)'", step) == fields
    assert "upgrade_plugin_savepoint(true, 2026120400, 'local', 'buyin')" in upgrade
    privacy = read("classes/privacy/notification_data.php")
    declared = re.findall(r"'(\w+)' => 'privacy:metadata:local_buyin_notification:", privacy)
    assert set(declared) == set(fields) - {"id", "idempotencykey", "messageid"}
    assert "link_subsystem('core_message'" in privacy
    strings = lang_strings()
    for field in declared:
        assert f"privacy:metadata:local_buyin_notification:{field}" in strings
