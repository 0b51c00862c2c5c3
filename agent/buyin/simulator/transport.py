"""The simulated site on the wire: the answers of injected faults and a requests
transport adapter serving a site in-process."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from .errors import ERROR_ENVELOPES, WsError
from .faults import Fault
from .render import Answer, error_answer

if TYPE_CHECKING:
    from .site import SimulatedMoodle


def fault_answer(fault: Fault, as_json: bool, debug: bool) -> Answer:
    """The answer of an injected fault; raises ``requests.ConnectionError`` /
    ``requests.ReadTimeout`` for the transport ones."""
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
    return error_answer(WsError(exception, kind, message), as_json, debug)


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
