"""The run lock: one sync at a time per state file."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from buyin.errors import ConfigurationError, LockedError


class RunLock:
    """An exclusive, non-blocking lock on the state file itself (fcntl.flock).

    Held on the file's identity (device and inode), not its path: a symlink or a
    hard link to the same state file meets the same lock. SQLite's own locks are
    POSIX record locks, which flock does not touch. The holder's pid is written
    beside the real file (``<file>.lock``). The kernel releases the lock when the
    process dies, so a killed run never leaves a stale lock behind.
    """

    def __init__(self, state_path: Path) -> None:
        self.state_path = Path(state_path)
        self.path = Path(str(state_path) + ".lock")
        self._handle: IO[str] | None = None
        self._state: int | None = None

    def acquire(self) -> None:
        try:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            state = os.open(self.state_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot open the state file {self.state_path}: {exc.strerror}",
                hint="Set state_path (BUYIN_STATE) to a writable location.",
            ) from None
        holder_path = Path(str(self.state_path.resolve()) + ".lock")
        try:
            fcntl.flock(state, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(state)
            try:
                holder = holder_path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                holder = ""
            raise LockedError(str(self.path), holder) from None
        except OSError as exc:  # a device or a file system without locks
            os.close(state)
            raise ConfigurationError(
                f"cannot lock the state file {self.state_path}: {exc.strerror}",
                hint="Set state_path (BUYIN_STATE) to a regular file on a local disk.",
            ) from None
        self._state = state
        try:
            handle = holder_path.open("a+", encoding="utf-8")
        except OSError as exc:
            self.release()
            raise ConfigurationError(
                f"cannot create the lock file {holder_path}: {exc.strerror}",
                hint="Set state_path (BUYIN_STATE) to a writable location.",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._state is not None:
            fcntl.flock(self._state, fcntl.LOCK_UN)
            os.close(self._state)
            self._state = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
