"""The HTML brief of a demo iceberg as its reader sees it: headless Chromium shows its charts,
and prints it to PDF with every table row on the page.

Uses the session's real run on the bundled sample (``sample_run``: real model, real
HDBSCAN), which is what ``make demo`` makes. Needs Chromium (Debian's ``chromium``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import iceberg
from PIL import Image
from pypdf import PdfReader

from pipeline.reports import render
from pipeline.reports.charts import BAR, BASELINE
from pipeline.schemas import IcebergCols as I

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--hide-scrollbars"]
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian: apt-get install chromium)")


def chromium(*args: str, timeout: float = 120) -> None:
    process = subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True, timeout=timeout)
    assert process.returncode == 0, process.stderr[-2000:]


@pytest.fixture(scope="module")
def demo_brief(sample_run, tmp_path_factory) -> Path:
    """The brief of the demo's top iceberg, one self-contained file."""
    run = sample_run.run
    top = run.curated_icebergs().sort_values(I.rank)[I.iceberg_id].iloc[0]
    rendered = render(run, "html", iceberg_ids=[top], split=True)
    folder = tmp_path_factory.mktemp("brief")
    path = folder / f"{top}.html"
    path.write_bytes(rendered.files[f"{top}.html"])
    assert path.stat().st_size <= 1_000_000
    return path


def _rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


def _rows_with(image: Image.Image, color: str, tolerance: int = 6) -> list[int]:
    """The pixel rows of ``image`` holding at least 3 pixels of ``color``."""
    target = _rgb(color)
    width, height = image.size
    pixels = image.load()
    rows = []
    for y in range(height):
        hits = sum(1 for x in range(0, width, 2)
                   if all(abs(a - b) <= tolerance for a, b in zip(pixels[x, y], target)))
        if hits >= 3:
            rows.append(y)
    return rows


def _bands(rows: list[int], gap: int = 40) -> int:
    return sum(1 for i, y in enumerate(rows) if i == 0 or y - rows[i - 1] > gap)


def test_the_brief_shows_its_charts_in_chromium(demo_brief, tmp_path):
    shot = tmp_path / "brief.png"
    chromium("--window-size=1000,2800", f"--screenshot={shot}", demo_brief.as_uri())
    image = Image.open(shot).convert("RGB")
    bars, baseline = _rows_with(image, BAR), _rows_with(image, BASELINE)
    # Two charts drawn in the iceberg's colour (the weekly timeline, the where-else bars),
    # the second with its baseline bars beside them.
    assert _bands(bars) >= 2, bars[:20]
    assert len(bars) > 100 and len(baseline) > 20
    assert min(baseline) > min(bars)        # the baseline bars belong to the second chart


def _pdf_text(path: Path) -> tuple[list[str], list[tuple[float, float, float, float]]]:
    """Each page's text, and each text run's (x, y, page width, page height)."""
    texts, positions = [], []
    for page in PdfReader(path).pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)

        def visit(text, cm, tm, font, size, width=width, height=height):
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                positions.append((x, y, width, height))

        texts.append(page.extract_text(visitor_text=visit))
    return texts, positions


def _squeezed(text: str) -> str:
    """Text without white space, ligatures (a printed "ﬁ") unfolded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def test_a_new_users_brief_prints_to_pdf_without_cut_tables(sample_run, tmp_path):
    """What the README promises after `make demo`: iceberg report --format html -o brief.html."""
    brief = tmp_path / "brief.html"
    process = iceberg("report", "--out", str(sample_run.out), "--format", "html", "-o", str(brief))
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == f"Wrote {brief}"
    soup = BeautifulSoup(brief.read_bytes(), "html.parser")
    assert len(soup.select("section.brief")) == 10 and soup.select_one("table.overview")
    pdf = tmp_path / "brief.pdf"
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", brief.as_uri(), timeout=240)
    pages, positions = _pdf_text(pdf)
    printed = [_squeezed(text) for text in pages]
    rows = soup.select("table tr")
    assert len(rows) > 40
    # A row is whole when every word of it is printed on one page. (Its cells' words, not the
    # row's text in order: a PDF's text runs interleave the lines of cells that wrap.)
    cut = [row.get_text(" ", strip=True) for row in rows
           if not any(all(_squeezed(word) in page for word in row.get_text(" ").split()) for page in printed)]
    assert not cut, cut[:3]
    outside = [(x, y) for x, y, width, height in positions if not (0 <= x <= width and 0 <= y <= height)]
    assert positions and not outside, outside[:5]
    assert len(PdfReader(pdf).pages) >= 11          # the overview, then each brief on its own page
