"""Cohorts: selecting learners (course group, first-seen window, Moodle cohort) and
comparing a pilot cohort with a baseline, each difference with its confidence
interval (SPEC §4.5). Pure: a Moodle cohort's members are resolved by the loader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from buyin.model.clock import DAY, parse_day
from buyin.report.figures import LearnerFigures
from buyin.report.stats import Interval, mean, newcombe_interval, welch_interval

#: fewer learners than this in a cohort: the comparison is a sentence, not a chart
MIN_COHORT = 5


@dataclass(frozen=True)
class Selector:
    """A cohort of learners: all the given conditions hold (course group, enrolment
    window, Moodle cohort). The window reads Moodle's enrolment start where the history
    has it, else the day the agent first saw the learner (:attr:`LearnerFigures.cohort_date`)."""

    label: str
    group: str | int | None = None
    enrolled_from: int | None = None
    #: exclusive end (the day after the window's last day, 00:00 UTC)
    enrolled_until: int | None = None
    cohort: int | None = None
    members: frozenset[int] | None = None
    #: the Moodle cohort's name, where the loader found it
    cohort_name: str | None = None

    @property
    def has_window(self) -> bool:
        return self.enrolled_from is not None or self.enrolled_until is not None

    def describe(self) -> str:
        """What the selection is, in words: the group's or cohort's name and the window."""
        parts = []
        if self.group is not None:
            parts.append(f"group {self.group}")
        if self.cohort is not None:
            parts.append(f"cohort {self.cohort_name or self.cohort}")
        if self.has_window:
            parts.append(f"enrolled {window_text(self.enrolled_from, self.enrolled_until)}")
        return ", ".join(parts) or "everyone"

    def matches(self, f: LearnerFigures) -> bool:
        if self.group is not None:
            if isinstance(self.group, int):
                if self.group not in f.group_ids:
                    return False
            elif self.group.casefold() not in {g.casefold() for g in f.groups}:
                return False
        if self.enrolled_from is not None and f.cohort_date < self.enrolled_from:
            return False
        if self.enrolled_until is not None and f.cohort_date >= self.enrolled_until:
            return False
        if self.cohort is not None:
            if self.members is None:
                raise ValueError(f"cohort {self.cohort}: members not resolved")
            if f.userid not in self.members:
                return False
        return True


def day_text(at: int) -> str:
    """A day as people write it: ``3 Mar 2026``."""
    d = datetime.fromtimestamp(at, tz=UTC)
    return f"{d.day} {d:%b %Y}"


def window_text(start: int | None, end: int | None) -> str:
    """An enrolment window in words (``end`` is exclusive)."""
    if start is not None and end is not None:
        return f"{day_text(start)} – {day_text(end - DAY)}"
    if start is not None:
        return f"from {day_text(start)}"
    return f"until {day_text((end or DAY) - DAY)}"


def parse_selector(text: str) -> Selector:
    """``group:NAME``, ``enrolled:YYYY-MM-DD..YYYY-MM-DD`` (either end may be empty) or
    ``cohort:ID``. Raises ValueError with what is wrong."""
    kind, sep, value = text.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if not sep or not value:
        raise ValueError(
            f"{text!r}: expected group:NAME, enrolled:YYYY-MM-DD..YYYY-MM-DD or cohort:ID"
        )
    if kind == "group":
        return Selector(label=text, group=value)
    if kind == "cohort":
        if not value.isdigit():
            raise ValueError(f"{text!r}: a cohort is selected by its numeric id")
        return Selector(label=text, cohort=int(value))
    if kind == "enrolled":
        start, dots, end = value.partition("..")
        if not dots:
            raise ValueError(f"{text!r}: expected enrolled:YYYY-MM-DD..YYYY-MM-DD")
        try:
            lo = parse_day(start) if start.strip() else None
            hi = parse_day(end) + DAY if end.strip() else None
        except ValueError:
            raise ValueError(f"{text!r}: dates must be YYYY-MM-DD") from None
        return Selector(label=text, enrolled_from=lo, enrolled_until=hi)
    raise ValueError(f"{text!r}: unknown selection {kind!r} (group, enrolled or cohort)")


def selector_from_mapping(raw: Mapping[str, Any], label: str) -> Selector:
    """The mapping's ``[insights.pilot.pilot]``/``[insights.pilot.baseline]`` tables."""
    cohort = raw.get("cohort")
    if cohort is not None and not isinstance(cohort, int):
        raise ValueError(f"{label}: a cohort is selected by its numeric id, not {cohort!r}")
    start, end = raw.get("enrolled_from"), raw.get("enrolled_until")
    return Selector(
        label=label,
        group=raw.get("group"),
        enrolled_from=parse_day(start) if start else None,
        enrolled_until=parse_day(end) + DAY if end else None,
        cohort=cohort,
    )


@dataclass(frozen=True)
class Difference:
    metric: str
    label: str
    kind: str  # proportion | mean
    unit: str  # "%" (a fraction shown as a percentage) | "days" | "minutes" | ""
    pilot: float | None
    baseline: float | None
    n_pilot: int
    n_baseline: int
    difference: float | None
    low: float | None
    high: float | None
    method: str


