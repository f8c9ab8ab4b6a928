"""Cell safety: text from tickets made inert for the program that opens each format.

Ticket text, dimension values and curated names are data, never instructions, wherever
they land:

- **files people open** (CSV, XLSX): a spreadsheet evaluates a cell that starts with
  ``=``, ``+``, ``-`` or ``@`` as a formula, and a leading tab, CR or LF can hide one
  (OWASP, *CSV Injection*). In CSV such a cell gets a leading ``'`` (``spreadsheet_text``);
  in XLSX the text is written as a string cell with Excel's own *quote prefix* style (the
  cell reads exactly as the data, the ``'`` shows in the formula bar, and editing the cell
  cannot turn it into a formula). Numbers stay numbers. Control characters that Excel
  forbids are removed and a cell is cut at Excel's 32,767 characters, with a mark.
- **Markdown**: every character GitHub-flavoured Markdown gives a meaning inside a line
  (``|``, backticks, ``*``, ``_``, ``[``, ``<``, ``&``, ``~``, ``$``) is backslash-escaped and newlines become spaces, so a cell stays one cell on one line
  and ``<script>`` shows as text (``markdown_text``).
- **HTML**: Jinja2 autoescaping (``pipeline.reports.html``), and ``markupsafe.escape`` in
  the SVG charts.
- **import formats** (Jira, ServiceNow, Zendesk) store what they are given, so an escape
  character would end up in the record: their values are *built* safe instead
  (``import_text``: no control characters, no leading formula character; ``safe_token``:
  labels and tags of ``[a-z0-9_.-]`` only; Jira wiki markup through ``wiki_text``).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
EXCEL_MAX_CHARS = 32_767
CUT_MARK = " … [cut: {n:,} more characters]"

# XML 1.0 (and so Excel) forbids C0 controls but tab, LF and CR; C1 controls and
# non-characters are removed too, as are lone surrogates that cannot be encoded.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")
_SPACES = re.compile(r"\s+")
# The characters GFM gives a meaning to inside a line: code, emphasis, links, HTML, tables,
# strikethrough, entities, math. (Line-start markers — #, -, +, 1. — never start a cell here.)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&$])")
# Jira wiki markup: macros, links, tables, images and lists always; the emphasis marks only
# where they can open or close one (not between two letters or digits, as in 2024-03-13).
_WIKI_ALWAYS = re.compile(r"([\\{}\[\]|!#])")
_WIKI_EDGE = re.compile(r"(?<![^\W_])([-+^~*_?])|([-+^~*_?])(?![^\W_])")
_WIKI_BLOCK = re.compile(r"^(h[1-6]|bq)\.", re.IGNORECASE)
_TOKEN_JUNK = re.compile(r"[^a-z0-9_.-]+")


def without_controls(text: str) -> str:
    """``text`` without the control characters Excel and XML forbid (tab, LF and CR stay)."""
    return _FORBIDDEN.sub("", text)


def cut(text: str, limit: int = EXCEL_MAX_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, ending with a mark that says how much went."""
    if len(text) <= limit:
        return text
    # The mark's length depends on the count it holds: size it for an over-estimate.
    keep = max(limit - len(CUT_MARK.format(n=len(text) - limit + 60)), 0)
    return text[:keep] + CUT_MARK.format(n=len(text) - keep)


def starts_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def spreadsheet_text(text: str) -> str:
    """A text cell for a CSV that Excel opens: clean, at most 32,767 characters, and with a
    leading ``'`` when it would start like a formula (OWASP's neutralisation)."""
    text = without_controls(text)
    if starts_like_formula(text):
        text = "'" + text
    return cut(text)


def spreadsheet_value(value):
    """A CSV cell: numbers, booleans and dates unchanged (NaN becomes empty), text made safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return spreadsheet_text(str(value))


def xlsx_text(text: str) -> str:
    """A string cell's content: no forbidden control characters, at most 32,767 characters.
    Whether it starts like a formula is the writer's to mark (quote prefix)."""
    return cut(without_controls(text))


def one_line(text: str) -> str:
    """``text`` on one line: line breaks and runs of whitespace become single spaces."""
    return _SPACES.sub(" ", _LINE_BREAKS.sub(" ", without_controls(text))).strip()


def markdown_text(text: str) -> str:
    """``text`` as literal inline Markdown: one line, every meaningful character escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text))


def import_text(text: str, *, multiline: bool = False, limit: int | None = None) -> str:
    """A value for an import format, built safe: no control characters, no leading formula
    character or whitespace, one line unless ``multiline``, at most ``limit`` characters
    (cut with a mark)."""
    text = without_controls(text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.strip() if multiline else one_line(text)
    text = text.lstrip("=+-@ \t\n")
    return cut(text, limit) if limit else text


def safe_token(text: str, *, limit: int = 255) -> str:
    """A label or tag: lower case ``[a-z0-9_.-]``, no spaces, starting with a letter or digit
    (``"Region=US "`` → ``"region-us"``); "" when nothing usable is left."""
    token = _TOKEN_JUNK.sub("-", text.lower()).strip("-._")
    return token[:limit].rstrip("-._")


def wiki_text(text: str) -> str:
    """``text`` as literal Jira wiki markup on one line (markup characters backslash-escaped,
    as wiki markup itself defines; Jira shows the character, not the backslash)."""
    text = _WIKI_ALWAYS.sub(r"\\\1", one_line(text))
    text = _WIKI_EDGE.sub(lambda m: "\\" + (m.group(1) or m.group(2)), text)
    return _WIKI_BLOCK.sub(r"\1\\.", text)


def wiki_literal_block(text: str) -> str:
    """A ``{noformat}`` block showing ``text`` literally (it cannot close the block early)."""
    body = re.sub(r"\{noformat\}", "(noformat)", without_controls(text), flags=re.IGNORECASE)
    return "{noformat}\n" + body.strip() + "\n{noformat}"
