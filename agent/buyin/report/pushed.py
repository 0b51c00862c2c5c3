"""The figures local_buyin's pages show inside Moodle (issue #13), pure.

After each sync the agent pushes, per learner per programme, what their My results
page and their manager's My team page show (``local_buyin_save_figures``), and per
manager who answered the poll, their own answer beside their team's scores. They are
the team report's figures (:mod:`buyin.report.team`), never recomputed otherwise.

Only moments go to Moodle, never durations: "waiting since" is a time the page turns
into days when it is read, so an unchanged site has unchanged figures, and nothing
to push (the action's key carries the figures' digest, see :func:`digest`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from buyin.model.poll import PollState
from buyin.model.standing import STUCK_DAYS
from buyin.report.figures import LearnerFigures, Row, learner_figures
from buyin.report.poll import manager_ask
from buyin.report.programme import topic_names
from buyin.report.team import ScorePoint, score_history

#: the version of the figures' shape; the plugin's pages read it
SHAPE = 1


@dataclass(frozen=True)
class Pushed:
    """One row of local_buyin_figures: a learner's figures, or a manager's poll answer."""

    userid: int
    #: "learner" or "manager"
    role: str
    #: the learner's manager (who may see the row); 0 for a manager's own row or none
    managerid: int
    figures: Mapping[str, Any]
    #: who it is, for the ledger and people reading a plan (not pushed)
    name: str = ""

    @property
    def digest(self) -> str:
        """Names the row's content and whose report it is: a new manager is pushed too."""
        return digest({"managerid": self.managerid, "figures": self.figures})


def digest(figures: Mapping[str, Any]) -> str:
    """A short name for the content (stable across runs and Python versions)."""
    text = json.dumps(figures, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _series(points: Sequence[ScorePoint]) -> list[dict[str, Any]]:
    return [
        {
            "at": p.at,
            "precheck": dict(p.precheck),
            "post": dict(p.post),
            "retention": dict(p.retention),
        }
        for p in points
    ]


def manager_of(f: LearnerFigures) -> int:
    """Whose report the learner is, as the team report decides it (0: nobody's)."""
    mid = f.line_manager if f.line_manager is not None else f.approver
    return mid or 0


def learner_row(
    f: LearnerFigures,
    history: Sequence[ScorePoint],
    *,
    programme: str,
    topics: Sequence[str],
    pass_mark: float | None,
) -> Pushed:
    tested_out = (
        {t: s for t, s in f.precheck.items() if s >= pass_mark} if pass_mark is not None else {}
    )
    figures: dict[str, Any] = {
        "shape": SHAPE,
        "programme": programme,
        "stage": f.status,
        "topics": list(topics),
        "activities_done": f.activities_done,
        "activities_total": f.activities_total,
        "precheck": dict(f.precheck),
        "post": dict(f.post),
        "retention": dict(f.retention),
        "history": _series(history),
        "tested_out": f.tested_out,
        "tested_out_topics": tested_out,
        "minutes_saved": f.minutes_saved,
        # the share of colleagues whose average is below theirs; worded by the page
        # (kindly: "ahead of N %" only from half up)
        "ahead_of": None if f.percentile is None else round(f.percentile, 4),
        "started_at": f.started_at,
        "completed_at": f.completed_at,
        "awaiting_since": f.awaiting_since,
        "signed_at": f.signed_at,
    }
    return Pushed(f.userid, "learner", manager_of(f), figures, f.name)


def pushed_figures(
    rows: Sequence[Row],
    *,
    programme: str,
    topics: Sequence[str] = (),
    pass_mark: float | None = None,
    poll: PollState | None = None,
    stuck_days: float = STUCK_DAYS,
) -> list[Pushed]:
    """Every enrolled learner's row (a learner who left gets ``stage`` "left" and
    nothing else), and each manager's poll answer with what moved for their team."""
    figures = learner_figures(rows, stuck_days=stuck_days)
    names = topic_names(list(figures.values()), topics)
    enrolled = [f for f in figures.values() if f.enrolled]
    history = score_history(rows, (f.userid for f in enrolled))
    out = [
        learner_row(f, history[f.userid], programme=programme, topics=names, pass_mark=pass_mark)
        for f in enrolled
    ]
    out += [
        Pushed(f.userid, "learner", manager_of(f), {"shape": SHAPE, "stage": f.status}, f.name)
        for f in figures.values()
        if not f.enrolled
    ]
    if poll is not None:
        for mid, answer in sorted(poll.answers.items()):
            ask = manager_ask(answer, figures.values())  # as the team report asks it
            moves = [
                {
                    "topic": m.topic,
                    "pre": m.pre,
                    "pre_n": m.pre_n,
                    "post": m.post,
                    "post_n": m.post_n,
                }
                for m in ask.moves
            ]
            poll_figures = {
                "shape": SHAPE,
                "programme": programme,
                "poll": poll.name,
                "topics": list(ask.topics),
                "impact": ask.impact,
                "comment": ask.comment,
                "answered_at": answer.timemodified,
                "moves": moves,
            }
            out.append(Pushed(mid, "manager", 0, poll_figures, ask.name))
    return sorted(out, key=lambda p: (p.role, p.userid))
