"""The scenario of the shared Moodle lab (tests/fixtures/moodle/scenario.json),
rebuilt from rules plus one row per learner, and procedurally extended for
larger cohorts.

``generate_scenario()`` with the default 24 learners reproduces the lab's data
exactly; every time is shifted by ``now - GENERATED_AT`` so the demo works at any
date.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from . import logic
from .model import (
    ROLE_MANAGER,
    ROLE_SIGNOFF,
    ROLE_STUDENT,
    Activity,
    ActivityCompletion,
    ActivityCriterion,
    Attempt,
    Attempts,
    Category,
    Cohort,
    CompletionCriteria,
    Course,
    Enrolment,
    Group,
    ProfileField,
    Quiz,
    QuizGradeItem,
    QuizSlot,
    Role,
    RoleCriterion,
    Scenario,
    Section,
    Signoff,
    User,
)
from .poll_seed import seed_poll

#: the lab scenario's generated_at (2026-11-23T00:08:34Z); seeded times are relative to it
GENERATED_AT = 1795392514
DAY = 86400

AGENT_USERID = 3
TOPICS = ("Listening", "Questioning", "Objections", "Closing")

MANAGERS: list[tuple[str, str]] = [
    ("Dana", "Whitfield"),
    ("Omar", "Haddad"),
    ("Priya", "Natarajan"),
    ("Lukas", "Becker"),
]
#: mgr2 reports to mgr1
MANAGER_OF_MANAGER: dict[int, int] = {2: 1}

#: per learner: first name, last name, manager number,
#: attempts (timestart, timefinish or None while in progress, per-slot marks; "-" = unanswered),
#: CC101 activity completions (cmid, time), sign-off time (by the learner's manager) or None
LEARNERS: list[
    tuple[str, str, int, list[tuple[int, int | None, str]], list[tuple[int, int]], int | None]
] = [
    (
        "Aisha",
        "Bello",
        1,
        [(1790468314, 1790468944, "11111100")],
        [
            (1, 1790672914),
            (2, 1790857810),
            (3, 1791043570),
            (4, 1791228466),
            (5, 1791413362),
            (6, 1791598258),
            (7, 1791784018),
            (8, 1791968914),
        ],
        1792418914,
    ),
    (
        "Ben",
        "Carter",
        1,
        [(1790555314, 1790555974, "11011101")],
        [
            (1, 1791536914),
            (2, 1791845362),
            (3, 1792153810),
            (4, 1792462258),
            (5, 1792771570),
            (6, 1793080018),
            (7, 1793388466),
            (8, 1793696914),
        ],
        None,
    ),
    (
        "Chloe",
        "Dubois",
        1,
        [(1790383114, 1790383804, "01000100"), (1790728714, 1790729404, "11110110")],
        [(1, 1791104914), (2, 1791191314), (3, 1791968914), (4, 1792055314)],
        None,
    ),
    ("Daniel", "Evans", 1, [(1790470114, 1790470834, "00000000")], [(1, 1790932114)], None),
    (
        "Elena",
        "Fischer",
        1,
        [(1790557114, 1790557864, "11000110")],
        [(1, 1791536914), (2, 1791536914), (3, 1792832914), (5, 1793610514), (7, 1794560914)],
        None,
    ),
    ("Farid", "Ghani", 1, [(1790384914, 1790385694, "10011001")], [], None),
    (
        "Grace",
        "Hughes",
        2,
        [(1790471914, 1790472724, "11111111")],
        [
            (1, 1791968914),
            (2, 1792314514),
            (3, 1792660114),
            (4, 1793005714),
            (5, 1793351314),
            (6, 1793696914),
            (7, 1794042514),
            (8, 1794388114),
        ],
        1794751714,
    ),
    (
        "Hiro",
        "Ito",
        2,
        [(1790558914, 1790559754, "00010000")],
        [
            (1, 1791968914),
            (2, 1792314514),
            (3, 1792660114),
            (4, 1793005714),
            (5, 1793351314),
            (6, 1793696914),
            (7, 1794042514),
            (8, 1794388114),
        ],
        None,
    ),
    (
        "Isla",
        "Jensen",
        2,
        [(1790386714, 1790387584, "00000100"), (1790732314, 1790733184, "01110011")],
        [
            (1, 1791623314),
            (2, 1791709714),
            (3, 1792400914),
            (4, 1792400914),
            (5, 1793696914),
            (6, 1793783314),
        ],
        None,
    ),
    ("Jonas", "Keller", 2, [(1790473714, 1790474614, "00110000")], [(3, 1794128914)], None),
    ("Kemi", "Lawal", 2, [(1790560714, 1790561644, "11110011")], [], None),
    ("Liam", "Murphy", 2, [(1790388514, 1790389474, "00000000")], [], None),
    (
        "Maya",
        "Novak",
        3,
        [(1790475514, 1790476504, "01111110")],
        [
            (1, 1792832914),
            (2, 1793129266),
            (3, 1793425618),
            (4, 1793721970),
            (5, 1794017458),
            (6, 1794313810),
            (7, 1794610162),
            (8, 1794906514),
        ],
        None,
    ),
    (
        "Noah",
        "Okafor",
        3,
        [(1790562514, 1790563534, "11000000")],
        [(1, 1792573714), (2, 1792573714), (3, 1794647314)],
        None,
    ),
    ("Olivia", "Petrov", 3, [(1790390314, 1790391364, "01000100")], [], None),
    ("Pablo", "Quintero", 3, [(1790477314, 1790478394, "00001111")], [], None),
    ("Qian", "Ruan", 3, [(1795133314, None, "101-----")], [], None),
    ("Rosa", "Silva", 3, [], [], None),
    (
        "Sam",
        "Taylor",
        4,
        [],
        [
            (1, 1793696914),
            (2, 1793918962),
            (3, 1794141010),
            (4, 1794363058),
            (5, 1794585970),
            (6, 1794808018),
            (7, 1795030066),
            (8, 1795252114),
        ],
        None,
    ),
    (
        "Tara",
        "Underwood",
        4,
        [],
        [(1, 1793264914), (3, 1793869714), (5, 1794474514), (7, 1795079314)],
        None,
    ),
    (
        "Umar",
        "Vance",
        4,
        [],
        [
            (1, 1792314514),
            (2, 1792697266),
            (3, 1793080018),
            (4, 1793462770),
            (5, 1793844658),
            (6, 1794227410),
            (7, 1794610162),
        ],
        None,
    ),
    ("Vera", "Wolff", 4, [], [], None),
    ("Will", "Xu", 4, [], [], None),
    ("Yara", "Zaman", 4, [], [], None),
]

#: LEAD100 activity completions of the managers (manager number -> [(cmid, time)])
LEAD100_PROGRESS: dict[int, list[tuple[int, int]]] = {
    1: [(12, 1793664514), (13, 1793837314)],
    2: [(12, 1794528514)],
}

LEARNERS_ENROLLED_AT = GENERATED_AT - 60 * DAY
MANAGERS_ENROLLED_AT = GENERATED_AT - 75 * DAY
COURSE_START = GENERATED_AT - 90 * DAY
#: site objects were created one second after generated_at, quiz attempts graded two seconds after
SITE_CREATED = GENERATED_AT + 1
SITE_GRADED = GENERATED_AT + 2

PAGE_QUESTIONS: list[tuple[str, str]] = [
    ("truefalse", "L1 Paraphrasing"),
    ("multichoice", "L2 Frustrated caller"),
    ("truefalse", "Q1 Closed questions"),
    ("multichoice", "Q2 Open question"),
    ("truefalse", "O1 Acknowledge first"),
    ("multichoice", "O2 Price objection"),
    ("truefalse", "C1 Summarise next steps"),
    ("multichoice", "C2 Strong close"),
]

FIRST_NAMES = [
    "Ada",
    "Bruno",
    "Carmen",
    "Dev",
    "Esme",
    "Felix",
    "Gita",
    "Hugo",
    "Ines",
    "Jamal",
    "Kira",
    "Leon",
    "Mina",
    "Nico",
    "Oona",
    "Pavel",
    "Rhea",
    "Soren",
    "Tomas",
    "Uma",
    "Vikram",
    "Wren",
    "Xena",
    "Yusuf",
    "Zoe",
    "Aran",
    "Bea",
    "Cyrus",
    "Dalia",
    "Emil",
]
LAST_NAMES = [
    "Adams",
    "Brooks",
    "Costa",
    "Diaz",
    "Ekwueme",
    "Fraser",
    "Garcia",
    "Hall",
    "Iqbal",
    "Jones",
    "Kowalski",
    "Lopez",
    "Meyer",
    "Nguyen",
    "Owens",
    "Patel",
    "Quinn",
    "Rossi",
    "Sato",
    "Tanaka",
    "Ueda",
    "Varga",
    "Walsh",
    "Yilmaz",
    "Zhou",
]


def generate_scenario(
    *,
    learners: int = 24,
    seed: int = 0,
    now: int | None = None,
    managers: int | None = None,
    approver_enrolled: bool = True,
) -> Scenario:
    """The lab's site: CC101 / CC201 / LEAD100, managers, learners and their history.

    ``learners=24`` reproduces tests/fixtures/moodle/scenario.json exactly (times
    shifted by ``now - GENERATED_AT``); more learners are added procedurally with a
    seeded RNG, copying the progress patterns of the 24, one manager per 6 learners.
    ``managers`` spreads the learners over that many managers instead, mgr1 (the
    mapping's fallback approver) the skip-level manager of the first half of them.
    ``approver_enrolled=False`` leaves mgr1 out of CC101 (the course the
    sign-off role is held in), as on a site where someone must enrol them.
    """
    if learners < 0:
        raise ValueError("learners must be >= 0")
    if managers is not None and managers < 1:
        raise ValueError("managers must be >= 1")
    per_manager = 6 if managers is None else max(1, -(-learners // managers))
    now = GENERATED_AT if now is None else int(now)
    shift = now - GENERATED_AT
    rng = random.Random(seed)

    def t(value: int) -> int:
        return value + shift

    state = Scenario(
        now=now,
        site_name="Lab",
        release="5.1+ (Build: 20251017)",
        version="2025100600.02",
        agent_userid=AGENT_USERID,
        users={},
        roles={
            ROLE_MANAGER: Role(ROLE_MANAGER, "manager", ""),
            ROLE_STUDENT: Role(ROLE_STUDENT, "student", ""),
            9: Role(9, "buyin_ws", "Buy-in web service"),
            ROLE_SIGNOFF: Role(ROLE_SIGNOFF, "signoff", "Sign-off manager"),
        },
        profile_fields=[ProfileField(1, "manager", "Manager (username)")],
        categories={2: Category(2, "Customer Service Academy")},
        courses={},
        sections=[],
        activities={},
        quizzes={},
        attempts=Attempts(),
        enrolments={},
        activity_completions={},
        signoffs={},
        course_completions={},
        lastcourseaccess={},
        course_grade_times={},
        groups={},
        cohorts={},
        next_ids={"conversation": 29, "message": 1},
    )
    _site_users(state)
    _courses(state, t)

    # managers and learners ------------------------------------------------------
    total_managers = max(4, -(-learners // per_manager))
    manager_ids: dict[int, int] = {}
    next_userid = 5
    for number in range(1, 5):
        manager_ids[number] = next_userid
        next_userid += 1
    learner_ids: list[int] = []
    for _ in range(min(learners, 24)):
        learner_ids.append(next_userid)
        next_userid += 1
    next_userid = 33
    for n in range(25, learners + 1):
        number = (n - 1) // per_manager + 1
        if number not in manager_ids:
            manager_ids[number] = next_userid
            next_userid += 1
        learner_ids.append(next_userid)
        next_userid += 1
    for number in range(5, total_managers + 1):
        if number not in manager_ids:
            manager_ids[number] = next_userid
            next_userid += 1

    for number, userid in sorted(manager_ids.items()):
        if number <= 4:
            first, last = MANAGERS[number - 1]
            boss = MANAGER_OF_MANAGER.get(number)
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            boss = number // 2
        if managers is not None and 1 < number <= max(2, total_managers // 2):
            boss = 1
        _add_person(
            state,
            userid,
            f"mgr{number}",
            first,
            last,
            f"MGR{number}",
            f"mgr{boss}" if boss else None,
        )
        if approver_enrolled or number != 1:
            state.enrolments[(userid, 2)] = Enrolment(
                userid, 2, [ROLE_SIGNOFF], t(LEARNERS_ENROLLED_AT), 0, 0, t(LEARNERS_ENROLLED_AT)
            )
        state.enrolments[(userid, 4)] = Enrolment(
            userid, 4, [ROLE_STUDENT], t(MANAGERS_ENROLLED_AT), 0, 0, t(MANAGERS_ENROLLED_AT)
        )
        groupid = len(state.groups) + 1
        state.groups[groupid] = Group(
            groupid,
            2,
            f"Team {first} {last}",
            f"Learners reporting to mgr{number}",
            idnumber=f"team-mgr{number}",
            descriptionformat=0,
        )
        for cmid, when in LEAD100_PROGRESS.get(number, []):
            state.activity_completions[(userid, cmid)] = ActivityCompletion(1, t(when))

    next_attemptid = 1
    for index, userid in enumerate(learner_ids):
        n = index + 1
        number = (n - 1) // per_manager + 1
        if n <= 24:
            first, last, _mgr, attempts, progress, signoff = LEARNERS[index]
            delta = 0
        else:
            template = LEARNERS[rng.randrange(24)]
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            _f, _l, _mgr, attempts, progress, signoff = template
            delta = -rng.randrange(0, 5 * DAY)
        username = f"learner{n:02d}"
        _add_person(state, userid, username, first, last, f"EMP{1000 + n}", f"mgr{number}")
        state.enrolments[(userid, 2)] = Enrolment(
            userid, 2, [ROLE_STUDENT], t(LEARNERS_ENROLLED_AT), 0, 0, t(LEARNERS_ENROLLED_AT)
        )
        state.groups[number].members.append(userid)
        quiz = state.quizzes[1]
        for number_of_attempt, (start, finish, marks) in enumerate(attempts, start=1):
            slot_marks = {i + 1: float(c) for i, c in enumerate(marks) if c != "-"}
            finished = finish is not None
            state.attempts[next_attemptid] = Attempt(
                id=next_attemptid,
                quiz=1,
                userid=userid,
                attempt=number_of_attempt,
                uniqueid=next_attemptid,
                state="finished" if finished else "inprogress",
                timestart=t(start + delta),
                timefinish=t(finish + delta) if finish is not None else 0,
                timemodified=t((finish if finish is not None else start) + delta),
                marks=slot_marks,
                gradednotificationsenttime=t(SITE_GRADED) if finished else None,
            )
            next_attemptid += 1
        if logic.quiz_grade(state, quiz, userid) is not None:
            logic.update_quiz_completion(state, quiz, userid)
            state.course_grade_times[(userid, 2)] = t(SITE_GRADED)
        for cmid, when in progress:
            state.activity_completions[(userid, cmid)] = ActivityCompletion(1, t(when + delta))
        if signoff is not None:
            state.signoffs[(userid, 2)] = Signoff(manager_ids[number], t(signoff + delta))

    state.next_ids["attempt"] = next_attemptid
    state.next_ids["group"] = len(state.groups) + 1
    state.next_ids["user"] = next_userid
    state.cohorts[1] = Cohort(
        1, "cs-frontline", "Customer Service \u2014 front line", list(learner_ids)
    )
    managers_cohort = [manager_ids[n] for n in (4, 2, 3, 1)] + [
        manager_ids[n] for n in sorted(manager_ids) if n > 4
    ]
    state.cohorts[2] = Cohort(2, "people-managers", "People managers", managers_cohort)

    # Moodle's completion cron ran after the data was loaded.
    for userid, courseid in list(state.enrolments):
        logic.aggregate_course(state, userid, courseid)
    return state


def _site_users(state: Scenario) -> None:
    state.users[2] = User(2, "admin", "Admin", "User", "admin@example.com")
    state.users[AGENT_USERID] = User(
        AGENT_USERID, "buyin_agent", "Buy-in", "Agent", "buyin_agent@example.com"
    )


def _add_person(
    state: Scenario,
    userid: int,
    username: str,
    first: str,
    last: str,
    idnumber: str,
    manager: str | None,
) -> None:
    state.users[userid] = User(
        id=userid,
        username=username,
        firstname=first,
        lastname=last,
        email=f"{username}@example.com",
        idnumber=idnumber,
        department="Customer Service",
        institution="Acme Telecom",
        city="Leeds",
        country="GB",
        profile={"manager": manager} if manager else {},
    )


def _courses(state: Scenario, shift: Callable[[int], int]) -> None:

    def course(
        cid: int,
        short: str,
        full: str,
        summary: str,
        sortorder: int,
        context: int,
        cacherev: int,
        gradecat: int,
        item: int,
    ) -> Course:
        return Course(
            id=cid,
            shortname=short,
            fullname=full,
            idnumber=short,
            category=2,
            summary=summary,
            sortorder=sortorder,
            startdate=shift(COURSE_START),
            contextid=context,
            timecreated=shift(SITE_CREATED),
            cacherev=shift(cacherev),
            gradecategoryid=gradecat,
            courseitemid=item,
        )

    cc101 = course(
        2,
        "CC101",
        "Customer Conversations",
        "Core skills for customer conversations: listening, questioning, handling objections and closing.",
        20003,
        42,
        GENERATED_AT + 37,
        1,
        1,
    )
    cc101.completion = CompletionCriteria(
        activities=[ActivityCriterion(i, i) for i in range(1, 9)],
        role=RoleCriterion(9, ROLE_SIGNOFF),
    )
    cc201 = course(
        3,
        "CC201",
        "Customer Conversations \u2014 30-day refresher",
        "Short refresher taken about 30 days after completing CC101.",
        20002,
        43,
        GENERATED_AT + 10,
        2,
        3,
    )
    cc201.completion = CompletionCriteria(
        activities=[ActivityCriterion(10, 10), ActivityCriterion(11, 11)]
    )
    lead = course(
        4,
        "LEAD100",
        "Coaching for managers",
        "How to coach and sign off your team's learning.",
        20001,
        44,
        GENERATED_AT + 12,
        3,
        5,
    )
    lead.completion = CompletionCriteria(
        activities=[ActivityCriterion(12, 12), ActivityCriterion(13, 13)]
    )
    for c in (cc101, cc201, lead):
        state.courses[c.id] = c

    state.sections += [Section(1, 2, 0, "General")]
    state.sections += [
        Section(i + 2, 2, i + 1, name, f"<p>Topic {i + 1}: {name}.</p>")
        for i, name in enumerate(TOPICS)
    ]
    state.sections += [
        Section(6, 3, 0, "General"),
        Section(7, 3, 1, "Refresher", "<p>Refresher.</p>"),
    ]
    state.sections += [
        Section(8, 4, 0, "General"),
        Section(9, 4, 1, "Coaching", "<p>Coaching your team.</p>"),
    ]

    names = [
        ("Why listening matters", "Listening toolkit (article)", "listening-toolkit"),
        ("Open and closed questions", "Question bank (article)", "question-bank"),
        ("Handling objections", "Objection playbook (article)", "objection-playbook"),
        ("Closing the conversation", "Closing checklist (article)", "closing-checklist"),
    ]
    for i, (page, url, slug) in enumerate(names):
        page_cm, url_cm = 2 * i + 1, 2 * i + 2
        state.activities[page_cm] = Activity(
            page_cm, 2, "page", i + 1, i + 1, page, 2, 44 + page_cm
        )
        state.activities[url_cm] = Activity(
            url_cm, 2, "url", i + 1, i + 1, url, 1, 44 + url_cm, f"https://example.com/cc/{slug}"
        )
    state.activities[9] = Activity(9, 2, "quiz", 1, 0, "CC101 Pre-check", 2, 53)
    state.activities[10] = Activity(
        10, 3, "page", 5, 1, "Refresher: the four skills in practice", 2, 54
    )
    state.activities[11] = Activity(11, 3, "quiz", 2, 1, "CC201 Refresher check", 2, 55)
    state.activities[12] = Activity(12, 4, "page", 6, 1, "Coaching conversations", 2, 56)
    state.activities[13] = Activity(13, 4, "page", 7, 1, "Signing off your team", 2, 57)
    seed_poll(state, shift)

    slots = [
        QuizSlot(i + 1, i // 2 + 1, 1.0, qtype, i + 1, name, TOPICS[i // 2])
        for i, (qtype, name) in enumerate(PAGE_QUESTIONS)
    ]
    state.quizzes[1] = Quiz(
        id=1,
        cmid=9,
        course=2,
        name="CC101 Pre-check",
        intro="Pre-assessment: 8 questions, 2 per topic. Results decide which topics you can fast-track.",
        grade=10,
        sumgrades=8,
        gradepass=6,
        attempts=2,
        grademethod=1,
        questionsperpage=2,
        slots=slots,
        grade_items=[
            QuizGradeItem(i + 1, name, [2 * i + 1, 2 * i + 2]) for i, name in enumerate(TOPICS)
        ],
        feedback=[
            (7.5, "<p>Strong start: you can fast-track the topics you aced.</p>"),
            (4, "<p>Some gaps: focus on the topics you did not ace.</p>"),
            (0, "<p>Plenty to learn: work through every topic.</p>"),
        ],
        idnumber="CC101-precheck",
        gradeitemid=2,
        user_attempt_overrides={12: 3},
    )
    state.quizzes[2] = Quiz(
        id=2,
        cmid=11,
        course=3,
        name="CC201 Refresher check",
        intro="Three quick questions.",
        grade=3,
        sumgrades=3,
        gradepass=2,
        attempts=0,
        grademethod=1,
        questionsperpage=0,
        slots=[
            QuizSlot(i + 1, 1, 1.0, "truefalse", 9 + i, f"R{i + 1} Refresher") for i in range(3)
        ],
        idnumber="CC201-check",
        gradeitemid=4,
    )
