"""Helpers of the live tier (tests/live): the real site, what it holds, the agent.

Every test here needs ``MOODLE_URL`` and ``MOODLE_TOKEN`` (skipped otherwise). Tests that
write, install the plugin or read Moodle's database need the project's own site
(``../shared/moodle/site/site.sh``, or ``MOODLE_SITE_SH``) serving that ``MOODLE_URL``:
they start from ``site.sh reset``; against any other site they are skipped.

The agent runs here on the wall clock, as Moodle does: the site's "now" is the real time.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import requests

from buyin.moodle.encoding import flatten
from support import REPO

URL = os.environ.get("MOODLE_URL", "").rstrip("/")
TOKEN = os.environ.get("MOODLE_TOKEN", "")
SITE_SH = Path(
    os.environ.get("MOODLE_SITE_SH") or REPO.parent / "shared" / "moodle" / "site" / "site.sh"
)
PLUGIN = REPO / "plugin_contract" / "moodle" / "local_buyin"
PHP = Path(__file__).parent / "php"
AGENT = [sys.executable, "-c", "from buyin.cli import main; main()"]
#: the scenario's ids (tests/fixtures/moodle/scenario.json)
CC101, CC201, LEAD100 = 2, 3, 4
AGENT_USERID = 3

needs_site = pytest.mark.skipif(
    not (URL and TOKEN), reason="MOODLE_URL and MOODLE_TOKEN are not set"
)


class WallClock:
    """The real time: what the real site's own clock reads."""

    def __call__(self) -> int:
        return int(time.time())


