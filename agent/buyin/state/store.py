"""The SQLite state: runs, the action ledger, the schedule, learner cache, sign-off
records, insight history and per-programme state.

Every write is a transaction; :meth:`~buyin.state.db.Database.transaction` joins
writes into one where they belong together (a programme's outcome).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from buyin.model.ledger import (
    CachedLearner,
    ProgrammeState,
    RunRecord,
    ScheduledItem,
    ScheduleStatus,
)
from buyin.model.names import Names
from buyin.model.poll import PollState
from buyin.state.db import decoded, dumps, from_row, json_object
from buyin.state.ledger import LedgerTable
from buyin.state.records import check_records


def _json_or_none(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json_object(text)


def _dumps_or_none(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else dumps(value)


class State(LedgerTable):
    """The agent's SQLite database. One connection, guarded by a lock (threads push).

    Opened, every record is checked against the model's types (:mod:`buyin.state.records`):
    a damaged one is a :class:`~buyin.errors.StateError` naming it (``verify=False``:
    not checked, for tools that inspect or repair the file)."""

    def __init__(self, path: Path | str, *, verify: bool = True) -> None:
        super().__init__(path)
        if verify:
            try:
                check_records(self)
            except BaseException:
                self.close()
                raise

    # -- runs --------------------------------------------------------------------

    def start_run(self, mode: str, now: int) -> int:
        with self.transaction() as db:
            cur = db.execute("INSERT INTO runs (started_at, mode) VALUES (?, ?)", (now, mode))
            return int(cur.lastrowid or 0)

    def finish_run(
        self, run_id: int, now: int, outcome: str, counts: Mapping[str, Any], metrics: str
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET ended_at=?, outcome=?, counts=?, metrics=? WHERE id=?",
                (now, outcome, dumps(counts), metrics, run_id),
            )

    @decoded
    def runs(self, limit: int = 10) -> list[RunRecord]:
        rows = self.select("runs", order="id DESC", limit=limit)
        return [from_row(RunRecord, r, counts=json_object(r["counts"])) for r in rows]

    # -- schedule ------------------------------------------------------------------

    def schedule(
        self,
        *,
        key: str,
        program: str,
        kind: str,
        userid: int,
        due_at: int,
        payload: Mapping[str, Any],
        now: int,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                """
                INSERT INTO schedule (key, program, kind, userid, due_at, payload, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING
                """,
                (key, program, kind, userid, due_at, dumps(payload), now),
            )

    @decoded
    def scheduled(
        self, program: str | None = None, status: ScheduleStatus = ScheduleStatus.PENDING
    ) -> list[ScheduledItem]:
        rows = self.select("schedule", order="due_at, id", status=status, program=program)
        return [
            from_row(
                ScheduledItem,
                r,
                payload=json_object(r["payload"]),
                status=ScheduleStatus(r["status"]),
            )
            for r in rows
        ]

    def set_schedule_status(self, key: str, status: ScheduleStatus) -> None:
        with self.transaction() as db:
            db.execute("UPDATE schedule SET status=? WHERE key=?", (status, key))

    # -- learner cache -------------------------------------------------------------

    @decoded
    def cached_learners(self, program: str) -> dict[int, CachedLearner]:
        rows = self.select("learners", program=program)
        return {r["userid"]: from_row(CachedLearner, r, data=json_object(r["data"])) for r in rows}

    def save_learners(self, program: str, learners: Sequence[CachedLearner]) -> None:
        with self.transaction() as db:
            db.executemany(
                """
                INSERT INTO learners (program, userid, signature, data, first_seen, fetched_at,
                                      undecided)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(program, userid) DO UPDATE SET signature=excluded.signature,
                    data=excluded.data, fetched_at=excluded.fetched_at,
                    undecided=excluded.undecided
                """,
                [
                    (
                        program,
                        c.userid,
                        c.signature,
                        dumps(c.data),
                        c.first_seen,
                        c.fetched_at,
                        c.undecided,
                    )
                    for c in learners
                ],
            )

    @decoded
    def undecided(self) -> list[tuple[str, int, str]]:
        rows = self.rows(
            "SELECT program, userid, undecided FROM learners WHERE undecided IS NOT NULL "
            "ORDER BY program, userid"
        )
        return [(r["program"], r["userid"], r["undecided"]) for r in rows]

    # -- sign-off records -------------------------------------------------------------

    SIGNOFF_COLUMNS = (
        "userid",
        "status",
        "approver",
        "awaiting_since",
        "requested_at",
        "reminders",
        "escalated_to",
        "escalated_at",
        "signed_at",
        "signed_by",
        "latency_seconds",
        "note",
    )

    def save_signoffs(self, program: str, rows: Sequence[Mapping[str, Any]], now: int) -> None:
        """Replace the programme's sign-off records with ``rows`` (dicts of SIGNOFF_COLUMNS)."""
        cols = self.SIGNOFF_COLUMNS
        with self.transaction() as db:
            db.execute("DELETE FROM signoffs WHERE program=?", (program,))
            db.executemany(
                f"INSERT INTO signoffs (program, {', '.join(cols)}, updated_at) "
                f"VALUES (?, {', '.join('?' for _ in cols)}, ?)",
                [(program, *(row.get(c) for c in cols), now) for row in rows],
            )

    @decoded
    def signoffs(self, program: str | None = None) -> list[dict[str, Any]]:
        rows = self.select("signoffs", order="program, approver, userid", program=program)
        return [dict(r) for r in rows]

    # -- history -------------------------------------------------------------------

    def add_history(
        self, run_id: int, program: str, points: Mapping[int, Mapping[str, Any]], now: int
    ) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO history (run_id, program, userid, at, data) VALUES (?, ?, ?, ?, ?)",
                [(run_id, program, uid, now, dumps(data)) for uid, data in points.items()],
            )

    @decoded
    def history(
        self, program: str, userid: int | None = None
    ) -> list[tuple[int, int, dict[str, Any]]]:
        rows = self.select(
            "history", "userid, at, data", order="at, id", program=program, userid=userid
        )
        return [(r["userid"], r["at"], json_object(r["data"])) for r in rows]

    # -- per-programme state ---------------------------------------------------------

    @decoded
    def programme(self, program: str) -> ProgrammeState:
        """What is kept of the programme (empty before its first sync)."""
        r = self.row("SELECT * FROM programmes WHERE program=?", (program,))
        if r is None:
            return ProgrammeState(program)
        return from_row(
            ProgrammeState,
            r,
            retention={int(k): float(v) for k, v in json_object(r["retention"]).items()},
            structure=_json_or_none(r["structure"]),
            directory=_json_or_none(r["directory"]),
            plugin=_json_or_none(r["plugin"]),
        )

    def save_programme(self, programme: ProgrammeState) -> None:
        with self.transaction() as db:
            db.execute(
                """
                INSERT OR REPLACE INTO programmes
                    (program, mapped_at, reconciled_at, retention, structure, directory, plugin)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    programme.program,
                    programme.mapped_at,
                    programme.reconciled_at,
                    dumps({str(k): v for k, v in programme.retention.items()}),
                    _dumps_or_none(programme.structure),
                    _dumps_or_none(programme.directory),
                    _dumps_or_none(programme.plugin),
                ),
            )

    # -- the manager poll ------------------------------------------------------------

    def save_poll(self, program: str, poll: PollState) -> None:
        """The poll as the latest sync read it (the reports show it)."""
        self.set_meta(f"poll:{program}", json.dumps(poll.to_json(), sort_keys=True))

    @decoded
    def poll(self, program: str) -> PollState | None:
        stored = self.get_meta(f"poll:{program}")
        return None if stored is None else PollState.from_json(json_object(stored))

    # -- names (what status prints instead of ids) -------------------------------------

    def save_names(self, program: str, names: Names) -> None:
        """The programme's people, courses, roles and activities by name, merged with
        those kept (someone who left still reads by name)."""
        kept = self.names(program)
        kept.update(names)
        self.set_meta(f"names:{program}", json.dumps(kept.to_json(), sort_keys=True))

    @decoded
    def names(self, program: str | None = None) -> Names:
        """One programme's names, or every programme's merged."""
        names = Names()
        rows = (
            self.rows("SELECT value FROM meta WHERE key=?", (f"names:{program}",))
            if program is not None
            else self.rows("SELECT value FROM meta WHERE key LIKE 'names:%' ORDER BY key")
        )
        for row in rows:
            try:
                names.update(Names.from_json(json_object(str(row["value"]))))
            except ValueError:
                continue  # a damaged record costs names, never the status
        return names

    # -- meta ----------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.row("SELECT value FROM meta WHERE key=?", (key,))
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )
