"""The programme report as one self-contained HTML page: the finding first, in plain
words, then every figure with its chart and its table, and what each leaves out said
where it is shown. Charts are inline SVG (:mod:`buyin.report.charts`); the team page
is :mod:`buyin.report.team_page`.

Each chart sits in ``<figure class="chart" data-chart="NAME" data-series="A|B">``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from buyin.model.names import human_time, plural
from buyin.report.charts import (
    NARROW,
    IntervalRow,
    Size,
    figure,
    interval_svg,
    pygal_chart,
    render,
)
from buyin.report.cohorts import MIN_COHORT, CohortComparison, Difference, day_text
from buyin.report.finding import better_cue, finding, overview
from buyin.report.markup import e, num, page, pct, table
from buyin.report.poll import PollSection
from buyin.report.programme import ProgrammeReport
from buyin.report.team_page import team_html

__all__ = ["LATENCY_BINS", "latency_bins", "programme_html", "team_html"]

#: sign-off latency histogram bins (days): [low, high)
LATENCY_BINS: tuple[tuple[float, float, str], ...] = (
    (0, 1, "< 1 day"),
    (1, 3, "1–3 days"),
    (3, 7, "3–7 days"),
    (7, 14, "7–14 days"),
    (14, float("inf"), "14+ days"),
)

#: the difference charts: one scale each (name, title, unit words, metrics)
DIFFERENCE_PANELS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("rates", "Rates", "percentage points", ("started_rate", "completion_rate")),
    ("scores", "Score means", "percentage points", ("precheck_average", "post_average",
                                                    "improvement")),
    ("days", "Days", "days", ("days_to_complete", "signoff_latency_days")),
    ("minutes", "Minutes saved", "minutes", ("minutes_saved",)),
)  # fmt: skip

METHOD_NOTE = (
    "How to read the differences: each is the pilot's figure minus the baseline's. The "
    "95 % interval is the range of differences the data are consistent with: if the "
    "interval lies wholly above or below zero the cohorts differ clearly; if it includes "
    "zero, the difference could be chance, and the report says \u201cno clear difference\u201d. "
    "Narrow intervals come from many learners who behave alike; wide ones from few "
    "learners or very varied ones. For statisticians: shares use Newcombe's hybrid score "
    "interval (from Wilson intervals), means use Welch's t interval."
)


def latency_bins(values: Sequence[float]) -> list[int]:
    return [sum(1 for v in values if lo <= v < hi) for lo, hi, _ in LATENCY_BINS]


def _count_labels(top: int) -> list[int]:
    """Whole-number axis labels for counts (about ten at most)."""
    step = max(1, -(-top // 10))
    return list(range(0, max(top, 1) + step, step))


def _x_rotation(size: Size) -> int:
    return 30 if size is NARROW else 0


# -- charts ---------------------------------------------------------------------------


def pre_post_chart(report: ProgrammeReport) -> str:
    topics = report.topics
    pre = [t.pre_mean * 100 if t.pre_mean is not None else None for t in topics]
    post = [t.post_mean * 100 if t.post_mean is not None else None for t in topics]

    def draw(size: Size) -> str:
        chart = pygal_chart(
            "Bar", size, range=(0, 100), value_formatter=lambda v: f"{v:.0f}%",
            x_label_rotation=_x_rotation(size),
        )  # fmt: skip
        chart.x_labels = [t.topic for t in topics]
        chart.add("Pre-check", pre)
        chart.add("Post", post)
        return render(chart)

    parts = [f"{t.topic} {pct(t.pre_mean)} before, {pct(t.post_mean)} after" for t in topics]
    has_post = any(v is not None for v in post)
    return figure(
        "pre-post",
        "Mean score per topic, before (pre-check) and after (post-assessment)",
        ["Pre-check", "Post"],
        ("; ".join(parts) + ".") if parts else "No scores yet.",
        "" if has_post else "No post-assessment results yet.",
        draw,
    )


def funnel_chart(report: ProgrammeReport) -> str:
    stages = report.funnel.stages()
    top = max((n for _, n in stages), default=0)

    def draw(size: Size) -> str:
        chart = pygal_chart(
            "Bar", size, y_labels=_count_labels(top), x_label_rotation=_x_rotation(size)
        )
        chart.x_labels = [s for s, _ in stages]
        chart.add("Learners", [n for _, n in stages])
        return render(chart)

    return figure(
        "funnel",
        "Completion funnel (learners)",
        ["Learners"],
        ", ".join(f"{s}: {n}" for s, n in stages) + ".",
        "Completed means signed off where the programme asks for a sign-off.",
        draw,
    )


def latency_chart(report: ProgrammeReport) -> str:
    signed = latency_bins(report.signoff_latencies_days)
    waiting = latency_bins(report.awaiting_days)
    labels = [label for _, _, label in LATENCY_BINS]

    def draw(size: Size) -> str:
        chart = pygal_chart(
            "Bar", size, y_labels=_count_labels(max([*signed, *waiting, 0])),
            x_label_rotation=_x_rotation(size),
        )  # fmt: skip
        chart.x_labels = labels
        chart.add("Signed off", signed)
        chart.add("Still awaiting (so far)", waiting)
        return render(chart)

    before = report.signoffs_before_last_activity
    return figure(
        "signoff-latency",
        "Days from the last activity to the manager's sign-off",
        ["Signed off", "Still awaiting (so far)"],
        "Signed off: "
        + ", ".join(f"{lb} {n}" for lb, n in zip(labels, signed, strict=True))
        + ". Still awaiting: "
        + ", ".join(f"{lb} {n}" for lb, n in zip(labels, waiting, strict=True))
        + ".",
        f"{len(report.signoff_latencies_days)} sign-offs"
        + (
            f"; {before} came before the learner's last activity and count as 0 days."
            if before
            else "."
        ),
        draw,
    )


def trend_chart(report: ProgrammeReport) -> str:
    weeks = report.weeks
    series = ("Started", "Finished the activities", "Signed off")
    values = (
        [w.started for w in weeks],
        [w.finished for w in weeks],
        [w.signed_off for w in weeks],
    )

    def draw(size: Size) -> str:
        top = max((v for vs in values for v in vs), default=0)
        chart = pygal_chart(
            "Line", size, y_labels=_count_labels(top), x_label_rotation=_x_rotation(size) or 0,
            show_minor_x_labels=size is not NARROW, x_labels_major_every=2,
        )  # fmt: skip
        chart.x_labels = [day_text(w.start) for w in weeks]
        for name, vs in zip(series, values, strict=True):
            chart.add(name, vs)
        return render(chart)

    busiest = max(weeks, key=lambda w: w.finished) if weeks else None
    summary = (
        f"{len(weeks)} weeks from {day_text(weeks[0].start)}; in total "
        f"{sum(values[0])} started, {sum(values[1])} finished the activities and "
        f"{sum(values[2])} were signed off; most finished in the week of "
        f"{day_text(busiest.start)} ({busiest.finished})."
        if busiest
        else "Nothing has happened yet."
    )
    return figure(
        "weekly", "Week by week: learners who started, finished and were signed off",
        list(series), summary, "Weeks start on Monday (UTC).", draw,
    )  # fmt: skip


def _difference_text(d: Difference) -> str:
    if d.difference is None:
        return "–"
    if d.unit == "%":
        return pct(d.difference, signed=True)
    return f"{num(d.difference, signed=True)} {d.unit}"


def _interval_text(d: Difference) -> str:
    if d.low is None or d.high is None:
        return "–"
    if d.unit == "%":
        return f"{pct(d.low, signed=True)} to {pct(d.high, signed=True)}"
    return f"{num(d.low, signed=True)} to {num(d.high, signed=True)} {d.unit}"


def _interval_drawing(rows: Sequence[IntervalRow], unit: str, size: Size) -> str:
    return interval_svg(rows, unit, size)


def difference_charts(c: CohortComparison) -> str:
    """One chart per scale: each difference with its interval."""
    out = []
    for key, title, unit, metrics in DIFFERENCE_PANELS:
        shown = [
            d
            for m in metrics
            for d in c.differences
            if d.metric == m and d.low is not None and d.high is not None
        ]
        if not shown:
            continue
        scale = 100.0 if unit == "percentage points" else 1.0
        rows = [
            IntervalRow(
                d.label,
                (d.difference or 0.0) * scale,
                (d.low or 0.0) * scale,
                (d.high or 0.0) * scale,
                _difference_text(d),
            )
            for d in shown
        ]
        summary = "; ".join(
            f"{d.label}: {_difference_text(d)} ({c.level:.0%} interval {_interval_text(d)})"
            for d in shown
        )
        out.append(
            figure(
                f"differences-{key}",
                f"{title}: pilot − baseline with {c.level:.0%} intervals",
                ["Difference"],
                summary + ".",
                "A dot is the difference, its line the interval; the dashed line is no difference.",
                partial(_interval_drawing, rows, unit),
            )
        )
    return "".join(out)


def _leaves_out(d: Difference, c: CohortComparison) -> str:
    if d.kind == "proportion":
        return "every learner counts"
    if d.metric in ("days_to_complete", "signoff_latency_days"):
        return f"completers only: {d.n_pilot} of {c.n_pilot} / {d.n_baseline} of {c.n_baseline}"
    return (
        f"learners with the figure: {d.n_pilot} of {c.n_pilot} / {d.n_baseline} of {c.n_baseline}"
    )


def comparison_section(c: CohortComparison) -> str:
    body = ["<h2>Pilot against baseline</h2>"]
    body.append(
        f"<p>Pilot: <b>{e(c.pilot_name)}</b> ({c.n_pilot} learners; selected as "
        f"<code>{e(c.pilot)}</code>). Baseline: <b>{e(c.baseline_name)}</b> "
        f"({c.n_baseline} learners; <code>{e(c.baseline)}</code>).</p>"
    )
    if c.date_basis in ("first seen", "both"):
        body.append(
            '<p class="note">Moodle\'s enrolment start is not in the history for '
            + ("some of these learners" if c.date_basis == "both" else "these learners")
            + ": the day first seen by the agent stands in for the enrolment date. "
            "On a course that ran before the first sync, everyone enrolled earlier counts "
            "as enrolled on that day.</p>"
        )
    if c.too_small:
        small = [
            f"the {role} ({name}) has {n} learner{'s' if n != 1 else ''}"
            for role, name, n in (
                ("pilot", c.pilot_name, c.n_pilot),
                ("baseline", c.baseline_name, c.n_baseline),
            )
            if n < MIN_COHORT
        ]
        body.append(
            f"<p>No chart: {' and '.join(small)}, fewer than the {MIN_COHORT} needed to "
            "compare cohorts.</p>"
        )
        return "".join(body)
    body.append(difference_charts(c))
    rows = [
        [
            e(f"{d.label} ({better_cue(d.metric)})"),
            pct(d.pilot) if d.unit == "%" else num(d.pilot),
            pct(d.baseline) if d.unit == "%" else num(d.baseline),
            _difference_text(d),
            _interval_text(d),
            e(_leaves_out(d, c)),
        ]
        for d in c.differences
    ]
    body.append(
        table(
            "Pilot against baseline, figure by figure",
            [
                "figure",
                "pilot",
                "baseline",
                "difference (pilot − baseline)",
                f"{c.level:.0%} interval",
                "learners counted (pilot / baseline)",
            ],
            rows,
            numeric=(1, 2, 3),
        )
    )
    body.append(f'<p class="note">{e(METHOD_NOTE)}</p>')
    return "".join(body)


# -- the page -------------------------------------------------------------------------


def _cards(report: ProgrammeReport) -> str:
    fn = report.funnel
    latencies = report.signoff_latencies_days
    minutes = report.minutes_per_activity
    cards = [
        (fn.enrolled, "enrolled", ""),
        (fn.started, "started", ""),
        (fn.completed, "completed", ""),
        (fn.awaiting_signoff, "awaiting sign-off", ""),
        (fn.rejected, "sign-off rejected", "the manager asked for more; see the learners"),
        (
            num(report.median_days_to_complete),
            "median days to complete",
            f"completers only: {report.n_days_to_complete} of {fn.enrolled}",
        ),
        (
            num(report.median_signoff_latency_days),
            "median days to sign-off",
            f"completers only: {len(latencies)} of {fn.enrolled}",
        ),
        (report.overdue_signoffs, "overdue sign-offs", ""),
        (
            num(report.hours_saved),
            "hours saved by testing out",
            f"assumes {minutes:g} minutes per activity; {report.activities_tested_out} activities"
            if minutes is not None
            else f"{report.activities_tested_out} activities",
        ),
    ]
    out = ['<div class="cards">']
    for value, label, note in cards:
        small = f"<small>{e(note)}</small>" if note else ""
        out.append(f'<div class="card"><b>{e(value)}</b><span>{e(label)}</span>{small}</div>')
    out.append("</div>")
    return "".join(out)


def _topics_section(report: ProgrammeReport) -> str:
    body = ["<h2>Skills per topic</h2>", pre_post_chart(report)]
    per_topic_retention = any(t.retention_n for t in report.topics)
    rows = [
        [
            e(t.topic),
            pct(t.pre_mean),
            str(t.pre_n),
            pct(t.post_mean),
            str(t.post_n),
            pct(t.improvement_mean, signed=True),
            str(t.improvement_n),
            pct(t.retention_mean) if per_topic_retention else "overall only",
            str(t.retention_n) if per_topic_retention else "–",
        ]
        for t in report.topics
    ]
    rows.append(
        [
            "All topics (refresher quiz)",
            "",
            "",
            "",
            "",
            "",
            "",
            pct(report.retention_overall),
            str(report.retention_n),
        ]
    )
    body.append(
        table(
            "Scores per topic: mean and how many learners it covers",
            [
                "topic",
                "pre-check mean",
                "learners with a pre-check",
                "post mean",
                "learners with a post score",
                "improvement (post − pre)",
                "learners with both",
                "retention",
                "learners with a refresher result",
            ],
            rows,
            numeric=tuple(range(1, 9)),
        )
    )
    note = (
        f"Retention is the refresher quiz's result: {pct(report.retention_overall)} over "
        f"{report.retention_n} learners."
    )
    if not per_topic_retention:
        note += (
            " Moodle returns it as one grade per learner (the refresher quiz's overall "
            "grade), so it is shown for all topics together, not per topic."
        )
    note += (
        f" Testing out completed {report.activities_tested_out} activities for learners: "
        f"{num(report.hours_saved)} hours saved"
        + (
            f", assuming {report.minutes_per_activity:g} minutes per activity "
            "(precheck.minutes_per_activity in the mapping)."
            if report.minutes_per_activity is not None
            else "."
        )
    )
    body.append(f'<p class="note">{e(note)}</p>')
    return "".join(body)


def programme_html(report: ProgrammeReport) -> str:
    fn = report.funnel
    c = report.comparison
    opening = finding(c).text if c is not None else overview(report)
    body = [f'<p class="finding">{e(opening)}</p>']
    if c is not None:
        body.append(comparison_section(c))
    body.append("<h2>Key figures</h2>")
    body.append(_cards(report))
    body.append("<h2>Over time</h2>")
    body.append(trend_chart(report))
    body.append(
        table(
            "Learners per week",
            ["week starting", "started", "finished the activities", "signed off"],
            [
                [e(day_text(w.start)), str(w.started), str(w.finished), str(w.signed_off)]
                for w in report.weeks
            ],
            numeric=(1, 2, 3),
        )
    )
    body.append("<h2>Completion</h2>")
    body.append(funnel_chart(report))
    body.append(
        table(
            "Completion funnel",
            ["stage", "learners", "share of enrolled"],
            [[e(s), str(n), pct(n / fn.enrolled if fn.enrolled else None)] for s, n in fn.stages()],
            numeric=(1, 2),
        )
    )
    body.append(
        f"<p>Median days to complete: {num(report.median_days_to_complete)}, counting only "
        f"the {report.n_days_to_complete} of {fn.enrolled} learners who completed (from their "
        f"first activity). Learners with no progress for {report.stuck_days:.0f} days or "
        f"more: {report.stuck}.</p>"
    )
    body.append(_topics_section(report))
    body.append("<h2>Manager sign-off</h2>")
    body.append(latency_chart(report))
    overdue = (
        f" Overdue (waiting longer than {report.escalate_after_days:g} days): "
        f"{report.overdue_signoffs}."
        if report.escalate_after_days is not None
        else ""
    )
    before = report.signoffs_before_last_activity
    body.append(
        f"<p>Median days from the last activity to sign-off: "
        f"{num(report.median_signoff_latency_days)}, over the "
        f"{len(report.signoff_latencies_days)} learners signed off"
        + (
            f" ({before} signed off before their last activity, counted as 0 days)"
            if before
            else ""
        )
        + f". Awaiting sign-off now: {fn.awaiting_signoff}.{overdue}</p>"
    )
    if report.poll is not None:
        body.append(poll_html(report.poll))
    if report.champions is not None:
        ch = report.champions
        body.append("<h2>Champions</h2>")
        body.append(
            table(
                "Largest improvement",
                ["learner", "improvement"],
                [[e(x.name), e(x.detail)] for x in ch.improvements]
                or [["–", "no post-assessment results yet"]],
            )
        )
        body.append(
            table(
                "Fastest sign-offs",
                ["manager", "sign-off time"],
                [[e(x.name), e(x.detail)] for x in ch.fastest_signoffs]
                or [["–", "no sign-offs yet"]],
            )
        )
    return page(
        f"{report.name}: programme report",
        f"Programme {report.program} · as of the sync on {human_time(report.as_of)}",
        "".join(body),
    )


def poll_html(poll: PollSection) -> str:
    """ "What managers asked for": topics named, expected impact, free text (escaped:
    it is the manager's own text, unescaped from Moodle's storage), beside the teams'
    scores on those topics."""
    body = ["<h2>What managers asked for</h2>"]
    link = f'<a href="{e(poll.url)}">{e(poll.name)}</a>'
    body.append(
        f"<p>{link}: {plural(poll.responses, 'manager')} answered, {poll.waiting} not yet. "
        f"Expected impact (1–5): {num(poll.impact_mean)}, from "
        f"{plural(poll.impact_n, 'answer')}.</p>"
    )
    if poll.anonymous:
        body.append(
            '<p class="note">The Feedback is anonymous: Moodle gives aggregate counts only, '
            "so no manager's own answer or team can be shown.</p>"
        )
    body.append(
        table(
            "What managers asked for, by topic",
            [
                "topic",
                "managers who named it",
                "their teams' pre-check",
                "learners with a pre-check",
                "post",
                "learners with a post score",
                "moved",
            ],
            [
                [
                    e(t.topic),
                    str(t.managers),
                    pct(t.pre),
                    str(t.pre_n),
                    pct(t.post),
                    str(t.post_n),
                    pct(t.improvement, signed=True),
                ]
                for t in poll.topics
            ],
            numeric=tuple(range(1, 7)),
        )
    )
    if poll.comments:
        body.append("<h3>In their words</h3>")
        body += [f"<blockquote>{e(c)}</blockquote>" for c in poll.comments]
    return "".join(body)
