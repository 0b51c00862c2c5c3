"""The SQLite state: runs, the action ledger, the schedule, learner cache, insight history.

Standard-library sqlite3 in WAL mode; the schema evolves by numbered migrations
recorded in ``PRAGMA user_version`` (:mod:`buyin.state.db`). The ledger's table is
:mod:`buyin.state.ledger`, everything else :mod:`buyin.state.store`, the run lock
:mod:`buyin.state.lock`. The stored records are values of :mod:`buyin.model.ledger`,
re-exported here.
"""

from __future__ import annotations

from buyin.model.ledger import (
    CachedLearner,
    Ledger,
    LedgerEntry,
    ProgrammeState,
    RunRecord,
    ScheduledItem,
    ScheduleStatus,
    Status,
)
from buyin.state.db import MIGRATIONS
from buyin.state.lock import RunLock
from buyin.state.store import State

__all__ = [
    "MIGRATIONS",
    "CachedLearner",
    "Ledger",
    "LedgerEntry",
    "ProgrammeState",
    "RunLock",
    "RunRecord",
    "ScheduleStatus",
    "ScheduledItem",
    "State",
    "Status",
]
