"""The HTML reports: one self-contained file, every chart with the right series.

The page is parsed (html.parser): each chart is a ``<figure data-chart=NAME>`` holding
pygal's inline SVG, whose legend names the series and whose ``<g class="series">``
groups hold the plotted values (``<desc class="value">``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

import pytest

from buyin.model.clock import DAY
from buyin.model.history import HistoryPoint
from buyin.report.charts import BACKGROUND, PALETTE
from buyin.report.cohorts import Difference, Selector, parse_selector
from buyin.report.finding import difference_sentence
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
    """The charts' wide renderings (the narrow ones draw the same figures)."""
    parser = Charts()
    parser.feed(re.sub(r'<div class="render narrow">.*?</svg></div>', "", page, flags=re.S))
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
    assert set(charts) == {"pre-post", "funnel", "signoff-latency", "weekly"}
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

    # two learners against three: too few to compare, said in a sentence, no chart
    assert "fewer than the 5 needed to compare cohorts" in page
    assert "the pilot (group P) has 2 learners and the baseline (group B) has 3" in page
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
    # pre-check and post apart: a post score never stands in for a pre-check
    assert charts["team-p1"]["legend"] == ["Pre-check", "Post"]
    # pre-check: Listening (.5, .5, 1.0) = .6667, Questioning (.25, .5, .5) = .4167 → 54%
    assert charts["team-p1"]["values"][0] == ["18 Nov: 54%"]
    # post: Listening (1.0, .5) = .75, Questioning (.75, 1.0) = .875 → 81%
    assert charts["team-p1"]["values"][1] == ["18 Nov: 81%"]
    assert "Cy C (9.0 days)" in page
    assert "3 direct reports of Mia Manager" in page and "user 50" not in page


def test_team_chart_spaces_syncs_by_their_dates() -> None:
    """Syncs 3 days and 37 days apart are drawn 3 and 37 units apart, not evenly."""
    ann = rows()[0][2]
    history = [
        (1, AT - 40 * DAY, replace(ann, post={})),
        (1, AT - 37 * DAY, replace(ann, precheck={"Listening": 0.75, "Questioning": 0.25},
                                   post={})),
        (1, AT, ann),
    ]  # fmt: skip
    prog = team_programme("p1", history, 50, name="Pilot programme", topics=TOPICS)
    page = team_html(Team(manager=50, manager_name="Mia Manager", programmes=(prog,)))
    wide = re.search(r'<div class="render wide">(.*?)</svg></div>', page, re.S)
    assert wide is not None
    first = re.search(r'<g class="series serie-0[^"]*">(.*?)</g></g>', wide.group(1), re.S)
    assert first is not None
    xs = [float(x) for x in re.findall(r'<circle cx="([0-9.]+)"', first.group(1))]
    assert len(xs) == 3
    assert (xs[2] - xs[1]) / (xs[1] - xs[0]) == pytest.approx(37 / 3, rel=0.01)


def test_latency_bins_cover_every_value() -> None:
    values = [0.0, 0.99, 1.0, 2.9, 3.0, 6.9, 7.0, 13.9, 14.0, 400.0]
    assert latency_bins(values) == [2, 2, 2, 2, 2]


def test_selector_with_unresolved_cohort_refuses() -> None:
    f = programme_report("p1", rows()).learners[0]
    with pytest.raises(ValueError):
        Selector(label="cohort:3", cohort=3).matches(f)


# -- accessibility, read from the markup ----------------------------------------------------


