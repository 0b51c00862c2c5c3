#!/usr/bin/env python3
"""Generate the message strings of local_buyin's lang file from the agent's templates.

Every fragment of every template in :data:`buyin.messages.templates.EN` becomes one
lang string of ``plugin_contract/moodle/local_buyin/lang/en/local_buyin.php``; the tool
owns the ``msg:`` strings of that file, the others are written by hand, and it keeps
them all in alphabetical order:

- string id ``msg:<template>:<fragment>`` (``msg:common:<fragment>`` for the words every
  message shares), the id the agent puts in each node of a notification it asks
  ``local_buyin_send_notifications`` to send (:mod:`buyin.messages.intent`);
- placeholders ``{name}`` become ``{$a->name}`` (the same set: tests/test_lang.py), and
  Python's ``{{``/``}}`` a plain brace.

Not generated: the common ``date``, ``weekdays`` and ``months``: a date reaches Moodle as
a timestamp and is written by ``userdate()`` in the recipient's language and time zone.

    python tools/gen_lang.py           # (re)write the message strings
    python tools/gen_lang.py --check   # exit 1 if the file on disk differs; write nothing
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "agent"))

from buyin.messages.intent import lang_strings  # noqa: E402

LANG_FILE = "plugin_contract/moodle/local_buyin/lang/en/local_buyin.php"
#: the ids this tool owns (every other string of the file is written by hand)
PREFIX = "msg:"
_LINE = re.compile(r"^\$string\['((?:[^'\\]|\\.)*)'\] = .*;$")


def php_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def strings() -> dict[str, str]:
    """Every message string id with its English text."""
    return lang_strings("en")


def rewrite(text: str) -> str:
    """The lang file with its message strings replaced by the generated ones, every
    string in alphabetical order (as Moodle keeps them), one per line."""
    head: list[str] = []
    lines: dict[str, str] = {}
    for line in text.splitlines(keepends=True):
        match = _LINE.match(line.rstrip("\n"))
        if match is None:
            if lines and line.strip():
                raise SystemExit(f"gen_lang: {LANG_FILE}: not one string per line: {line!r}")
            if not lines:
                head.append(line)
        elif not match.group(1).startswith(PREFIX):
            lines[match.group(1)] = line
    for key, value in strings().items():
        lines[key] = f"$string[{php_quote(key)}] = {php_quote(value)};\n"
    return "".join(head) + "".join(lines[k] for k in sorted(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file on disk differs; write nothing"
    )
    args = parser.parse_args(argv)
    path = ROOT / LANG_FILE
    text = path.read_text(encoding="utf-8")
    wanted = rewrite(text)
    if args.check:
        if wanted != text:
            print(f"out of date: {LANG_FILE}\nrun: python tools/gen_lang.py", file=sys.stderr)
            return 1
        return 0
    if wanted != text:
        path.write_text(wanted, encoding="utf-8")
    print(f"{len(strings())} message strings in {LANG_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
