"""Check HTML reports in a real browser (headless Chromium) at phone width (issue 13).

    python tools/check_report_a11y.py REPORT.html [...] [--width 320] [--screenshot DIR]

Each page is loaded in headless Chromium with the viewport ``--width`` pixels wide, a
copy of the page carrying a small script that measures what the browser rendered
(nothing is added to the report itself). It fails (exit 1) when:

- a chart (``svg[role=img]`` in a ``figure.chart``) shown has no accessible name, or
  any chart shown is not an image with a name;
- a series mark (bar, line, dot, legend swatch) has less than 3:1 contrast with the
  chart's background (WCAG 2.2, 1.4.11);
- text has less than 4.5:1 contrast with its background, or is drawn under 12 px
  (SVG text measured as drawn, after the chart is scaled to the page);
- the page is wider than the viewport (``document.scrollWidth`` > width: something is
  cut off or needs sideways scrolling; tables scroll inside their own container);
- a table has no caption or a header cell has no scope.

Chromium is the Debian package ``chromium`` (``apt-get install chromium``); only the
standard library is used here (``--dump-dom`` returns the page with the script's
verdict in it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: measured in the page after it is laid out; the verdict goes into <pre id=a11y-verdict>
PROBE = r"""
<script>
(function () {
  function rgb(c) {
    var m = /rgba?\(([^)]+)\)/.exec(c || "");
    if (!m) return null;
    var p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    if (p.length > 3 && p[3] === 0) return null;
    return p.slice(0, 3);
  }
  function lum(c) {
    var v = c.map(function (x) {
      x = x / 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function contrast(a, b) {
    var l1 = lum(a), l2 = lum(b);
    return (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  }
  function shown(el) { return el.getClientRects().length > 0; }
  function background(el) {
    for (var n = el; n && n.nodeType === 1; n = n.parentElement) {
      var c = rgb(getComputedStyle(n).backgroundColor);
      if (c) return c;
    }
    return [255, 255, 255];
  }
  var problems = [], charts = 0, minFont = 1e9, minSeries = 1e9;
  var figures = document.querySelectorAll("figure.chart");
  figures.forEach(function (fig) {
    var name = fig.getAttribute("data-chart");
    var svgs = Array.prototype.filter.call(fig.querySelectorAll("svg"), shown);
    svgs = svgs.filter(function (s) { return !s.parentElement.closest("svg"); });
    if (!svgs.length) problems.push(name + ": no chart shown");
    svgs.forEach(function (svg) {
      charts += 1;
      var ids = (svg.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
      var label = ids.map(function (id) {
        var el = document.getElementById(id);
        return el ? el.textContent.trim() : "";
      }).join(" ").trim();
      if (svg.getAttribute("role") !== "img" || !label)
        problems.push(name + ": the chart has no accessible name");
      var plot = svg.querySelector(".plot > .background") || svg.querySelector("rect");
      var bg = rgb(getComputedStyle(plot).fill) || [255, 255, 255];
      var marks = svg.querySelectorAll(
        ".series rect, .series path, .series circle, .series line, .legend rect");
      marks.forEach(function (m) {
        if (!shown(m)) return;
        var st = getComputedStyle(m);
        [st.fill, st.stroke].forEach(function (c) {
          var col = rgb(c);
          if (!col || (c === st.stroke && parseFloat(st.strokeWidth) === 0)) return;
          var r = contrast(col, bg);
          minSeries = Math.min(minSeries, r);
          if (r < 3) problems.push(name + ": series colour " + c + " has " + r.toFixed(2) + ":1");
        });
      });
      svg.querySelectorAll("text").forEach(function (t) {
        if (!shown(t) || !t.textContent.trim()) return;
        var m = t.getScreenCTM();  // scale, whatever the rotation
        var px = parseFloat(getComputedStyle(t).fontSize) * Math.sqrt(m.a * m.a + m.b * m.b);
        minFont = Math.min(minFont, px);
        if (px < 12 - 0.01)
          problems.push(name + ": chart text '" + t.textContent.trim().slice(0, 30) +
                        "' drawn at " + px.toFixed(1) + " px");
      });
    });
  });
  var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (var node = walker.nextNode(); node; node = walker.nextNode()) {
    var el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest("svg") || el.closest("#a11y-verdict")) continue;
    if (!shown(el)) continue;
    var st = getComputedStyle(el), px = parseFloat(st.fontSize);
    minFont = Math.min(minFont, px);
    if (px < 12) problems.push("text '" + node.textContent.trim().slice(0, 30) + "' is " + px + " px");
    var fg = rgb(st.color);
    if (fg && contrast(fg, background(el)) < 4.5)
      problems.push("text '" + node.textContent.trim().slice(0, 30) + "' has " +
                    contrast(fg, background(el)).toFixed(2) + ":1");
  }
  document.querySelectorAll("table").forEach(function (t, i) {
    if (!t.querySelector("caption")) problems.push("table " + (i + 1) + " has no caption");
    t.querySelectorAll("th").forEach(function (th) {
      if (!th.getAttribute("scope")) problems.push("table " + (i + 1) + ": a <th> has no scope");
    });
  });
  var width = window.innerWidth;
  var scroll = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
  if (scroll > width) problems.push("the page is " + scroll + " px wide in a " + width + " px viewport");
  parent.postMessage(JSON.stringify({width: width, scroll_width: scroll, charts: charts,
    min_font_px: minFont, min_series_contrast: minSeries, problems: problems}), "*");
})();
</script>
"""

#: headless Chromium will not make a window narrower than 500 px: the page is measured
#: in an iframe of the wanted width, which is its viewport (media queries included)
FRAME = """<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body style="margin:0"><iframe src="{src}" style="border:0;width:{width}px;height:900px"></iframe>
<pre id="a11y-verdict"></pre>
<script>
window.addEventListener("message", function (e) {{
  document.getElementById("a11y-verdict").textContent = e.data;
}});
</script></body></html>
"""


@dataclass
class Result:
    path: Path
    width: int
    scroll_width: int
    charts: int
    min_font_px: float
    min_series_contrast: float
    problems: list[str] = field(default_factory=list)


def find_chromium() -> str | None:
    for name in CHROMIUMS:
        found = shutil.which(name)
        if found:
            return found
    return None


def _chromium(*args: str) -> str:
    binary = find_chromium()
    if binary is None:
        raise SystemExit("Chromium is not installed (Debian: apt-get install chromium)")
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--disable-extensions", "--allow-file-access-from-files",
               *args]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def check_file(path: Path, width: int = 320, screenshot: Path | None = None) -> Result:
    """Load ``path`` at ``width`` pixels and measure it (see the module's doc)."""
    page = path.read_text(encoding="utf-8")
    if "</body>" not in page:
        raise ValueError(f"{path}: not an HTML page")
    with tempfile.TemporaryDirectory(prefix="a11y-") as tmp:
        probe = Path(tmp) / path.name
        probe.write_text(page.replace("</body>", PROBE + "</body>", 1), encoding="utf-8")
        frame = Path(tmp) / "frame.html"
        frame.write_text(FRAME.format(src=probe.name, width=width), encoding="utf-8")
        dom = _chromium(
            "--window-size=800,1000", "--virtual-time-budget=10000", "--dump-dom", frame.as_uri()
        )
    start = dom.find('<pre id="a11y-verdict">')
    if start < 0:
        raise RuntimeError(f"{path}: the browser returned no verdict")
    import html

    raw = dom[start + len('<pre id="a11y-verdict">') :].split("</pre>", 1)[0]
    verdict = json.loads(html.unescape(raw))
    if verdict["width"] != width:
        verdict["problems"].append(f"the viewport is {verdict['width']} px, not {width}")
    if screenshot is not None:  # the window is at least 500 px: the part left of `width`
        _chromium(f"--window-size={width},4000", f"--screenshot={screenshot}", path.as_uri())
    return Result(
        path=path,
        width=verdict["width"],
        scroll_width=verdict["scroll_width"],
        charts=verdict["charts"],
        min_font_px=verdict["min_font_px"],
        min_series_contrast=verdict["min_series_contrast"],
        problems=verdict["problems"],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="+", type=Path)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--screenshot", type=Path, help="Directory for a PNG of each page.")
    args = parser.parse_args(argv)
    failed = 0
    for path in args.pages:
        shot = args.screenshot / f"{path.stem}-{args.width}.png" if args.screenshot else None
        result = check_file(path, args.width, shot)
        status = "ok" if not result.problems else "FAIL"
        print(
            f"{status} {path}: {result.charts} charts, page {result.scroll_width} px in "
            f"{result.width} px, smallest text {result.min_font_px:.1f} px, lowest series "
            f"contrast {result.min_series_contrast:.2f}:1"
        )
        for problem in result.problems:
            print(f"  - {problem}")
        failed += bool(result.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
