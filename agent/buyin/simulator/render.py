"""How the simulated site writes its answers: JSON as PHP's json_encode, Moodle's
REST XML, the error envelope in both, and the number and text formatting the
answers share."""

from __future__ import annotations

import html
import json
import re
import textwrap
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from .errors import WsError

JSON_TYPE = "application/json"
XML_TYPE = "application/xml; charset=utf-8"

Answer = tuple[int, dict[str, str], str]
"""(HTTP status, headers, body text)."""


def num(value: float | int | None) -> float | int | None:
    """Numbers as PHP's json_encode writes them: 10.0 -> 10."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def fmt2(value: float) -> str:
    return f"{value:.2f}"


def _phpify(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return num(value)
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
    return f"<VALUE>{escape(str(num(value)))}</VALUE>\n"


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


def result_answer(result: Any, as_json: bool) -> Answer:
    """A handler's result, in the requested format."""
    if as_json:
        return 200, {"Content-Type": JSON_TYPE}, php_json(result)
    return 200, {"Content-Type": XML_TYPE}, moodle_xml(result)


def error_answer(error: WsError, as_json: bool, debug: bool) -> Answer:
    """Moodle's error envelope (with debuginfo only when the site is debugging)."""
    if as_json:
        payload: dict[str, Any] = {
            "exception": error.exception,
            "errorcode": error.errorcode,
            "message": error.message,
        }
        if debug and error.debuginfo:
            payload["debuginfo"] = error.debuginfo
        return 200, {"Content-Type": JSON_TYPE}, php_json(payload)
    debuginfo = (
        f"<DEBUGINFO>{escape(error.debuginfo)}</DEBUGINFO>\n" if debug and error.debuginfo else ""
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        f"<EXCEPTION class={quoteattr(error.exception)}>\n"
        f"<ERRORCODE>{escape(error.errorcode)}</ERRORCODE>\n"
        f"<MESSAGE>{escape(error.message)}</MESSAGE>\n{debuginfo}</EXCEPTION>\n"
    )
    return 200, {"Content-Type": XML_TYPE}, xml
