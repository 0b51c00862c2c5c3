"""`buyin init`: read a course over web services and write a starter programme mapping.

Everything the agent can only guess (which quiz is the pre-check, which topics it
tests, which quiz slots test which topic, which course section a topic covers) is
written with ``review = true`` and a comment saying what to check. The file is
valid against ``mappings/schema.json`` as written.

Where the topics come from, best first:

1. the pre-check quiz's grade items (Moodle 4.4+): from
   ``mod_quiz_get_edit_grading_page_data`` where the token's service has it and the
   agent may use it (``mod/quiz:manage``), which also tells which slots each grade
   item and each quiz section holds; else from one finished attempt's
   ``gradeitemmarks`` (a learner who has a quiz grade in the grade report);
2. else the course sections that hold activities with completion tracking.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from buyin import sync
from buyin.errors import BuyinError, ConfigurationError, TransientError
from buyin.mapping import Ref, parse_mapping
from buyin.model.clock import day_of
from buyin.model.snapshot import Activity, Course
from buyin.moodle.client import MoodleClient
from buyin.moodle.fetch import SiteInfo, fetch_activities, resolve_course

GRADING_PAGE = "mod_quiz_get_edit_grading_page_data"
#: a quiz named like this is taken for the pre-check
PRECHECK_NAME = re.compile(r"pre[\s_-]*(check|assess|test)", re.IGNORECASE)
#: graded activities: pre-filled in `exclude`, never auto-completed
GRADED_MODULES = frozenset({"quiz", "assign"})
#: at most this many learners' attempts are read to find the grade items
ATTEMPT_PROBES = 3


def norm(name: str) -> str:
    """Names compared case- and space-insensitively."""
    return " ".join(name.split()).casefold()


def programme_id(course: Course) -> str:
    ident = re.sub(r"[^a-z0-9_-]+", "-", course.shortname.casefold()).strip("-_")
    return ident if ident and ident[0].isalnum() else f"course{course.id}"


@dataclass(frozen=True)
class QuizInfo:
    id: int
    cmid: int
    name: str


@dataclass
class GradingPage:
    """What the quiz's grading set-up page tells: grade items and slots per quiz section."""

    #: grade item name -> slot numbers allocated to it
    items: dict[str, list[int]] = field(default_factory=dict)
    #: quiz section heading -> slot numbers under it
    sections: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class StarterTopic:
    name: str
    #: the course section it covers (None: no section of that name)
    section: str | None
    activities: list[Activity]
    slots: list[int]
    notes: list[str]


@dataclass
class Starter:
    """The starter mapping and what was guessed."""

    programme: str
    course: Course
    text: str
    guesses: list[str]


