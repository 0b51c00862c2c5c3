"""A history point: what one sync recorded for one learner in one programme.

Built by :mod:`buyin.facts` from the snapshot, the ledger, the sign-off records and
the rules' facts; stored by the state as JSON (:meth:`HistoryPoint.to_json`); read
back by the reports (:meth:`HistoryPoint.from_json`, which accepts older rows that
lack newer keys). Times are unix seconds; scores are fractions (0..1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

#: {topic: fraction}; retention may hold ``"overall"`` instead of topics
Scores = Mapping[str, float]


@dataclass(frozen=True)
class HistoryPoint:
    #: enrolled at this sync
    enrolled: bool = True
    #: when the agent first saw the learner enrolled (None in rows that predate it)
    first_seen: int | None = None
    #: the enrolment's start in Moodle, where the pull knows it (the local_buyin path);
    #: None where only core web services are used (they do not return it)
    enrolled_at: int | None = None
    username: str = ""
    fullname: str = ""
    #: course group names and ids
    groups: tuple[str, ...] = ()
    group_ids: tuple[int, ...] = ()
    #: who is asked to sign off (possibly the fallback approver): user id, full name
    manager: int | None = None
    manager_name: str | None = None
    #: the learner's own manager from the profile field
    line_manager: int | None = None
    line_manager_username: str | None = None
    line_manager_name: str | None = None
    #: tracked activities (the pre-check quiz excluded)
    activities_done: int = 0
    activities_total: int = 0
    #: activities completed by testing out (applied overrides) and the minutes saved
    tested_out: tuple[int, ...] = ()
    minutes_saved: float = 0.0
    #: the pre-check score per topic and the attempt that counts
    precheck: Scores = field(default_factory=dict)
    precheck_attempt: int | None = None
    #: the post-assessment score per topic, where a post quiz is mapped
    post: Scores = field(default_factory=dict)
    #: the refresher quiz's result (``{"overall": fraction}``)
    retention: Scores = field(default_factory=dict)
    #: the first activity completion or quiz attempt
    started_at: int | None = None
    #: every completion criterion met (the latest criterion time)
    completed_at: int | None = None
    awaiting_since: int | None = None
    signed_at: int | None = None
    signoff_latency_seconds: float | None = None
    refresher_start: int | None = None
    #: when the manager rejected the standing request (local_buyin), None for none
    rejected_at: int | None = None
    #: the latest activity completion or quiz attempt time
    last_progress_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Every field, JSON-ready (tuples as lists, mappings as objects). By hand, not
        dataclasses.asdict (a deep copy): it runs for every learner every run, and every
        field is a scalar, a tuple of scalars or a mapping of scores."""
        data: dict[str, Any] = {}
        for key in _FIELDS:
            value = getattr(self, key)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            data[key] = value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HistoryPoint:
        """A point as the state stored it; a key an older row lacks takes its default."""
        return cls(
            enrolled=bool(data.get("enrolled", True)),
            first_seen=_int(data.get("first_seen")),
            enrolled_at=_int(data.get("enrolled_at")),
            username=str(data.get("username") or ""),
            fullname=str(data.get("fullname") or ""),
            groups=tuple(str(g) for g in data.get("groups") or ()),
            group_ids=tuple(int(g) for g in data.get("group_ids") or ()),
            manager=_int(data.get("manager")),
            manager_name=_text(data.get("manager_name")),
            line_manager=_int(data.get("line_manager")),
            line_manager_username=_text(data.get("line_manager_username")),
            line_manager_name=_text(data.get("line_manager_name")),
            activities_done=int(data.get("activities_done") or 0),
            activities_total=int(data.get("activities_total") or 0),
            tested_out=tuple(int(c) for c in data.get("tested_out") or ()),
            minutes_saved=float(data.get("minutes_saved") or 0.0),
            precheck=scores(data.get("precheck")),
            precheck_attempt=_int(data.get("precheck_attempt")),
            post=scores(data.get("post")),
            retention=scores(data.get("retention")),
            started_at=_int(data.get("started_at")),
            completed_at=_int(data.get("completed_at")),
            awaiting_since=_int(data.get("awaiting_since")),
            signed_at=_int(data.get("signed_at")),
            signoff_latency_seconds=_number(data.get("signoff_latency_seconds")),
            refresher_start=_int(data.get("refresher_start")),
            rejected_at=_int(data.get("rejected_at")),
            last_progress_at=_int(data.get("last_progress_at")),
        )


_FIELDS = tuple(f.name for f in fields(HistoryPoint))


def scores(value: Any) -> dict[str, float]:
    """Scores per topic from a stored value: a mapping, or one number (``"overall"``)."""
    if isinstance(value, Mapping):
        return {str(k): float(v) for k, v in value.items() if isinstance(v, int | float)}
    if isinstance(value, int | float):
        return {"overall": float(value)}
    return {}


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
