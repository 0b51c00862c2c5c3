"""The run lock: one sync at a time per state file."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from buyin.errors import ConfigurationError, LockedError


class RunLock:
    """An exclusive, non-blocking lock next to the state file (fcntl.flock).

    The kernel releases it when the process dies, so a killed run never leaves a
    stale lock behind.
    """

    def __init__(self, state_path: Path) -> None:
        self.path = Path(str(state_path) + ".lock")
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create the lock file {self.path}: {exc.strerror}",
                hint="Set state_path (BUYIN_STATE) to a writable location.",
            ) from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise LockedError(str(self.path), holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
