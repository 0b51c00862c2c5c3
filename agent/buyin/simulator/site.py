"""A stateful in-memory Moodle 5.1 answering the REST web-service protocol.

Every response is built from the shape of the corresponding real capture
(tests/fixtures/moodle/captures/), keys in the same order, values from state.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import re
import textwrap
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from buyin.moodle.encoding import unflatten
from . import logic
from .faults import Fault, Faults
from .functions import CAPABILITY_NAMES, KNOWN_FUNCTIONS, WRITE_FUNCTIONS, service_functions
from .model import (
    COMPLETION_COMPLETE,
    COMPLETION_COMPLETE_FAIL,
    COMPLETION_COMPLETE_PASS,
    COMPLETION_INCOMPLETE,
    ENROL_ACTIVE,
    ENROL_SUSPENDED,
    Activity,
    ActivityCompletion,
    Attempt,
    Course,
    Enrolment,
    Group,
    Message,
    Quiz,
    QuizSlot,
    Scenario,
    Signoff,
    User,
    canonical,
)
from .params import SPECS, ParamError, validate
from .plugin import PLUGIN_FUNCTIONS, PLUGIN_VERSION, PluginState

if TYPE_CHECKING:
    import responses as responses_lib

JSON_TYPE = "application/json"
XML_TYPE = "application/xml; charset=utf-8"
MODULE_INFO: dict[str, tuple[str, str, str]] = {
    # modname: (purpose, plural, customdata)
    "quiz": (
        "assessment",
        "Quizzes",
        '{"customcompletionrules":{"completionpassorattemptsexhausted":[],"completionminattempts":"0"}}',
    ),
    "page": ("content", "Pages", '""'),
    "url": ("content", "URLs", '{"display":4,"filtericon":true}'),
}
QTYPE_NAMES = {"truefalse": "True/False", "multichoice": "Multiple choice"}
#: the lab quiz's question texts as Moodle shortens them on the editing pages
QUESTION_EXCERPTS = {
    "L1 Paraphrasing": "Active listening includes paraphrasing the ...",
    "L2 Frustrated caller": "A customer says &quot;I&#039;ve called three times about ...",
    "Q1 Closed questions": "Closed questions are the best way to uncover a ...",
    "Q2 Open question": "Which of these is an open question?\n",
    "O1 Acknowledge first": "Acknowledging an objection before responding to...",
    "O2 Price objection": "A customer says the price is too high. Which ...",
    "C1 Summarise next steps": "You should avoid summarising agreed next steps ...",
    "C2 Strong close": "Which is the strongest way to close a support ...",
}
ADVANCED_FEATURES: list[tuple[str, int]] = [
    ("usecomments", 1),
    ("usetags", 1),
    ("enablenotes", 1),
    ("messaging", 1),
    ("enableblogs", 1),
    ("enablecompletion", 1),
    ("enablebadges", 1),
    ("messagingallusers", 0),
    ("enablecustomreports", 1),
    ("enableglobalsearch", 0),
    ("mnet_dispatcher_mode", 0),
    ("enablecompetencies", 1),
]
#: errorcodes a queued fault may name, with Moodle's exception class and message
ERROR_ENVELOPES: dict[str, tuple[str, str]] = {
    "dmlreadexception": ("dml_read_exception", "Error reading from database"),
    "dmlwriteexception": ("dml_write_exception", "Error writing to database"),
    "invalidtoken": ("core\\exception\\moodle_exception", "Invalid token - token not found"),
    "accessexception": ("webservice_access_exception", "Access control exception"),
    "servicerequireslogin": (
        "core\\exception\\moodle_exception",
        "Service requires login",
    ),
    "requireloginerror": (
        "core\\exception\\require_login_exception",
        "Course or activity not accessible.",
    ),
    "nopermissions": (
        "core\\exception\\required_capability_exception",
        "Sorry, but you do not currently have permissions to do that ().",
    ),
    "invalidparameter": (
        "core\\exception\\invalid_parameter_exception",
        "Invalid parameter value detected",
    ),
    "invalidrecordunknown": ("dml_missing_record_exception", "Can't find data record in database."),
}


class WsError(Exception):
    """A Moodle exception, answered as the JSON error envelope."""

    def __init__(
        self, exception: str, errorcode: str, message: str, debuginfo: str | None = None
    ) -> None:
        super().__init__(message)
        self.exception = exception
        self.errorcode = errorcode
        self.message = message
        self.debuginfo = debuginfo


def _invalid(detail: str | None = None) -> WsError:
    return WsError(
        "core\\exception\\invalid_parameter_exception",
        "invalidparameter",
        "Invalid parameter value detected",
        detail,
    )


def _moodle(errorcode: str, message: str) -> WsError:
    return WsError("core\\exception\\moodle_exception", errorcode, message)


def _num(value: float | int | None) -> float | int | None:
    """Numbers as PHP's json_encode writes them: 10.0 -> 10."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _phpify(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, dict):
        return {k: _phpify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_phpify(v) for v in value]
    return value


