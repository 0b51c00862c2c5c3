"""Insight reports as one self-contained HTML file: tables for every figure, and charts
drawn server-side as inline SVG by pygal (the optional ``report`` extra).

Nothing is loaded at view time: no script, no stylesheet, no font, no image from
elsewhere (pygal's tooltip script is switched off). Each chart sits in
``<figure class="chart" data-chart="NAME" data-series="A|B">``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from buyin.errors import ConfigurationError
from buyin.model.clock import day_of, iso
from buyin.report.cohorts import CohortComparison
from buyin.report.poll import ManagerAsk, PollSection
from buyin.report.programme import ProgrammeReport
from buyin.report.team import TeamProgramme, TeamReport

#: sign-off latency histogram bins (days): [low, high)
LATENCY_BINS: tuple[tuple[float, float, str], ...] = (
    (0, 1, "< 1 day"),
    (1, 3, "1–3 days"),
    (3, 7, "3–7 days"),
    (7, 14, "7–14 days"),
    (14, float("inf"), "14+ days"),
)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem}.sub{color:#666;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:1rem;margin:1.5rem 0}
.card{background:#f4f6f8;border-radius:8px;padding:.8rem 1.1rem;min-width:9rem}
.card b{display:block;font-size:1.6rem}.card span{color:#555;font-size:.9rem}
table{border-collapse:collapse;margin:1rem 0;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.35rem .6rem;text-align:left;font-size:.92rem}
th{background:#f4f6f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure.chart{margin:1.5rem 0;max-width:820px}figure.chart svg{width:100%;height:auto}
figcaption{color:#555;font-size:.9rem}.note{color:#666;font-size:.9rem}
"""


def _pygal() -> Any:
    try:
        import pygal  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise ConfigurationError(
            "HTML reports draw their charts with pygal, which is not installed",
            hint="pip install 'moodle-buyin[report]' (or use --format csv or json)",
        ) from None
    return pygal


def _style() -> Any:
    pygal = _pygal()
    return pygal.style.Style(
        background="white",
        plot_background="white",
        font_family="system-ui, sans-serif",
        colors=("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#718096"),
        title_font_size=16,
        legend_font_size=13,
        label_font_size=12,
        major_label_font_size=12,
        value_font_size=12,
    )


def _svg(chart: Any, name: str) -> str:
    svg = str(chart.render(is_unicode=True))
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)  # pygal's banner and its links
    # pygal's inline config script only feeds its tooltip script, which is switched off
    svg = re.sub(r"<script\b.*?</script>", "", svg, flags=re.S)
    return re.sub(r"chart-[0-9a-f]{8}-[0-9a-f-]{27}", f"chart-{name}", svg)


