"""The programme report's finding in plain words, generated from the figures. Pure.

A difference (pilot − baseline) is told as what people did ("finished 10.1 days
sooner"), with its 95 % interval in the same words, and what the interval means:
when it spans zero the finding is "no clear difference".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from buyin.model.names import plural
from buyin.report.cohorts import MIN_COHORT, CohortComparison, Difference
from buyin.report.programme import ProgrammeReport

#: the differences a finding may lead with, most telling first
HEADLINE_ORDER: tuple[str, ...] = (
    "days_to_complete",
    "completion_rate",
    "improvement",
    "post_average",
    "signoff_latency_days",
    "started_rate",
    "minutes_saved",
    "precheck_average",
)

#: per metric: (words when the pilot is higher, words when lower, unit words)
WORDING: dict[str, tuple[str, str, str]] = {
    "days_to_complete": ("took {x} longer to complete", "finished {x} sooner", "days"),
    "signoff_latency_days": ("waited {x} longer for sign-off", "were signed off {x} sooner", "days"),
    "completion_rate": ("completed {x} more often", "completed {x} less often", "points"),
    "started_rate": ("started {x} more often", "started {x} less often", "points"),
    "precheck_average": ("scored {x} higher on the pre-check", "scored {x} lower on the pre-check",
                         "points"),
    "post_average": ("scored {x} higher after the course", "scored {x} lower after the course",
                     "points"),
    "improvement": ("improved {x} more", "improved {x} less", "points"),
    "minutes_saved": ("saved {x} more by testing out", "saved {x} less by testing out", "minutes"),
}  # fmt: skip


#: which way each figure is better ("" where neither is: the pre-check is where people
#: start, before any training)
BETTER: dict[str, str] = {
    "days_to_complete": "lower",
    "signoff_latency_days": "lower",
    "completion_rate": "higher",
    "started_rate": "higher",
    "precheck_average": "",
    "post_average": "higher",
    "improvement": "higher",
    "minutes_saved": "higher",
}


def better_cue(metric: str) -> str:
    """``higher is better``, ``lower is better``, or ``neither is better``."""
    way = BETTER.get(metric, "")
    return f"{way} is better" if way else "neither is better"


def verdict(d: Difference) -> str:
    """``better``, ``worse`` or ``""`` for the pilot's difference on ``d``."""
    way = BETTER.get(d.metric, "")
    if not way or not d.difference:
        return ""
    return "better" if (d.difference > 0) == (way == "higher") else "worse"


def moved(c: CohortComparison, leaving: str | None = None) -> str:
    """Every other figure that clearly moved, better or worse, in one sentence."""
    others = [
        d for d in c.differences if d.metric != leaving and d.difference is not None and is_clear(d)
    ]
    if not others:
        return ""
    said = [
        f"{_said(d, d.difference or 0.0)} ({verdict(d) or 'neither better nor worse'}: "
        f"{better_cue(d.metric)})"
        for d in others
    ]
    return " Also clearly different: the pilot " + "; ".join(said) + "."


@dataclass(frozen=True)
class Finding:
    #: the sentence the report opens with
    text: str
    #: the difference it is about (None: no comparison possible)
    metric: str | None
    #: the interval excludes zero
    clear: bool


def magnitude(d: Difference, value: float) -> str:
    """``value`` (same scale as the difference) in its unit's words, without sign."""
    unit = WORDING[d.metric][2]
    size = abs(value) * (100 if d.unit == "%" else 1)
    word = {"points": "percentage points"}.get(unit, unit)
    if unit == "days" and round(size, 1) == 1.0:
        word = "day"
    return f"{size:.1f} {word}"


def _said(d: Difference, value: float) -> str:
    higher, lower, _ = WORDING[d.metric]
    return (higher if value > 0 else lower).format(x=magnitude(d, value))


def interval_words(d: Difference) -> str:
    """The interval in the finding's own words: "finished 3.1 to 17.1 days sooner" when
    it lies on one side of zero, else from one end to the other."""
    assert d.low is not None and d.high is not None
    if d.low > 0 or d.high < 0:
        near, far = sorted((d.low, d.high), key=abs)
        scale = 100 if d.unit == "%" else 1
        higher, lower, _ = WORDING[d.metric]
        span = f"{abs(near) * scale:.1f} to {magnitude(d, far)}"
        return (higher if d.low > 0 else lower).format(x=span)
    return f"from {_said(d, d.low)} to {_said(d, d.high)}"


