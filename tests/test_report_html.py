"""The HTML reports: one self-contained file, every chart with the right series.

The page is parsed (html.parser): each chart is a ``<figure data-chart=NAME>`` holding
pygal's inline SVG, whose legend names the series and whose ``<g class="series">``
groups hold the plotted values (``<desc class="value">``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from buyin.model.clock import DAY
from buyin.model.history import HistoryPoint
from buyin.report.cohorts import Selector, parse_selector
from buyin.report.html import LATENCY_BINS, latency_bins, programme_html, team_html
from buyin.report.programme import programme_report
from buyin.report.team import TeamReport as Team
from buyin.report.team import team_programme

pytest.importorskip("pygal")

AT = 1_795_000_000
TOPICS = ("Listening", "Questioning")


class Charts(HTMLParser):
    """Per chart: its declared series, its legend texts, and the values per series."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, dict[str, Any]] = {}
        self.current: str | None = None
        self.depth = 0
        self.series: int | None = None
        self.series_depth = 0
        self.in_legend = 0
        self.text_in: str | None = None
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "figure" and a.get("data-chart"):
            self.current = str(a["data-chart"])
            self.charts[self.current] = {
                "declared": str(a.get("data-series", "")).split("|"),
                "legend": [],
                "values": {},
            }
            return
        if self.current is None:
            return
        if tag == "g":
            self.depth += 1
            cls = (a.get("class") or "").split()
            if "legends" in cls:
                self.in_legend = self.depth
            m = next((c for c in cls if re.fullmatch(r"serie-\d+", c)), None)
            if "series" in cls and m:
                self.series = int(m.split("-")[1])
                self.series_depth = self.depth
        if tag == "text" and self.in_legend:
            self.text_in = "legend"
        if tag == "desc" and a.get("class") == "value" and self.series is not None:
            self.text_in = "value"

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self.current = None
        if tag == "g" and self.current is not None:
            if self.depth == self.in_legend:
                self.in_legend = 0
            if self.depth == self.series_depth:
                self.series = None
            self.depth -= 1
        if tag in ("text", "desc"):
            self.text_in = None

    def handle_data(self, data: str) -> None:
        if self.current is None or self.text_in is None:
            return
        chart = self.charts[self.current]
        if self.text_in == "legend" and data.strip():
            chart["legend"].append(data.strip())
        elif self.text_in == "value" and self.series is not None:
            chart["values"].setdefault(self.series, []).append(data.strip())


def parse(page: str) -> dict[str, dict[str, Any]]:
    parser = Charts()
    parser.feed(page)
    return parser.charts


def point(**kw: Any) -> HistoryPoint:
    base: dict[str, Any] = {"enrolled": True, "first_seen": AT - 60 * DAY, "activities_total": 8}
    return HistoryPoint.from_json({**base, **kw})


def rows() -> list[tuple[int, int, HistoryPoint]]:
    """Five learners: two signed off (latency 2 and 10 days), one awaiting for 9 days,
    one in progress, one not started; pre and post scores for two topics."""
    done = AT - 5 * DAY
    return [
        (1, AT, point(groups=["P"], started_at=AT - 40 * DAY, completed_at=done, signed_at=done,
                      awaiting_since=done - 2 * DAY, signoff_latency_seconds=2 * DAY, manager=50,
                      manager_name="Mia Manager", line_manager=50, activities_done=8,
                      precheck={"Listening": 0.5, "Questioning": 0.25},
                      post={"Listening": 1.0, "Questioning": 0.75}, minutes_saved=30,
                      fullname="Ann A")),
        (2, AT, point(groups=["P"], started_at=AT - 30 * DAY, completed_at=done, signed_at=done,
                      awaiting_since=done - 10 * DAY, signoff_latency_seconds=10 * DAY,
                      manager=50, line_manager=50, activities_done=8,
                      precheck={"Listening": 0.5, "Questioning": 0.5},
                      post={"Listening": 0.5, "Questioning": 1.0}, fullname="Bo B")),
        (3, AT, point(groups=["B"], started_at=AT - 20 * DAY, awaiting_since=AT - 9 * DAY,
                      manager=50, line_manager=50, activities_done=8,
                      precheck={"Listening": 1.0, "Questioning": 0.5}, fullname="Cy C")),
        (4, AT, point(groups=["B"], started_at=AT - 3 * DAY, activities_done=2,
                      last_progress_at=AT - 3 * DAY, line_manager=51, fullname="Di D",
                      precheck={"Listening": 0.0, "Questioning": 0.0})),
        (5, AT, point(groups=["B"], activities_done=0, line_manager=51, fullname="Ed E")),
    ]  # fmt: skip


