"""The team report as one self-contained HTML page: per programme, the team's scores
over real time (pre-check, post and retention as separate series), each direct
report by name, who waits for sign-off with the link where the manager signs, and
who is stuck.
"""

from __future__ import annotations

from datetime import UTC, datetime

from buyin.model.names import human_day, plural
from buyin.report.charts import NARROW, Size, figure, pygal_chart, render
from buyin.report.cohorts import day_text
from buyin.report.markup import e, num, page, pct, table
from buyin.report.poll import ManagerAsk
from buyin.report.team import KIND_LABELS, KINDS, TeamProgramme, TeamReport


def _when(at: int) -> datetime:
    return datetime.fromtimestamp(at, tz=UTC)


def team_chart(prog: TeamProgramme) -> str:
    """The team's mean score (over topics) per kind, on a time axis: a gap of 37 days is
    drawn wider than one of 3."""
    moments = prog.over_time
    series = {
        KIND_LABELS[k]: [(m.at, v * 100) for m in moments if (v := m.overall(k)) is not None]
        for k in KINDS
    }
    # how many people each point is over: a mean that moves because people joined is
    # not a team that learned
    people = {
        KIND_LABELS[k]: [m.counts.get(k, 0) for m in moments if m.overall(k) is not None]
        for k in KINDS
    }
    shown = [name for name, points in series.items() if points]

    def draw(size: Size) -> str:
        chart = pygal_chart(
            "DateTimeLine", size, range=(0, 100), value_formatter=lambda v: f"{v:.0f}%",
            x_value_formatter=lambda d: f"{d.day} {d:%b}", x_label_rotation=30,
            show_minor_x_labels=size is not NARROW,
        )  # fmt: skip
        for name in shown:
            chart.add(name, [(_when(at), v) for at, v in series[name]])
        return render(chart)

    parts = []
    for name in shown:
        first, last = series[name][0], series[name][-1]
        n_first, n_last = people[name][0], people[name][-1]
        joined = (
            f"; {plural(n_last - n_first, 'more person', 'more people')} "
            f"{'has' if n_last - n_first == 1 else 'have'} a score since, so the change is "
            "partly who joined, not only what the team learned"
            if n_last > n_first
            else ", the same people"
        )
        parts.append(
            f"{name}: {first[1]:.0f}% on {day_text(first[0])} ({plural(n_first, 'person', 'people')})"
            + (
                f", {last[1]:.0f}% on {day_text(last[0])} "
                f"({plural(n_last, 'person', 'people')}{joined})"
                if last != first
                else ""
            )
        )
    return figure(
        f"team-{prog.program}",
        f"{prog.name}: the team's mean score over time",
        shown,
        ("; ".join(parts) + ".") if parts else "No scores yet.",
        "Each line is the mean over the team and the topics; the x axis is the calendar, "
        "so the points are as far apart as the syncs that saw a change.",
        draw,
    )


def _members_table(prog: TeamProgramme) -> str:
    pending = {p.userid: p for p in prog.pending}
    rows = []
    for m in prog.members:
        f = m.figures
        waiting = pending.get(f.userid)
        rows.append(
            [
                e(f.name),
                e(f.status),
                f"{f.activities_done} / {f.activities_total}",
                pct(f.precheck_average),
                pct(f.post_average),
                pct(f.retention.get("overall")),
                f"{num(waiting.days_waiting)} days" if waiting else "",
                f"yes ({f.days_without_progress:.0f} days)" if f.stuck else "",
            ]
        )
    return table(
        f"{prog.name}: direct reports",
        [
            "learner",
            "status",
            "activities done",
            "pre-check (mean)",
            "post (mean)",
            "retention",
            "waiting for your sign-off",
            "stuck",
        ],
        rows,
        numeric=(2, 3, 4, 5),
    )


def _history_table(prog: TeamProgramme) -> str:
    head = ["learner", "since"]
    head += [f"pre-check {t}" for t in prog.topics] + [f"post {t}" for t in prog.topics]
    head.append("retention")
    rows = []
    for m in prog.members:
        for s in m.scores:
            rows.append(
                [e(m.figures.name), e(human_day(s.at))]
                + [pct(s.precheck.get(t)) for t in prog.topics]
                + [pct(s.post.get(t)) for t in prog.topics]
                + [pct(s.retention.get("overall"))]
            )
    return table(
        f"{prog.name}: scores per topic each time they changed",
        head,
        rows,
        numeric=tuple(range(2, len(head))),
    )


def _signoff(prog: TeamProgramme) -> str:
    link = (
        f' <a href="{e(prog.signoff_url)}">Open the sign-off page in Moodle</a>.'
        if prog.signoff_url
        else ""
    )
    if not prog.pending:
        return f"<p>Nobody is waiting for your sign-off.{link}</p>"
    names = ", ".join(
        f"{e(p.name)} ({num(p.days_waiting)} days"
        + (", escalated to you" if p.escalated else "")
        + ")"
        for p in prog.pending
    )
    link = f' <a href="{e(prog.signoff_url)}">Sign off in Moodle</a>.' if prog.signoff_url else ""
    return f"<p>Waiting for your sign-off: {names}.{link}</p>"


def ask_html(ask: ManagerAsk) -> str:
    """One manager's answer and what their team's scores did on those topics."""
    impact = f", expected impact {ask.impact}/5" if ask.impact is not None else ""
    out = [f"<h3>{e(ask.name)}{e(impact)}</h3><ul>"]
    out += [f"<li>{e(m.line())}</li>" for m in ask.moves]
    out.append("</ul>")
    if ask.comment:
        out.append(f"<blockquote>{e(ask.comment)}</blockquote>")
    return "".join(out)


def team_html(report: TeamReport) -> str:
    body = []
    for prog in report.programmes:
        body.append(f"<h2>{e(prog.name)}</h2>")
        if prog.ask is not None:
            body.append("<h3>What you asked training to solve</h3>" + ask_html(prog.ask))
        body.append(_signoff(prog))
        body.append(team_chart(prog))
        body.append(_members_table(prog))
        body.append(
            f"<p>No progress in {prog.stuck_days:.0f} days: "
            f"{e(', '.join(prog.stuck)) if prog.stuck else 'nobody'}.</p>"
        )
        body.append("<h3>Scores over time</h3>")
        body.append(_history_table(prog))
    count = sum(len(p.members) for p in report.programmes)
    return page(
        f"Team of {report.manager_name}",
        f"{plural(count, 'direct report')} of {report.manager_name} in "
        f"{plural(len(report.programmes), 'programme')}",
        "".join(body),
    )
