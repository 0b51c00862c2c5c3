"""One refusal must not stop a programme (issue 16).

Moodle's batch write functions are all-or-nothing: one refused item refuses the
call. The pusher splits a refused batch until each refused item stands alone and
applies the rest in the same run; each action gets its own outcome.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from buyin.cli import main
from buyin.config import Secret, Settings
from buyin.errors import TransientError
from buyin.model.actions import (
    Action,
    EnrolParams,
    GroupAddParams,
    Kind,
    MessageParams,
    OverrideParams,
    Params,
    RoleAssignParams,
)
from buyin.model.ledger import Status
from buyin.moodle.client import MoodleClient
from buyin.plan import Plan
from buyin.push import Pusher, PushResult
from buyin.simulator import SimulatedMoodle, generate_scenario
from buyin.state import State
from buyin.sync import Syncer, SyncReport
from support import Clock, news_since

STUDENT, SIGNOFF = 5, 10
CC101, CC201 = 2, 3
AGENT = 3


@pytest.fixture
def push(settings: Settings, clock: Clock) -> Iterator[Any]:
    states: list[State] = []

    def _push(
        *actions: Action, concurrency: int = 4, plan: Plan | None = None
    ) -> tuple[PushResult, State]:
        state = State(settings.state_path)
        states.append(state)
        client = MoodleClient.from_settings(settings, sleep=lambda _s: None)
        pusher = Pusher(
            client,
            state,
            state.start_run("sync", clock()),
            clock(),
            agent_userid=AGENT,
            concurrency=concurrency,
        )
        return pusher.push(plan or Plan(program="cc101", actions=list(actions))), state

    yield _push
    for state in states:
        state.close()


def action(kind: Kind, key: str, userid: int, params: Params, *requires: str) -> Action:
    return Action(key, kind, "cc101", userid, f"user {userid}", params, requires=requires)


def enrol(userid: int, roleid: int, course: int = CC201) -> Action:
    return action(
        Kind.ENROL, f"enrol:u{userid}:c{course}:r{roleid}", userid, EnrolParams(course, roleid)
    )


def failures(result: PushResult) -> dict[str, str]:
    return {a.key: why for a, why in result.failed}


def test_enrolments_one_refused_among_good_ones(site: SimulatedMoodle, push: Any) -> None:
    site.assignable_roles.discard(SIGNOFF)
    batch = [enrol(9, STUDENT), enrol(10, STUDENT), enrol(5, SIGNOFF), enrol(11, STUDENT)]
    result, state = push(*batch)
    assert {u for u in (9, 10, 11, 5) if site.enrolment(u, CC201)} == {9, 10, 11}
    assert sorted(a.key for a in result.applied) == sorted(a.key for a in batch if a.userid != 5)
    refused = failures(result)
    assert list(refused) == [f"enrol:u5:c{CC201}:r{SIGNOFF}"]
    assert "assign this role (10) to this user (5)" in refused[f"enrol:u5:c{CC201}:r{SIGNOFF}"]
    assert "Allow role assignments" in refused[f"enrol:u5:c{CC201}:r{SIGNOFF}"]
    assert result.stopped_by is None
    assert state.entry(f"enrol:u9:c{CC201}:r{STUDENT}").status == Status.APPLIED  # type: ignore[union-attr]


def test_role_assignments_one_refused_among_good_ones(site: SimulatedMoodle, push: Any) -> None:
    site.assignable_roles.discard(SIGNOFF)
    batch = [
        action(Kind.ROLE_ASSIGN, f"role:u{u}:c{CC101}:r{r}", u, RoleAssignParams(CC101, r))
        for u, r in ((9, 1), (10, SIGNOFF), (11, 1))
    ]
    site.assignable_roles.add(1)
    result, _ = push(*batch)
    roles = {u: site.enrolment(u, CC101).roleids for u in (9, 10, 11)}  # type: ignore[union-attr]
    assert 1 in roles[9] and 1 in roles[11] and SIGNOFF not in roles[10]
    refused = failures(result)
    assert list(refused) == [f"role:u10:c{CC101}:r{SIGNOFF}"]
    assert "may not assign role 10" in refused[f"role:u10:c{CC101}:r{SIGNOFF}"]


def test_group_members_one_refused_among_good_ones(site: SimulatedMoodle, push: Any) -> None:
    group = site.state.groups[2]
    not_enrolled = 2  # the admin is not in the course: Moodle refuses them as a member
    batch = [
        action(Kind.GROUP_ADD, f"group-add:u{u}", u, GroupAddParams(CC101, "", groupid=group.id))
        for u in (9, not_enrolled, 10)
    ]
    result, _ = push(*batch)
    assert {9, 10} <= set(site.state.groups[2].members)
    assert not_enrolled not in site.state.groups[2].members
    refused = failures(result)
    assert list(refused) == [f"group-add:u{not_enrolled}"]
    assert "invalidparameter" in refused[f"group-add:u{not_enrolled}"]


def test_a_refused_prerequisite_holds_back_only_what_requires_it(
    site: SimulatedMoodle, push: Any
) -> None:
    site.assignable_roles.discard(SIGNOFF)
    refused, good = enrol(5, SIGNOFF), enrol(9, STUDENT)
    waits = action(
        Kind.MESSAGE,
        "message:a",
        5,
        MessageParams(
            touserid=5, template="test", data={}, summary="a", text="<p>you may sign</p>"
        ),
        refused.key,
    )
    goes = action(
        Kind.MESSAGE,
        "message:b",
        9,
        MessageParams(
            touserid=9, template="test", data={}, summary="b", text="<p>the refresher is open</p>"
        ),
        good.key,
    )
    result, _ = push(refused, good, waits, goes)
    assert [a.key for a in result.deferred] == ["message:a"]
    assert [m.text for m in site.messages_to(9)] == ["<p>the refresher is open</p>"]
    assert site.messages_to(5) == [] or all("sign" not in m.text for m in site.messages_to(5))


def test_a_message_waits_for_what_moodle_holds_whoever_made_it_so(
    site: SimulatedMoodle, push: Any
) -> None:
    # the enrolment is applied, but every answer is lost: the ledger says failed
    site.faults.queue("enrol_manual_enrol_users", "http503", 10, when="after")
    needed = enrol(9, STUDENT)
    text = "<p>Your refresher is open</p>"
    message = action(
        Kind.MESSAGE,
        "message:open",
        9,
        MessageParams(touserid=9, template="test", data={}, summary="open", text=text),
        needed.key,
    )
    first, _ = push(needed, message)
    assert [a.key for a, _ in first.failed] == [needed.key]  # its retries were spent
    # a temporary failure past the retries stops the push (exit 75): nothing more is tried
    assert isinstance(first.stopped_by, TransientError)
    assert first.deferred == [] and site.messages_to(9) == []
    assert site.enrolment(9, CC201) is not None
    site.faults.clear()
    # the next run finds the enrolment in Moodle (already true): the message goes out
    plan = Plan(program="cc101", satisfied=[(needed, "already enrolled")], actions=[message])
    result, state = push(plan=plan)
    assert not result.failed and result.deferred == []
    assert [m.text for m in site.messages_to(9)].count(text) == 1
    assert state.entry("message:open").status == Status.APPLIED  # type: ignore[union-attr]


# -- one learner's overrides never in flight together ------------------------------------------


def test_the_simulated_site_answers_a_same_learner_collision_like_moodle(
    site: SimulatedMoodle,
) -> None:
    site.collide_same_learner = True
    learner, first_cm, second_cm = next(
        (u, *open_[:2])
        for u in range(9, 33)
        if len(
            open_ := [
                cm
                for cm, a in sorted(site.state.activities.items())
                if a.course == CC101 and a.completion and site.activity_state(u, cm) == 0
            ]
        )
        >= 2
    )
    body = (
        "wstoken={t}&wsfunction=core_completion_override_activity_completion_status"
        "&moodlewsrestformat=json&userid={u}&cmid={cm}&newstate=1"
    )
    answers: list[str] = []

    def second_call_meanwhile(_seconds: float) -> None:
        # the first call is still in flight (its latency) when a second one for the learner comes
        if not answers:
            answers.append(site.handle(body.format(t=site.token, u=learner, cm=second_cm))[2])

    site.faults.latency_ms = 1
    site.faults.sleep = second_call_meanwhile
    first = site.handle(body.format(t=site.token, u=learner, cm=first_cm))[2]
    assert '"errorcode":"dmlwriteexception"' in answers[0]
    assert "Error writing to database" in answers[0]
    assert '"state":1' in first
    assert site.collisions == 1
    assert site.activity_state(learner, second_cm) == 0  # rolled back: nothing of it applied


def test_one_learners_overrides_never_collide_at_concurrency_8(
    site: SimulatedMoodle, push: Any
) -> None:
    site.collide_same_learner = True
    site.faults.latency_ms = 1  # calls overlap as on a real site
    site.faults.sleep = time.sleep
    learners, cmids = range(9, 25), (2, 3, 4, 7, 8)
    overrides = [
        action(Kind.OVERRIDE, f"override:u{u}:cm{cm}", u, OverrideParams(cm))
        for u in learners
        for cm in cmids
        if site.activity_state(u, cm) == 0
    ]
    assert overrides
    result, _ = push(*overrides, concurrency=8)
    assert site.peak_writing >= 2  # different learners' overrides did run at once
    assert site.collisions == 0
    assert not result.failed
    assert all(
        site.activity_state(a.userid, a.params.cmid) == 1
        for a in overrides
        if isinstance(a.params, OverrideParams)
    )


# -- the simulated 600-learner course -------------------------------------------------------


@pytest.mark.slow
def test_600_learners_with_the_approvers_enrolment_refused(
    tmp_path: Path, mapping_dir: Path, clock: Clock
) -> None:
    """Issue 16's course: 20 managers, mgr1 the fallback approver not enrolled, the agent's
    role not allowed to assign the sign-off role, the same-learner collision on."""
    scenario = generate_scenario(
        learners=600, managers=20, approver_enrolled=False, now=clock() - 3600
    )
    site = SimulatedMoodle(scenario, clock=clock)
    site.assignable_roles.discard(SIGNOFF)
    site.collide_same_learner = True
    news_since(mapping_dir)  # the completions are news: the refresher enrolments are due
    mgr1 = next(u.id for u in site.state.users.values() if u.username == "mgr1")
    refused_key = f"enrol:u{mgr1}:c{CC101}:r{SIGNOFF}"
    settings = Settings(
        url=site.url,
        token=Secret(site.token),
        state_path=tmp_path / "state.sqlite",
        mapping_dir=mapping_dir,
        concurrency=8,
        retry_failed_runs=3,
    )

    def sync() -> SyncReport:
        session = requests.Session()
        session.mount(site.url, site.adapter())
        client = MoodleClient.from_settings(settings, session=session, sleep=lambda _s: None)
        state = State(settings.state_path)
        try:
            return Syncer(settings, client, state, clock=clock).run()
        finally:
            state.close()

    first = sync()
    assert first.exit_code == 1
    (outcome,) = first.outcomes
    assert outcome.pushed is not None and outcome.plan is not None
    assert [a.key for a, _ in outcome.pushed.failed] == [refused_key]
    applied = {a.key for a in outcome.pushed.applied}
    planned = {a.key for a in outcome.plan.actions}
    assert applied == planned - {refused_key}  # every other action: messages, overrides, ...
    kinds = {a.kind for a in outcome.pushed.applied}
    assert {Kind.OVERRIDE, Kind.MESSAGE, Kind.ENROL} <= kinds
    refreshers = [a for a in outcome.pushed.applied if a.kind == Kind.ENROL]
    assert refreshers and all(site.enrolment(a.userid, CC201) for a in refreshers)
    assert site.collisions == 0
    assert site.enrolment(mgr1, CC101) is None

    status = CliRunner().invoke(
        main, ["--state", str(settings.state_path), "--mappings", str(mapping_dir), "status"]
    )
    assert refused_key in status.output
    assert "Allow role assignments" in status.output

    clock.advance(hours=1)
    second = sync()
    (outcome,) = second.outcomes
    assert [a.key for a in outcome.plan.actions] == [refused_key]  # type: ignore[union-attr]
    assert second.exit_code == 1

    clock.advance(hours=1)
    assert sync().exit_code == 1  # the third refusal
    status = CliRunner().invoke(
        main, ["--state", str(settings.state_path), "--mappings", str(mapping_dir), "status"]
    )
    assert "stuck actions (failed on consecutive runs): 1" in status.output
    assert f"buyin retry --program cc101 {refused_key}" in status.output

    clock.advance(hours=1)
    quiet = sync()
    (outcome,) = quiet.outcomes
    assert outcome.plan is not None and outcome.plan.actions == []
    assert [a.key for a in outcome.plan.given_up] == [refused_key]
    assert site.calls_of("enrol_manual_enrol_users")[-1]["enrolments"][0]["userid"] == mgr1

    # the admin lets the agent assign the role; `buyin retry` says so
    site.assignable_roles.add(SIGNOFF)
    retried = CliRunner().invoke(
        main,
        ["--state", str(settings.state_path), "--mappings", str(mapping_dir), "retry", refused_key],
    )
    assert retried.exit_code == 0 and f"will retry {refused_key}" in retried.output
    clock.advance(hours=1)
    assert sync().exit_code == 0
    assert SIGNOFF in site.enrolment(mgr1, CC101).roleids  # type: ignore[union-attr]
