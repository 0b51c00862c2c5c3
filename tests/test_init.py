"""`buyin init COURSE`: a starter mapping read from the simulated site."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from buyin.cli import main
from buyin.config import Settings
from buyin.mapping import load_mapping
from buyin.model.clock import day_of
from buyin.model.snapshot import Course
from buyin.simulator import SimulatedMoodle
from buyin.simulator.model import Activity
from buyin.starter import programme_id
from support import Clock

GRADING_PAGE = "mod_quiz_get_edit_grading_page_data"
TOPICS = ["Listening", "Questioning", "Objections", "Closing"]
EXAMPLE_SLOTS = {
    "Listening": [1, 2],
    "Questioning": [3, 4],
    "Objections": [5, 6],
    "Closing": [7, 8],
}


def init(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(
        main,
        [
            "--state",
            str(settings.state_path),
            "--mappings",
            str(settings.mapping_dir),
            "init",
            *args,
        ],
        env={"BUYIN_URL": settings.url, "BUYIN_TOKEN": settings.token.reveal()},
        catch_exceptions=False,
    )


def topics_of(path: Path) -> list[dict[str, Any]]:
    raw = load_mapping(path).raw
    topics: list[dict[str, Any]] = raw["precheck"]["topics"]
    return topics


def test_cc101_starter_is_valid_and_marks_every_guess(
    site: SimulatedMoodle, settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    site.service_functions.discard(GRADING_PAGE)  # as in the buyin service
    out = tmp_path / "starter.toml"
    result = init(settings, "CC101", "--output", str(out))
    assert result.exit_code == 0, result.output

    programme = load_mapping(out)  # valid against mappings/schema.json
    assert programme.id == "cc101" and programme.course == "CC101"
    assert programme.name == "Customer Conversations"
    assert programme.precheck is not None and programme.precheck.quiz == 9
    assert [t.name for t in programme.precheck.topics] == TOPICS
    assert programme.precheck.exclude == frozenset()
    assert programme.signoff is None  # written commented out
    # the start line is the day it was written: older events are left to `buyin backfill`
    assert programme.mapped_since == day_of(clock())
    assert "buyin backfill --since DATE" in out.read_text()
    for topic in topics_of(out):
        assert topic["review"] is True
        assert "slots" not in topic  # the grading page is not in the service: unknown
    text = out.read_text()
    assert "# [signoff]" in text and '# role = "signoff"' in text
    # the manager poll, commented out, its options ready for the topics found
    assert programme.poll is None
    assert "# [poll]" in text and '# 4 = "Closing"' in text
    uncommented = text.replace("# [poll", "[poll").replace("# activity = 0", "activity = 14")
    for line in ('# course = ""', '# 1 = "', '# 2 = "', '# 3 = "', '# 4 = "'):
        uncommented = uncommented.replace(line, line[2:])
    uncommented = uncommented.replace('course = ""', 'course = "LEAD100"')
    out.write_text(uncommented)
    poll = load_mapping(out).poll
    assert poll is not None and list(poll.options.values()) == TOPICS
    assert text.count("# CHECK: covers course section") == 4
    # what it guessed is printed
    assert f"wrote {out} for CC101" in result.output
    assert 'pre-check quiz: 9 "CC101 Pre-check" (its name says pre-check)' in result.output
    assert "topics from the quiz's grade items (a finished attempt)" in result.output
    assert f"{GRADING_PAGE} is not in the token's service" in result.output
    # read-only: nothing written to Moodle
    assert site.write_calls() == []


def test_the_starter_drives_a_sync_like_the_example(
    site: SimulatedMoodle, settings: Settings, run_sync: Any
) -> None:
    result = init(settings, "2", "--force")  # by id, over the example in the mapping dir
    assert result.exit_code == 0, result.output
    assert "Listening" in (settings.mapping_dir / "cc101.toml").read_text()
    report = run_sync()
    assert report.exit_code == 0
    # learner11 (id 19) aced Listening, Questioning and Closing: their urls are completed
    assert all(site.activity_state(19, cm) != 0 for cm in (2, 4, 8))
    assert site.activity_state(19, 6) == 0


def test_grading_page_gives_the_slots(
    site: SimulatedMoodle, settings: Settings, tmp_path: Path
) -> None:
    assert GRADING_PAGE in site.service_functions  # the lab's service held it
    out = tmp_path / "cc101.toml"
    result = init(settings, "CC101", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert {t["name"]: t["slots"] for t in topics_of(out)} == EXAMPLE_SLOTS
    assert "topics from the quiz's grade items (grading page)" in result.output
    assert 'Listening: section "Listening", 2 activities with completion, slots [1, 2]' in (
        result.output
    )
    # no attempt had to be read
    assert not any(fn.startswith("mod_quiz_get_user") for fn, _ in site.calls)


def test_grading_page_without_permission_is_reported_and_skipped(
    site: SimulatedMoodle, settings: Settings, tmp_path: Path
) -> None:
    site.deny_capability(GRADING_PAGE, "mod/quiz:manage")
    out = tmp_path / "cc101.toml"
    result = init(settings, "CC101", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "could not read the quiz's grading page" in result.output
    assert "Edit quizzes" in result.output  # the capability Moodle names
    assert [t["name"] for t in topics_of(out)] == TOPICS  # from a finished attempt
    assert all("slots" not in t for t in topics_of(out))


def test_quiz_without_grade_items_takes_topics_from_sections(
    site: SimulatedMoodle, settings: Settings, tmp_path: Path
) -> None:
    site.state.quizzes[1].grade_items = []
    site.service_functions.discard(GRADING_PAGE)
    out = tmp_path / "cc101.toml"
    result = init(settings, "CC101", "-o", str(out))
    assert result.exit_code == 0, result.output
    topics = topics_of(out)
    # "General" holds only the pre-check quiz: not a topic
    assert [t["name"] for t in topics] == TOPICS
    assert all("slots" not in t and t["review"] for t in topics)
    assert out.read_text().count("# CHECK: no slots known: list the quiz slots") == 4
    assert "topics from course sections with activities that have completion" in result.output
    assert "grade items: none found" in result.output

    # with the grading page, the quiz's section headings give the slots
    site.service_functions.add(GRADING_PAGE)
    result = init(settings, "CC101", "-o", str(out), "--force")
    assert result.exit_code == 0, result.output
    assert "grade items: the quiz has none" in result.output
    assert {t["name"]: t["slots"] for t in topics_of(out)} == EXAMPLE_SLOTS


def test_graded_activities_of_topic_sections_are_excluded(
    site: SimulatedMoodle, settings: Settings, tmp_path: Path
) -> None:
    site.state.activities[14] = Activity(14, 2, "assign", 1, 4, "Closing role-play", 2, 60)
    site.state.activities[15] = Activity(15, 2, "assign", 2, 0, "General essay", 2, 61)
    out = tmp_path / "cc101.toml"
    result = init(settings, "CC101", "-o", str(out))
    assert result.exit_code == 0, result.output
    programme = load_mapping(out)
    assert programme.precheck is not None
    assert programme.precheck.exclude == frozenset({14})  # not 15: General is no topic
    assert "14 'Closing role-play' (assign)" in result.output


def test_quiz_choice_by_name_and_by_option(
    site: SimulatedMoodle, settings: Settings, tmp_path: Path
) -> None:
    quiz = site.state.quizzes[1]
    quiz.name = site.state.activities[9].name = "Diagnostic"
    out = tmp_path / "a.toml"
    result = init(settings, "CC101", "-o", str(out))
    assert "the course's first quiz; no quiz is named like a pre-check" in result.output
    assert "review = true" in out.read_text()

    out = tmp_path / "b.toml"
    result = init(settings, "CC101", "-o", str(out), "--quiz", "diagnostic")
    assert result.exit_code == 0, result.output
    assert "(chosen with --quiz)" in result.output

    result = init(settings, "CC101", "-o", str(tmp_path / "c.toml"), "--quiz", "Final exam")
    assert result.exit_code == 78
    assert "quiz 'Final exam' is not a quiz of the course" in result.output
    assert "9 (Diagnostic)" in result.output
    assert not (tmp_path / "c.toml").exists()


def test_refuses_to_overwrite_without_force(
    site: SimulatedMoodle, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "mine.toml"
    out.write_text("# my own mapping\n")
    result = init(settings, "CC101", "-o", str(out))
    assert result.exit_code == 78
    assert f"{out} already exists; not overwriting it" in result.output
    assert "--force" in result.output
    assert out.read_text() == "# my own mapping\n"
    assert site.calls == []  # refused before asking Moodle anything

    # the default output is <mapping dir>/<id>.toml, which holds the example already
    result = init(settings, "CC101")
    assert result.exit_code == 78
    assert "cc101.toml already exists" in result.output

    result = init(settings, "CC101", "-o", str(out), "--force")
    assert result.exit_code == 0, result.output
    assert load_mapping(out).id == "cc101"


def test_unknown_course_exits_78_naming_it(settings: Settings, tmp_path: Path) -> None:
    result = init(settings, "NOPE999", "-o", str(tmp_path / "x.toml"))
    assert result.exit_code == 78
    assert "course 'NOPE999' does not exist" in result.output
    assert not (tmp_path / "x.toml").exists()


def test_course_without_quiz_gets_no_precheck(
    site: SimulatedMoodle, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "lead.toml"
    result = init(settings, "LEAD100", "-o", str(out))
    assert result.exit_code == 0, result.output
    programme = load_mapping(out)
    assert programme.id == "lead100" and programme.precheck is None
    assert "the course has no quiz, so [precheck] is left out" in result.output


@pytest.mark.parametrize(
    ("shortname", "expected"),
    [("CC101", "cc101"), ("CC 101/2026", "cc-101-2026"), ("_x", "x"), ("ÄÖ", "course7")],
)
def test_programme_id_from_shortname(shortname: str, expected: str) -> None:
    course = Course(7, shortname, "", True, "")
    assert programme_id(course) == expected
