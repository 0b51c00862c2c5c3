"""A stateful in-memory Moodle 5.1 answering the REST web-service protocol.

Every response is built from the shape of the corresponding real capture
(tests/fixtures/moodle/captures/), keys in the same order, values from state.

:class:`SimulatedMoodle` holds the site's state and configuration, its test
mutators and inspection; the functions it serves live one module per Moodle
component in :mod:`buyin.simulator.components`, behind :mod:`buyin.simulator.dispatch`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import BaseAdapter

from buyin.moodle.encoding import unflatten

from . import logic
from .components import feedback
from .components.enrol import unenrol
from .dispatch import HANDLERS, process
from .errors import collision_error
from .faults import DROPPED, Faults
from .functions import WRITE_FUNCTIONS, service_functions
from .model import (
    COMPLETION_COMPLETE,
    COMPLETION_INCOMPLETE,
    ENROL_ACTIVE,
    ActivityCompletion,
    Attempt,
    Enrolment,
    Message,
    Scenario,
    Signoff,
    canonical,
)
from .plugin import NOTIFY_FUNCTION, PLUGIN_FUNCTIONS, PluginState
from .render import error_answer
from .transport import SimulatedAdapter, fault_answer

OVERRIDE_FUNCTION = "core_completion_override_activity_completion_status"

if TYPE_CHECKING:
    import responses as responses_lib

__all__ = ["SimulatedAdapter", "SimulatedMoodle"]


class SimulatedMoodle:
    """The simulated site. ``handle()`` answers one REST request body.

    Each served function is also the site's method ``_fn_<wsfunction>`` (its handler
    from :data:`~buyin.simulator.dispatch.HANDLERS`, bound to the site): the
    dispatcher answers through it, so a test may call one or replace one site's.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        url: str = "https://moodle.example.test",
        token: str = "sim-token",
        clock: Callable[[], int] | None = None,
        shared: bool = False,
    ) -> None:
        #: a copy of the scenario, or (``shared``: a generated one nobody else reads, as
        #: the benchmark's 100,000 learners) the scenario itself
        self.state: Scenario = scenario if shared else copy.deepcopy(scenario)
        self.url = url.rstrip("/")
        self.token = token
        self.now = self.state.now
        self._clock = clock
        self.debug = False
        #: the buyin service, plus the quiz grading page the lab's service also held
        #: (optional for the agent: `buyin init` reads slots from it where granted)
        self.service_functions: set[str] = set(service_functions()) | {
            "mod_quiz_get_edit_grading_page_data"
        }
        #: role ids the agent's role may assign in courses
        self.assignable_roles: set[int] = {5, 10}
        self.denied_capabilities: dict[str, str] = {}
        #: userid -> when their account or an enrolment last changed after seeding
        #: (Moodle's user.timemodified / user_enrolments.timemodified; local_buyin's "since")
        self.user_changed: dict[int, int] = {}
        #: the agent's role holds moodle/grade:viewhidden: with mod/quiz:viewreports it sees
        #: every mark whatever the quiz's review options (quiz_get_review_options)
        self.grade_viewhidden = True
        #: the local_buyin plugin's sign-off requests (served once install_plugin() ran)
        self.plugin = PluginState()
        #: user id -> their preferences (core_user_update_user_preferences)
        self.preferences: dict[int, dict[str, str]] = {}
        self.inaccessible_courses: set[int] = set()
        self.faults = Faults()
        #: PHP's max_input_vars (Moodle 4.1+ requires at least 5000): fields past it are lost
        self.max_input_vars = 5000
        #: requests that lost fields that way
        self.truncated_requests = 0
        self.calls: list[tuple[str, dict[str, Any]]] = []
        #: a real site's same-learner collision (NOTES.md): two completion overrides for
        #: one user in flight at once; the later one answers dmlwriteexception, not applied
        self.collide_same_learner = False
        #: override calls refused that way
        self.collisions = 0
        self._writing: set[int] = set()
        #: the most learners' writes in flight at once (shows calls did overlap)
        self.peak_writing = 0
        self._lock = threading.RLock()
        #: the theme revision in image URLs
        self.themerev = self.state.now + 5

    # --- time --------------------------------------------------------------------

    def time(self) -> int:
        """The site's clock: the injected one, else a frozen clock moved by :meth:`advance`."""
        return int(self._clock()) if self._clock is not None else self.now

    def advance(self, seconds: int) -> None:
        self.now += int(seconds)

    # --- configuration -----------------------------------------------------------

    def deny_capability(self, function: str, capability: str) -> None:
        """The token's user lacks ``capability`` (identifier or human name) for ``function``."""
        self.denied_capabilities[function] = capability

    def allow_capability(self, function: str) -> None:
        self.denied_capabilities.pop(function, None)

    def deny_course_access(self, courseid: int) -> None:
        """The token's user cannot open the course (requireloginerror)."""
        self.inaccessible_courses.add(courseid)

    # --- transport ---------------------------------------------------------------

    def handle(self, body: str | bytes) -> tuple[int, dict[str, str], str]:
        """Answer one POST body: (HTTP status, headers, body text).

        Raises ``requests.ConnectionError`` / ``requests.ReadTimeout`` for injected
        transport faults.
        """
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        pairs = text.split("&") if text else []
        if len(pairs) > self.max_input_vars:
            # as PHP does: the fields past max_input_vars are dropped, with only a warning
            self.truncated_requests += 1
            text = "&".join(pairs[: self.max_input_vars])
        fields = unflatten(text) if text else {}
        function = str(fields.get("wsfunction", ""))
        as_json = fields.get("moodlewsrestformat") == "json"
        learner = self._collision_key(function, fields)
        if learner is None:
            return self._handle(fields, function, as_json)
        with self._lock:
            if learner in self._writing:
                self.collisions += 1
                self.calls.append((function, fields))
                return error_answer(collision_error(), as_json, self.debug)
            self._writing.add(learner)
            self.peak_writing = max(self.peak_writing, len(self._writing))
        try:
            return self._handle(fields, function, as_json)
        finally:
            with self._lock:
                self._writing.discard(learner)

    def _collision_key(self, function: str, fields: dict[str, Any]) -> int | None:
        if not self.collide_same_learner or function != OVERRIDE_FUNCTION:
            return None
        try:
            return int(fields.get("userid", 0))
        except (TypeError, ValueError):
            return None

    def _handle(
        self, fields: dict[str, Any], function: str, as_json: bool
    ) -> tuple[int, dict[str, str], str]:
        self.faults.delay()
        with self._lock:
            fault = self.faults.draw(function)
        if fault is not None and fault.kind == DROPPED:
            with self._lock:
                kept = copy.deepcopy((self.state.__dict__, self.plugin.__dict__))
                answer = process(self, fields, function, as_json)
                self.state.__dict__.update(kept[0])
                self.plugin.__dict__.update(kept[1])
            return answer
        if fault is not None and fault.when == "before":
            return fault_answer(fault, as_json, self.debug)
        with self._lock:
            answer = process(self, fields, function, as_json)
        if fault is not None:
            return fault_answer(fault, as_json, self.debug)
        return answer

    def register(self, rsps: responses_lib.RequestsMock) -> None:
        """Serve POST <url>/webservice/rest/server.php on a ``responses.RequestsMock``."""
        import responses

        def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            body = request.body or ""
            return self.handle(body)

        rsps.add_callback(
            responses.POST, f"{self.url}/webservice/rest/server.php", callback=callback
        )

    def adapter(self) -> BaseAdapter:
        """A requests transport adapter serving this site in-process (mount it on ``self.url``)."""
        return SimulatedAdapter(self)

    def _touch(self, userid: int, courseid: int, when: int) -> None:
        """The learner opened the course: lastcourseaccess and the user's access times move."""
        self.state.lastcourseaccess[(userid, courseid)] = when
        user = self.state.users.get(userid)
        if user is not None:
            user.lastaccess = max(user.lastaccess, when)
            if not user.firstaccess:
                user.firstaccess = when

    # --- mutators for tests ------------------------------------------------------

    def add_attempt(
        self,
        userid: int,
        quizid: int,
        slot_marks: dict[int, float],
        *,
        finished: bool = True,
        time: int | None = None,
    ) -> int:
        """The learner attempts the quiz (and, when ``finished``, submits it)."""
        with self._lock:
            quiz = self.state.quizzes[quizid]
            when = self.time() if time is None else time
            number = len(logic.attempts_of(self.state, quizid, userid)) + 1
            attemptid = self.state.new_id("attempt")
            self.state.attempts[attemptid] = Attempt(
                id=attemptid,
                quiz=quizid,
                userid=userid,
                attempt=number,
                uniqueid=attemptid,
                state="finished" if finished else "inprogress",
                timestart=when - 600 if finished else when,
                timefinish=when if finished else 0,
                timemodified=when,
                marks={int(k): float(v) for k, v in slot_marks.items()},
                gradednotificationsenttime=when if finished else None,
            )
            self._touch(userid, quiz.course, when)
            if finished:
                logic.update_quiz_completion(self.state, quiz, userid)
                self.state.course_grade_times[(userid, quiz.course)] = when
                logic.aggregate_course(self.state, userid, quiz.course)
            return attemptid

    def complete_activity(self, userid: int, cmid: int, time: int | None = None) -> None:
        """The learner completes the activity themselves (viewing it or ticking it)."""
        with self._lock:
            activity = self.state.activities[cmid]
            when = self.time() if time is None else time
            self.state.activity_completions[(userid, cmid)] = ActivityCompletion(
                COMPLETION_COMPLETE, when
            )
            self._touch(userid, activity.course, when)
            logic.aggregate_course(self.state, userid, activity.course)

    def access_course(self, userid: int, courseid: int, time: int) -> None:
        with self._lock:
            self._touch(userid, courseid, time)

    def mark_signoff(
        self, userid: int, courseid: int, by_userid: int, time: int | None = None
    ) -> None:
        """A holder of the sign-off role marks "Manual completion by others" (course/togglecompletion.php).

        The criterion shows complete at once; the course completes at the next
        :meth:`run_completion_cron`.
        """
        with self._lock:
            course = self.state.courses[courseid]
            role = course.completion.role
            if role is None:
                raise ValueError(
                    f"course {courseid} has no 'Manual completion by others' criterion"
                )
            enrolment = self.state.enrolments.get((by_userid, courseid))
            if enrolment is None or role.roleid not in enrolment.roleids:
                raise ValueError(
                    f"user {by_userid} does not hold role {role.roleid} in course {courseid}"
                )
            when = self.time() if time is None else time
            self.state.signoffs[(userid, courseid)] = Signoff(by_userid, when)

    # --- the local_buyin plugin -------------------------------------------------------

    def install_plugin(self, notifications: bool = False) -> None:
        """Install local_buyin: its functions join the service; ``notifications``: 0.4.0's
        local_buyin_send_notifications too (the agent then sends notifications)."""
        with self._lock:
            self.service_functions.update(PLUGIN_FUNCTIONS)
            if notifications:
                self.service_functions.add(NOTIFY_FUNCTION)

    def plugin_decide(
        self,
        userid: int,
        courseid: int,
        by_userid: int,
        decision: str = "signed",
        comment: str = "",
        time: int | None = None,
    ) -> None:
        """A manager decides on the plugin's page: 'signed' marks the role criterion."""
        with self._lock:
            request = self.plugin.requests.get((courseid, userid))
            if request is None or request.managerid != by_userid:
                raise ValueError(f"user {by_userid} may not decide for {userid} in {courseid}")
            when = self.time() if time is None else time
            request.status, request.decidedby, request.timedecided = decision, by_userid, when
            request.comment, request.timemodified = comment, when
            if decision == "signed":
                self.state.signoffs[(userid, courseid)] = Signoff(by_userid, when)

    def run_completion_cron(self) -> None:
        """Moodle's completion task: aggregate every tracked user's course completion."""
        with self._lock:
            for userid, courseid in list(self.state.enrolments):
                logic.aggregate_course(self.state, userid, courseid)

    def enrol(self, userid: int, courseid: int, roleid: int, timestart: int = 0) -> None:
        with self._lock:
            existing = self.state.enrolments.get((userid, courseid))
            if existing is None:
                self.state.enrolments[(userid, courseid)] = Enrolment(
                    userid, courseid, [roleid], timestart, 0, ENROL_ACTIVE, self.time()
                )
            elif roleid not in existing.roleids:
                existing.roleids.append(roleid)
                self.user_changed[userid] = self.time()  # role_assignments.timemodified

    def submit_feedback(self, feedbackid: int, userid: int, answers: dict[str, str]) -> int:
        """``userid`` answers the Feedback: values by question label, as Moodle stores
        them ("1|4" for checkboxes, "5" for a rating, escaped free text); the completed id."""
        with self._lock:
            return feedback.submit(self, feedbackid, userid, answers)

    def unenrol(self, userid: int, courseid: int) -> None:
        with self._lock:
            unenrol(self, userid, courseid)

    def set_profile_field(self, userid: int, shortname: str, value: str | None) -> None:
        with self._lock:
            profile = self.state.users[userid].profile
            if value:
                profile[shortname] = value
            else:
                profile.pop(shortname, None)
            # saved through the profile form or core_user_update_users: user.timemodified
            self.user_changed[userid] = self.time()

    def suspend_user(self, userid: int, suspended: bool = True) -> None:
        with self._lock:
            self.state.users[userid].suspended = suspended
            self.user_changed[userid] = self.time()

    def reset_course(self, courseid: int) -> None:
        """Course reset: completion data, quiz attempts and grades are deleted; enrolments stay."""
        with self._lock:
            cmids = {a.cmid for a in self.state.activities.values() if a.course == courseid}
            quizids = {q.id for q in self.state.quizzes.values() if q.course == courseid}
            for key in [k for k in self.state.activity_completions if k[1] in cmids]:
                del self.state.activity_completions[key]
            for mapping in (
                self.state.signoffs,
                self.state.course_completions,
                self.state.course_grade_times,
                self.state.lastcourseaccess,
            ):
                for key in [k for k in mapping if k[1] == courseid]:
                    del mapping[key]
            for attemptid in [a.id for a in self.state.attempts.values() if a.quiz in quizids]:
                del self.state.attempts[attemptid]

    # --- inspection for tests ----------------------------------------------------

    def activity_state(self, userid: int, cmid: int) -> int:
        rec = self.state.activity_completions.get((userid, cmid))
        return rec.state if rec else COMPLETION_INCOMPLETE

    def activity_completion(self, userid: int, cmid: int) -> ActivityCompletion | None:
        rec = self.state.activity_completions.get((userid, cmid))
        return copy.copy(rec) if rec else None

    def course_completed(self, userid: int, courseid: int) -> bool:
        return (userid, courseid) in self.state.course_completions

    def criteria_complete(self, userid: int, courseid: int) -> dict[str, Any]:
        """``{"activities": {cmid: complete}, "role": complete | None}``."""
        course = self.state.courses[courseid]
        statuses = logic.criteria_status(self.state, userid, courseid)
        by_id = {c.id: c.cmid for c in course.completion.activities}
        activities = {by_id[cid]: done for kind, cid, done, _ in statuses if kind == "activity"}
        role = [done for kind, _cid, done, _ in statuses if kind == "role"]
        return {"activities": activities, "role": role[0] if role else None}

    def enrolment(self, userid: int, courseid: int) -> Enrolment | None:
        found = self.state.enrolments.get((userid, courseid))
        return copy.deepcopy(found) if found else None

    def lastcourseaccess(self, userid: int, courseid: int) -> int:
        return self.state.lastcourseaccess.get((userid, courseid), 0)

    def messages_to(self, userid: int) -> list[Message]:
        return [
            copy.copy(m)
            for m in sorted(self.state.messages, key=lambda m: m.id)
            if m.useridto == userid
        ]

    def group_members(self, courseid: int, name: str) -> set[int]:
        for group in self.state.groups.values():
            if group.courseid == courseid and group.name == name:
                return set(group.members)
        return set()

    def state_digest(self) -> str:
        """sha256 of a canonical dump of all mutable state."""
        with self._lock:
            dump = json.dumps(canonical(self.state), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(dump.encode()).hexdigest()

    def calls_of(self, function: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == function]

    def write_calls(self) -> list[tuple[str, dict[str, Any]]]:
        return [(name, params) for name, params in self.calls if name in WRITE_FUNCTIONS]


for _function, _handler in HANDLERS.items():
    setattr(SimulatedMoodle, "_fn_" + _function, _handler)
