#!/usr/bin/env python3
"""Screenshots of local_buyin's pages on a real Moodle, as a learner and as a manager.

Logs in through Moodle's login form (requests), hands the session cookie to headless
Chromium over its DevTools pipe (``--remote-debugging-pipe``, standard library only) and
saves one full-page PNG per page:

    eval "$(site.sh env)"
    python tools/site_screenshots.py --out screenshots/ \\
        learner01:myresults.php mgr2:myteam.php mgr2:index.php mgr2:index.php?requestid=2

A user named ``learner*`` logs in with MOODLE_LEARNER_PASSWORD, ``mgr*`` with
MOODLE_MANAGER_PASSWORD, anyone else with MOODLE_ADMIN_PASSWORD.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--remote-debugging-pipe",
    "--window-size=1280,900",
]


def password_for(username: str) -> str:
    if username.startswith("learner"):
        return os.environ["MOODLE_LEARNER_PASSWORD"]
    if username.startswith("mgr"):
        return os.environ["MOODLE_MANAGER_PASSWORD"]
    return os.environ["MOODLE_ADMIN_PASSWORD"]


def login(url: str, username: str) -> str:
    """The MoodleSession cookie of a fresh login."""
    session = requests.Session()
    page = session.get(f"{url}/login/index.php", timeout=30)
    token = re.search(r'name="logintoken" value="([^"]+)"', page.text)
    form = {"username": username, "password": password_for(username)}
    if token:
        form["logintoken"] = token.group(1)
    session.post(f"{url}/login/index.php", data=form, timeout=30)
    cookie = session.cookies.get("MoodleSession")
    if not cookie:
        raise SystemExit(f"site_screenshots: {username} could not log in")
    return str(cookie)


class Browser:
    """Headless Chromium driven over the DevTools pipe (fds 3 and 4, NUL-separated JSON)."""

    def __init__(self, binary: str) -> None:
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # move every end above 10, so that 3 and 4 are free for Chromium's ends
        ends = [os.dup(fd) for fd in (to_chrome_r, to_chrome_w, from_chrome_r, from_chrome_w)]
        for fd in (to_chrome_r, to_chrome_w, from_chrome_r, from_chrome_w):
            os.close(fd)
        to_chrome_r, self._to_chrome, self._from_chrome, from_chrome_w = (
            os.dup2(fd, 20 + i) for i, fd in enumerate(ends)
        )
        for fd in ends:
            os.close(fd)
        # Chromium reads commands on fd 3 and writes answers on fd 4
        os.dup2(to_chrome_r, 3)
        os.dup2(from_chrome_w, 4)
        self.process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, "about:blank"],
            pass_fds=(3, 4),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for fd in (3, 4, to_chrome_r, from_chrome_w):
            os.close(fd)
        self._buffer = b""
        self._next = 0

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result

    def wait_for(self, event: str) -> None:
        while self._read().get("method") != event:
            pass

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed its pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(raw)
        return parsed

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def shoot(browser: Browser, url: str, cookie: str, target: Path) -> None:
    host = urlparse(url).hostname or "127.0.0.1"
    page = browser.call("Target.createTarget", url="about:blank")["targetId"]
    session = browser.call("Target.attachToTarget", targetId=page, flatten=True)["sessionId"]
    browser.call("Page.enable", session)
    browser.call("Network.enable", session)
    browser.call(
        "Network.setCookie", session, name="MoodleSession", value=cookie, domain=host, path="/"
    )
    browser.call("Page.navigate", session, url=url)
    browser.wait_for("Page.loadEventFired")
    # charts are drawn by JavaScript after the load event
    browser.call(
        "Runtime.evaluate",
        session,
        expression="new Promise(done => setTimeout(done, 2500))",
        awaitPromise=True,
    )
    metrics = browser.call("Page.getLayoutMetrics", session)
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    shot = browser.call(
        "Page.captureScreenshot",
        session,
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": 1280, "height": min(int(size["height"]), 6000), "scale": 1},
    )
    target.write_bytes(base64.b64decode(shot["data"]))
    browser.call("Target.closeTarget", targetId=page)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument(
        "pages", nargs="+", help="username:path under /local/buyin/ (or from the site's root: /...)"
    )
    args = parser.parse_args(argv)
    url = os.environ["MOODLE_URL"].rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)
    browser = Browser(args.chromium)
    cookies: dict[str, str] = {}
    try:
        for spec in args.pages:
            username, path = spec.split(":", 1)
            cookie = cookies.setdefault(username, login(url, username))
            name = re.sub(r"[^a-z0-9]+", "-", f"{username}-{path}".lower()).strip("-")
            target = args.out / f"{name}.png"
            page = f"{url}{path}" if path.startswith("/") else f"{url}/local/buyin/{path}"
            shoot(browser, page, cookie, target)
            print(target)
    finally:
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