def _str(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _line(text: str) -> str:
    """Text safe inside a one-line TOML comment."""
    return " ".join(text.split())


def _names(activities: Iterable[Activity]) -> str:
    return ", ".join(f"{a.cmid} {_line(a.name)!r} ({a.modname})" for a in activities) or "none"


def choose_quiz(quizzes: Sequence[Mapping[str, Any]], ref: Ref | None) -> tuple[QuizInfo, str]:
    """The pre-check quiz and why it was chosen."""

    def info(q: Mapping[str, Any]) -> QuizInfo:
        return QuizInfo(int(q["id"]), int(q["coursemodule"]), str(q.get("name") or ""))

    if ref is not None:
        for q in quizzes:
            if (isinstance(ref, int) and int(q["coursemodule"]) == ref) or (
                isinstance(ref, str) and norm(ref) == norm(str(q.get("name") or ""))
            ):
                return info(q), "chosen with --quiz"
        names = ", ".join(f"{q['coursemodule']} ({q.get('name')})" for q in quizzes) or "none"
        raise ConfigurationError(
            f"quiz {ref!r} is not a quiz of the course",
            hint=f"Pass --quiz with a course module id or name; the course's quizzes: {names}.",
        )
    for q in quizzes:
        if PRECHECK_NAME.search(str(q.get("name") or "")):
            return info(q), "its name says pre-check"
    return info(quizzes[0]), "the course's first quiz; no quiz is named like a pre-check"


def parse_grading_page(raw: Any) -> GradingPage | None:
    """The grading page's JSON string; None when it cannot be read."""
    if not isinstance(raw, str):
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    page = GradingPage()
    ids = {str(g.get("id")): str(g.get("name") or "") for g in data.get("gradeitems") or []}
    for name in ids.values():
        page.items.setdefault(name, [])
    # slot numbers are positions: the page lists every real question in quiz order
    number = 0
    for section in data.get("sections") or []:
        heading = str(section.get("displayname") or "")
        slots = page.sections.setdefault(heading, [])
        for slot in section.get("slots") or []:
            number += 1
            slots.append(number)
            for choice in slot.get("choices") or []:
                if choice.get("isselected") and str(choice.get("id")) in ids:
                    page.items[ids[str(choice["id"])]].append(number)
    return page


class StarterBuilder:
    def __init__(self, client: MoodleClient, today: str | None = None) -> None:
        self.client = client
        self.guesses: list[str] = []
        #: the start line written in the mapping (YYYY-MM-DD): the day `buyin init` ran
        self.today = today or day_of(sync.system_clock())

    def _try(self, function: str, **params: Any) -> tuple[Any, str | None]:
        """Call an optional function: (answer, None) or (None, why it could not be used)."""
        try:
            return self.client.call(function, **params), None
        except TransientError:
            raise
        except BuyinError as exc:
            return None, str(exc)

    def grading_page(self, site: SiteInfo, quiz: QuizInfo) -> GradingPage | None:
        if GRADING_PAGE not in site.functions:
            self.guesses.append(
                f"slots: {GRADING_PAGE} is not in the token's service, so slots are left out"
            )
            return None
        raw, why = self._try(GRADING_PAGE, quizid=quiz.id)
        page = parse_grading_page(raw) if why is None else None
        if page is None:
            self.guesses.append(
                f"slots: could not read the quiz's grading page ({why or 'unreadable answer'}), "
                "so slots are left out"
            )
        return page

    def items_from_attempts(self, site: SiteInfo, course: Course, quiz: QuizInfo) -> list[str]:
        """Grade item names from a finished attempt of a learner who has a quiz grade."""
        report, why = self._try("gradereport_user_get_grade_items", courseid=course.id)
        if why is not None:
            self.guesses.append(f"grade items: could not read the grade report ({why})")
            return []
        graded = []
        for usergrade in report.get("usergrades") or []:
            for item in usergrade.get("gradeitems") or []:
                if (
                    item.get("itemmodule") == "quiz"
                    and item.get("cmid") == quiz.cmid
                    and item.get("graderaw") is not None
                ):
                    graded.append(int(usergrade["userid"]))
        for userid in graded[:ATTEMPT_PROBES]:
            answer, why = self._try(
                site.attempts_function, quizid=quiz.id, userid=userid, status="finished"
            )
            if why is not None:
                self.guesses.append(f"grade items: could not read attempts ({why})")
                return []
            for attempt in answer.get("attempts") or []:
                marks = attempt.get("gradeitemmarks")
                if attempt.get("state") == "finished" and marks:
                    return [str(m["name"]) for m in marks]
        return []

    def build(self, course_ref: Ref, quiz_ref: Ref | None = None) -> Starter:
        site = SiteInfo.fetch(self.client)
        course = resolve_course(self.client, course_ref, "buyin init")
        activities = fetch_activities(self.client, course)
        quizzes = (
            self.client.call("mod_quiz_get_quizzes_by_courses", courseids=[course.id]).get(
                "quizzes"
            )
            or []
        )
        ident = programme_id(course)
        if not quizzes:
            if quiz_ref is not None:
                raise ConfigurationError(
                    f"course {course.shortname} (id {course.id}) has no quiz",
                    hint="Add the pre-check quiz to the course, or leave out --quiz.",
                )
            self.guesses.append("pre-check: the course has no quiz, so [precheck] is left out")
            return self._finish(ident, course, None, "", [], [])
        quiz, why = choose_quiz(quizzes, quiz_ref)
        self.guesses.append(f'pre-check quiz: {quiz.cmid} "{quiz.name}" ({why})')

        page = self.grading_page(site, quiz)
        item_names: list[str] = []
        source = ""
        if page is not None and page.items:
            item_names, source = list(page.items), "the quiz's grade items (grading page)"
        elif page is None:
            item_names = self.items_from_attempts(site, course, quiz)
            source = "the quiz's grade items (a finished attempt)" if item_names else ""

        sections: dict[str, str] = {}  # normalised -> the course's own spelling
        tracked: dict[str, list[Activity]] = {}
        for a in activities:
            key = norm(a.section_name)
            sections.setdefault(key, a.section_name)
            if a.completion != 0 and a.cmid != quiz.cmid:
                tracked.setdefault(key, []).append(a)

        if item_names:
            names = item_names
        else:
            source = "course sections with activities that have completion tracking"
            names = [sections[k] for k in tracked]
            if page is None:
                self.guesses.append(
                    "grade items: none found (no grading page and no finished attempt with "
                    "grade item marks)"
                )
            else:
                self.guesses.append("grade items: the quiz has none")
        self.guesses.append(f"topics from {source}: {', '.join(names) or 'none'}")

        topics = []
        for name in names:
            key = norm(name)
            notes: list[str] = []
            section = sections.get(key)
            covered = tracked.get(key, [])
            if section is None:
                notes.append(
                    f"no course section is named {name!r}: set `section` to the course section "
                    "this topic covers, or list `activities` (cmids)"
                )
            else:
                notes.append(
                    f"covers course section {_line(section)!r}: {_names(covered)}; check that "
                    "passing this topic should complete them"
                )
            if name in item_names:
                notes.append(f"marks from the quiz's grade item {name!r}")
            slots: list[int] = []
            if page is not None:
                if page.items.get(name):
                    slots = page.items[name]
                    notes.append(f"slots {slots}: the quiz questions allocated to grade item")
                else:
                    heading = next((h for h in page.sections if norm(h) == key), None)
                    if heading is not None and page.sections[heading]:
                        slots = page.sections[heading]
                        notes.append(f"slots {slots}: the questions under the quiz heading")
                if slots:
                    notes[-1] += (
                        " of that name, numbered in quiz order; check them if the quiz has "
                        "description items"
                    )
            if not slots and not item_names:
                notes.append(
                    "no slots known: list the quiz slots that test this topic (the quiz has "
                    "no grade items, so its marks come from the slots)"
                )
            topics.append(StarterTopic(name, section, covered, slots, notes))
            where = f'section "{section}"' if section is not None else "NO matching section"
            self.guesses.append(
                f"  {name}: {where}, {len(covered)} activit{'y' if len(covered) == 1 else 'ies'} "
                f"with completion, slots {slots or 'unknown'}"
            )

        graded = sorted(
            {
                a.cmid
                for t in topics
                if t.section is not None
                for a in activities
                if norm(a.section_name) == norm(t.section)
                and a.modname in GRADED_MODULES
                and a.cmid != quiz.cmid
                and a.completion != 0
            }
        )
        by_cmid = {a.cmid: a for a in activities}
        self.guesses.append(
            "exclude (graded activities of the topic sections): "
            + _names(by_cmid[c] for c in graded)
        )
        return self._finish(ident, course, quiz, why, topics, graded, by_cmid)

    def _finish(
        self,
        ident: str,
        course: Course,
        quiz: QuizInfo | None,
        why: str,
        topics: list[StarterTopic],
        exclude: list[int],
        by_cmid: Mapping[int, Activity] | None = None,
    ) -> Starter:
        text = render(ident, course, quiz, why, topics, exclude, by_cmid or {}, since=self.today)
        self.guesses.append("signoff: written commented out; uncomment and adjust to use it")
        # the file must load as it is written
        parse_mapping(tomllib.loads(text), Path(f"{ident}.toml"))
        return Starter(ident, course, text, self.guesses)


def render(
    ident: str,
    course: Course,
    quiz: QuizInfo | None,
    why: str,
    topics: Sequence[StarterTopic],
    exclude: Sequence[int],
    by_cmid: Mapping[int, Activity],
    *,
    since: str,
) -> str:
    out = [
        f"# Starter mapping for {_line(course.shortname)} {_line(course.fullname)!r} "
        f"(course {course.id}), written by `buyin init`.",
        "# Every guess is marked `review = true`: check it against the course, then delete",
        "# the `review` line. `buyin doctor` checks the ids against the site.",
        "",
        "[program]",
        f"id = {_str(ident)}",
        f"name = {_str(course.fullname)}",
        f"course = {_str(course.shortname) if course.shortname else course.id}",
        'learner_role = "student"',
        "# the start line: pre-checks, completions and starts before it are history, sent",
        "# only on purpose with `buyin backfill --since DATE --precheck/--followup/...`",
        f"mapped_since = {_str(since)}",
        '# working_days = ["monday", "tuesday", "wednesday", "thursday", "friday"]  # messages',
        '# holidays = ["2026-12-25"]      # no message on these days (it waits)',
        "# manager_weekly_limit = 2       # messages to one manager in any seven days",
        '# sender = "owner-username"      # who messages are from (named in each message)',
        '# sponsor = "Name, title"        # named in kickoff messages',
        '# sponsor_message = ""',
    ]
    if quiz is not None:
        excluded = ", ".join(f"{c} {_line(by_cmid[c].name)!r}" for c in exclude if c in by_cmid)
        out += [
            "",
            "[precheck]",
            f"# CHECK: the pre-check quiz is {_line(quiz.name)!r} ({why})",
            f"quiz = {quiz.cmid}",
            'attempt = "first"               # first | best | last finished attempt counts',
            "pass_mark = 0.8                 # fraction of a topic's marks needed to test out",
            "minutes_per_activity = 15",
            "# CHECK: graded activities of the topic sections, never auto-completed"
            + (f": {excluded}" if excluded else ""),
            f"exclude = [{', '.join(str(c) for c in exclude)}]",
        ]
        for topic in topics:
            out += ["", "[[precheck.topics]]"]
            out += [f"# CHECK: {_line(note)}" for note in topic.notes]
            out.append(f"name = {_str(topic.name)}")
            if topic.section is not None and topic.section != topic.name:
                out.append(f"section = {_str(topic.section)}")
            if topic.slots:
                out.append(f"slots = [{', '.join(str(s) for s in topic.slots)}]")
            out.append("review = true")
    out += [
        "",
        "# Manager sign-off: uncomment where the course's completion has the criterion",
        '# "Manual completion by others" for a sign-off role.',
        "# [signoff]",
        '# role = "signoff"                # role of that criterion',
        '# manager_field = "manager"       # custom profile field naming the manager',
        '# match_by = "username"           # username | email | idnumber',
        '# fallback_approver = ""          # who signs when the manager is missing',
        "# remind_every_days = 3",
        "# escalate_after_days = 7",
        "# max_reminders = 2               # then one escalation, then only the weekly digest",
        *_poll_lines(topics if quiz is not None else ()),
        "",
    ]
    return "\n".join(out)


def _poll_lines(topics: Sequence[StarterTopic]) -> list[str]:
    """The manager poll, commented out: a Feedback activity (often in a managers' course)
    whose checkbox question's options map to the pre-check topics."""
    out = [
        "",
        "# Ask managers which problems training should solve: uncomment where a Feedback",
        "# activity (not anonymous) asks them; its checkbox question's options map to topics.",
        "# [poll]",
        "# activity = 0                    # the Feedback's course module id (or its name)",
        '# course = ""                     # the course holding it (shortname or id)',
        '# question = "problems"           # label of the checkbox question',
        '# impact = "impact"               # label of the 1-5 rated question',
        '# comments = "other"              # label of the free-text question',
        '# role = "student"                # role a manager gets there to answer',
        '# ask = "start"                   # start | every (every_weeks = N) | cohort',
        "# remind_after_days = 3",
    ]
    if topics:
        out.append("# [poll.options]                  # option position -> [precheck] topic")
        out += [f"# {n} = {_str(t.name)}" for n, t in enumerate(topics, start=1)]
    return out


def build_starter(
    client: MoodleClient, course: Ref, quiz: Ref | None = None, *, today: str | None = None
) -> Starter:
    return StarterBuilder(client, today).build(course, quiz)


def refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise ConfigurationError(
            f"{path} already exists; not overwriting it",
            hint="Pass --force to replace it, or --output to write the starter elsewhere.",
        )


def write_starter(starter: Starter, path: Path, *, force: bool = False) -> None:
    """Write the file; an existing one is replaced only with ``force``."""
    refuse_overwrite(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(starter.text, encoding="utf-8")


def as_ref(value: str) -> Ref:
    """A course or quiz given on the command line: an id when it is all digits."""
    return int(value) if value.strip().isdigit() else value.strip()
