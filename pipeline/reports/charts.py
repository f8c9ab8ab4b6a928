"""Charts as inline SVG: a few kilobytes each, drawn offline, printable, no JavaScript.

``timeline_svg`` draws an iceberg's tickets per period with its onset; ``attributes_svg``
its over-represented values, each as its share of the iceberg's tickets against its share
of all tickets. Every text in them goes through ``markupsafe.escape``.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from markupsafe import Markup, escape

BAR = "#2b6cb0"        # the iceberg (used nowhere else on the page)
BASELINE = "#b8c4d6"   # all tickets
ONSET = "#c0392b"
INK = "#333333"
FONT = 'font-family="Helvetica, Arial, sans-serif"'


def timeline_svg(timeline: pd.DataFrame, onset: date | None = None, *, width: int = 640,
                 height: int = 170, title: str = "Tickets per week") -> Markup:
    """Bars of ``count`` per ``period_start``; a dashed line at ``onset``."""
    left, right, top, bottom = 34, 8, 14, 24
    counts = timeline["count"].astype(int).tolist()
    starts = [pd.Timestamp(s).date() for s in timeline["period_start"]]
    parts = [_open(width, height, title)]
    if not counts:
        parts.append(_text(width / 2, height / 2, "no dated tickets", anchor="middle"))
        return Markup("".join(parts) + "</svg>")
    peak = max(max(counts), 1)
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / len(counts)
    for y_value in (0, peak):
        y = top + plot_h - plot_h * y_value / peak
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                     f'stroke="#dddddd" stroke-width="1"/>')
        parts.append(_text(left - 4, y + 3, str(y_value), anchor="end"))
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        parts.append(f'<rect x="{left + i * step + step * 0.1:.1f}" y="{top + plot_h - h:.1f}" '
                     f'width="{max(step * 0.8, 1):.1f}" height="{h:.1f}" fill="{BAR}">'
                     f'<title>{escape(f"{starts[i]}: {count}")}</title></rect>')
    month = None
    for i, start in enumerate(starts):    # a label at each period that begins a new month
        if (start.year, start.month) != month and (month is None or i * step > 30):
            month = (start.year, start.month)
            parts.append(_text(left + i * step, height - 8, f"{start:%b %Y}" if start.month == 1 or i == 0
                               else f"{start:%b}"))
    if onset is not None and starts:
        period_days = (starts[-1] - starts[0]).days / (len(starts) - 1) if len(starts) > 1 else 7
        offset = (pd.Timestamp(onset) - pd.Timestamp(starts[0])).days / max(period_days, 1)
        x = left + max(min(offset, len(counts)), 0) * step
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{ONSET}" '
                     'stroke-width="1.5" stroke-dasharray="4 3"/>')
        parts.append(_text(x + 3, top + 4, f"onset {onset}", fill=ONSET))
    return Markup("".join(parts) + "</svg>")


def attributes_svg(rows: pd.DataFrame, *, width: int = 640, title: str = "Where it happens") -> Markup:
    """For each row (``dimension``, ``value``, ``share``, ``baseline_share``): two bars."""
    label_w, row_h, top = 190, 30, 22
    height = top + row_h * max(len(rows), 1) + 6
    parts = [_open(width, height, title),
             f'<rect x="{label_w}" y="4" width="10" height="10" fill="{BAR}"/>',
             _text(label_w + 14, 13, "this iceberg"),
             f'<rect x="{label_w + 110}" y="4" width="10" height="10" fill="{BASELINE}"/>',
             _text(label_w + 124, 13, "all tickets in its time window")]
    bar_w = width - label_w - 50
    for i, row in enumerate(rows.to_dict(orient="records")):
        y = top + i * row_h
        label = f"{row['dimension']}={row['value']}"
        label = label if len(label) <= 30 else label[:29] + "…"
        parts.append(_text(label_w - 6, y + 15, label, anchor="end"))
        for j, (share, fill) in enumerate(((row["share"], BAR), (row["baseline_share"], BASELINE))):
            w = max(bar_w * float(share), 1)
            parts.append(f'<rect x="{label_w}" y="{y + 3 + j * 12}" width="{w:.1f}" height="10" fill="{fill}"/>')
            parts.append(_text(label_w + w + 4, y + 12 + j * 12, f"{float(share):.0%}"))
    return Markup("".join(parts) + "</svg>")


def _open(width: int, height: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'role="img" aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>')


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" {FONT} fill="{fill}" '
            f'text-anchor="{anchor}">{escape(text)}</text>')
