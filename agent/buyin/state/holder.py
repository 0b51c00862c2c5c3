"""The run lock, held in the database too: one row naming the process that runs.

Taken in a write transaction (``BEGIN IMMEDIATE``), so two processes cannot both take
it; cleared when the run ends. A row left by a killed run is stale when its process
is gone (same host, no such pid), and is then taken over. The file lock
(:class:`~buyin.state.lock.RunLock`) is taken first; this row is what `status` and a
second agent read to name who runs.
"""

from __future__ import annotations

import os
import socket

from buyin.errors import LockedError
from buyin.state.store import State


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def describe(pid: int, host: str) -> str:
    return f"pid {pid} on {host}"


class RunHolder:
    """``take()`` at the start of a run, ``clear()`` at its end."""

    def __init__(self, state: State, now: int) -> None:
        self.state = state
        self.now = now
        self.pid = os.getpid()
        self.host = socket.gethostname()

    def holder(self) -> str | None:
        """Who holds it (None: nobody, or a holder whose process is gone)."""
        row = self.state.row("SELECT pid, host FROM run_holder WHERE id = 1")
        if row is None or self._stale(int(row["pid"]), str(row["host"])):
            return None
        return describe(int(row["pid"]), str(row["host"]))

    def _stale(self, pid: int, host: str) -> bool:
        return host == self.host and (pid == self.pid or not process_alive(pid))

    def take(self) -> None:
        with self.state.transaction() as db:
            row = db.execute("SELECT pid, host FROM run_holder WHERE id = 1").fetchone()
            if row is not None and not self._stale(int(row["pid"]), str(row["host"])):
                raise LockedError(str(self.state.path), describe(row["pid"], row["host"]))
            db.execute(
                "INSERT INTO run_holder (id, pid, host, since) VALUES (1, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET pid=excluded.pid, host=excluded.host, "
                "since=excluded.since",
                (self.pid, self.host, self.now),
            )

    def clear(self) -> None:
        with self.state.transaction() as db:
            db.execute(
                "DELETE FROM run_holder WHERE id = 1 AND pid = ? AND host = ?",
                (self.pid, self.host),
            )
