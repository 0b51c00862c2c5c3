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

    def compact(self, now: int, keep_days: float) -> dict[str, int]:
        """Old runs' detail dropped once ``keep_days`` have passed (``state_retention_days``):
        their metrics line (their counts stay, for `buyin status`) and the figures pushed
        for someone that a later push replaced. What decides "already done" (every other
        ledger entry) and the history the reports draw stay. Returns what was dropped."""
        before = now - int(keep_days * 86400)
        with self.transaction() as db:
            runs = db.execute(
                "UPDATE runs SET metrics = '' WHERE ended_at < ? AND metrics != ''", (before,)
            ).rowcount
        return {"runs": int(runs), "figures": self.forget_superseded_figures(before)}

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

    #: the learners as this connection last read them, per programme: a learner saved with
    #: the very data read (the same object: not re-fetched) and the same columns is not
    #: serialised and written again
    _learners_kept: dict[str, dict[int, CachedLearner]] | None = None

    @decoded
    def cached_learners(self, program: str) -> dict[int, CachedLearner]:
        rows = self.select("learners", program=program)
        found = {r["userid"]: from_row(CachedLearner, r, data=json_object(r["data"])) for r in rows}
        if self._learners_kept is None:
            self._learners_kept = {}
        self._learners_kept[program] = dict(found)
        return found

    def save_learners(self, program: str, learners: Sequence[CachedLearner]) -> None:
        kept = (self._learners_kept or {}).get(program, {})
        changed = [
            c
            for c in learners
            if (k := kept.get(c.userid)) is None
            or k.data is not c.data
            or (k.signature, k.first_seen, k.fetched_at, k.undecided)
            != (c.signature, c.first_seen, c.fetched_at, c.undecided)
        ]
        for c in changed:  # written (or rolled back): compared with nothing kept again
            kept.pop(c.userid, None)
        self._save_learners(program, changed)

    def _save_learners(self, program: str, learners: Sequence[CachedLearner]) -> None:
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
        """This run's point of each learner: a new row where it differs from the learner's
        latest one, else that row's ``seen_at`` moved on to ``now`` (the state grows with
        change, not with runs; :meth:`history` reads both as a point per run would)."""
        with self.transaction() as db:
            latest = {
                int(r["userid"]): (int(r["id"]), str(r["data"]))
                for r in db.execute(
                    "SELECT h.id, h.userid, h.data FROM history h JOIN "
                    "(SELECT MAX(id) AS id FROM history WHERE program=? GROUP BY userid) m "
                    "ON h.id = m.id",
                    (program,),
                )
            }
            fresh, seen = [], []
            for uid, data in points.items():
                text = dumps(data)
                kept = latest.get(uid)
                if kept is not None and kept[1] == text:
                    seen.append((now, kept[0]))
                else:
                    fresh.append((run_id, program, uid, now, text))
            db.executemany("UPDATE history SET seen_at=? WHERE id=?", seen)
            db.executemany(
                "INSERT INTO history (run_id, program, userid, at, data) VALUES (?, ?, ?, ?, ?)",
                fresh,
            )

    @decoded
    def history(
        self, program: str, userid: int | None = None
    ) -> list[tuple[int, int, dict[str, Any]]]:
        """Each learner's points, oldest first: the rows written when something changed,
        and where a learner's latest point held on, that point again at the last run that
        saw it (what a point written every run would show: presence and the last sync)."""
        rows = self.select(
            "history",
            "id, userid, at, seen_at, data",
            order="at, id",
            program=program,
            userid=userid,
        )
        found: list[tuple[int, int, int, dict[str, Any]]] = []
        last: dict[int, int] = {}
        for r in rows:
            data = json_object(r["data"])
            found.append((r["at"], r["id"], r["userid"], data))
            last[r["userid"]] = len(found) - 1
        for index in list(last.values()):
            at, rowid, uid, data = found[index]
            seen = rows[index]["seen_at"]
            if seen is not None and seen > at:
                found.append((int(seen), rowid, uid, data))
        found.sort(key=lambda f: (f[0], f[1]))
        return [(uid, at, data) for at, _, uid, data in found]

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