def php_json(value: Any) -> str:
    """JSON as PHP's json_encode writes it (escaped slashes and non-ASCII)."""
    return json.dumps(_phpify(value), ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def _xml_value(value: Any) -> str:
    if value is None:
        return '<VALUE null="null"/>\n'
    if isinstance(value, dict):
        keys = "".join(
            f"<KEY name={quoteattr(str(k))}>{_xml_value(v)}</KEY>\n" for k, v in value.items()
        )
        return f"<SINGLE>\n{keys}</SINGLE>\n"
    if isinstance(value, list):
        return "<MULTIPLE>\n" + "".join(_xml_value(v) for v in value) + "</MULTIPLE>\n"
    if isinstance(value, bool):
        return f"<VALUE>{int(value)}</VALUE>\n"
    return f"<VALUE>{escape(str(_num(value)))}</VALUE>\n"


def moodle_xml(value: Any) -> str:
    """Moodle's REST XML rendering of a response."""
    body = "" if value is None else _xml_value(value)
    return f'<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n{body}</RESPONSE>\n'


def html_to_text(text: str) -> str:
    """Roughly Moodle's html_to_text(): tags out, entities decoded, wrapped at 75."""
    plain = re.sub(r"<br\s*/?>|</p>", "\n", text)
    plain = html.unescape(re.sub(r"<[^>]+>", "", plain))
    paragraphs = [textwrap.fill(p.strip(), 75) for p in plain.split("\n") if p.strip()]
    return "\n\n".join(paragraphs) + "\n"


def _fmt2(value: float) -> str:
    return f"{value:.2f}"


class SimulatedMoodle:
    """The simulated site. ``handle()`` answers one REST request body."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        url: str = "https://moodle.example.test",
        token: str = "sim-token",
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.state: Scenario = copy.deepcopy(scenario)
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
        #: the agent's role holds moodle/grade:viewhidden: with mod/quiz:viewreports it sees
        #: every mark whatever the quiz's review options (quiz_get_review_options)
        self.grade_viewhidden = True
        #: the local_buyin plugin's sign-off requests (served once install_plugin() ran)
        self.plugin = PluginState()
        self.inaccessible_courses: set[int] = set()
        self.faults = Faults()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.RLock()
        self._themerev = self.state.now + 5

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
        fields = unflatten(text) if text else {}
        function = str(fields.get("wsfunction", ""))
        as_json = fields.get("moodlewsrestformat") == "json"
        self.faults.delay()
        with self._lock:
            fault = self.faults.draw(function)
        if fault is not None and fault.when == "before":
            return self._fault(fault, as_json)
        with self._lock:
            answer = self._process(fields, function, as_json)
        if fault is not None:
            return self._fault(fault, as_json)
        return answer

    def _fault(self, fault: Fault, as_json: bool) -> tuple[int, dict[str, str], str]:
        kind = fault.kind
        if kind == "connection":
            raise requests.ConnectionError("simulated connection error")
        if kind == "timeout":
            raise requests.ReadTimeout("simulated read timeout")
        if kind == "http500":
            return 500, {"Content-Type": "text/html"}, "<h1>500 Internal Server Error</h1>"
        if kind == "http502":
            return 502, {"Content-Type": "text/html"}, "<h1>502 Bad Gateway</h1>"
        if kind == "http503":
            return (
                503,
                {"Content-Type": "text/html", "Retry-After": "1"},
                "<h1>503 Service Unavailable</h1>",
            )
        if kind == "http429":
            return (
                429,
                {"Content-Type": "text/html", "Retry-After": "1"},
                "<h1>429 Too Many Requests</h1>",
            )
        exception, message = ERROR_ENVELOPES.get(kind, ("core\\exception\\moodle_exception", kind))
        return self._error(WsError(exception, kind, message), as_json)

    def _error(self, error: WsError, as_json: bool) -> tuple[int, dict[str, str], str]:
        if as_json:
            payload: dict[str, Any] = {
                "exception": error.exception,
                "errorcode": error.errorcode,
                "message": error.message,
            }
            if self.debug and error.debuginfo:
                payload["debuginfo"] = error.debuginfo
            return 200, {"Content-Type": JSON_TYPE}, php_json(payload)
        debug = (
            f"<DEBUGINFO>{escape(error.debuginfo)}</DEBUGINFO>\n"
            if self.debug and error.debuginfo
            else ""
        )
        xml = (
            '<?xml version="1.0" encoding="UTF-8" ?>\n'
            f"<EXCEPTION class={quoteattr(error.exception)}>\n"
            f"<ERRORCODE>{escape(error.errorcode)}</ERRORCODE>\n"
            f"<MESSAGE>{escape(error.message)}</MESSAGE>\n{debug}</EXCEPTION>\n"
        )
        return 200, {"Content-Type": XML_TYPE}, xml

    def _process(
        self, fields: dict[str, Any], function: str, as_json: bool
    ) -> tuple[int, dict[str, str], str]:
        raw = {
            k: v
            for k, v in fields.items()
            if k not in ("wstoken", "wsfunction", "moodlewsrestformat")
        }
        try:
            if fields.get("wstoken") != self.token:
                raise WsError(
                    "core\\exception\\moodle_exception",
                    "invalidtoken",
                    "Invalid token - token not found",
                )
            if function not in KNOWN_FUNCTIONS and function not in self.service_functions:
                raise WsError(
                    "dml_missing_record_exception",
                    "invalidrecordunknown",
                    "Can't find data record in database.",
                    "SELECT * FROM {external_functions} WHERE name = ?\n[array (\n  0 => '"
                    + function
                    + "',\n)]",
                )
            if function not in self.service_functions:
                raise WsError(
                    "webservice_access_exception", "accessexception", "Access control exception"
                )
            spec = SPECS.get(function)
            params: dict[str, Any] = raw
            if spec is not None:
                try:
                    params = validate(spec, raw)
                except ParamError as error:
                    self.calls.append((function, raw))
                    raise _invalid(error.detail) from None
            self.calls.append((function, params))
            denied = self.denied_capabilities.get(function)
            if denied is not None:
                name = CAPABILITY_NAMES.get(denied, denied)
                raise WsError(
                    "core\\exception\\required_capability_exception",
                    "nopermissions",
                    f"Sorry, but you do not currently have permissions to do that ({name}).",
                )
            handler = getattr(self, "_fn_" + function, None)
            if handler is None:
                raise WsError(
                    "core\\exception\\coding_exception",
                    "codingerror",
                    f"Coding error detected, it must be fixed by a programmer: the simulator does not implement {function}",
                )
            result = handler(**params)
        except WsError as error:
            return self._error(error, as_json)
        if as_json:
            return 200, {"Content-Type": JSON_TYPE}, php_json(result)
        return 200, {"Content-Type": XML_TYPE}, moodle_xml(result)

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

    # --- helpers -----------------------------------------------------------------

    def _missing(self, table: str, value: object) -> WsError:
        return WsError(
            "dml_missing_record_exception",
            "invalidrecord" if self.debug else "invalidrecordunknown",
            f"Can't find data record in database table {table}."
            if self.debug
            else "Can't find data record in database.",
            f"SELECT * FROM {{{table}}} WHERE id = ?\n[array (\n  0 => {value},\n)]",
        )

    def _course(self, courseid: int) -> Course:
        course = self.state.courses.get(courseid)
        if course is None:
            raise self._missing("course", courseid)
        if courseid in self.inaccessible_courses:
            raise WsError(
                "core\\exception\\require_login_exception",
                "requireloginerror",
                "Course or activity not accessible.",
            )
        return course

    def _user(self, userid: int) -> User:
        user = self.state.users.get(userid)
        if user is None:
            raise self._missing("user", userid)
        return user

    def _quiz(self, quizid: int) -> Quiz:
        quiz = self.state.quizzes.get(quizid)
        if quiz is None:
            raise self._missing("quiz", quizid)
        self._course(quiz.course)
        return quiz

    def _picture(self, small: bool = False) -> str:
        return f"{self.url}/theme/image.php/boost/core/{self._themerev}/u/{'f2' if small else 'f1'}"

    def _course_activities(self, courseid: int) -> list[Activity]:
        sections = {s.section: s for s in self.state.sections if s.course == courseid}
        found = [
            a
            for a in self.state.activities.values()
            if a.course == courseid and a.section in sections
        ]
        return sorted(found, key=lambda a: (a.section, a.cmid))

    def _touch(self, userid: int, courseid: int, when: int) -> None:
        """The learner opened the course: lastcourseaccess and the user's access times move."""
        self.state.lastcourseaccess[(userid, courseid)] = when
        user = self.state.users.get(userid)
        if user is not None:
            user.lastaccess = max(user.lastaccess, when)
            if not user.firstaccess:
                user.firstaccess = when

    def _role_name(self, roleid: int) -> str:
        role = self.state.roles.get(roleid)
        if role is None:
            return str(roleid)
        return role.name or role.shortname.capitalize()

    def _customfields(self, user: User, display: bool) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for pf in self.state.profile_fields:
            value = user.profile.get(pf.shortname)
            if not value:
                continue
            item: dict[str, Any] = {"type": pf.datatype, "value": value}
            if display:
                item["displayvalue"] = value
            item["name"] = pf.name
            item["shortname"] = pf.shortname
            result.append(item)
        return result

    # --- core_webservice ---------------------------------------------------------

    def _fn_core_webservice_get_site_info(self, serviceshortnames: list[str]) -> dict[str, Any]:
        agent = self.state.users[self.state.agent_userid]
        functions = [
            {
                "name": name,
                "version": PLUGIN_VERSION
                if name in PLUGIN_FUNCTIONS
                else self.state.version
                if name.startswith("core_")
                else self.state.version.split(".")[0],
            }
            for name in self._ordered_service_functions()
        ]
        return {
            "sitename": self.state.site_name,
            "username": agent.username,
            "firstname": agent.firstname,
            "lastname": agent.lastname,
            "fullname": agent.fullname,
            "lang": "en",
            "userid": agent.id,
            "siteurl": self.url,
            "userpictureurl": self._picture(),
            "functions": functions,
            "downloadfiles": 1,
            "uploadfiles": 0,
            "release": self.state.release,
            "version": self.state.version,
            "mobilecssurl": "",
            "advancedfeatures": [{"name": n, "value": v} for n, v in ADVANCED_FEATURES],
            "usercanmanageownfiles": True,
            "userquota": 104857600,
            "usermaxuploadfilesize": 67108864,
            "userhomepage": 1,
            "userprivateaccesskey": hashlib.sha256(("key:" + self.token).encode()).hexdigest()[:32],
            "siteid": 1,
            "sitecalendartype": "gregorian",
            "usercalendartype": "gregorian",
            "userissiteadmin": False,
            "theme": "boost",
            "limitconcurrentlogins": 0,
            "policyagreed": 0,
        }

    def _ordered_service_functions(self) -> list[str]:
        order = service_functions()
        known = [f for f in order if f in self.service_functions]
        return known + sorted(f for f in self.service_functions if f not in order)

    # --- courses -----------------------------------------------------------------

    def _course_dict(self, course: Course) -> dict[str, Any]:
        category = self.state.categories.get(course.category)
        return {
            "id": course.id,
            "fullname": course.fullname,
            "displayname": course.fullname,
            "shortname": course.shortname,
            "courseimage": f"{self.url}/pluginfile.php/{course.contextid}/course/generated/course.svg",
            "categoryid": course.category,
            "categoryname": category.name if category else "",
            "sortorder": course.sortorder,
            "summary": course.summary,
            "summaryformat": 1,
            "summaryfiles": [],
            "overviewfiles": [],
            "showactivitydates": False,
            "showcompletionconditions": True,
            "contacts": [],
            "enrollmentmethods": ["manual"],
            "idnumber": course.idnumber,
            "format": "topics",
            "showgrades": 1,
            "newsitems": 0,
            "startdate": course.startdate,
            "enddate": 0,
            "maxbytes": 0,
            "showreports": 0,
            "visible": 1,
            "groupmode": course.groupmode,
            "groupmodeforce": 0,
            "defaultgroupingid": 0,
            "enablecompletion": course.enablecompletion,
            "completionnotify": 0,
            "lang": "",
            "theme": "",
            "marker": 0,
            "legacyfiles": 0,
            "calendartype": "",
            "timecreated": course.timecreated,
            "timemodified": course.timecreated,
            "requested": 0,
            "cacherev": course.cacherev,
            "filters": [
                {"filter": name, "localstate": 0, "inheritedstate": 1}
                for name in (
                    "displayh5p",
                    "activitynames",
                    "mathjaxloader",
                    "emoticon",
                    "urltolink",
                    "mediaplugin",
                )
            ],
            "courseformatoptions": [
                {"name": "hiddensections", "value": 1},
                {"name": "coursedisplay", "value": 0},
                {"name": "indentation", "value": "1"},
            ],
        }

    def _fn_core_course_get_courses_by_field(self, field: str, value: str) -> dict[str, Any]:
        courses = sorted(self.state.courses.values(), key=lambda c: c.id)
        if field == "":
            selected = courses
        elif field == "id":
            selected = [c for c in courses if str(c.id) == value]
        elif field == "ids":
            wanted = {v.strip() for v in value.split(",")}
            selected = [c for c in courses if str(c.id) in wanted]
        elif field == "shortname":
            selected = [c for c in courses if c.shortname == value]
        elif field == "idnumber":
            selected = [c for c in courses if c.idnumber == value]
        elif field == "category":
            selected = [c for c in courses if str(c.category) == value]
        elif field == "sectionid":
            ids = {s.course for s in self.state.sections if str(s.id) == value}
            selected = [c for c in courses if c.id in ids]
        else:
            raise _invalid("Invalid field name")
        return {
            "courses": [
                self._course_dict(c) for c in selected if c.id not in self.inaccessible_courses
            ],
            "warnings": [],
        }

    def _completion_details(
        self, activity: Activity, rec: ActivityCompletion | None
    ) -> list[dict[str, Any]]:
        state = rec.state if rec else COMPLETION_INCOMPLETE
        if activity.completion != 2:
            return []
        if activity.modname == "quiz":
            usegrade = {
                COMPLETION_COMPLETE_PASS: 2,
                COMPLETION_COMPLETE_FAIL: 1,
                COMPLETION_COMPLETE: 1,
            }.get(state, 0)
            passgrade = (
                state if state in (COMPLETION_COMPLETE_PASS, COMPLETION_COMPLETE_FAIL) else 0
            )
            return [
                {
                    "rulename": "completionusegrade",
                    "rulevalue": {"status": usegrade, "description": "Receive a grade"},
                },
                {
                    "rulename": "completionpassgrade",
                    "rulevalue": {"status": passgrade, "description": "Receive a passing grade"},
                },
            ]
        done = 1 if state in (COMPLETION_COMPLETE, COMPLETION_COMPLETE_PASS) else 0
        return [
            {"rulename": "completionview", "rulevalue": {"status": done, "description": "View"}}
        ]

    def _completion_data(self, activity: Activity, userid: int, tracked: bool) -> dict[str, Any]:
        rec = self.state.activity_completions.get((userid, activity.cmid)) if tracked else None
        state = rec.state if rec else COMPLETION_INCOMPLETE
        return {
            "state": state,
            "timecompleted": rec.timecompleted if rec else 0,
            "overrideby": rec.overrideby if rec else None,
            "valueused": False,
            "hascompletion": True,
            "isautomatic": activity.completion == 2,
            "istrackeduser": tracked,
            "uservisible": True,
            "details": self._completion_details(activity, rec),
            "isoverallcomplete": state in (COMPLETION_COMPLETE, COMPLETION_COMPLETE_PASS),
        }

    def _module_dict(self, activity: Activity, excludecontents: bool) -> dict[str, Any]:
        purpose, plural, customdata = MODULE_INFO.get(
            activity.modname, ("content", activity.modname, '""')
        )
        module: dict[str, Any] = {
            "id": activity.cmid,
            "url": f"{self.url}/mod/{activity.modname}/view.php?id={activity.cmid}",
            "name": activity.name,
            "instance": activity.instance,
            "contextid": activity.contextid,
            "visible": 1,
            "uservisible": True,
            "visibleoncoursepage": 1,
            "modicon": f"{self.url}/theme/image.php/boost/{activity.modname}/{self._themerev}/monologo?filtericon=1",
            "modname": activity.modname,
            "purpose": purpose,
            "branded": False,
            "modplural": plural,
            "availability": None,
            "indent": 0,
            "onclick": "",
            "afterlink": None,
            "customdata": customdata,
            "noviewlink": False,
            "completion": activity.completion,
        }
        if activity.completion:
            tracked = logic.is_tracked(self.state, self.state.agent_userid, activity.course)
            module["completiondata"] = self._completion_data(
                activity, self.state.agent_userid, tracked
            )
        module.update({"downloadcontent": 1, "dates": [], "groupmode": 0})
        modified = self.state.courses[activity.course].timecreated
        content: dict[str, Any] | None = None
        if activity.modname == "page":
            content = {
                "type": "file",
                "filename": "index.html",
                "filepath": "/",
                "filesize": 0,
                "fileurl": f"{self.url}/webservice/pluginfile.php/{activity.contextid}/mod_page/content/index.html?forcedownload=1",
                "timecreated": None,
                "timemodified": modified,
                "sortorder": 1,
                "userid": None,
                "author": None,
                "license": None,
            }
        elif activity.modname == "url":
            content = {
                "type": "url",
                "filename": activity.name,
                "filepath": None,
                "filesize": 0,
                "fileurl": activity.externalurl,
                "timecreated": None,
                "timemodified": modified,
                "sortorder": None,
                "userid": None,
                "author": None,
                "license": None,
            }
        if content is not None:
            module["contents"] = [] if excludecontents else [content]
            module["contentsinfo"] = {
                "filescount": 1,
                "filessize": 0,
                "lastmodified": modified,
                "mimetypes": [],
                "repositorytype": "",
            }
        return module

    def _fn_core_course_get_contents(
        self, courseid: int, options: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        self._course(courseid)
        opts = {o["name"].lower(): o["value"] for o in options}

        def flag(name: str) -> bool:
            return str(opts.get(name, "0")).strip() not in ("", "0", "false")

        def number(name: str) -> int | None:
            if name not in opts:
                return None
            try:
                return int(str(opts[name]))
            except ValueError:
                raise _invalid(f"{name} => Invalid parameter value detected") from None

        sectionid, sectionnumber, cmid = (
            number("sectionid"),
            number("sectionnumber"),
            number("cmid"),
        )
        modname = opts.get("modname")
        result = []
        for section in sorted(
            (s for s in self.state.sections if s.course == courseid), key=lambda s: s.section
        ):
            if sectionid is not None and section.id != sectionid:
                continue
            if sectionnumber is not None and section.section != sectionnumber:
                continue
            modules = []
            if not flag("excludemodules"):
                for activity in self._course_activities(courseid):
                    if activity.section != section.section:
                        continue
                    if cmid is not None and activity.cmid != cmid:
                        continue
                    if modname is not None and activity.modname != modname:
                        continue
                    modules.append(self._module_dict(activity, flag("excludecontents")))
            result.append(
                {
                    "id": section.id,
                    "name": section.name,
                    "visible": 1,
                    "summary": section.summary,
                    "summaryformat": 1,
                    "section": section.section,
                    "hiddenbynumsections": 0,
                    "uservisible": True,
                    "component": None,
                    "itemid": None,
                    "modules": modules,
                }
            )
        return result

    # --- quizzes -----------------------------------------------------------------

    def _fn_mod_quiz_get_quizzes_by_courses(self, courseids: list[int]) -> dict[str, Any]:
        warnings: list[dict[str, Any]] = []
        wanted = courseids or sorted(self.state.courses)
        valid = []
        for cid in wanted:
            if cid in self.state.courses and cid not in self.inaccessible_courses:
                valid.append(cid)
            else:
                warnings.append(
                    {
                        "item": "course",
                        "itemid": cid,
                        "warningcode": "1",
                        "message": "No access rights in course context",
                    }
                )
        quizzes = []
        for quiz in sorted(self.state.quizzes.values(), key=lambda q: q.id):
            if quiz.course not in valid:
                continue
            activity = self.state.activities[quiz.cmid]
            created = self.state.courses[quiz.course].timecreated
            quizzes.append(
                {
                    "id": quiz.id,
                    "coursemodule": quiz.cmid,
                    "course": quiz.course,
                    "name": quiz.name,
                    "intro": quiz.intro,
                    "introformat": 1,
                    "introfiles": [],
                    "section": activity.section,
                    "visible": True,
                    "groupmode": 0,
                    "groupingid": 0,
                    "lang": "",
                    "enableaitools": None,
                    "enabledaiactions": None,
                    "timeopen": 0,
                    "timeclose": 0,
                    "timelimit": 0,
                    "overduehandling": "autosubmit",
                    "graceperiod": 86400,
                    "preferredbehaviour": "deferredfeedback",
                    "canredoquestions": 0,
                    "attempts": quiz.attempts,
                    "attemptonlast": 0,
                    "grademethod": quiz.grademethod,
                    "decimalpoints": quiz.decimalpoints,
                    "questiondecimalpoints": -1,
                    "reviewattempt": quiz.reviewattempt,
                    "reviewcorrectness": quiz.reviewcorrectness,
                    "reviewmaxmarks": quiz.reviewmaxmarks,
                    "reviewmarks": quiz.reviewmarks,
                    "reviewspecificfeedback": quiz.reviewspecificfeedback,
                    "reviewgeneralfeedback": quiz.reviewgeneralfeedback,
                    "reviewrightanswer": quiz.reviewrightanswer,
                    "reviewoverallfeedback": quiz.reviewoverallfeedback,
                    "questionsperpage": quiz.questionsperpage,
                    "navmethod": "free",
                    "shuffleanswers": 1,
                    "sumgrades": _num(quiz.sumgrades),
                    "grade": _num(quiz.grade),
                    "timecreated": created,
                    "timemodified": created,
                    "password": "",
                    "subnet": "",
                    "browsersecurity": "",
                    "delay1": 0,
                    "delay2": 0,
                    "showuserpicture": 0,
                    "showblocks": 0,
                    "completionattemptsexhausted": 0,
                    "completionpass": 1 if quiz.gradepass else 0,
                    "allowofflineattempts": 0,
                    "autosaveperiod": 60,
                    "hasfeedback": 1 if quiz.feedback else 0,
                    "hasquestions": 1 if quiz.slots else 0,
                    "precreateattempts": None,
                }
            )
        return {"quizzes": quizzes, "warnings": warnings}

    def _marks_display(self, quiz: Quiz, attempt: Attempt) -> int:
        """The agent's question_display_options->marks for an attempt: 0 hidden, 1 max only,
        2 mark and max (mod_quiz display_options::make_from_quiz, quiz_get_review_options)."""
        if self.grade_viewhidden:
            return 2
        if attempt.state in ("inprogress", "overdue"):
            when = 0x10000  # DURING
        elif self.time() < attempt.timefinish + 120:
            when = 0x01000  # IMMEDIATELY_AFTER
        else:
            when = 0x00100  # LATER_WHILE_OPEN (the simulated quizzes never close)
        if not quiz.reviewmaxmarks & when:
            return 0
        return 2 if quiz.reviewmarks & when else 1

    def _attempt_dict(
        self, quiz: Quiz, attempt: Attempt, *, hide_marks: bool = False
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": attempt.id,
            "quiz": attempt.quiz,
            "userid": attempt.userid,
            "attempt": attempt.attempt,
            "uniqueid": attempt.uniqueid,
            "layout": quiz.layout,
            "currentpage": 0,
            "preview": 0,
            "state": attempt.state,
            "timestart": attempt.timestart,
            "timefinish": attempt.timefinish,
            "timemodified": attempt.timemodified,
            "timemodifiedoffline": 0,
            "timecheckstate": None,
            "sumgrades": None if hide_marks else _num(attempt.sumgrades),
        }
        if quiz.grade_items and not hide_marks:
            maxmarks = {s.slot: s.maxmark for s in quiz.slots}
            result["gradeitemmarks"] = [
                {
                    "name": item.name,
                    "grade": _num(
                        sum(attempt.marks.get(s, 0.0) for s in item.slots)
                        if attempt.finished
                        else 0
                    ),
                    "maxgrade": _num(sum(maxmarks.get(s, 0.0) for s in item.slots)),
                }
                for item in quiz.grade_items
            ]
        result["gradednotificationsenttime"] = attempt.gradednotificationsenttime
        return result

    def _user_attempts(
        self, quizid: int, userid: int, status: str, includepreviews: bool, legacy: bool = False
    ) -> dict[str, Any]:
        if status not in ("all", "finished", "unfinished"):
            raise _invalid("Invalid status value")
        quiz = self._quiz(quizid)
        userid = userid or self.state.agent_userid
        self._user(userid)
        attempts = []
        for attempt in logic.attempts_of(self.state, quiz.id, userid):
            if status == "finished" and attempt.state not in ("finished", "abandoned"):
                continue
            if status == "unfinished" and attempt.state not in ("inprogress", "overdue"):
                continue
            # get_user_quiz_attempts blanks the marks (sumgrades null, no gradeitemmarks) of a
            # finished attempt the caller's review options hide; the deprecated
            # get_user_attempts does not for a caller holding mod/quiz:viewreports (the agent)
            hide = not legacy and attempt.finished and self._marks_display(quiz, attempt) < 2
            attempts.append(self._attempt_dict(quiz, attempt, hide_marks=hide))
        return {"attempts": attempts, "warnings": []}

    def _fn_mod_quiz_get_user_quiz_attempts(
        self, quizid: int, userid: int, status: str, includepreviews: bool
    ) -> dict[str, Any]:
        return self._user_attempts(quizid, userid, status, includepreviews)

    def _fn_mod_quiz_get_user_attempts(
        self, quizid: int, userid: int, status: str, includepreviews: bool
    ) -> dict[str, Any]:
        return self._user_attempts(quizid, userid, status, includepreviews, legacy=True)

    def _fn_mod_quiz_get_attempt_review(self, attemptid: int, page: int) -> dict[str, Any]:
        attempt = self.state.attempts.get(attemptid)
        if attempt is None:
            raise self._missing("quiz_attempts", attemptid)
        quiz = self._quiz(attempt.quiz)
        if not attempt.finished:
            raise _moodle("noreviewattempt", "You are not allowed to review this attempt.")
        pages = sorted({s.page - 1 for s in quiz.slots})
        if page != -1 and page not in pages:
            raise _invalid("Invalid page number")
        grade = logic.attempt_grade(quiz, attempt)
        shown = round(grade, quiz.decimalpoints) if grade is not None else None
        display = self._marks_display(quiz, attempt)
        questions = []
        for slot in quiz.slots:
            if page != -1 and slot.page - 1 != page:
                continue
            mark = attempt.marks.get(slot.slot)
            if mark is None:
                qstate, stateclass, status = "gaveup", "notanswered", "Not answered"
            elif mark >= slot.maxmark:
                qstate, stateclass, status = "gradedright", "correct", "Correct"
            elif mark <= 0:
                qstate, stateclass, status = "gradedwrong", "incorrect", "Incorrect"
            else:
                qstate, stateclass, status = (
                    "gradedpartial",
                    "partiallycorrect",
                    "Partially correct",
                )
            marktext = _fmt2(mark) if mark is not None else None
            question: dict[str, Any] = {
                "slot": slot.slot,
                "type": slot.qtype,
                "page": slot.page - 1,
                "questionnumber": str(slot.slot),
                "number": slot.slot,
                "html": (
                    f'<div id="question-{attempt.uniqueid}-{slot.slot}" class="que {slot.qtype} deferredfeedback '
                    f'{stateclass}"><div class="info"><h3 class="no">Question <span class="qno">{slot.slot}'
                    f'</span></h3><div class="state">{status}</div><div class="grade">Mark {marktext or "-"} '
                    f'out of {_fmt2(slot.maxmark)}</div></div><div class="content"><div class="qtext"><p>'
                    f"{html.escape(slot.name)}</p></div></div></div>"
                ),
                "responsefileareas": [],
                "sequencecheck": 3,
                "lastactiontime": attempt.timefinish,
                "hasautosavedstep": False,
                "flagged": False,
                "state": qstate,
                "stateclass": stateclass,
                "status": status,
                "blockedbyprevious": False,
            }
            # marks only where the review options show them; a question given up has no
            # mark, which Moodle formats as "" (format_float(null))
            if display >= 2:
                question["mark"] = marktext if marktext is not None else ""
            if display >= 1:
                question["maxmark"] = _num(slot.maxmark)
            question["settings"] = (
                '{"shuffleanswers":"1","answernumbering":"abc","showstandardinstruction":"0","layout":1}'
                if slot.qtype == "multichoice"
                else None
            )
            questions.append(question)
        additional = []
        if shown is not None:
            for minimum, text in quiz.feedback:
                if shown >= minimum:
                    additional.append({"id": "feedback", "title": "Feedback", "content": text})
                    break
        return {
            "grade": _num(shown),
            "attempt": self._attempt_dict(quiz, attempt),
            "additionaldata": additional,
            "questions": questions,
            "warnings": [],
        }

    def _question_link(self, quiz: Quiz, slot: QuizSlot) -> str:
        """The question's link on the quiz editing pages (edit_renderer::get_question_name_for_slot)."""
        title = QTYPE_NAMES.get(slot.qtype, slot.qtype)
        excerpt = QUESTION_EXCERPTS.get(slot.name, html.escape(slot.name, quote=True))
        return (
            f'<a title="Edit question {html.escape(slot.name)}" href="{self.url}'
            f"/question/bank/editquestion/question.php?returnurl=%2F&amp;cmid={quiz.cmid}"
            f'&amp;id={slot.questionid}"><img class="icon activityicon" title="{title}" '
            f'alt="{title}" src="{self.url}/theme/image.php/boost/qtype_{slot.qtype}/'
            f'{self._themerev}/icon" /><span class="instancename"><i class="icon fa fa-pen '
            f'fa-fw " aria-hidden="true" ></i><span class="questionname">'
            f'{html.escape(slot.name)}</span> <span class="questiontext">{excerpt}</span>'
            "</span></a>"
        )

    def _fn_mod_quiz_get_edit_grading_page_data(self, quizid: int) -> str:
        """The grading set-up page's template context as a JSON *string*
        (mod_quiz\\output\\edit_grading_page::export_for_template); needs mod/quiz:manage."""
        quiz = self._quiz(quizid)
        slot_item = {s: item.id for item in quiz.grade_items for s in item.slots}
        maxmarks = {s.slot: s.maxmark for s in quiz.slots}
        gradeitems = []
        for order, item in enumerate(quiz.grade_items, start=1):
            used = any(s in maxmarks for s in item.slots)
            gradeitems.append(
                {
                    "id": str(item.id),
                    "sortorder": str(order),
                    "name": item.name,
                    "displayname": item.name,
                    "isused": used,
                    "summarks": _fmt2(sum(maxmarks.get(s, 0.0) for s in item.slots))
                    if used
                    else "-",
                }
            )
        sections: list[dict[str, Any]] = []
        heading: str | None = None
        for slot in sorted(quiz.slots, key=lambda x: x.slot):
            if not sections or slot.heading != heading:
                heading = slot.heading
                sections.append({"displayname": heading or "Untitled section", "slots": []})
            choices: list[dict[str, Any]] = [{"id": 0, "choice": "[none]", "isselected": False}]
            choices += [
                {
                    "id": str(item.id),
                    "choice": item.name,
                    "isselected": slot_item.get(slot.slot) == item.id,
                }
                for item in quiz.grade_items
            ]
            sections[-1]["slots"].append(
                {
                    "id": str(slot.slot),
                    "displaynumber": slot.slot,
                    "displayname": self._question_link(quiz, slot),
                    "maxmark": _fmt2(slot.maxmark),
                    "choices": choices,
                }
            )
        if not sections:
            sections.append({"displayname": "Untitled section", "slots": []})
        context = {
            "quizid": str(quiz.id),
            "hasgradeitems": bool(gradeitems),
            "gradeitems": gradeitems,
            "hasslots": bool(quiz.slots),
            "sections": sections,
            "hasmultiplesections": len(sections) > 1,
            "nogradeitems": {
                "message": "Create grade items within your quiz. Allocate questions or quiz "
                "sections to these grade items to break down grade results into different areas."
            },
            "noslots": {
                "message": "This quiz has no questions yet. Please add questions first, then "
                "return here to set up grade items."
            },
        }
        return php_json(context)

    # --- enrolled users ----------------------------------------------------------

    def _enrolled_user_dict(
        self, user: User, courseid: int, fields: set[str] | None
    ) -> dict[str, Any]:
        def want(name: str) -> bool:
            return fields is None or name in fields

        enrolment = self.state.enrolments[(user.id, courseid)]
        out: dict[str, Any] = {"id": user.id}
        simple: list[tuple[str, Any]] = [
            ("username", user.username),
            ("firstname", user.firstname),
            ("lastname", user.lastname),
            ("fullname", user.fullname),
            ("email", user.email),
            ("department", user.department),
            ("institution", user.institution),
            ("idnumber", user.idnumber),
        ]
        for name, value in simple:
            # id and fullname are always there (user_get_user_details; both required returns)
            if (want(name) or name == "fullname") and value != "":
                out[name] = value
        if want("firstaccess"):
            out["firstaccess"] = user.firstaccess
        if want("lastaccess"):
            out["lastaccess"] = user.lastaccess
        if want("lastcourseaccess"):
            out["lastcourseaccess"] = self.state.lastcourseaccess.get((user.id, courseid), 0)
        for name, value in (("city", user.city), ("country", user.country)):
            if want(name) and value:
                out[name] = value
        if want("profileimageurlsmall"):
            out["profileimageurlsmall"] = self._picture(small=True)
        if want("profileimageurl"):
            out["profileimageurl"] = self._picture()
        if want("customfields"):
            custom = self._customfields(user, display=False)
            if custom:
                out["customfields"] = custom
        if want("groups"):
            groups = [
                g
                for g in sorted(self.state.groups.values(), key=lambda g: g.id)
                if g.courseid == courseid and user.id in g.members
            ]
            if groups:
                out["groups"] = [self._group_brief(g) for g in groups]
        if want("roles"):
            out["roles"] = [
                {
                    "roleid": rid,
                    "name": self.state.roles[rid].name if rid in self.state.roles else "",
                    "shortname": self.state.roles[rid].shortname if rid in self.state.roles else "",
                    "sortorder": 0,
                }
                for rid in enrolment.roleids
            ]
        if want("enrolledcourses"):
            courses = sorted(
                (self.state.courses[c] for (u, c) in self.state.enrolments if u == user.id),
                key=lambda c: c.sortorder,
            )
            out["enrolledcourses"] = [
                {"id": c.id, "fullname": c.fullname, "shortname": c.shortname} for c in courses
            ]
        return out

    def _group_brief(self, group: Group) -> dict[str, Any]:
        if group.descriptionformat == 0:
            return {
                "id": group.id,
                "name": group.name,
                "description": f'<div class="text_to_html">{group.description}</div>',
                "descriptionformat": 0,
            }
        return {
            "id": group.id,
            "name": group.name,
            "description": group.description,
            "descriptionformat": group.descriptionformat,
        }

    def _fn_core_enrol_get_enrolled_users(
        self, courseid: int, options: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        self._course(courseid)
        opts = {o["name"].lower(): str(o["value"]) for o in options}

        def intopt(name: str, default: int) -> int:
            raw = opts.get(name)
            if raw is None or raw == "":
                return default
            if not re.match(r"^-?\d+$", raw):
                raise _invalid(f"{name} => Invalid parameter value detected")
            return int(raw)

        fields: set[str] | None = None
        if "userfields" in opts:
            fields = {f.strip() for f in opts["userfields"].split(",") if f.strip()}
        sortby = opts.get("sortby", "id")
        if sortby not in ("id", "firstname", "lastname", "siteorder"):
            raise _invalid(f"Invalid value for sortby parameter (value: {sortby})")
        direction = opts.get("sortdirection", "ASC").upper()
        if direction not in ("ASC", "DESC"):
            raise _invalid(f"Invalid value for sortdirection parameter (value: {direction})")
        onlyactive = intopt("onlyactive", 0)
        onlysuspended = intopt("onlysuspended", 0)
        groupid = intopt("groupid", 0)
        limitfrom, limitnumber = intopt("limitfrom", 0), intopt("limitnumber", 0)
        now = self.time()
        users = []
        for (userid, cid), _enrolment in self.state.enrolments.items():
            if cid != courseid:
                continue
            user = self.state.users.get(userid)
            if user is None:
                continue
            active = logic.is_active_enrolment(self.state, userid, courseid, now)
            if onlyactive and not active:
                continue
            if onlysuspended and active:
                continue
            if groupid:
                group = self.state.groups.get(groupid)
                if group is None or userid not in group.members:
                    continue
            users.append(user)

        def key(u: User) -> tuple[Any, ...]:
            if sortby == "firstname":
                return (u.firstname, u.id)
            if sortby == "lastname":
                return (u.lastname, u.id)
            return (u.id,)

        users.sort(key=key, reverse=direction == "DESC")
        if limitfrom > 0:
            users = users[limitfrom:]
        if limitnumber > 0:
            users = users[:limitnumber]
        return [self._enrolled_user_dict(u, courseid, fields) for u in users]

    # --- grades ------------------------------------------------------------------

    def _grade_formatted(self, quiz: Quiz | None, grade: float | None) -> str:
        if grade is None:
            return "-"
        text = _fmt2(grade)
        if quiz is None or not quiz.gradepass:
            return text
        if grade >= quiz.gradepass:
            icon = '<i class="icon fa fa-check text-success fa-fw inline"  title="Pass" role="img" aria-label="Pass"></i>'
        else:
            icon = '<i class="icon fa fa-times text-danger fa-fw inline"  title="Fail" role="img" aria-label="Fail"></i>'
        return icon + text

    def _user_grades(self, course: Course, user: User) -> dict[str, Any]:
        quizzes = sorted(
            (q for q in self.state.quizzes.values() if q.course == course.id), key=lambda q: q.id
        )
        total_max = sum(q.grade for q in quizzes) or 0.0
        items: list[dict[str, Any]] = []
        total: float | None = None
        for quiz in quizzes:
            graded = logic.quiz_grade(self.state, quiz, user.id)
            grade, when = graded if graded is not None else (None, None)
            if grade is not None:
                total = (total or 0.0) + grade
            items.append(
                {
                    "id": quiz.gradeitemid,
                    "itemname": quiz.name,
                    "itemtype": "mod",
                    "itemmodule": "quiz",
                    "iteminstance": quiz.id,
                    "itemnumber": 0,
                    "idnumber": quiz.idnumber,
                    "categoryid": course.gradecategoryid,
                    "outcomeid": None,
                    "scaleid": None,
                    "locked": False,
                    "cmid": quiz.cmid,
                    "weightraw": _num(round(quiz.grade / total_max, 5) if total_max else 0),
                    "weightformatted": f"{(quiz.grade / total_max * 100) if total_max else 0:.2f} %",
                    "graderaw": _num(grade),
                    "gradedatesubmitted": when,
                    "gradedategraded": when,
                    "gradehiddenbydate": False,
                    "gradeneedsupdate": False,
                    "gradeishidden": False,
                    "gradeislocked": False,
                    "gradeisoverridden": False,
                    "gradeformatted": self._grade_formatted(quiz, grade),
                    "grademin": 0,
                    "grademax": _num(quiz.grade),
                    "rangeformatted": f"0&ndash;{_num(quiz.grade)}",
                    "percentageformatted": f"{grade / quiz.grade * 100:.2f} %"
                    if grade is not None
                    else "-",
                    "feedback": "",
                    "feedbackformat": 2,
                }
            )
        total_time = (
            self.state.course_grade_times.get((user.id, course.id)) if total is not None else None
        )
        items.append(
            {
                "id": course.courseitemid,
                "itemname": None,
                "itemtype": "course",
                "itemmodule": None,
                "iteminstance": course.gradecategoryid,
                "itemnumber": None,
                "idnumber": None,
                "categoryid": None,
                "outcomeid": None,
                "scaleid": None,
                "locked": False,
                "graderaw": _num(total),
                "gradedatesubmitted": None,
                "gradedategraded": total_time,
                "gradehiddenbydate": False,
                "gradeneedsupdate": False,
                "gradeishidden": False,
                "gradeislocked": False,
                "gradeisoverridden": False,
                "gradeformatted": self._grade_formatted(None, total),
                "grademin": 0,
                "grademax": _num(total_max),
                "rangeformatted": f"0&ndash;{_num(total_max)}",
                "percentageformatted": f"{total / total_max * 100:.2f} %"
                if total is not None and total_max
                else "-",
                "feedback": "",
                "feedbackformat": 2,
            }
        )
        return {
            "courseid": course.id,
            "courseidnumber": course.idnumber,
            "userid": user.id,
            "userfullname": user.fullname,
            "useridnumber": user.idnumber,
            "maxdepth": 2,
            "gradeitems": items,
        }

    def _fn_gradereport_user_get_grade_items(
        self, courseid: int, userid: int, groupid: int
    ) -> dict[str, Any]:
        course = self._course(courseid)
        if userid:
            user = self._user(userid)
            users = [user] if logic.is_enrolled(self.state, userid, courseid) else []
        else:
            users = [
                self.state.users[u]
                for (u, c) in self.state.enrolments
                if c == courseid
                and logic.is_tracked(self.state, u, courseid)
                and u in self.state.users
            ]
            if groupid:
                members = (
                    set(self.state.groups[groupid].members)
                    if groupid in self.state.groups
                    else set()
                )
                users = [u for u in users if u.id in members]
            users.sort(key=lambda u: (u.lastname, u.firstname, u.id))
        return {"usergrades": [self._user_grades(course, u) for u in users], "warnings": []}

    # --- completion --------------------------------------------------------------

    def _fn_core_completion_get_activities_completion_status(
        self, courseid: int, userid: int
    ) -> dict[str, Any]:
        self._course(courseid)
        self._user(userid)
        tracked = logic.is_tracked(self.state, userid, courseid)
        statuses = []
        for activity in self._course_activities(courseid):
            if not activity.completion:
                continue
            data = self._completion_data(activity, userid, tracked)
            statuses.append(
                {
                    "cmid": activity.cmid,
                    "modname": activity.modname,
                    "instance": activity.instance,
                    "state": data["state"],
                    "timecompleted": data["timecompleted"],
                    "tracking": activity.completion,
                    "overrideby": data["overrideby"],
                    **{
                        k: data[k]
                        for k in ("valueused", "hascompletion", "isautomatic", "istrackeduser")
                    },
                    "uservisible": True,
                    "details": data["details"],
                    "isoverallcomplete": data["isoverallcomplete"],
                }
            )
        return {"statuses": statuses, "warnings": []}

    def _requirement(self, activity: Activity) -> str:
        if activity.completion == 1:
            return "Marking yourself complete"
        if activity.modname == "quiz":
            return "Achieving grade, Achieving passing grade"
        return f"Viewing the {activity.modname}"

    def _fn_core_completion_get_course_completion_status(
        self, courseid: int, userid: int
    ) -> dict[str, Any]:
        course = self._course(courseid)
        self._user(userid)
        if not course.enablecompletion:
            raise _moodle("completionnotenabled", "Completion is not enabled for this site")
        if not logic.is_tracked(self.state, userid, courseid):
            raise _moodle(
                "nottracked", "You are currently not being tracked by completion in this course"
            )
        criteria = logic.criteria_status(self.state, userid, courseid)
        if not criteria:
            raise _moodle("nocriteriaset", "No completion criteria set for this course")
        completions = []
        by_id = {c.id: c for c in course.completion.activities}
        for kind, cid, complete, when in criteria:
            if kind == "activity":
                activity = self.state.activities[by_id[cid].cmid]
                link = f"{self.url}/mod/{activity.modname}/view.php?id={activity.cmid}"
                completions.append(
                    {
                        "type": 4,
                        "title": "Activity completion",
                        "status": "Yes" if complete else "No",
                        "complete": complete,
                        "timecompleted": when,
                        "details": {
                            "type": "Activity completion",
                            "criteria": f'<a href="{link}">{html.escape(activity.name, quote=False)}</a>',
                            "requirement": self._requirement(activity),
                            "status": "",
                        },
                    }
                )
            else:
                assert course.completion.role is not None
                name = self._role_name(course.completion.role.roleid)
                completions.append(
                    {
                        "type": 7,
                        "title": name,
                        "status": "Yes" if complete else "No",
                        "complete": complete,
                        "timecompleted": when,
                        "details": {
                            "type": "Manual completion by others",
                            "criteria": name,
                            "requirement": f"Marked complete by {name}",
                            "status": "",
                        },
                    }
                )
        return {
            "completionstatus": {
                "completed": (userid, courseid) in self.state.course_completions,
                "aggregation": course.completion.aggregation,
                "completions": completions,
            },
            "warnings": [],
        }

    def _fn_core_completion_override_activity_completion_status(
        self, userid: int, cmid: int, newstate: int
    ) -> dict[str, Any]:
        activity = self.state.activities.get(cmid)
        if activity is None:
            raise self._missing("course_modules", cmid)
        course = self._course(activity.course)
        self._user(userid)
        if newstate not in (COMPLETION_INCOMPLETE, COMPLETION_COMPLETE):
            raise _invalid("newstate => Invalid parameter value detected")
        if not course.enablecompletion:
            raise _moodle("completionnotenabled", "Completion is not enabled for this site")
        if not logic.is_tracked(self.state, userid, course.id):
            raise _moodle(
                "nottracked", "You are currently not being tracked by completion in this course"
            )
        if not activity.completion:
            raise _moodle(
                "nocompletiontracking", "Completion tracking is not enabled for this activity"
            )
        now = self.time()
        self.state.activity_completions[(userid, cmid)] = ActivityCompletion(
            newstate, now, self.state.agent_userid
        )
        logic.aggregate_course(self.state, userid, course.id)
        return {
            "cmid": cmid,
            "userid": userid,
            "state": newstate,
            "timecompleted": now,
            "overrideby": self.state.agent_userid,
            "tracking": activity.completion,
        }

    # --- messages ----------------------------------------------------------------

    def _conversation(self, a: int, b: int) -> int:
        key = (min(a, b), max(a, b))
        if key not in self.state.conversations:
            self.state.conversations[key] = self.state.new_id("conversation")
        return self.state.conversations[key]

    def _fn_core_message_send_instant_messages(
        self, messages: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        sender = self.state.agent_userid
        now = self.time()
        results: list[dict[str, Any]] = []
        for item in messages:
            touser = self.state.users.get(item["touserid"])
            error: str | None = None
            if touser is None:
                error = f"You can not send a message to a user id ({item['touserid']}) that doesn't exist"
            elif touser.suspended:
                error = f"You can't message {touser.fullname} due to their message preferences. Try adding them as a contact."
            result: dict[str, Any]
            if error is not None:
                result = {"msgid": -1}
                if "clientmsgid" in item:
                    result["clientmsgid"] = item["clientmsgid"]
                result["errormessage"] = error
                result["candeletemessagesforallusers"] = False
                results.append(result)
                continue
            assert touser is not None
            message = Message(
                id=self.state.new_id("message"),
                useridfrom=sender,
                useridto=touser.id,
                text=item["text"],
                textformat=item["textformat"],
                timecreated=now,
                conversationid=self._conversation(sender, touser.id),
                clientmsgid=item.get("clientmsgid"),
            )
            self.state.messages.append(message)
            result = {"msgid": message.id}
            if message.clientmsgid is not None:
                result["clientmsgid"] = message.clientmsgid
            result.update(
                {
                    "text": message.text,
                    "timecreated": message.timecreated,
                    "conversationid": message.conversationid,
                    "useridfrom": sender,
                    "candeletemessagesforallusers": True,
                }
            )
            results.append(result)
        return results

    def _message_dict(self, message: Message) -> dict[str, Any]:
        sender = self.state.users.get(message.useridfrom)
        recipient = self.state.users.get(message.useridto)
        fromname = sender.fullname if sender else ""
        customdata = json.dumps(
            {
                "notificationiconurl": self._picture(),
                "actionbuttons": {"send": "Send"},
                "placeholders": {"send": "Write a message..."},
                "courseid": 1,
            },
            separators=(",", ":"),
        ).replace("/", "\\/")
        return {
            "id": message.id,
            "useridfrom": message.useridfrom,
            "useridto": message.useridto,
            "subject": f"New message from {fromname}",
            "text": message.text,
            "fullmessage": html_to_text(message.text),
            "fullmessageformat": message.textformat,
            "fullmessagehtml": message.text,
            "smallmessage": message.text,
            "notification": 0,
            "contexturl": "",
            "contexturlname": "",
            "timecreated": message.timecreated,
            "timeread": message.timeread,
            "usertofullname": recipient.fullname if recipient else "",
            "userfromfullname": fromname,
            "customdata": customdata,
        }

    def _fn_core_message_get_messages(
        self,
        useridto: int,
        useridfrom: int,
        type: str,
        read: int,
        newestfirst: bool,
        limitfrom: int,
        limitnum: int,
    ) -> dict[str, Any]:
        if type not in ("both", "conversations", "notifications"):
            raise _invalid("Invalid type")
        if not useridto and not useridfrom:
            raise _invalid("useridto and useridfrom cannot both be 0")
        if useridto:
            self._user(useridto)
        found = []
        if type != "notifications":
            for message in self.state.messages:
                if useridto and message.useridto != useridto:
                    continue
                if useridfrom and message.useridfrom != useridfrom:
                    continue
                is_read = message.timeread is not None
                if (read == 0 and is_read) or (read == 1 and not is_read):
                    continue
                found.append(message)
        found.sort(key=lambda m: (m.timecreated, m.id), reverse=newestfirst)
        if limitfrom > 0:
            found = found[limitfrom:]
        if limitnum > 0:
            found = found[:limitnum]
        return {"messages": [self._message_dict(m) for m in found], "warnings": []}

    # --- enrolment ---------------------------------------------------------------

    def _fn_enrol_manual_enrol_users(self, enrolments: list[dict[str, Any]]) -> None:
        for item in enrolments:
            self._course(item["courseid"])
            if (
                item["roleid"] not in self.assignable_roles
                or item["roleid"] not in self.state.roles
            ):
                raise _moodle(
                    "wsusercannotassign",
                    f"You don't have the permission to assign this role ({item['roleid']}) to this user "
                    f"({item['userid']}) in this course ({item['courseid']}).",
                )
            self._user(item["userid"])
        now = self.time()
        for item in enrolments:
            key = (item["userid"], item["courseid"])
            status = ENROL_SUSPENDED if item.get("suspend") else ENROL_ACTIVE
            existing = self.state.enrolments.get(key)
            if existing is None:
                self.state.enrolments[key] = Enrolment(
                    item["userid"],
                    item["courseid"],
                    [item["roleid"]],
                    item.get("timestart", 0),
                    item.get("timeend", 0),
                    status,
                    now,
                )
            else:
                existing.timestart = item.get("timestart", 0)
                existing.timeend = item.get("timeend", 0)
                existing.status = status
                if item["roleid"] not in existing.roleids:
                    existing.roleids.append(item["roleid"])
        return None

    def _fn_core_role_assign_roles(self, assignments: list[dict[str, Any]]) -> None:
        """Role assignment in a course context (contextlevel=course, instanceid=course id).

        Like core_role_external::assign_roles: a role the agent may not assign is an
        invalid_parameter_exception ("Can not assign roleid=R in contextid=C", in
        debuginfo only)."""
        for item in assignments:
            if item.get("contextlevel") != "course" or "instanceid" not in item:
                raise _invalid("the simulator assigns roles in course contexts only")
            course = self._course(item["instanceid"])
            self._user(item["userid"])
            if (
                item["roleid"] not in self.assignable_roles
                or item["roleid"] not in self.state.roles
            ):
                raise _invalid(
                    f"Can not assign roleid={item['roleid']} in contextid={course.contextid}"
                )
        for item in assignments:
            enrolment = self.state.enrolments.get((item["userid"], item["instanceid"]))
            if enrolment is not None and item["roleid"] not in enrolment.roleids:
                enrolment.roleids.append(item["roleid"])

    def _fn_enrol_manual_unenrol_users(self, enrolments: list[dict[str, Any]]) -> None:
        for item in enrolments:
            self._course(item["courseid"])
            self._user(item["userid"])
        for item in enrolments:
            self._unenrol(item["userid"], item["courseid"])
        return None

    def _unenrol(self, userid: int, courseid: int) -> None:
        self.state.enrolments.pop((userid, courseid), None)
        self.state.lastcourseaccess.pop((userid, courseid), None)
        for group in self.state.groups.values():
            if group.courseid == courseid and userid in group.members:
                group.members.remove(userid)

    # --- users, groups, cohorts --------------------------------------------------

    def _fn_core_user_get_users_by_field(
        self, field: str, values: list[str]
    ) -> list[dict[str, Any]]:
        if field not in ("id", "idnumber", "username", "email"):
            raise _invalid("Invalid field name")
        if field == "id":
            if any(not re.match(r"^-?\d+$", v) for v in values):
                raise _invalid("Invalid parameter value detected")
            wanted = {int(v) for v in values}
            users = [u for u in self.state.users.values() if u.id in wanted]
        else:
            wanted_s = {v.strip().lower() if field in ("email", "username") else v for v in values}
            users = [
                u
                for u in self.state.users.values()
                if (
                    getattr(u, field).lower()
                    if field in ("email", "username")
                    else getattr(u, field)
                )
                in wanted_s
            ]
        result = []
        for user in sorted(users, key=lambda u: u.id):
            out: dict[str, Any] = {
                "id": user.id,
                "username": user.username,
                "firstname": user.firstname,
                "lastname": user.lastname,
                "fullname": user.fullname,
                "email": user.email,
            }
            for name, value in (
                ("department", user.department),
                ("institution", user.institution),
                ("idnumber", user.idnumber),
            ):
                if value:
                    out[name] = value
            out.update(
                {
                    "firstaccess": user.firstaccess,
                    "lastaccess": user.lastaccess,
                    "auth": user.auth,
                    "suspended": user.suspended,
                    "confirmed": True,
                    "lang": "en",
                    "theme": "",
                    "timezone": "99",
                    "mailformat": 1,
                    "trackforums": 0,
                }
            )
            for name, value in (("city", user.city), ("country", user.country)):
                if value:
                    out[name] = value
            out["profileimageurlsmall"] = self._picture(small=True)
            out["profileimageurl"] = self._picture()
            custom = self._customfields(user, display=True)
            if custom:
                out["customfields"] = custom
            result.append(out)
        return result

    def _group_dict(self, group: Group) -> dict[str, Any]:
        return {
            "id": group.id,
            "courseid": group.courseid,
            "name": group.name,
            "description": group.description,
            "descriptionformat": 1 if group.descriptionformat == 0 else group.descriptionformat,
            "enrolmentkey": group.enrolmentkey,
            "idnumber": group.idnumber,
            "visibility": group.visibility,
            "participation": group.participation,
        }

    def _fn_core_group_get_course_groups(self, courseid: int) -> list[dict[str, Any]]:
        self._course(courseid)
        groups = sorted(
            (g for g in self.state.groups.values() if g.courseid == courseid), key=lambda g: g.name
        )
        return [self._group_dict(g) for g in groups]

    def _fn_core_group_create_groups(self, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        names: set[tuple[int, str]] = {(g.courseid, g.name) for g in self.state.groups.values()}
        idnumbers: set[tuple[int, str]] = {
            (g.courseid, g.idnumber) for g in self.state.groups.values() if g.idnumber
        }
        for item in groups:
            self._course(item["courseid"])
            if (item["courseid"], item["name"]) in names:
                raise _moodle(
                    "groupexistforcourse", f'Group "{item["name"]}" already exists for this course'
                )
            names.add((item["courseid"], item["name"]))
            idnumber = item.get("idnumber") or ""
            if idnumber and (item["courseid"], idnumber) in idnumbers:
                raise _moodle("idnumbertaken", "This ID number is already taken")
            if idnumber:
                idnumbers.add((item["courseid"], idnumber))
        created = []
        for item in groups:
            group = Group(
                id=self.state.new_id("group"),
                courseid=item["courseid"],
                name=item["name"],
                description=item["description"],
                descriptionformat=item["descriptionformat"],
                idnumber=item.get("idnumber") or "",
                enrolmentkey=item.get("enrolmentkey"),
                visibility=item.get("visibility", 0),
                participation=item.get("participation", True),
            )
            self.state.groups[group.id] = group
            created.append(
                {
                    "id": group.id,
                    "courseid": group.courseid,
                    "name": group.name,
                    "description": group.description,
                    "descriptionformat": group.descriptionformat,
                    "enrolmentkey": group.enrolmentkey or "",
                    "idnumber": group.idnumber,
                    "visibility": group.visibility,
                    "participation": group.participation,
                }
            )
        return created

    def _fn_core_group_add_group_members(self, members: list[dict[str, Any]]) -> None:
        for item in members:
            group = self.state.groups.get(item["groupid"])
            if group is None:
                raise self._missing("groups", item["groupid"])
            self._course(group.courseid)
            self._user(item["userid"])
            if not logic.is_enrolled(self.state, item["userid"], group.courseid):
                raise _invalid("Only enrolled users may be members of groups")
        for item in members:
            group = self.state.groups[item["groupid"]]
            if item["userid"] not in group.members:
                group.members.append(item["userid"])
        return None

    def _fn_core_cohort_get_cohort_members(self, cohortids: list[int]) -> list[dict[str, Any]]:
        result = []
        for cid in cohortids:
            cohort = self.state.cohorts.get(cid)
            if cohort is None:
                raise self._missing("cohort", cid)
            result.append({"cohortid": cohort.id, "userids": list(cohort.members)})
        return result

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

    def install_plugin(self) -> None:
        """Install local_buyin: its three functions join the service."""
        with self._lock:
            self.service_functions.update(PLUGIN_FUNCTIONS)

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

    def _fn_local_buyin_request_signoffs(self, requests: list[dict[str, Any]]) -> dict[str, Any]:
        now = self.time()
        out = []
        warnings = []
        for item in requests:
            if (item["userid"], item["courseid"]) not in self.state.enrolments:
                warnings.append(
                    {
                        "item": "user",
                        "itemid": item["userid"],
                        "warningcode": "notenrolled",
                        "message": "The learner is not enrolled in the course",
                    }
                )
                continue
            out.append(
                self.plugin.upsert(item["courseid"], item["userid"], item["managerid"], now).brief()
            )
        return {"requests": out, "warnings": warnings}

    def _fn_local_buyin_get_signoffs(
        self, since: int, courseid: int, limitfrom: int, limitnumber: int
    ) -> dict[str, Any]:
        rows, more = self.plugin.changes(since, courseid, limitfrom, limitnumber)
        return {"signoffs": [r.full() for r in rows], "hasmore": more, "warnings": []}

    def _fn_local_buyin_record_signoff(
        self, courseid: int, userid: int, decision: str, comment: str
    ) -> dict[str, Any]:
        request = self.plugin.requests.get((courseid, userid))
        if request is None:
            raise self._missing("local_buyin_signoff", userid)
        self.plugin_decide(userid, courseid, request.managerid, decision, comment)
        return {"status": True, "signoff": request.full(), "warnings": []}

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

    def unenrol(self, userid: int, courseid: int) -> None:
        with self._lock:
            self._unenrol(userid, courseid)

    def set_profile_field(self, userid: int, shortname: str, value: str | None) -> None:
        with self._lock:
            profile = self.state.users[userid].profile
            if value:
                profile[shortname] = value
            else:
                profile.pop(shortname, None)

    def suspend_user(self, userid: int, suspended: bool = True) -> None:
        with self._lock:
            self.state.users[userid].suspended = suspended

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


class SimulatedAdapter(BaseAdapter):
    """A requests transport serving a :class:`SimulatedMoodle` in-process."""

    def __init__(self, site: SimulatedMoodle) -> None:
        super().__init__()
        self.site = site

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        parts = urlsplit(url)
        response = requests.Response()
        response.url = url
        response.request = request
        if not parts.path.endswith("/webservice/rest/server.php"):
            response.status_code = 404
            response.reason = "Not Found"
            response._content = b"Not Found"
            return response
        body: str | bytes = request.body or "" if request.method == "POST" else parts.query
        status, headers, text = self.site.handle(body)
        response.status_code = status
        response.reason = {
            200: "OK",
            429: "Too Many Requests",
            500: "Internal Server Error",
            503: "Service Unavailable",
        }.get(status, "")
        response.headers = CaseInsensitiveDict(headers)
        response._content = text.encode("utf-8")
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        return None
