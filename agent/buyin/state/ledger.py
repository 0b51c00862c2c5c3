"""The action ledger's table: every action recorded ``planned`` before it is pushed,
``applied``/``failed``/``skipped`` after. A ``planned`` row left by a killed run is
verified against Moodle by the next run before anything is repeated.

Read back as a :class:`~buyin.model.ledger.Ledger`, whose named queries sync, the
rules and the history points share.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

from buyin.model.ledger import DONE, Ledger, LedgerEntry, Status
from buyin.state.db import Database, decoded, dumps, from_row, json_object


def _entry(row: sqlite3.Row) -> LedgerEntry:
    return from_row(
        LedgerEntry,
        row,
        payload=json_object(row["payload"]),
        reason=json_object(row["reason"]),
        status=Status(row["status"]),
    )


class LedgerTable(Database):
    """The ``actions`` table.

    The entries read are kept, per programme asked for, and the keys this connection
    writes are noted: the next :meth:`ledger` reads back only those rows, not the whole
    table again (a run reads its ledger before the rules, after the push and for the
    figures; decoding every row each time cost more than the rest of a steady run).
    Every write to ``actions`` goes through this class."""

    _kept: dict[str | None, dict[str, LedgerEntry]] | None = None
    _written: set[str] | None = None

    def _wrote(self, *keys: str) -> None:
        if self._written is None:
            self._written = set()
        self._written.update(keys)

    @decoded
    def ledger(self, program: str | None = None) -> Ledger:
        """The ledger of one programme (or of all)."""
        with self._lock:
            if self._kept is None:
                self._kept = {}
            written, self._written = self._written or set(), set()
            if written and self._kept:
                keys = sorted(written)
                fresh: dict[str, LedgerEntry] = {}
                for start in range(0, len(keys), 500):
                    chunk = keys[start : start + 500]
                    rows = self.rows(
                        f"SELECT * FROM actions WHERE key IN ({', '.join('?' * len(chunk))})",
                        chunk,
                    )
                    fresh.update((r["key"], _entry(r)) for r in rows)
                for scope, kept in self._kept.items():
                    for key in keys:
                        entry = fresh.get(key)
                        if entry is not None and scope in (None, entry.program):
                            kept[key] = entry
                        else:
                            kept.pop(key, None)
            entries = self._kept.get(program)
            if entries is None:
                rows = self.select("actions", program=program)
                entries = self._kept[program] = {r["key"]: _entry(r) for r in rows}
            return Ledger(entries)

    @decoded
    def entry(self, key: str) -> LedgerEntry | None:
        row = self.row("SELECT * FROM actions WHERE key=?", (key,))
        return _entry(row) if row else None

    @decoded
    def entries(self, status: Status | None = None, limit: int = 1000) -> list[LedgerEntry]:
        """The most recently updated entries (of one status), newest first."""
        rows = self.select("actions", order="updated_at DESC, id DESC", limit=limit, status=status)
        return [_entry(r) for r in rows]

    def record_planned(
        self,
        *,
        key: str,
        run_id: int,
        program: str,
        kind: str,
        userid: int,
        target: str,
        payload: Mapping[str, object],
        reason: Mapping[str, object],
        now: int,
    ) -> None:
        """Record an action as planned, before it is pushed (upsert on the key)."""
        with self.transaction() as db:
            self._wrote(key)  # under the lock: no ledger() read in between
            db.execute(
                """
                INSERT INTO actions (key, run_id, program, kind, userid, target, payload, reason,
                                     status, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET run_id=excluded.run_id, status=excluded.status,
                    attempts = CASE WHEN payload = excluded.payload THEN attempts ELSE 0 END,
                    payload=excluded.payload, reason=excluded.reason, updated_at=excluded.updated_at
                """,
                (
                    key,
                    run_id,
                    program,
                    kind,
                    userid,
                    target,
                    dumps(payload),
                    dumps(reason),
                    Status.PLANNED,
                    now,
                    now,
                ),
            )

    def mark(
        self,
        key: str,
        status: Status,
        now: int,
        *,
        error: str | None = None,
        attempted: bool = True,
    ) -> None:
        """An action's outcome: applied, failed or skipped (``attempted``: a call was made)."""
        with self.transaction() as db:
            self._wrote(key)  # under the lock: no ledger() read in between
            db.execute(
                """
                UPDATE actions SET status=?, last_error=?, updated_at=?,
                    attempts = attempts + ?,
                    applied_at = CASE WHEN ?=? THEN ? ELSE applied_at END
                WHERE key=?
                """,
                (status, error, now, 1 if attempted else 0, status, Status.APPLIED, now, key),
            )

    def retry(self, program: str | None = None, keys: Sequence[str] = ()) -> list[str]:
        """Failed actions (of one programme, or these keys) tried again on the next run:
        their attempts are reset. Returns the keys reset."""
        where, args = ["status = ?"], [str(Status.FAILED)]
        if program is not None:
            where.append("program = ?")
            args.append(program)
        if keys:
            where.append(f"key IN ({', '.join('?' * len(keys))})")
            args.extend(keys)
        rows = self.rows(f"SELECT key FROM actions WHERE {' AND '.join(where)}", tuple(args))
        found = [str(r["key"]) for r in rows]
        with self.transaction() as db:
            self._wrote(*found)  # under the lock: no ledger() read in between
            db.executemany("UPDATE actions SET attempts = 0 WHERE key = ?", [(k,) for k in found])
        return found

    def forget_planned(self, key: str) -> None:
        """Drop an action recorded planned in this run that will not be pushed in it."""
        with self.transaction() as db:
            self._wrote(key)  # under the lock: no ledger() read in between
            db.execute("DELETE FROM actions WHERE key=? AND status=?", (key, Status.PLANNED))

    def forget_superseded_figures(self, before: int) -> int:
        """Drop the figures pushed for a person before ``before`` that a later push of
        that person's figures replaced in Moodle (the key names the course, the person
        and a digest of the content: a new digest is a new row). The newest stays, so
        what Moodle holds is still known. Returns how many were dropped."""
        rows = self.rows(
            "SELECT id, key, status, updated_at FROM actions WHERE kind = 'figures' ORDER BY id"
        )
        newest: dict[str, int] = {}
        for r in rows:
            newest[str(r["key"]).rsplit(":", 1)[0]] = int(r["id"])
        old = [
            str(r["key"])
            for r in rows
            if newest[str(r["key"]).rsplit(":", 1)[0]] != int(r["id"])
            and int(r["updated_at"]) < before
            and r["status"] in DONE
        ]
        with self.transaction() as db:
            self._wrote(*old)  # under the lock: no ledger() read in between
            db.executemany("DELETE FROM actions WHERE key = ?", [(k,) for k in old])
        return len(old)

    def counts_by_status(self) -> dict[str, int]:
        rows = self.rows("SELECT status, COUNT(*) AS n FROM actions GROUP BY status")
        return {r["status"]: r["n"] for r in rows}