@dataclass(frozen=True)
class CohortComparison:
    #: each cohort as selected (``group:Pilot``) and in words (``group Pilot``)
    pilot: str
    baseline: str
    pilot_name: str
    baseline_name: str
    n_pilot: int
    n_baseline: int
    level: float
    differences: tuple[Difference, ...]
    #: what an ``enrolled:`` window read: "enrolment" (Moodle's), "first seen" (the
    #: agent's), "both" (some learners each way) or "" (no window selected)
    date_basis: str = ""

    @property
    def too_small(self) -> bool:
        """A cohort too small to compare (:data:`MIN_COHORT`)."""
        return min(self.n_pilot, self.n_baseline) < MIN_COHORT

    def get(self, metric: str) -> Difference:
        return next(d for d in self.differences if d.metric == metric)


Measure = Callable[[LearnerFigures], float | None]

#: the proportions compared: (metric, label, the moment whose presence counts)
PROPORTIONS: tuple[tuple[str, str, Measure], ...] = (
    ("started_rate", "Started", lambda f: f.started_at),
    ("completion_rate", "Completed", lambda f: f.completed_at),
)
#: the means compared: (metric, label, unit, the figure)
MEANS: tuple[tuple[str, str, str, Measure], ...] = (
    ("precheck_average", "Pre-check score", "%", lambda f: f.precheck_average),
    ("post_average", "Post score", "%", lambda f: f.post_average),
    ("improvement", "Improvement (post − pre)", "%", lambda f: f.improvement_average),
    ("days_to_complete", "Days to complete", "days", lambda f: f.days_to_complete),
    ("signoff_latency_days", "Sign-off latency", "days", lambda f: f.signoff_latency_days),
    ("minutes_saved", "Minutes saved by testing out", "minutes", lambda f: f.minutes_saved),
)


def _difference(
    metric: str,
    label: str,
    kind: str,
    unit: str,
    values: tuple[float | None, float | None, int, int],
    ci: Interval | None,
    missing: str,
) -> Difference:
    pilot, baseline, n_pilot, n_baseline = values
    return Difference(
        metric=metric,
        label=label,
        kind=kind,
        unit=unit,
        pilot=pilot,
        baseline=baseline,
        n_pilot=n_pilot,
        n_baseline=n_baseline,
        difference=ci.difference if ci else None,
        low=ci.low if ci else None,
        high=ci.high if ci else None,
        method=ci.method if ci else missing,
    )


def _proportion(
    metric: str, label: str, pilot: Sequence[bool], baseline: Sequence[bool], level: float
) -> Difference:
    k1, n1, k2, n2 = sum(pilot), len(pilot), sum(baseline), len(baseline)
    shares = (k1 / n1 if n1 else None, k2 / n2 if n2 else None, n1, n2)
    ci = newcombe_interval(k1, n1, k2, n2, level)
    return _difference(metric, label, "proportion", "%", shares, ci, "not enough learners")


def _means(
    metric: str,
    label: str,
    unit: str,
    pilot: Sequence[float],
    baseline: Sequence[float],
    level: float,
) -> Difference:
    means = (mean(pilot), mean(baseline), len(pilot), len(baseline))
    ci = welch_interval(pilot, baseline, level)
    return _difference(
        metric, label, "mean", unit, means, ci, "not enough learners (2 per cohort needed)"
    )


def _values(group: Sequence[LearnerFigures], measure: Measure) -> list[float]:
    """The learners' figure where they have one."""
    return [float(v) for f in group if (v := measure(f)) is not None]


def compare_cohorts(
    figures: Iterable[LearnerFigures], pilot: Selector, baseline: Selector, level: float = 0.95
) -> CohortComparison:
    """Pilot against baseline; each difference is pilot − baseline."""
    # every learner the history knows, also those who left since (a baseline is often past)
    everyone = list(figures)
    a = [f for f in everyone if pilot.matches(f)]
    b = [f for f in everyone if baseline.matches(f)]
    diffs = [
        _proportion(
            metric,
            label,
            [measure(f) is not None for f in a],
            [measure(f) is not None for f in b],
            level,
        )
        for metric, label, measure in PROPORTIONS
    ]
    diffs += [
        _means(metric, label, unit, _values(a, measure), _values(b, measure), level)
        for metric, label, unit, measure in MEANS
    ]
    return CohortComparison(
        pilot=pilot.label,
        baseline=baseline.label,
        pilot_name=pilot.describe(),
        baseline_name=baseline.describe(),
        date_basis=_date_basis([*a, *b]) if pilot.has_window or baseline.has_window else "",
        n_pilot=len(a),
        n_baseline=len(b),
        level=level,
        differences=tuple(diffs),
    )


def _date_basis(learners: Sequence[LearnerFigures]) -> str:
    known = {f.enrolled_at is not None for f in learners}
    if known == {True}:
        return "enrolment"
    return "both" if known == {True, False} else "first seen"
