"""A post-assessment quiz mapped to the programme's topics: post scores in the history.

The simulated CC101 has one quiz; mapping it as the post-assessment too makes the
post score the learner's last finished attempt, while the pre-check counts the
first: learner03 and learner09 (two attempts each) then show an improvement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from buyin.config import Settings
from buyin.state import State
from support import load_scenario, set_mapping

TOPICS = ("Listening", "Questioning", "Objections", "Closing")


def test_post_scores_and_improvement_reach_the_history(
    run_sync: Any, mapping_dir: Path, settings: Settings
) -> None:
    set_mapping(
        mapping_dir, "[followup.job_aid]", "[insights]\npost_quiz = 9\n\n[followup.job_aid]"
    )
    assert run_sync().exit_code == 0
    scenario = load_scenario()["learners"]
    state = State(settings.state_path)
    points = {uid: data for uid, _, data in state.history("cc101")}
    state.close()
    for name in ("learner03", "learner09"):
        attempts = scenario[name]["precheck"]["attempts"]
        first = min(attempts, key=lambda a: a["attempt"])["per_topic_correct"]
        last = max(attempts, key=lambda a: a["attempt"])["per_topic_correct"]
        point = points[scenario[name]["userid"]]
        assert point["precheck"] == {t: first[t] / 2 for t in TOPICS}
        assert point["post"] == {t: last[t] / 2 for t in TOPICS}
    # a learner with one attempt: post = pre
    l01 = points[scenario["learner01"]["userid"]]
    assert l01["post"] == l01["precheck"]