def _own_site() -> bool:
    """Is MOODLE_URL the site that site.sh serves (so tests may reset and query it)?"""
    if not (URL and TOKEN and SITE_SH.is_file()):
        return False
    try:
        out = subprocess.run(
            ["bash", str(SITE_SH), "env"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return f"export MOODLE_URL={URL}\n" in out


OWN_SITE = _own_site()
needs_own_site = pytest.mark.skipif(
    not OWN_SITE, reason=f"needs the project's own site ({SITE_SH}) serving MOODLE_URL"
)


def own_site() -> RealMoodle:
    """The project's own site (skips the test otherwise)."""
    if not (URL and TOKEN):
        pytest.skip("MOODLE_URL and MOODLE_TOKEN are not set")
    if not OWN_SITE:
        pytest.skip(f"needs the project's own site ({SITE_SH}) serving MOODLE_URL")
    return RealMoodle(URL, TOKEN)


class MoodleError(AssertionError):
    pass


@dataclass
class RealMoodle:
    """The real site: site.sh, its database, its web services, its pages."""

    url: str
    token: str
    env: dict[str, str] = field(default_factory=dict)

    # --- site.sh -----------------------------------------------------------------
    def sh(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            ["bash", str(SITE_SH), *args], capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise MoodleError(f"site.sh {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def reset(self) -> None:
        self.sh("reset")
        self.env = self._read_env()

    def _read_env(self) -> dict[str, str]:
        found = re.findall(r"^export ([A-Z_]+)=(.*)$", self.sh("env"), re.M)
        return {name: " ".join(shlex.split(value)) for name, value in found}

    # --- a saved state (the plugin's install takes Moodle's full upgrade, ~40 s: once) ---
    def _pg(self, tool: str, *args: str) -> None:
        site = os.environ.get("MOODLE_SITE_DIR", "/tmp/moodle-site")
        subprocess.run(
            [tool, "-h", f"{site}/pg/run", "-p", "5433", "-U", "moodle", *args],
            check=True,
            capture_output=True,
            timeout=300,
        )

    def save(self, path: Path) -> None:
        """Keep the database as it is now (the plugin's code stays in the site)."""
        self._pg("pg_dump", "-Fc", "-d", "moodle", "-f", str(path))

    def restore(self, path: Path, plugin: Path = PLUGIN) -> None:
        """Back to a saved database, with ``plugin``'s code in the site (another test may
        have reset it or installed another version), caches purged."""
        site = os.environ.get("MOODLE_SITE_DIR", "/tmp/moodle-site")
        code = Path(site) / "moodle" / "public" / "local" / "buyin"
        shutil.rmtree(code, ignore_errors=True)
        shutil.copytree(plugin, code)
        self._pg(
            "psql",
            "-X",
            "-q",
            "-d",
            "postgres",
            "-c",
            "drop database if exists moodle with (force)",
        )
        self._pg(
            "psql",
            "-X",
            "-q",
            "-d",
            "postgres",
            "-c",
            "create database moodle owner moodle encoding 'UTF8' template template0",
        )
        self._pg("pg_restore", "--no-owner", "-j", "2", "-d", "moodle", str(path))
        self.sh("php", f"{site}/moodle/admin/cli/purge_caches.php")
        self.env = self._read_env()

    def install_plugin(self, source: Path = PLUGIN) -> str:
        """Moodle's upgrade installs (or upgrades) the folder; the output is Moodle's."""
        return self.sh("plugin", str(source), timeout=600)

    def enable_plugin_service(self) -> str:
        """What the README's plugin setup has an admin do: service enabled, agent authorised,
        a token, local/buyin:signoff for the sign-off role. Returns the agent's token."""
        self.sh("php", str(SITE_SH.parent / "scripts" / "enable_plugin_service.php"))
        self.env = self._read_env()
        return self.env["MOODLE_PLUGIN_TOKEN"]

    def user_tokens(self, *usernames: str) -> dict[str, str]:
        """Tokens on local_buyin's service for people (managers, learners)."""
        out = self.sh("php", str(PHP / "user_tokens.php"), *usernames)
        tokens: dict[str, str] = json.loads(out.strip().splitlines()[-1])
        return tokens

    def cron(self) -> str:
        # site.sh waits one second first: completion aggregates only what was flagged
        # before the second its task starts (NOTES.md)
        return self.sh("cron", timeout=600)

    def sql(self, query: str) -> list[list[str]]:
        out = self.sh("psql", "-tA", "-F", "\t", "-c", query)
        return [line.split("\t") for line in out.splitlines() if line]

    def holding(self) -> Holding:
        return holding(self)

    def now(self) -> int:
        return int(time.time())

    def value(self, query: str) -> str:
        rows = self.sql(query)
        return rows[0][0] if rows else ""

    # --- web services --------------------------------------------------------------
    def call(self, function: str, token: str | None = None, /, **params: Any) -> Any:
        """One REST call; Moodle's error envelope is returned as it came."""
        body = [
            ("wstoken", token or self.token),
            ("wsfunction", function),
            ("moodlewsrestformat", "json"),
            *flatten(params),
        ]
        response = requests.post(f"{self.url}/webservice/rest/server.php", data=body, timeout=60)
        assert response.status_code == 200, (function, response.status_code, response.text[:500])
        return response.json()

    # --- pages ------------------------------------------------------------------------
    def login(self, username: str, password: str | None = None) -> requests.Session:
        if password is None:
            password = self.env[
                "MOODLE_MANAGER_PASSWORD"
                if username.startswith("mgr")
                else "MOODLE_LEARNER_PASSWORD"
            ]
        session = requests.Session()
        page = session.get(f"{self.url}/login/index.php", timeout=60)
        token = re.search(r'name="logintoken" value="([^"]*)"', page.text)
        answer = session.post(
            f"{self.url}/login/index.php",
            data={
                "username": username,
                "password": password,
                "logintoken": token[1] if token else "",
            },
            timeout=60,
        )
        assert "login/index.php" not in answer.url, f"{username} could not log in"
        return session


def php_problems(html: str) -> list[str]:
    """PHP notices, warnings, deprecations and Moodle's debugging() output on a page
    (the site runs with developer debugging: they are printed into the page)."""
    found = re.findall(
        r"(?:<b>)?(Notice|Warning|Deprecated|Fatal error|Parse error)(?:</b>)?:\s.{0,200}", html
    )
    found += re.findall(r'class="[^"]*debuggingmessage[^"]*".{0,300}', html, re.S)
    found += re.findall(r"(Coding error detected.{0,200}|Exception - .{0,200})", html)
    return [str(f) for f in found]


class Forms(HTMLParser):
    """Every form of a page: its action and its fields, and its submit buttons."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "fields": {}, "buttons": []}
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "button", "textarea", "select"):
            kind = a.get("type", "submit" if tag == "button" else "text")
            if "name" not in a:
                return
            if kind == "submit":
                self._form["buttons"].append((a["name"], a.get("value", "")))
            elif kind not in ("checkbox", "radio") or "checked" in a:
                self._form["fields"][a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


# --- what Moodle holds -----------------------------------------------------------------


@dataclass(frozen=True)
class Holding:
    """What the site holds after a run, read from Moodle's database: each user's
    messages (texts counted, the site's address as <site>), and the rest."""

    messages: dict[int, Counter[str]]
    rest: dict[str, Any]


def holding(moodle: RealMoodle) -> Holding:
    messages: dict[int, Counter[str]] = {}
    rows = moodle.sql(
        "select mcm.userid, encode(convert_to(coalesce(nullif(m.fullmessagehtml, ''), m.fullmessage), 'UTF8'), 'hex') "
        "from mdl_messages m join mdl_message_conversation_members mcm "
        "on mcm.conversationid = m.conversationid and mcm.userid <> m.useridfrom "
        f"where m.useridfrom = {AGENT_USERID} "
        "union all select n.useridto, encode(convert_to(coalesce(nullif(n.fullmessagehtml, ''), n.fullmessage), 'UTF8'), 'hex') "
        "from mdl_notifications n where n.component = 'local_buyin'"
    )
    for userid, text in rows:
        body = bytes.fromhex(text).decode("utf-8").replace(moodle.url, "<site>")
        messages.setdefault(int(userid), Counter())[body] += 1
    roles: dict[tuple[int, int], list[int]] = {}
    for userid, courseid, roleid in moodle.sql(
        "select ra.userid, ctx.instanceid, ra.roleid from mdl_role_assignments ra "
        "join mdl_context ctx on ctx.id = ra.contextid and ctx.contextlevel = 50"
    ):
        roles.setdefault((int(userid), int(courseid)), []).append(int(roleid))
    enrolments = sorted(
        ((int(u), int(c)), sorted(roles.get((int(u), int(c)), [])), int(start), int(status))
        for u, c, start, status in moodle.sql(
            "select ue.userid, e.courseid, ue.timestart, ue.status from mdl_user_enrolments ue "
            "join mdl_enrol e on e.id = ue.enrolid"
        )
    )
    rest: dict[str, Any] = {
        "overrides": sorted(
            ((int(u), int(cm)), int(s), int(by) if by else None)
            for u, cm, s, by in moodle.sql(
                "select userid, coursemoduleid, completionstate, overrideby "
                "from mdl_course_modules_completion"
            )
        ),
        "enrolments and roles": enrolments,
        "groups": sorted(
            (int(c), name, idnumber, sorted(int(x) for x in members.split(",") if x))
            for c, name, idnumber, members in moodle.sql(
                "select g.courseid, g.name, g.idnumber, coalesce(string_agg(gm.userid::text, ','), '') "
                "from mdl_groups g left join mdl_groups_members gm on gm.groupid = g.id "
                "group by g.id, g.courseid, g.name, g.idnumber"
            )
        ),
        "course completions": sorted(
            (int(u), int(c))
            for u, c in moodle.sql(
                "select userid, course from mdl_course_completions where timecompleted is not null"
            )
        ),
    }
    if moodle.value("select to_regclass('mdl_local_buyin_signoff')"):
        rest["signoff_requests"] = sorted(
            (int(c), int(u), int(m), s)
            for c, u, m, s in moodle.sql(
                "select courseid, userid, managerid, status from mdl_local_buyin_signoff"
            )
        )
    return Holding(messages, rest)


# --- the agent -----------------------------------------------------------------------


@dataclass
class AgentRun:
    code: int
    out: str
    err: str
    seconds: float


@dataclass
class Agent:
    """`buyin` run as an admin runs it: a subprocess with its state and mappings."""

    moodle: RealMoodle
    workdir: Path
    token: str

    @property
    def mappings(self) -> Path:
        return self.workdir / "mappings"

    def args(self) -> list[str]:
        return [
            "--url",
            self.moodle.url,
            "--state",
            str(self.workdir / "state.sqlite"),
            "--mappings",
            str(self.mappings),
        ]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BUYIN_")}
        env["BUYIN_TOKEN"] = self.token
        return env

    def start(self, *command: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*AGENT, *self.args(), *command],
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.workdir,
        )

    def run(self, *command: str, timeout: float = 300) -> AgentRun:
        began = time.monotonic()
        proc = self.start(*command)
        out, err = proc.communicate(timeout=timeout)
        return AgentRun(proc.returncode, out, err, time.monotonic() - began)

    def sync(self, *extra: str) -> AgentRun:
        result = self.run("sync", *extra)
        assert result.code == 0, result.out + result.err
        return result


def write_mappings(directory: Path) -> Path:
    """The example mapping, its start line before the scenario's events: the first sync
    acts on the scenario's history (pre-checks, completions, refreshers)."""
    directory.mkdir(parents=True, exist_ok=True)
    text = (REPO / "mappings" / "examples" / "cc101.toml").read_text()
    # every day a working day: the real site runs on the machine's clock, and the live
    # stage must see the same messages on a Saturday as on a Monday
    text = text.replace(
        "[program]\n",
        '[program]\nmapped_since = "2026-01-01"\nworking_days = ["monday", "tuesday", '
        '"wednesday", "thursday", "friday", "saturday", "sunday"]\nmanager_weekly_limit = 7\n',
        1,
    )
    (directory / "cc101.toml").write_text(text)
    return directory


def difference(got: Holding, want: Holding, *, only_shared: bool = False) -> list[str]:
    """What differs between two holdings, named (empty: the same); ``only_shared``: the
    parts both hold (the simulated site's holding has no course completions)."""
    problems: list[str] = []
    for user in sorted(set(got.messages) | set(want.messages)):
        have, expected = got.messages.get(user, Counter()), want.messages.get(user, Counter())
        if have != expected:
            extra = [t[:160] for t in (have - expected)]
            missing = [t[:160] for t in (expected - have)]
            problems.append(f"messages to user {user}: extra {extra}, missing {missing}")
    keys = set(got.rest) & set(want.rest) if only_shared else set(got.rest) | set(want.rest)
    for key in sorted(keys):
        a, b = got.rest.get(key), want.rest.get(key)
        if a != b:
            if isinstance(a, list) and isinstance(b, list):
                only_got = [x for x in a if x not in b]
                only_want = [x for x in b if x not in a]
                problems.append(
                    f"{key}: only in the first {only_got}, only in the second {only_want}"
                )
            else:
                problems.append(f"{key}: {a!r} != {b!r}")
    return problems


def time_shift(moodle: RealMoodle) -> int:
    """How far the site's data lies from scenario.json's times (the dump was made later:
    every time moved by the same amount); learner01's CC101 completion tells."""
    from support import load_scenario

    learner = load_scenario()["learners"]["learner01"]
    site = int(
        moodle.value(
            f"select timecompleted from mdl_course_completions where course = {CC101} "
            f"and userid = {learner['userid']}"
        )
    )
    return site - int(learner["cc101_course_completion_record"]["timecompleted"])


def simulated_site(moodle: RealMoodle, *, plugin: bool) -> Any:
    """The simulated Moodle seeded with the real site's scenario (same ids, same times)."""
    from buyin.simulator import SimulatedMoodle, generate_scenario
    from support import SCENARIO_NOW

    scenario = generate_scenario(now=SCENARIO_NOW + time_shift(moodle))
    site = SimulatedMoodle(scenario, url="http://127.0.0.1", clock=WallClock())
    # the site's agent role may assign the student role only, not the sign-off role (the
    # real site answers wsusercannotassign, doctor's probe shows it)
    site.assignable_roles = {5}
    site.debug = True  # the project's site runs with developer debugging
    if plugin:
        site.install_plugin(notifications=True)
    return site


def simulated_holding(workdir: Path, moodle: RealMoodle, *, plugin: bool, runs: int = 1) -> Holding:
    """The same agent, the same mappings, on the simulated Moodle served over loopback:
    what it holds after ``runs`` syncs (in the real site's shape)."""
    from buyin.simulator.serve import SiteServer

    site = simulated_site(moodle, plugin=plugin)
    with SiteServer(site, lifetime=600) as server:
        site.url = server.url
        agent = Agent(RealMoodle(server.url, site.token), workdir, site.token)
        write_mappings(agent.mappings)
        for _ in range(runs):
            agent.sync()
        return simulated_holding_of(site, server.url)


def simulated_holding_of(site: Any, url: str) -> Holding:
    state = site.state
    messages: dict[int, Counter[str]] = {}
    for m in state.messages:
        messages.setdefault(m.useridto, Counter())[m.text.replace(url, "<site>")] += 1
    rest: dict[str, Any] = {
        "overrides": sorted(
            (k, v.state, v.overrideby) for k, v in state.activity_completions.items()
        ),
        "enrolments and roles": sorted(
            (k, sorted(e.roleids), e.timestart, e.status) for k, e in state.enrolments.items()
        ),
        "groups": sorted(
            (g.courseid, g.name, g.idnumber, sorted(g.members)) for g in state.groups.values()
        ),
    }
    if "local_buyin_get_signoffs" in site.service_functions:
        rest["signoff_requests"] = sorted(
            (r.courseid, r.userid, r.managerid, r.status) for r in site.plugin.requests.values()
        )
    return Holding(messages, rest)


@dataclass
class Steps:
    """One site for a module's steps, and its agents."""

    moodle: RealMoodle
    tmp: Path
    plugin_token: str = ""

    def agent(self, *, plugin: bool, name: str = "agent") -> Agent:
        token = self.plugin_token if plugin else self.moodle.token
        assert token, "the plugin is not installed on this site"
        workdir = self.tmp / name
        write_mappings(workdir / "mappings")
        return Agent(self.moodle, workdir, token)


@dataclass
class PluginSite:
    """The scenario with local_buyin from the checkout installed by Moodle's upgrade and
    its service set up (made once a session, then restored from a dump for each module)."""

    dump: Path
    install_output: str
    token: str


# --- the simulated Moodle against the real one, call by call ------------------------


@dataclass
class Exchange:
    """One web-service call the agent made, and the real site's answer."""

    at: float
    function: str
    body: str
    answer: str


class Recorder:
    """A loopback proxy in front of the real site: the agent talks to it, it forwards
    each call to Moodle and keeps the exchange (in the order the calls reached it)."""

    def __init__(self, target: str) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from threading import Lock, Thread
        from urllib.parse import parse_qs

        self.exchanges: list[Exchange] = []
        lock = Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                text = body.decode("utf-8")
                at = time.time()
                answer = requests.post(
                    f"{target}{self.path}",
                    data=body,
                    headers={"Content-Type": self.headers.get("Content-Type", "")},
                    timeout=120,
                )
                function = parse_qs(text).get("wsfunction", [""])[0]
                with lock:
                    recorder.exchanges.append(Exchange(at, function, text, answer.text))
                data = answer.content
                self.send_response(answer.status_code)
                self.send_header(
                    "Content-Type", answer.headers.get("Content-Type", "application/json")
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class SetClock:
    """The simulated site's clock, set to the moment each recorded call reached Moodle."""

    now = 0

    def __call__(self) -> int:
        return self.now


#: answers' fields whose value is the site's own, not the scenario's: their presence and type
#: are compared, not their value
VOLATILE_KEYS: dict[str, str] = {
    "msgid": "a new row's id (the site's sequence)",
    "messageid": "a new row's id (the site's sequence of notifications)",
    "conversationid": "a new row's id (the site's sequence)",
    "userprivateaccesskey": "a per-user secret",
    "cacherev": "moved by every purge of caches (site.sh reset purges)",
    "usermaxuploadfilesize": "PHP's upload_max_filesize where the site runs",
    "functions": "the token's service: the site's buyin service holds more than the agent calls",
    "html": "a question's rendered HTML (random element ids): the simulator sends a stand-in",
}
#: (function prefix, field): not compared, and why
SITE_HISTORY: dict[tuple[str, str], str] = {
    ("core_message_get_messages", "fullmessage"): "Moodle's html_to_text (html2text: lists as "
    "tab-star, lines wrapped at 75 columns), approximated by the simulator; the agent reads text",
    ("core_group_create_groups", "id"): "a new row's id: the site's sequence moved on by the "
    "doctor's probe, rolled back",
    ("mod_quiz_get_attempt_review", "content"): "the quiz's overall feedback texts: the live "
    "site was built with other words than the lab whose captures the simulator reproduces",
    ("mod_feedback_", "timemodified"): "the live site's poll was rebuilt when its dump was made "
    "(29 s after its day); the lab's, whose captures the simulator reproduces, days later",
}
#: the theme revision in image URLs (moved by every purge of caches)
THEME_REV = re.compile(r"(\\?/theme\\?/image\.php\\?/[a-z_]+\\?/[a-z_]+\\?/)\d+(\\?/)")
#: times stamped by the site while answering: equal within this many seconds
TIME_SLACK = 5


def compare(real: Any, simulated: Any, path: str = "$", function: str = "") -> list[str]:
    """Where the simulated answer differs from the real one: keys, types, values."""
    if isinstance(real, dict) and "exception" in real and isinstance(simulated, dict):
        # Moodle's error: the same exception and errorcode; the message as the simulator's
        # (the site's debugging display adds the detail to it, and debuginfo)
        problems = [
            f"{path}.{k}: real {real.get(k)!r}, simulated {simulated.get(k)!r}"
            for k in ("exception", "errorcode")
            if real.get(k) != simulated.get(k)
        ]
        if not str(real.get("message", "")).startswith(
            str(simulated.get("message", "")).rstrip(".")
        ):
            problems.append(
                f"{path}.message: real {real.get('message')!r}, simulated {simulated.get('message')!r}"
            )
        return problems
    if isinstance(real, dict):
        if not isinstance(simulated, dict):
            return [f"{path}: real an object, simulated {type(simulated).__name__}"]
        problems = []
        if set(real) != set(simulated):
            return [
                f"{path}: keys only real {sorted(set(real) - set(simulated))}, "
                f"only simulated {sorted(set(simulated) - set(real))}"
            ]
        for key in real:
            if key in VOLATILE_KEYS:
                if type(real[key]) is not type(simulated[key]):
                    problems.append(
                        f"{path}.{key}: real {type(real[key]).__name__}, simulated {type(simulated[key]).__name__}"
                    )
                continue
            problems += compare(real[key], simulated[key], f"{path}.{key}", function)
        return problems
    if isinstance(real, list):
        if not isinstance(simulated, list):
            return [f"{path}: real a list, simulated {type(simulated).__name__}"]
        if len(real) != len(simulated):
            return [f"{path}: real {len(real)} items, simulated {len(simulated)}"]
        return [
            p
            for i, (a, b) in enumerate(zip(real, simulated, strict=True))
            for p in compare(a, b, f"{path}[{i}]", function)
        ]
    if type(real) is not type(simulated) and not (
        isinstance(real, int | float)
        and isinstance(simulated, int | float)
        and not isinstance(real, bool)
        and not isinstance(simulated, bool)
    ):
        return [
            f"{path}: real {real!r} ({type(real).__name__}), simulated {simulated!r} ({type(simulated).__name__})"
        ]
    key = path.rsplit(".", 1)[-1].split("[")[0]
    if any(function.startswith(f) and key == k for f, k in SITE_HISTORY):
        return []
    if isinstance(real, str) and isinstance(simulated, str):
        real, simulated = THEME_REV.sub(r"\1REV\2", real), THEME_REV.sub(r"\1REV\2", simulated)
    if (
        ("time" in key or "date" in key)
        and isinstance(real, int)
        and isinstance(simulated, int)
        and real
        and simulated
    ):
        return (
            []
            if abs(real - simulated) <= TIME_SLACK
            else [f"{path}: real {real}, simulated {simulated}"]
        )
    if real != simulated:
        return [f"{path}: real {real!r}, simulated {simulated!r}"]
    return []


def replay(exchanges: list[Exchange], moodle: RealMoodle, *, plugin: bool) -> dict[str, list[str]]:
    """Each recorded call sent, in order, to the simulated Moodle seeded with the same
    scenario at the moment it reached the real one: the differences, by function."""
    from urllib.parse import parse_qs

    site = simulated_site(moodle, plugin=plugin)
    site.url = moodle.url
    clock = SetClock()
    site._clock = clock
    found: dict[str, list[str]] = {}
    for exchange in exchanges:
        clock.now = int(exchange.at)
        token = parse_qs(exchange.body)["wstoken"][0]
        _status, _headers, text = site.handle(exchange.body.replace(token, site.token))
        problems = compare(json.loads(exchange.answer), json.loads(text), "$", exchange.function)
        found.setdefault(exchange.function, []).extend(problems)
    return found
