"""The simulated site over real HTTP on 127.0.0.1, for tests that run the agent as a
subprocess (and kill it) while the site keeps its state.

Bounded: a few threads, and it stops by itself after ``lifetime`` seconds.
``after_call(function)`` runs once Moodle has applied a call and before the answer
is sent: a test kills the agent there to leave the write's outcome in doubt. An
injected transport fault (``site.faults``: "connection", "timeout") closes the
connection without an answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs

import requests

from .site import SimulatedMoodle


class SiteServer:
    def __init__(
        self,
        site: SimulatedMoodle,
        *,
        lifetime: float = 120.0,
        after_call: Callable[[str], None] | None = None,
    ) -> None:
        self.site = site
        self.after_call = after_call
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    status, headers, text = served.site.handle(body)
                except (requests.ConnectionError, requests.Timeout):
                    # an injected drop or timeout: the connection closes with no answer
                    self.close_connection = True
                    return
                function = parse_qs(body.decode("utf-8", "replace")).get("wsfunction", [""])[0]
                if served.after_call is not None:
                    served.after_call(function)
                data = text.encode("utf-8")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                try:
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the agent is gone (killed while its call was served)
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    def start(self) -> SiteServer:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._timer.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