def contrast(hex_colour: str, background: str = "#ffffff") -> float:
    """WCAG 2.2 contrast ratio, from the definition of relative luminance."""

    def luminance(colour: str) -> float:
        channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    hi, lo = sorted((luminance(hex_colour), luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_every_series_colour_has_3_to_1_contrast_on_the_background() -> None:
    assert contrast("#000000") == pytest.approx(21.0)  # the formula, checked at its ends
    assert contrast("#777777") == pytest.approx(4.48, abs=0.01)  # the usual reference grey
    for colour in PALETTE:
        assert contrast(colour, BACKGROUND) >= 3.0, colour
    page = programme_html(programme_report("p1", rows(), escalate_after_days=7))
    # every colour pygal was given is from the palette
    used = set(re.findall(r"\.color-\d+[^{]*\{[^}]*?(?:fill|stroke):(#[0-9a-fA-F]{6})", page))
    assert used and used <= {c.lower() for c in PALETTE} | set(PALETTE)


def test_charts_are_named_images_and_tables_have_captions_and_scopes() -> None:
    signoffs = [{"userid": 3, "status": "requested", "approver": 50, "awaiting_since": AT}]
    team = team_programme("p1", rows(), 50, signoffs, name="Pilot programme", topics=TOPICS)
    pages = [
        programme_html(programme_report("p1", rows(), escalate_after_days=7)),
        team_html(Team(manager=50, manager_name="Mia Manager", programmes=(team,))),
    ]
    for page in pages:
        svgs = re.findall(r"<svg\b[^>]*>", page)
        assert svgs
        for svg in svgs:
            assert 'role="img"' in svg
            ids = re.search(r'aria-labelledby="([^"]+)"', svg)
            assert ids is not None
            for ref in ids.group(1).split():
                named = re.search(rf'id="{ref}">([^<]+)<', page)
                assert named is not None and named.group(1).strip(), ref
        # pygal's per-point coordinates are gone; the values stay for the text summary
        assert '<desc class="x' not in page and '<desc class="y' not in page
        assert page.count("<table>") == page.count("<caption>") > 0
        assert not re.search(r"<th(?![^>]*scope=)(?:\s[^>]*)?>", page)
        assert "overflow-x:auto" in page  # tables scroll inside their own container


def test_a_clear_and_an_unclear_difference_in_words() -> None:
    def diff(low: float, high: float) -> Difference:
        return Difference("days_to_complete", "Days to complete", "mean", "days",
                          12.0, 20.0, 30, 30, (low + high) / 2, low, high, "Welch t")  # fmt: skip

    clear = difference_sentence(diff(-17.1, -3.1), 0.95, "group P", "group B")
    assert "finished 10.1 days sooner than the baseline" in clear
    assert "95 % confidence interval: finished 3.1 to 17.1 days sooner" in clear
    unclear = difference_sentence(diff(-5.0, 3.0), 0.95, "group P", "group B")
    assert unclear.startswith("No clear difference in days to complete")
    assert "from finished 5.0 days sooner to took 3.0 days longer to complete" in unclear


def test_enrolment_windows_read_moodles_enrolment_start_where_the_history_has_it() -> None:
    early, late = AT - 90 * DAY, AT - 10 * DAY
    history = [
        # enrolled in Moodle long before the agent first saw them
        (uid, AT, point(first_seen=late, enrolled_at=early, fullname=f"L{uid}"))
        for uid in range(1, 6)
    ] + [(uid, AT, point(first_seen=late, fullname=f"L{uid}")) for uid in range(6, 11)]
    report = programme_report(
        "p1", history,
        pilot=Selector("enrolled:early", enrolled_from=early - DAY, enrolled_until=early + DAY),
        baseline=Selector("enrolled:late", enrolled_from=late - DAY, enrolled_until=late + DAY),
    )  # fmt: skip
    assert report.comparison is not None
    assert (report.comparison.n_pilot, report.comparison.n_baseline) == (5, 5)
    assert report.comparison.date_basis == "both"
    assert "first seen by the agent stands in" in programme_html(report)


def test_team_trend_says_when_people_joined_rather_than_learned() -> None:
    """A mean over 1 person then over 2 is not the team moving: the text says who joined."""
    ann, bo = rows()[0][2], rows()[1][2]
    history = [
        (1, AT - 10 * DAY, replace(ann, post={})),
        (1, AT, replace(ann, post={})),
        (2, AT, replace(bo, post={})),
    ]
    prog = team_programme("p1", history, 50, name="Pilot programme", topics=TOPICS)
    page = team_html(Team(manager=50, manager_name="Mia Manager", programmes=(prog,)))
    assert "(1 person)" in page and "(2 people; 1 more person has a score since" in page
    better = replace(ann, post={}, precheck={"Listening": 1.0, "Questioning": 1.0})
    alone = team_programme("p1", [*history[:1], (1, AT, better)], 50, topics=TOPICS)
    assert "the same people" in team_html(
        Team(manager=50, manager_name="Mia Manager", programmes=(alone,))
    )
