"""Pushing a plan to Moodle, recording every outcome in the ledger.

Each action is recorded ``planned`` before its call and ``applied``/``failed``
after. Idempotent writes (completion overrides, enrolments) are retried by the
client; a message is not idempotent, so after an ambiguous failure (or a
``planned`` row left by a killed run) the recipient's messages are read back
before anything is sent again.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from buyin.errors import (
    BuyinError,
    ConfigurationError,
    InvalidParameterError,
    MissingPermissionError,
    StateError,
    TransientError,
)
from buyin.model.ledger import Status
from buyin.moodle.client import MoodleClient
from buyin.moodle.pool import run_concurrently
from buyin.plan import Action, Plan
from buyin.state import State

log = logging.getLogger("buyin.push")

#: messages per core_message_send_instant_messages call (well below max_input_vars)
MESSAGE_BATCH = 50
ENROL_BATCH = 100
#: kinds that change what we cache of a learner (a message does not)
STATE_CHANGING = frozenset({"override", "enrol", "role_assign", "group_add"})


@dataclass
class PushResult:
    applied: list[Action] = field(default_factory=list)
    failed: list[tuple[Action, str]] = field(default_factory=list)
    skipped: list[tuple[Action, str]] = field(default_factory=list)
    #: users whose Moodle state this push changed (their cache must be refetched)
    touched: set[int] = field(default_factory=set)
    #: a configuration or contract error stopped the push part-way
    stopped_by: BuyinError | None = None
    #: waiting for an action they require (e.g. a message for an enrolment that failed)
    deferred: list[Action] = field(default_factory=list)


def client_message_id(key: str) -> str:
    return "buyin-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _plain(text: str) -> str:
    words = re.sub(r"<[^>]+>", " ", html.unescape(text))
    return re.sub(r"\W+", " ", words).strip().casefold()


class Pusher:
    def __init__(
        self,
        client: MoodleClient,
        state: State,
        run_id: int,
        now: int,
        *,
        agent_userid: int,
        concurrency: int = 4,
        previously_planned: Iterable[str] = (),
    ) -> None:
        self.client = client
        self.state = state
        self.run_id = run_id
        self.now = now
        self.agent_userid = agent_userid
        self.concurrency = concurrency
        self.previously_planned = set(previously_planned)
        self.result = PushResult()
        #: group idnumber -> id, for groups created (or found) during this push
        self.group_ids: dict[tuple[int, str], int] = {}

    # -- bookkeeping -------------------------------------------------------------

    def _planned(self, action: Action) -> None:
        self.state.record_planned(
            key=action.key,
            run_id=self.run_id,
            program=action.program,
            kind=action.kind,
            userid=action.userid,
            target=action.target,
            payload=dict(action.params),
            reason=dict(action.reason),
            now=self.now,
        )

    def _applied(self, action: Action, *, attempted: bool = True) -> None:
        self.state.mark(action.key, Status.APPLIED, self.now, attempted=attempted)
        self.result.applied.append(action)
        if action.kind in STATE_CHANGING:
            self.result.touched.add(action.userid)

    def _failed(self, action: Action, error: str) -> None:
        self.state.mark(action.key, Status.FAILED, self.now, error=error)
        self.result.failed.append((action, error))
        log.warning("%s failed: %s", action.key, error)

    # -- the push ----------------------------------------------------------------

    def push(self, plan: Plan) -> PushResult:
        for action, why in plan.satisfied:
            self._planned(action)
            self.state.mark(action.key, Status.SKIPPED, self.now, error=why, attempted=False)
            self.result.skipped.append((action, why))
        for action in plan.verified:
            self._applied(action, attempted=False)
        for action, why in plan.stale:
            self.state.mark(action.key, Status.SKIPPED, self.now, error=why, attempted=False)
            self.result.skipped.append((action, why))
        by_kind: dict[str, list[Action]] = {}
        for action in plan.actions:
            by_kind.setdefault(action.kind, []).append(action)
        try:
            # completion first: messages describe what was completed
            self._each(by_kind.pop("override", []), self._override)
            self._batched(by_kind.pop("enrol", []), ENROL_BATCH, self._enrol)
            self._batched(by_kind.pop("role_assign", []), ENROL_BATCH, self._assign_roles)
            self._batched(by_kind.pop("group_create", []), ENROL_BATCH, self._group_create)
            self._batched(by_kind.pop("group_add", []), ENROL_BATCH, self._group_add)
            self._batched(by_kind.pop("signoff_request", []), ENROL_BATCH, self._request_signoffs)
            self._batched(self._ready(by_kind.pop("message", [])), MESSAGE_BATCH, self._messages)
            for kind, actions in by_kind.items():
                for action in actions:
                    self._planned(action)
                    self._failed(action, f"no pusher for action kind {kind!r}")
        except (ConfigurationError, BuyinError) as exc:
            # unreachable: the next run resumes; an unusable state: nothing more may be pushed
            if isinstance(exc, TransientError | StateError):
                raise
            self.result.stopped_by = exc
        return self.result

    def _ready(self, actions: list[Action]) -> list[Action]:
        """Actions whose prerequisites are done; the others wait (unrecorded) for a later run.

        Done = applied; an override skipped because the activity was already complete
        counts too (what the message says is true). An enrolment skipped because the
        learner was already enrolled does not: we did not enrol them."""
        ready = []
        for action in actions:
            if all(self._done(key) for key in action.requires):
                ready.append(action)
            else:
                self.result.deferred.append(action)
        return ready

    def _done(self, key: str) -> bool:
        entry = self.state.entry(key)
        if entry is None:
            return False
        return entry.status == Status.APPLIED or (
            entry.status == Status.SKIPPED and entry.kind == "override"
        )

    def _each(self, actions: Sequence[Action], apply: Callable[[Action], None]) -> None:
        for action in actions:
            self._planned(action)
        jobs: dict[int, Callable[[], Any]] = {
            i: partial(self._guard, a, apply) for i, a in enumerate(actions)
        }
        run_concurrently(jobs, self.concurrency)

    def _guard(self, action: Action, apply: Callable[[Action], None]) -> None:
        try:
            apply(action)
        except TransientError as exc:
            self._failed(action, str(exc))
        except ConfigurationError:
            raise
        except BuyinError as exc:
            self._failed(action, str(exc))

    def _batched(
        self,
        actions: Sequence[Action],
        size: int,
        apply: Callable[[list[Action]], None],
    ) -> None:
        for start in range(0, len(actions), size):
            batch = list(actions[start : start + size])
            for action in batch:
                self._planned(action)
            try:
                apply(batch)
            except TransientError as exc:
                for action in batch:
                    if action.key not in {a.key for a in self.result.applied}:
                        self._failed(action, str(exc))
            except ConfigurationError as exc:
                done = {a.key for a in self.result.applied}
                for action in batch:
                    if action.key not in done:
                        self._failed(action, str(exc))
                raise
            except BuyinError as exc:
                for action in batch:
                    self._failed(action, str(exc))

    # -- per kind ----------------------------------------------------------------

    def _override(self, action: Action) -> None:
        answer = self.client.call(
            "core_completion_override_activity_completion_status",
            userid=action.userid,
            cmid=int(action.params["cmid"]),
            newstate=int(action.params.get("newstate", 1)),
        )
        if int(answer.get("state", 0)) == 0:
            self._failed(action, "Moodle kept the activity incomplete")
        else:
            self._applied(action)

    def _enrol(self, batch: list[Action]) -> None:
        enrolments = []
        for action in batch:
            p = action.params
            item = {"roleid": p["roleid"], "userid": action.userid, "courseid": p["courseid"]}
            if p.get("timestart"):
                item["timestart"] = p["timestart"]
            if p.get("timeend"):
                item["timeend"] = p["timeend"]
            enrolments.append(item)
        self.client.call("enrol_manual_enrol_users", enrolments=enrolments)
        for action in batch:
            self._applied(action)

    def _assign_roles(self, batch: list[Action]) -> None:
        try:
            self.client.call(
                "core_role_assign_roles",
                assignments=[
                    {
                        "roleid": int(a.params["roleid"]),
                        "userid": a.userid,
                        "contextlevel": "course",
                        "instanceid": int(a.params["courseid"]),
                    }
                    for a in batch
                ],
            )
        except InvalidParameterError:
            # Moodle's answer when the role is not assignable by the agent's role
            roles = sorted({int(a.params["roleid"]) for a in batch})
            raise MissingPermissionError(
                "core_role_assign_roles",
                f"the agent may not assign role {', '.join(map(str, roles))} in course "
                f"{batch[0].params['courseid']}",
                "Let the agent's role assign it: Site administration > Users > Permissions > "
                "Define roles > (agent's role) > Allow role assignments.",
            ) from None
        for action in batch:
            self._applied(action)

    def _group_create(self, batch: list[Action]) -> None:
        created = self.client.call(
            "core_group_create_groups",
            groups=[
                {
                    "courseid": int(a.params["courseid"]),
                    "name": str(a.params["name"]),
                    "description": "Kept by moodle-buyin: a manager and their reports",
                    "idnumber": str(a.params["idnumber"]),
                }
                for a in batch
            ],
        )
        for group in created or []:
            self.group_ids[(int(group["courseid"]), str(group.get("idnumber") or ""))] = int(
                group["id"]
            )
        for action in batch:
            self._applied(action)

    def _group_id(self, courseid: int, idnumber: str) -> int | None:
        if (courseid, idnumber) not in self.group_ids:
            for group in self.client.call("core_group_get_course_groups", courseid=courseid):
                if group.get("idnumber"):
                    self.group_ids[(courseid, str(group["idnumber"]))] = int(group["id"])
        return self.group_ids.get((courseid, idnumber))

    def _group_add(self, batch: list[Action]) -> None:
        members = []
        ready = []
        for action in batch:
            groupid = int(action.params.get("groupid") or 0) or self._group_id(
                int(action.params["courseid"]), str(action.params["idnumber"])
            )
            if groupid is None:
                self._failed(action, f"group {action.params['idnumber']} does not exist")
                continue
            members.append({"groupid": groupid, "userid": action.userid})
            ready.append(action)
        if members:
            self.client.call("core_group_add_group_members", members=members)
        for action in ready:
            self._applied(action)

    def _request_signoffs(self, batch: list[Action]) -> None:
        """Upsert sign-off requests in local_buyin (idempotent on course and learner)."""
        answer = self.client.call(
            "local_buyin_request_signoffs",
            requests=[
                {
                    "courseid": int(a.params["courseid"]),
                    "userid": a.userid,
                    "managerid": int(a.params["managerid"]),
                }
                for a in batch
            ],
        )
        stored = {(int(r["userid"]), int(r["managerid"])) for r in answer.get("requests") or []}
        warnings = {
            int(w.get("itemid") or 0): str(w.get("message")) for w in answer.get("warnings") or []
        }
        for action in batch:
            if (action.userid, int(action.params["managerid"])) in stored:
                self._applied(action)
            else:
                self._failed(action, warnings.get(action.userid, "local_buyin did not store it"))

    def _delivered(self, actions: list[Action]) -> set[str]:
        """Keys of messages Moodle already holds (read back from the recipients' messages)."""
        found: set[str] = set()
        for userid in sorted({int(a.params["touserid"]) for a in actions}):
            answer = self.client.call(
                "core_message_get_messages",
                useridto=userid,
                useridfrom=self.agent_userid,
                type="conversations",
                read=2,  # read and unread
                newestfirst=1,
                limitfrom=0,
                limitnum=50,
            )
            texts = {
                _plain(str(m.get("text") or m.get("fullmessage") or ""))
                for m in answer.get("messages") or []
            }
            for action in actions:
                if (
                    int(action.params["touserid"]) == userid
                    and _plain(str(action.params["text"])) in texts
                ):
                    found.add(action.key)
        return found

    def _messages(self, batch: list[Action]) -> None:
        """Send a batch; never twice: after any doubt, read the recipients' messages first.

        A message is not idempotent, so the client does not retry it blindly. Doubt
        comes from a run that died after planning it, or from an ambiguous failure
        (timeout, HTTP 5xx) that may have happened after Moodle stored it.
        """
        doubtful = [a for a in batch if a.key in self.previously_planned]
        for attempt in range(self.client.retries):
            if doubtful:
                delivered = self._delivered(doubtful)
                for action in doubtful:
                    if action.key in delivered:
                        self._applied(action, attempted=attempt > 0)
                batch = [a for a in batch if a.key not in delivered]
            if not batch:
                return
            try:
                self._send(batch)
                return
            except TransientError as exc:
                if attempt + 1 >= self.client.retries:
                    raise
                log.warning("message batch failed ambiguously (%s); verifying", exc)
                self.client.metrics.count("core_message_send_instant_messages", retry=True)
                self.client.sleep(min(2.0**attempt, 30.0))
                doubtful = batch

    def _send(self, batch: list[Action]) -> None:
        messages = [
            {
                "touserid": int(a.params["touserid"]),
                "text": str(a.params["text"]),
                "textformat": 1,
                "clientmsgid": client_message_id(a.key),
            }
            for a in batch
        ]
        answer = self.client.call(
            "core_message_send_instant_messages", idempotent=False, messages=messages
        )
        by_client_id = {str(m.get("clientmsgid")): m for m in answer or []}
        for action in batch:
            sent = by_client_id.get(client_message_id(action.key))
            if sent is None:
                self._failed(action, "Moodle did not acknowledge the message")
            elif int(sent.get("msgid", -1)) == -1:
                self._failed(action, str(sent.get("errormessage") or "message refused"))
            else:
                self._applied(action)