def test_programme_page_has_every_chart_with_the_right_series() -> None:
    pilot, baseline = parse_selector("group:P"), parse_selector("group:B")
    report = programme_report(
        "p1", rows(), name="Pilot programme", escalate_after_days=7, pilot=pilot, baseline=baseline
    )
    page = programme_html(report)
    charts = parse(page)
    assert set(charts) == {"pre-post", "funnel", "signoff-latency", "pilot-baseline"}
    for name, chart in charts.items():
        assert chart["legend"] == chart["declared"], name
        assert len(chart["values"]) == len(chart["declared"]), name

    pre_post = charts["pre-post"]
    assert pre_post["declared"] == ["Pre-check", "Post"]
    # Listening pre (0.5, 0.5, 1.0, 0.0) → 50%; Questioning pre (.25, .5, .5, 0) → 31.25%
    assert pre_post["values"][0] == ["50%", "31%"]
    # post: Listening (1.0, 0.5) → 75%, Questioning (0.75, 1.0) → 87.5%
    assert pre_post["values"][1] == ["75%", "88%"]

    funnel = charts["funnel"]
    # enrolled 5, started 4, finished the activities 3, completed 2
    assert [int(v) for v in funnel["values"][0]] == [5, 4, 3, 2]

    latency = charts["signoff-latency"]
    assert latency["declared"] == ["Signed off", "Still awaiting (so far)"]
    labels = [label for _, _, label in LATENCY_BINS]
    signed = dict(zip(labels, (int(v) for v in latency["values"][0]), strict=True))
    assert signed == {"< 1 day": 0, "1–3 days": 1, "3–7 days": 0, "7–14 days": 1, "14+ days": 0}
    awaiting = dict(zip(labels, (int(v) for v in latency["values"][1]), strict=True))
    assert awaiting["7–14 days"] == 1 and sum(awaiting.values()) == 1

    versus = charts["pilot-baseline"]
    assert versus["declared"] == ["Pilot (group:P)", "Baseline (group:B)"]
    # completed: pilot 2/2 = 100%, baseline 0/3 = 0%
    assert versus["values"][0][1] == "100.0%" and versus["values"][1][1] == "0.0%"
    # the table carries the difference, its interval, n and the method
    assert "Newcombe" in page and "Welch" in page and "2 / 3" in page
    assert "overdue" in page.lower() and report.overdue_signoffs == 1


def test_the_page_loads_nothing_from_elsewhere() -> None:
    page = programme_html(programme_report("p1", rows(), escalate_after_days=7))
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", page)
    assert "@import" not in page and "url(http" not in page
    # the only absolute URLs left are XML namespace names, which are never fetched
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert page.startswith("<!DOCTYPE html>")


def test_nobody_is_named_without_the_opt_in() -> None:
    names = ("Ann A", "Bo B", "Cy C", "Di D", "Ed E", "Mia Manager")
    page = programme_html(programme_report("p1", rows(), escalate_after_days=7))
    assert not any(n in page for n in names)
    named = programme_html(
        programme_report("p1", rows(), escalate_after_days=7, champions_opt_in=True)
    )
    assert "Champions" in named
    assert "Ann A" in named  # largest improvement: +50 points
    assert "Mia Manager" in named  # the only approver


def test_team_page_has_the_team_chart() -> None:
    signoffs = [
        {"userid": 3, "status": "requested", "approver": 50, "awaiting_since": AT - 9 * DAY}
    ]
    prog = team_programme("p1", rows(), 50, signoffs, name="Pilot programme", topics=TOPICS)
    assert [m.figures.name for m in prog.members] == ["Ann A", "Bo B", "Cy C"]
    assert [(p.name, p.days_waiting) for p in prog.pending] == [("Cy C", 9.0)]
    page = team_html(Team(manager=50, manager_name="Mia Manager", programmes=(prog,)))
    charts = parse(page)
    assert charts["team-p1"]["legend"] == list(TOPICS)
    # one sync: the team's mean (post where there is one): Listening (1.0, .5, 1.0) = 83%
    assert charts["team-p1"]["values"][0] == ["83%"]
    assert "Cy C (9.0 days)" in page


def test_latency_bins_cover_every_value() -> None:
    values = [0.0, 0.99, 1.0, 2.9, 3.0, 6.9, 7.0, 13.9, 14.0, 400.0]
    assert latency_bins(values) == [2, 2, 2, 2, 2]


def test_selector_with_unresolved_cohort_refuses() -> None:
    f = programme_report("p1", rows()).learners[0]
    with pytest.raises(ValueError):
        Selector(label="cohort:3", cohort=3).matches(f)
