"""What both HTML reports share: the page, its stylesheet, tables and number formats.

The page is one self-contained file (no script, no stylesheet, font or image from
elsewhere) and reads at 320 px wide: charts scale (a narrow rendering below 640 px),
tables scroll inside their own container, no text is under 12 px, and text has at
least 4.5:1 contrast on white.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem auto;max-width:1100px;color:#1a202c;background:#fff;padding:0 1rem;font-size:16px;line-height:1.45}
h1{margin-bottom:.2rem;font-size:1.6rem}h2{margin-top:2rem;font-size:1.3rem}.sub{color:#4a5568;margin-top:0}
p.finding{font-size:1.15rem;border-left:4px solid #1f5fa8;padding:.4rem .9rem;background:#f4f6f8}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1.2rem 0}
.card{background:#f4f6f8;border-radius:8px;padding:.7rem 1rem;flex:1 1 8rem;min-width:0}
.card b{display:block;font-size:1.5rem}.card span{color:#2d3748;font-size:.9rem}
.card small{display:block;color:#4a5568;font-size:.8rem;margin-top:.2rem}
.table-scroll{overflow-x:auto;max-width:100%;margin:1rem 0}
table{border-collapse:collapse;width:100%}
caption{text-align:left;font-weight:600;padding:.3rem 0;color:#1a202c}
th,td{border-bottom:1px solid #cbd5e0;padding:.35rem .6rem;text-align:left;font-size:.92rem;vertical-align:top}
thead th{background:#edf2f7}tbody th{font-weight:normal}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
figure.chart{margin:1.5rem 0;max-width:820px}figure.chart svg{display:block;width:100%;height:auto}
figure.chart .render.narrow{display:none}
@media (max-width:639px){figure.chart .render.wide{display:none}figure.chart .render.narrow{display:block}
body{margin:.8rem auto;padding:0 .75rem}}
figcaption{color:#2d3748;font-size:.9rem}.note{color:#4a5568;font-size:.9rem}
a{color:#1f5fa8}
"""


def e(text: object) -> str:
    return html.escape(str(text))


def pct(value: float | None, signed: bool = False) -> str:
    """A fraction as a percentage (``signed``: percentage points, ``+10.1 pts``)."""
    if value is None:
        return "–"
    text = f"{value * 100:+.1f}" if signed else f"{value * 100:.1f}"
    return text + ("%" if not signed else " pts")


def num(value: float | None, digits: int = 1, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def table(
    caption: str,
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[int] = (),
    *,
    row_headers: bool = True,
) -> str:
    """A table with its caption and header scopes (the first cell of a row heads it),
    inside its own scrolling container. Cells are HTML already; heads are text."""
    out = [
        f'<div class="table-scroll" role="region" tabindex="0" aria-label="{e(caption)}">'
        f"<table><caption>{e(caption)}</caption><thead><tr>",
        *(f'<th scope="col">{e(h)}</th>' for h in head),
        "</tr></thead><tbody>",
    ]
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            if i == 0 and row_headers:
                out.append(f'<th scope="row"{cls}>{cell}</th>')
            else:
                out.append(f"<td{cls}>{cell}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def page(title: str, subtitle: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{CSS}</style></head><body><main>"
        f'<h1>{e(title)}</h1><div class="sub">{e(subtitle)}</div>{body}</main></body></html>\n'
    )