def difference_sentence(d: Difference, level: float, pilot: str, baseline: str) -> str:
    """One difference as a sentence: the estimate, its interval and what it means."""
    assert d.difference is not None and d.low is not None and d.high is not None
    pct = f"{level:.0%}".replace("%", " %")
    if not is_clear(d):
        return (
            f"No clear difference in {d.label.lower()} between the pilot ({pilot}) and the "
            f"baseline ({baseline}): the pilot {_said(d, d.difference)} on average, but the "
            f"{pct} interval runs {interval_words(d)}, so it is consistent with no difference."
            if d.difference
            else f"No difference in {d.label.lower()} between the pilot ({pilot}) and the "
            f"baseline ({baseline})."
        )
    judged = verdict(d)
    return (
        f"The pilot ({pilot}) {_said(d, d.difference)} than the baseline ({baseline}): "
        f"{pct} confidence interval: {interval_words(d)}. The difference is clear: the "
        "interval does not include zero"
        + (f", and it is {judged} ({better_cue(d.metric)})." if judged else ".")
    )


def is_clear(d: Difference) -> bool:
    """The interval lies on one side of zero."""
    return d.low is not None and d.high is not None and (d.low > 0 or d.high < 0)


def _headline(differences: Sequence[Difference]) -> Difference | None:
    usable = {d.metric: d for d in differences if d.low is not None and d.difference is not None}
    ordered = [usable[m] for m in HEADLINE_ORDER if m in usable]
    clear = [d for d in ordered if is_clear(d)]
    chosen = clear or ordered
    return chosen[0] if chosen else None


def finding(c: CohortComparison) -> Finding:
    """What the pilot against the baseline shows, in one or two sentences."""
    if c.too_small:
        return Finding(
            f"The pilot ({c.pilot_name}) has {plural(c.n_pilot, 'learner')} and the baseline "
            f"({c.baseline_name}) {c.n_baseline}: at least {MIN_COHORT} in each are needed "
            "to compare them, so no comparison is drawn.",
            None,
            False,
        )
    d = _headline(c.differences)
    if d is None:
        return Finding(
            f"The pilot ({c.pilot_name}, {c.n_pilot} learners) and the baseline "
            f"({c.baseline_name}, {c.n_baseline}) cannot be compared yet: no figure has "
            "enough learners in both.",
            None,
            False,
        )
    text = difference_sentence(
        d, c.level, f"{c.pilot_name}, {c.n_pilot} learners", f"{c.baseline_name}, {c.n_baseline}"
    )
    if d.metric in ("days_to_complete", "signoff_latency_days"):
        text += (
            f" Only learners who finished count here ({d.n_pilot} of {c.n_pilot} in the pilot, "
            f"{d.n_baseline} of {c.n_baseline} in the baseline)."
        )
    # the headline names every figure that moved, the worse ones too
    text += moved(c, d.metric)
    return Finding(text, d.metric, is_clear(d))


def overview(report: ProgrammeReport) -> str:
    """The opening without a pilot and a baseline: where the programme stands."""
    fn = report.funnel
    if not fn.enrolled:
        return "Nobody is enrolled in the programme at its latest sync."
    rejected = (
        f", {fn.rejected} {'was' if fn.rejected == 1 else 'were'} asked by their manager "
        "for more before sign-off"
        if fn.rejected
        else ""
    )
    text = (
        f"Of {fn.enrolled} learners enrolled, {fn.completed} have completed "
        f"({fn.completed / fn.enrolled:.0%}), {fn.awaiting_signoff} are waiting for their "
        f"manager's sign-off{rejected} and {fn.enrolled - fn.started} have not started."
    )
    if report.median_days_to_complete is not None:
        text += (
            f" Those who completed took {report.median_days_to_complete:.1f} days (median; "
            f"completers only, {report.n_days_to_complete} of {fn.enrolled})."
        )
    return text + " Name a pilot and a baseline (--pilot, --baseline) to compare cohorts."