def _figure(name: str, chart: Any, series: Sequence[str], caption: str) -> str:
    return (
        f'<figure class="chart" id="fig-{name}" data-chart="{name}" '
        f'data-series="{html.escape("|".join(series), quote=True)}">'
        f"{_svg(chart, name)}<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _chart(kind: str, title: str, **config: Any) -> Any:
    pygal = _pygal()
    options: dict[str, Any] = {
        "js": [],  # no script from the network: tooltips are CSS-only
        "disable_xml_declaration": True,
        "style": _style(),
        "title": title,
        "legend_at_bottom": True,
        "print_values": False,
        "width": 800,
        "height": 420,
        "explicit_size": False,
        "truncate_legend": -1,
        "truncate_label": -1,
        **config,
    }
    return getattr(pygal, kind)(**options)


def pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    text = f"{value * 100:+.1f}" if signed else f"{value * 100:.1f}"
    return text + ("%" if not signed else " pts")


def num(value: float | None, digits: int = 1, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _e(text: object) -> str:
    return html.escape(str(text))


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            out.append(f"<td{cls}>{cell}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _page(title: str, subtitle: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{_e(title)}</h1><p class="sub">{_e(subtitle)}</p>{body}</body></html>\n'
    )


# -- charts ---------------------------------------------------------------------------


def pre_post_chart(report: ProgrammeReport) -> str:
    chart = _chart(
        "Bar",
        "Pre-check vs post score per topic (mean, %)",
        range=(0, 100),
        value_formatter=lambda v: f"{v:.0f}%",
    )
    chart.x_labels = [t.topic for t in report.topics]
    chart.add(
        "Pre-check", [None if t.pre_mean is None else t.pre_mean * 100 for t in report.topics]
    )
    chart.add("Post", [None if t.post_mean is None else t.post_mean * 100 for t in report.topics])
    has_post = any(t.post_mean is not None for t in report.topics)
    caption = (
        "Mean score per topic before (pre-check) and after (post-assessment)."
        if has_post
        else "Mean pre-check score per topic; no post-assessment results yet."
    )
    return _figure("pre-post", chart, ["Pre-check", "Post"], caption)


def funnel_chart(report: ProgrammeReport) -> str:
    stages = report.funnel.stages()
    top = max((n for _, n in stages), default=0)
    chart = _chart("Bar", "Completion funnel (learners)", y_labels=_count_labels(top))
    chart.x_labels = [s for s, _ in stages]
    chart.add("Learners", [n for _, n in stages])
    return _figure(
        "funnel",
        chart,
        ["Learners"],
        "Enrolled → started → finished every activity → completed"
        + (" (signed off)." if report.escalate_after_days is not None else "."),
    )


def _count_labels(top: int) -> list[int]:
    """Whole-number axis labels for counts (about ten at most)."""
    step = max(1, -(-top // 10))
    return list(range(0, max(top, 1) + step, step))


def latency_bins(values: Sequence[float]) -> list[int]:
    return [sum(1 for v in values if lo <= v < hi) for lo, hi, _ in LATENCY_BINS]


def latency_chart(report: ProgrammeReport) -> str:
    signed = latency_bins(report.signoff_latencies_days)
    waiting = latency_bins(report.awaiting_days)
    chart = _chart(
        "Bar",
        "Sign-off latency (learners per band)",
        y_labels=_count_labels(max([*signed, *waiting, 0])),
    )
    chart.x_labels = [label for _, _, label in LATENCY_BINS]
    chart.add("Signed off", signed)
    chart.add("Still awaiting (so far)", waiting)
    return _figure(
        "signoff-latency",
        chart,
        ["Signed off", "Still awaiting (so far)"],
        "Days from finishing every activity to the manager's sign-off; learners still "
        "waiting are counted by how long they have waited so far.",
    )


def comparison_chart(comparison: CohortComparison) -> str:
    shown = [d for d in comparison.differences if d.unit == "%"]
    chart = _chart(
        "Bar",
        "Pilot vs baseline (%)",
        range=(
            min(
                0, *(100 * (d.pilot or 0) for d in shown), *(100 * (d.baseline or 0) for d in shown)
            ),
            100,
        ),
        value_formatter=lambda v: f"{v:.1f}%",
    )
    chart.x_labels = [d.label for d in shown]
    chart.add(
        f"Pilot ({comparison.pilot})",
        [None if d.pilot is None else d.pilot * 100 for d in shown],
    )
    chart.add(
        f"Baseline ({comparison.baseline})",
        [None if d.baseline is None else d.baseline * 100 for d in shown],
    )
    return _figure(
        "pilot-baseline",
        chart,
        [f"Pilot ({comparison.pilot})", f"Baseline ({comparison.baseline})"],
        f"n = {comparison.n_pilot} pilot, {comparison.n_baseline} baseline; differences and "
        f"{comparison.level:.0%} confidence intervals in the table below.",
    )


# -- pages ---------------------------------------------------------------------------


def _comparison_table(c: CohortComparison) -> str:
    rows = []
    for d in c.differences:
        if d.unit == "%":
            pilot, base = pct(d.pilot), pct(d.baseline)
            diff = pct(d.difference, signed=True)
            ci = (
                f"{pct(d.low, signed=True)} to {pct(d.high, signed=True)}"
                if d.low is not None
                else "–"
            )
        else:
            unit = f" {d.unit}" if d.unit else ""
            pilot, base = num(d.pilot), num(d.baseline)
            diff = num(d.difference, signed=True) + (unit if d.difference is not None else "")
            ci = (
                f"{num(d.low, signed=True)} to {num(d.high, signed=True)}{unit}"
                if d.low is not None and d.high is not None
                else "–"
            )
        rows.append(
            [
                _e(d.label),
                pilot,
                base,
                diff,
                ci,
                f"{d.n_pilot} / {d.n_baseline}",
                _e(d.method),
            ]
        )
    return _table(
        [
            "figure",
            "pilot",
            "baseline",
            "difference",
            f"{c.level:.0%} CI",
            "n (pilot / baseline)",
            "method",
        ],
        rows,
        numeric=(1, 2, 3),
    )


def programme_html(report: ProgrammeReport) -> str:
    fn = report.funnel
    cards = [
        (fn.enrolled, "enrolled"),
        (fn.started, "started"),
        (fn.completed, "completed"),
        (fn.awaiting_signoff, "awaiting sign-off"),
        (num(report.median_days_to_complete), "median days to complete"),
        (num(report.median_signoff_latency_days), "median sign-off latency (days)"),
        (report.overdue_signoffs, "overdue sign-offs"),
        (num(report.hours_saved), "hours saved by testing out"),
    ]
    body = ['<div class="cards">']
    body += [
        f'<div class="card"><b>{_e(v)}</b><span>{_e(label)}</span></div>' for v, label in cards
    ]
    body.append("</div>")
    body.append("<h2>Completion</h2>")
    body.append(funnel_chart(report))
    body.append(
        _table(
            ["stage", "learners", "share of enrolled"],
            [
                [_e(s), str(n), pct(n / fn.enrolled if fn.enrolled else None)]
                for s, n in report.funnel.stages()
            ],
            numeric=(1, 2),
        )
    )
    body.append(
        f"<p>Median days to complete: {num(report.median_days_to_complete)} "
        f"(n = {report.n_days_to_complete}). Learners with no progress for "
        f"{report.stuck_days:.0f} days or more: {report.stuck}.</p>"
    )
    body.append("<h2>Skills per topic</h2>")
    body.append(pre_post_chart(report))
    body.append(
        _table(
            ["topic", "pre-check", "n", "post", "n", "improvement", "n", "retention", "n"],
            [
                [
                    _e(t.topic),
                    pct(t.pre_mean),
                    str(t.pre_n),
                    pct(t.post_mean),
                    str(t.post_n),
                    pct(t.improvement_mean, signed=True),
                    str(t.improvement_n),
                    pct(t.retention_mean),
                    str(t.retention_n),
                ]
                for t in report.topics
            ],
            numeric=tuple(range(1, 9)),
        )
    )
    body.append(
        f"<p>Retention (refresher quiz, overall): {pct(report.retention_overall)} "
        f"(n = {report.retention_n}). Testing out completed {report.activities_tested_out} "
        f"activities for learners: {num(report.hours_saved)} hours saved.</p>"
    )
    body.append("<h2>Manager sign-off</h2>")
    body.append(latency_chart(report))
    overdue = (
        f" Overdue (waiting longer than {report.escalate_after_days:g} days): "
        f"{report.overdue_signoffs}."
        if report.escalate_after_days is not None
        else ""
    )
    body.append(
        f"<p>Median latency: {num(report.median_signoff_latency_days)} days "
        f"(n = {len(report.signoff_latencies_days)}). Awaiting sign-off now: "
        f"{report.funnel.awaiting_signoff}.{overdue}</p>"
    )
    if report.poll is not None:
        body.append(poll_html(report.poll))
    if report.comparison is not None:
        c = report.comparison
        body.append("<h2>Pilot vs baseline</h2>")
        body.append(comparison_chart(c))
        body.append(_comparison_table(c))
        body.append(
            '<p class="note">Differences are pilot − baseline. Means: Welch\'s standard error '
            "with Welch–Satterthwaite degrees of freedom and the Student t quantile. "
            "Proportions: Newcombe's hybrid score interval (from Wilson intervals).</p>"
        )
    if report.champions is not None:
        ch = report.champions
        body.append("<h2>Champions</h2>")
        body.append(
            _table(
                ["largest improvement", ""],
                [[_e(x.name), _e(x.detail)] for x in ch.improvements]
                or [["–", "no post-assessment results yet"]],
            )
        )
        body.append(
            _table(
                ["fastest sign-offs", ""],
                [[_e(x.name), _e(x.detail)] for x in ch.fastest_signoffs]
                or [["–", "no sign-offs yet"]],
            )
        )
    return _page(
        f"{report.name}: programme report",
        f"Programme {report.program} · as of the sync at {iso(report.as_of)}",
        "".join(body),
    )


def poll_html(poll: PollSection) -> str:
    """ "What managers asked for": topics named, expected impact, free text (escaped:
    it is the manager's own text, unescaped from Moodle's storage), beside the teams'
    scores on those topics."""
    body = ["<h2>What managers asked for</h2>"]
    link = f'<a href="{_e(poll.url)}">{_e(poll.name)}</a>'
    body.append(
        f"<p>{link}: {poll.responses} manager(s) answered, {poll.waiting} not yet. "
        f"Expected impact (1–5): {num(poll.impact_mean)} (n = {poll.impact_n}).</p>"
    )
    if poll.anonymous:
        body.append(
            '<p class="note">The Feedback is anonymous: Moodle gives aggregate counts only, '
            "so no manager's own answer or team can be shown.</p>"
        )
    body.append(
        _table(
            ["topic", "managers who named it", "their teams' pre-check", "n", "post", "n", "moved"],
            [
                [
                    _e(t.topic),
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
        body += [f"<blockquote>{_e(c)}</blockquote>" for c in poll.comments]
    return "".join(body)


def ask_html(ask: ManagerAsk) -> str:
    """One manager's answer and what their team's scores did on those topics."""
    impact = f", expected impact {ask.impact}/5" if ask.impact is not None else ""
    out = [f"<h3>{_e(ask.name)}{_e(impact)}</h3><ul>"]
    out += [f"<li>{_e(m.line())}</li>" for m in ask.moves]
    out.append("</ul>")
    if ask.comment:
        out.append(f"<blockquote>{_e(ask.comment)}</blockquote>")
    return "".join(out)


def team_chart(prog: TeamProgramme) -> str:
    chart = _chart(
        "Line",
        f"{prog.name}: team average per topic over time (%)",
        range=(0, 100),
        value_formatter=lambda v: f"{v:.0f}%",
        x_label_rotation=20,
    )
    chart.x_labels = [day_of(at) for at, _ in prog.average_over_time]
    for t in prog.topics:
        chart.add(t, [None if t not in m else m[t] * 100 for _, m in prog.average_over_time])
    return _figure(
        f"team-{prog.program}",
        chart,
        list(prog.topics),
        "The team's mean score per topic (post where there is one, else pre-check) at each "
        "sync where it changed.",
    )


def team_html(report: TeamReport) -> str:
    body = []
    for prog in report.programmes:
        body.append(f"<h2>{_e(prog.name)}</h2>")
        if prog.ask is not None:
            body.append("<h3>What you asked training to solve</h3>" + ask_html(prog.ask))
        body.append(team_chart(prog))
        pending = {p.userid: p for p in prog.pending}
        rows = []
        for m in prog.members:
            f = m.figures
            scores = ", ".join(
                f"{_e(t)} {pct(f.post.get(t, f.precheck.get(t)))}"
                for t in prog.topics
                if t in f.precheck or t in f.post
            )
            waiting = pending.get(f.userid)
            rows.append(
                [
                    _e(f.name),
                    _e(f.status),
                    f"{f.activities_done} / {f.activities_total}",
                    scores or "–",
                    f"{num(waiting.days_waiting)} days" if waiting else "",
                    f"yes ({f.days_without_progress:.0f} days)" if f.stuck else "",
                ]
            )
        body.append(
            _table(
                ["learner", "status", "activities", "scores", "awaiting sign-off", "stuck"], rows
            )
        )
        if prog.pending:
            body.append(
                "<p>Pending sign-offs: "
                + ", ".join(
                    f"{_e(p.name)} ({num(p.days_waiting)} days"
                    + (", escalated to you" if p.escalated else "")
                    + ")"
                    for p in prog.pending
                )
                + "</p>"
            )
        body.append(
            f"<p>No progress in {prog.stuck_days:.0f} days: "
            f"{_e(', '.join(prog.stuck)) if prog.stuck else 'nobody'}.</p>"
        )
        body.append("<h3>Scores over time</h3>")
        hist_rows = []
        for m in prog.members:
            for s in m.scores:
                vals = {t: s.precheck[t] for t in prog.topics if t in s.precheck}
                vals |= {f"post {t}": s.post[t] for t in prog.topics if t in s.post}
                hist_rows.append(
                    [
                        _e(m.figures.name),
                        _e(iso(s.at)[:10]),
                        _e(", ".join(f"{k} {pct(v)}" for k, v in vals.items()) or "–"),
                    ]
                )
        body.append(_table(["learner", "since", "scores"], hist_rows))
    return _page(
        f"Team of {report.manager_name}",
        f"Direct reports (user {report.manager}) in {len(report.programmes)} programme(s)",
        "".join(body),
    )
