"""Refresh the stored captures (tests/fixtures/moodle/captures) from a live Moodle holding
the scenario (the project's site: ../shared/moodle/site).

    eval "$(../shared/moodle/site/site.sh env)"     # MOODLE_URL, MOODLE_TOKEN, ...
    python tools/refresh_captures.py --check        # list the captures the site answers otherwise
    python tools/refresh_captures.py [NAME ...]     # store the site's answers

Each capture's request is sent again to ``MOODLE_URL`` (with the token the capture names:
``MOODLE_TOKEN``, ``MOODLE_TOKEN_NOPERM``, an invalid one, ``MOODLE_PLUGIN_TOKEN`` for
local_buyin's). The answer is stored as the
capture's own site would have given it: the site's address replaced by the capture's
(scenario.json's ``site.url``), every time moved back by the site's shift from the
scenario's day (the site's dump was made later: every time moved by the same amount), the
theme revision in image URLs and a redacted secret kept as they were. An error capture taken
without debugging is left as it is when the site answers with debugging on (the project's
site does: Moodle's message then carries the detail too). Captures that need a write
first or a token this tool cannot make (tests/test_simulator_fidelity.py's PLANS) are left
as they are and named. ``--check`` writes nothing and exits 1 when any answer changed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
CAPTURES = REPO / "tests" / "fixtures" / "moodle" / "captures"
SCENARIO = REPO / "tests" / "fixtures" / "moodle" / "scenario.json"
#: taken after a write, with a token of a user set up for it, or of a function outside the
#: agent's service: not reproducible by replaying the request alone
LEFT_AS_THEY_ARE = re.compile(
    r"(override|enrol_users|unenrol|send_instant|get_messages|after-|course-not-accessible|"
    r"missing-capability|not-in-service|role-not-assignable|agent-token|not-your-request|"
    r"record_signoff|request_signoffs|repeat)"
)
THEME_REV = re.compile(r"(\\?/theme\\?/image\.php\\?/[a-z_]+\\?/[a-z_]+\\?/)(\d+)(\\?/)")


def token_for(capture: dict[str, Any]) -> str | None:
    """The token the capture was taken with (its ``token`` names it)."""
    which = str(capture.get("token") or "MOODLE_TOKEN")
    if which == "bogus token":
        return "not-a-valid-token"
    if capture["function"].startswith("local_buyin_"):
        return os.environ.get("MOODLE_PLUGIN_TOKEN")
    return os.environ.get(which.split()[0])


def site_shift(url: str, token: str) -> int:
    """How far the site's times lie from scenario.json's: learner01's first activity."""
    learner = json.loads(SCENARIO.read_text())["learners"]["learner01"]
    done = {a["cmid"]: a["time"] for a in learner["cc101_activities_completed"]}
    answer = requests.post(
        f"{url}/webservice/rest/server.php",
        data={
            "wstoken": token,
            "wsfunction": "core_completion_get_activities_completion_status",
            "moodlewsrestformat": "json",
            "courseid": 2,
            "userid": learner["userid"],
        },
        timeout=60,
    ).json()
    status = next(s for s in answer["statuses"] if s["cmid"] in done)
    return int(status["timecompleted"]) - int(done[status["cmid"]])


def normalise(value: Any, key: str, shift: int, site: str, lab: str, old: Any) -> Any:
    """The site's answer as the capture's site would give it (``old``: the stored one)."""
    if isinstance(value, dict):
        olds = old if isinstance(old, dict) else {}
        return {k: normalise(v, k, shift, site, lab, olds.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        olds = old if isinstance(old, list) else []
        return [
            normalise(v, key, shift, site, lab, olds[i] if i < len(olds) else None)
            for i, v in enumerate(value)
        ]
    if key == "userprivateaccesskey":
        return old  # a secret: the stored one is redacted
    timed = "time" in key or "date" in key
    timed = timed or key in ("cacherev", "lastaccess", "firstaccess", "lastmodified", "added")
    if timed and isinstance(value, int) and not isinstance(value, bool) and value > 10**9:
        return value - shift
    if isinstance(value, str):
        value = value.replace(site, lab).replace(site.replace("/", "\\/"), lab.replace("/", "\\/"))
        revs = THEME_REV.findall(old) if isinstance(old, str) else []
        if revs:
            rev = revs[0][1]
            value = THEME_REV.sub(lambda m: m.group(1) + rev + m.group(3), value)
    return value


def differences(new: Any, old: Any, path: str = "$") -> list[str]:
    """Where the site's answer differs from the stored one."""
    if isinstance(old, dict) and isinstance(new, dict):
        if list(new) != list(old):
            return [f"{path}: keys {sorted(set(new) ^ set(old)) or 'in another order'}"]
        return [d for k in old for d in differences(new[k], old[k], f"{path}.{k}")]
    if isinstance(old, list) and isinstance(new, list):
        if len(new) != len(old):
            return [f"{path}: {len(new)} items, stored {len(old)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(new, old, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    return (
        []
        if new == old and type(new) is type(old)
        else [f"{path}: {new!r:.80} != stored {old!r:.80}"]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="capture names (default: every capture)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 on a change")
    args = parser.parse_args(argv)
    url = os.environ.get("MOODLE_URL", "").rstrip("/")
    if not (url and os.environ.get("MOODLE_TOKEN")):
        print("refresh_captures: set MOODLE_URL and MOODLE_TOKEN (site.sh env)", file=sys.stderr)
        return 2
    lab = json.loads(SCENARIO.read_text())["site"]["url"].rstrip("/")
    shift = site_shift(url, os.environ["MOODLE_TOKEN"])
    paths = sorted(p for p in CAPTURES.glob("*.json") if not p.name.startswith("_"))
    if args.names:
        paths = [p for p in paths if p.stem in args.names]
    changed, left = [], []
    for path in paths:
        capture = json.loads(path.read_text())
        token = token_for(capture)
        if LEFT_AS_THEY_ARE.search(path.stem) or token is None:
            left.append(path.stem)
            continue
        if not capture["content_type"].startswith("application/json"):
            left.append(path.stem)
            continue
        body = capture["request_body"].replace("<TOKEN>", token)
        began = time.monotonic()
        answer = requests.post(
            f"{url}/webservice/rest/server.php",
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=120,
        )
        response = normalise(answer.json(), "", shift, url, lab, capture["response"])
        if isinstance(response, dict) and "debuginfo" in response and "-debug" not in path.stem:
            # taken without debugging, answered with it: the message itself differs then
            left.append(path.stem)
            continue
        if response == capture["response"] and answer.status_code == capture["http_status"]:
            continue
        changed.append(path.stem)
        if args.check:
            for line in differences(response, capture["response"])[:3]:
                print(f"  {path.stem}: {line}")
        if not args.check:
            capture.update(
                http_status=answer.status_code,
                response=response,
                elapsed_ms=round((time.monotonic() - began) * 1000),
            )
            path.write_text(json.dumps(capture, indent=2, ensure_ascii=False) + "\n")
    verb = "differ" if args.check else "refreshed"
    print(f"{len(changed)} captures {verb} (site times shifted by {shift} s): {', '.join(changed)}")
    print(
        f"{len(left)} left as they are (a write first, a token this tool cannot make, or debugging)"
    )
    return 1 if changed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
