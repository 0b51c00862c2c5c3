"""Programme mappings: the example loads; every broken mapping is refused naming the
file and the exact key path; a mapping directory is loaded all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from buyin.errors import ConfigurationError, MappingError, exit_code_for
from buyin.mapping import Programme, load_mapping, load_programmes, parse_mapping
from buyin.resources import data_path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "mappings" / "examples" / "cc101.toml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def variant(old: str, new: str) -> str:
    """The example with one piece of text replaced (exactly one must exist)."""
    assert EXAMPLE_TEXT.count(old) == 1, old
    return EXAMPLE_TEXT.replace(old, new)


MINIMAL = '[program]\nid = "{id}"\ncourse = {course}\n'


# --- the example ---------------------------------------------------------------------


def test_the_example_loads_into_a_programme() -> None:
    prog = load_mapping(EXAMPLE)

    assert isinstance(prog, Programme)
    assert (prog.id, prog.course, prog.name) == ("cc101", "CC101", "Customer Conversations")
    assert prog.source == EXAMPLE
    assert prog.enabled and prog.learner_role == "student"
    assert prog.sponsor.startswith("Maria Lopez")

    assert prog.precheck is not None
    assert prog.precheck.quiz == 9
    assert (prog.precheck.attempt, prog.precheck.pass_mark) == ("first", 0.8)
    assert prog.precheck.minutes_per_activity == 15.0
    assert prog.precheck.exclude == frozenset()
    topics = prog.precheck.topics
    assert len(topics) == 4
    assert [t.name for t in topics] == ["Listening", "Questioning", "Objections", "Closing"]
    assert [t.slots for t in topics] == [(1, 2), (3, 4), (5, 6), (7, 8)]
    # grade item and section default to the topic's name; activities to the section's
    assert all(t.grade_item == t.name == t.section for t in topics)
    assert all(t.activities is None for t in topics)

    assert prog.signoff is not None
    assert (prog.signoff.role, prog.signoff.manager_field, prog.signoff.match_by) == (
        "signoff",
        "manager",
        "username",
    )
    assert prog.signoff.fallback_approver == "mgr1"
    assert (prog.signoff.remind_every_days, prog.signoff.escalate_after_days) == (3.0, 7.0)

    assert prog.kickoff is not None and len(prog.kickoff.support_tips) == 3
    assert prog.followup is not None
    assert prog.followup.job_aid is not None
    assert prog.followup.job_aid.url.endswith("view.php?id=8")
    assert prog.followup.refresher is not None
    assert (prog.followup.refresher.course, prog.followup.refresher.quiz) == ("CC201", 11)
    assert prog.followup.refresher.delay_days == 30.0


def test_the_packaged_example_is_the_same_file() -> None:
    assert data_path("mappings/examples/cc101.toml").read_text(encoding="utf-8") == EXAMPLE_TEXT


def test_a_minimal_mapping_gets_the_defaults(tmp_path: Path) -> None:
    prog = load_mapping(write(tmp_path, "m.toml", MINIMAL.format(id="m1", course=7)))
    assert (prog.id, prog.course) == ("m1", 7)
    assert prog.precheck is None and prog.signoff is None
    assert prog.kickoff is None and prog.followup is None
    assert prog.insights == {}


# --- broken mappings: the file and the key path ------------------------------------------

BROKEN = {
    "missing-program-id": (variant('id = "cc101"\n', ""), "program.id", "'id' is required"),
    "unknown-working-day": (
        variant('learner_role = "student"', 'learner_role = "student"\nworking_days = ["funday"]'),
        "program.working_days[0]",
        "'funday' is not one of",
    ),
    "unknown-key": (
        variant("quiz = 9 ", "topcs = []\nquiz = 9 "),
        "precheck.topcs",
        "unknown key(s) topcs",
    ),
    "wrong-type": (
        variant("slots = [3, 4]", 'slots = "3"'),
        "precheck.topics[1].slots",
        "'3' is not of type 'array'",
    ),
    "pass-mark-above-1": (
        variant("pass_mark = 0.8", "pass_mark = 1.5"),
        "precheck.pass_mark",
        "1.5",
    ),
    "bad-attempt": (
        variant('attempt = "first"', 'attempt = "worst"'),
        "precheck.attempt",
        "'worst' is not one of",
    ),
    "duplicate-topic": (
        variant('name = "Objections"', 'name = "Listening"'),
        "precheck.topics[2].name",
        "duplicate topic 'Listening'",
    ),
    "bad-slot-item": (
        variant("slots = [7, 8]", 'slots = [7, "8"]'),
        "precheck.topics[3].slots[1]",
        "'8' is not of type 'integer'",
    ),
    "unknown-top-level-table": (EXAMPLE_TEXT + "\n[extras]\nx = 1\n", "extras", "unknown key"),
    "bad-program-id": (
        variant('id = "cc101"', 'id = "CC 101"'),
        "program.id",
        "does not match",
    ),
    "course-zero": (variant('course = "CC101"', "course = 0"), "program.course", "0"),
    "bad-match-by": (
        variant('match_by = "username"', 'match_by = "phone"'),
        "signoff.match_by",
        "'phone' is not one of",
    ),
    "missing-quiz": (variant("quiz = 9 ", "# quiz = 9 "), "precheck.quiz", "'quiz' is required"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_mapping_names_the_file_and_the_key_path(case: str, tmp_path: Path) -> None:
    text, keypath, problem = BROKEN[case]
    path = write(tmp_path, "cc101.toml", text)

    with pytest.raises(MappingError) as caught:
        load_mapping(path)

    error = caught.value
    assert error.path == str(path)
    assert error.keypath == keypath
    assert str(error).startswith(f"mapping {path}: {keypath}: ")
    assert problem in error.problem
    assert exit_code_for(error) == 78
    assert "nothing was pushed" in error.hint


def test_two_missing_keys_name_one_of_them_consistently(tmp_path: Path) -> None:
    path = write(tmp_path, "m.toml", "[program]\nname = 'x'\n")
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    missing = caught.value.keypath.removeprefix("program.")
    assert missing in ("id", "course")
    assert caught.value.problem == f"'{missing}' is required"


def test_missing_program_table(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as caught:
        load_mapping(write(tmp_path, "m.toml", "[precheck]\nquiz = 9\n"))
    assert caught.value.keypath == "program"


def test_invalid_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "cc101.toml", EXAMPLE_TEXT + "\n[precheck\n")
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"mapping {path}: not valid TOML")
    assert "line" in str(caught.value)


def test_an_unreadable_file_is_a_mapping_error(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read"):
        load_mapping(tmp_path / "missing.toml")


def test_parse_mapping_names_the_source(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping({"program": {"id": "x", "course": 2, "colour": "red"}}, Path("inline.toml"))
    assert caught.value.path == "inline.toml"
    assert caught.value.keypath == "program.colour"


# --- the mapping directory ----------------------------------------------------------------


def test_load_programmes_reads_every_file(tmp_path: Path) -> None:
    write(tmp_path, "cc101.toml", EXAMPLE_TEXT)
    write(tmp_path, "lead.toml", MINIMAL.format(id="lead100", course=4))
    write(tmp_path, "notes.txt", "not a mapping")

    programmes = load_programmes(tmp_path)

    assert [p.id for p in programmes] == ["cc101", "lead100"]
    assert [p.id for p in load_programmes(tmp_path, only="lead100")] == ["lead100"]


def test_two_files_with_the_same_id_are_refused(tmp_path: Path) -> None:
    first = write(tmp_path, "a.toml", EXAMPLE_TEXT)
    second = write(tmp_path, "b.toml", MINIMAL.format(id="cc101", course=5))

    with pytest.raises(MappingError) as caught:
        load_programmes(tmp_path)

    assert caught.value.path == str(second)
    assert caught.value.keypath == "program.id"
    assert str(first) in str(caught.value)
    assert "'cc101'" in str(caught.value)


def test_one_bad_file_refuses_the_whole_directory(tmp_path: Path) -> None:
    write(tmp_path, "a-good.toml", EXAMPLE_TEXT)
    bad = write(tmp_path, "b-bad.toml", variant("pass_mark = 0.8", "pass_mark = 1.5"))
    write(tmp_path, "c-good.toml", MINIMAL.format(id="lead100", course=4))

    with pytest.raises(MappingError) as caught:
        load_programmes(tmp_path)
    assert caught.value.path == str(bad)

    # even when only a good programme is asked for
    with pytest.raises(MappingError):
        load_programmes(tmp_path, only="cc101")


def test_disabled_programmes_are_left_out(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", MINIMAL.format(id="on", course=2))
    write(tmp_path, "b.toml", MINIMAL.format(id="off", course=3) + "enabled = false\n")
    assert [p.id for p in load_programmes(tmp_path)] == ["on"]


def test_an_unknown_programme_id_lists_the_known_ones(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", EXAMPLE_TEXT)
    with pytest.raises(ConfigurationError) as caught:
        load_programmes(tmp_path, only="cc999")
    assert "cc999" in str(caught.value)
    assert "cc101" in caught.value.hint


def test_an_empty_or_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"no programme mapping \(\*\.toml\)"):
        load_programmes(tmp_path)
    with pytest.raises(ConfigurationError, match="does not exist") as caught:
        load_programmes(tmp_path / "nope")
    assert "mapping_dir" in caught.value.hint
