"""The `buyin` program: SIGINT and SIGTERM answered from its first line to its exit.

This module imports nothing of the agent before its handlers are in place, so a
signal during start-up (imports, reading the configuration), during a run, or after
it (printing the summary) always ends the same way: one line on stderr, no
traceback, exit 130 (SIGINT) or 143 (SIGTERM). During a sync the run's own handler
(:func:`buyin.cli.stopping_on_signals`) lets the call in flight finish first; outside
a run this one stops at once. Click never sees a KeyboardInterrupt, so its "Aborted!"
(exit 1, "some actions failed" to cron) cannot happen.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from types import FrameType


class Signalled(BaseException):
    """A signal outside a run (before :mod:`buyin.errors` may even be imported)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: a signal that came before main() could raise it; whether main() raises; leaving
_pending: list[int] = []
_armed: list[bool] = []
_leaving: list[int] = []


def _outside_a_run(signum: int, _frame: FrameType | None) -> None:
    if _leaving:
        return
    if not _armed:
        _pending.append(signum)
        return
    _leaving.append(signum)
    raise Signalled(signum)


def install() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _outside_a_run)


install()


def _finish(code: int) -> None:
    """Leave now with ``code``: streams flushed, no interpreter teardown in which a
    late signal could be reported otherwise."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _said(signum: int) -> int:
    name = signal.Signals(signum).name
    print(f"error: interrupted by {name}: stopped (no run was under way)", file=sys.stderr)
    return 128 + signum


def main() -> None:
    code = 0
    try:
        _armed.append(True)
        if _pending:
            _leaving.append(_pending[0])
            raise Signalled(_pending[0])
        from buyin.errors import Interrupted

        try:
            from buyin.cli import main as cli

            cli(prog_name="buyin")
        except Interrupted as exc:
            _leaving.append(exc.signum)
            print(f"error: {exc}", file=sys.stderr)
            code = exc.exit_code
    except Signalled as exc:
        _leaving.append(exc.signum)
        code = _said(exc.signum)
    except SystemExit as exc:
        _leaving.append(0)
        if isinstance(exc.code, int):
            code = exc.code
        elif exc.code is not None:
            print(exc.code, file=sys.stderr)
            code = 1
    _finish(code)


if __name__ == "__main__":
    main()
