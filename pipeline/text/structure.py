"""What a ticket is made of: the reporter's own words, form scaffolding, machine text.

Real exports are long. A web form adds headings, field labels, checkbox lines and an
environment block to every ticket; a bug report carries stack traces, logs, shell sessions
and code. Embedded as they are, tickets group by their form and their machine text — the
user-agent line every report carries, the ``org.apache…`` frames of any Java trace — and the
top icebergs are themes and templates, not problems. So each line is told apart:

- **machine text**: fenced blocks (``{code}``, ``{noformat}``, ``````` ``` ```````), stack
  frames (``at a.b.C.m(C.java:12)``, ``File "x.py", line 3``, ``... 12 more``), exception
  lines, log lines (a timestamp or a level first), shell prompts, and lines that are mostly
  symbols (JSON, code). It goes to ``pipeline.text.signatures``.
- **scaffolding**, learned from the export itself, never from a list of phrases: a line's
  *shape* is the line lower-cased with urls, paths, hex, ids, numbers and versions masked
  and checkboxes normalised. A shape is scaffolding when it recurs in at least
  ``min_share`` of the tickets (and at least ``MIN_TICKETS``) — overall, or within one value
  of a group column (a product, project, source) — *and* the tickets that carry it are
  about no one thing: the rest of their text coheres no more than ``max_coherence_ratio``
  times the corpus does (``pipeline.text.templates._coherence``). A recurring sentence whose
  tickets cohere is a problem that recurs, not a form, and stays. A recurring field label
  ("Steps to reproduce:", "Browser: …") is scaffolding as a label; what follows it stays
  unless its shape recurs too.
- **the reporter's words**: everything else. They (and the subject) are what is embedded
  and labelled. A ticket that would be left with none keeps its non-machine lines.

The stored text is not changed here: scaffolding stays available to show.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.text.templates import SAMPLE, TFIDF_CHARS, _coherence

MIN_TICKETS = 5
MAX_SHAPE_WORDS = 25       # a longer line is prose, however often it recurs
MAX_LABEL_WORDS = 5
EXAMPLES = 20              # shapes listed in the record

# Fenced blocks of code, logs and output: Jira/Confluence wiki markup, Markdown, HTML.
FENCED = re.compile(r"\{(code|noformat)(?::[^}\n]*)?\}(.*?)(?:\{\1\}|\Z)"
                    r"|^[ \t]*(```|~~~)[^\n]*\n(.*?)(?:^[ \t]*\3[ \t]*$|\Z)",
                    re.DOTALL | re.MULTILINE | re.IGNORECASE)
STACK_FRAME = re.compile(
    r"^\s*(?:at\s+[\w$.<>/\[\]]+(?:\s*\(.*\))?\s*$"                  # Java, .NET, JS
    r"|at\s+\S+\s+\(\S+:\d+(?::\d+)?\)"                              # JS "at fn (file.js:1:2)"
    r"|\.\.\.\s*\d+\s+(?:more|common frames omitted)"
    r"|Caused by:\s"
    r"|Suppressed:\s"
    r"|File \"[^\"]+\", line \d+"                                    # Python
    r"|Traceback \(most recent call last\)"
    r"|#\d+\s+0x[0-9a-f]+\s"                                        # gdb / native
    r"|\S+\.(?:java|py|js|ts|go|rb|cs|cpp|c|scala|kt):\d+)", re.IGNORECASE)
EXCEPTION_LINE = re.compile(
    r"^\s*(?:Exception in thread \"[^\"]*\"\s+|Uncaught\s+|\[?ERROR\]?\s+|FATAL:?\s+)?"
    r"((?:[a-z_$][\w$]*\.)*[A-Z][\w$]*(?:Exception|Error|Failure|Fault|Throwable|Panic))"
    r"(?::\s*(.*)|\s*$)")
LOG_LINE = re.compile(
    r"^\s*\[?(?:\d{2,4}[-/.]\d{1,2}[-/.]\d{1,4}[T ]+\d{1,2}:\d{2}|\d{1,2}:\d{2}:\d{2}"
    r"|(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|SEVERE|CRITICAL)\b[\]:]?\s)")
SHELL_PROMPT = re.compile(r"^\s*(?:\$|>>>|\w+@[\w.-]+[:~][^\s]*[$#])\s+\S")
SYMBOLS = re.compile(r"[^\w\s]")
WORDLIKE = re.compile(r"[^\W\d_]{2,}")

# Inline markup that is neither words nor structure.
INLINE_MARKUP = [
    (re.compile(r"\{color(?::[^}]*)?\}|\{quote\}|\{panel(?::[^}]*)?\}", re.IGNORECASE), ""),
    (re.compile(r"!\S+?\.(?:png|jpe?g|gif|svg|bmp)(?:\|[^!]*)?!", re.IGNORECASE), " "),
    (re.compile(r"\{\{(.*?)\}\}"), r"\1"),
    (re.compile(r"\[([^|\]\n]+)\|[^\]\n]+\]"), r"\1"),
    (re.compile(r"^\s*h[1-6]\.\s+", re.MULTILINE), ""),
]

_MARKUP_HINT = re.compile(r"[{!\[]|^\s*h[1-6]\.", re.MULTILINE)

# What varies from ticket to ticket, in the order it is masked: for line shapes here and for
# error signatures (``pipeline.text.signatures``), each with its own placeholders.
VARIABLE_PARTS = [
    ("id", re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)),
    ("url", re.compile(r"\b(?:(?:https?|hdfs|s3a?|abfss?|wasbs?|gs|file)://|www\.)\S+", re.IGNORECASE)),
    ("path", re.compile(r"(?<![\w.])(?:[a-z]:)?(?:[\\/][\w.$~@-]+){2,}[\\/]?", re.IGNORECASE)),
    ("hex", re.compile(r"\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", re.IGNORECASE)),
    ("key", re.compile(r"\b[A-Z][A-Z0-9]+-\d+\b")),
    ("number", re.compile(r"\d+(?:[.,:_-]\d+)*")),
]
SHAPE_PLACEHOLDERS = {"id": " <id> ", "url": " <url> ", "path": " <path> ", "hex": " <hex> ",
                      "key": " <key> ", "number": "#"}


def masked_variables(text: str, placeholders: dict[str, str]) -> str:
    """``text`` with each kind of ``VARIABLE_PARTS`` named in ``placeholders`` replaced by its placeholder."""
    for kind, pattern in VARIABLE_PARTS:
        if kind in placeholders:
            text = pattern.sub(placeholders[kind], text)
    return text

_CHECKBOX = re.compile(r"^\s*(?:[-*+]\s*)?\[[ xX✓]?\]\s*")
_BULLET = re.compile(r"^\s*(?:[-*+#•]+|\d+[.)])\s+")
_LABEL = re.compile(r"^\s*([^\W\d_][^:\n]{0,40}?)\s*:\s*(\S.*)?$")
_NON_WORD = re.compile(r"[^\w<>#\s]")
_SPACE = re.compile(r"\s+")

MACHINE, SCAFFOLDING, REPORTER = "machine", "scaffolding", "reporter"


@lru_cache(maxsize=1 << 16)       # form lines recur: that is what makes them scaffolding
def line_shape(line: str) -> str:
    """``line`` lower-cased, with urls, paths, ids, hex, numbers and versions masked,
    checkboxes and bullets normalised, and punctuation dropped."""
    shape = _CHECKBOX.sub("[ ] ", line)
    shape = masked_variables(_BULLET.sub("", shape), SHAPE_PLACEHOLDERS)
    shape = _NON_WORD.sub(" ", shape.casefold())
    return _SPACE.sub(" ", shape).strip()


@lru_cache(maxsize=1 << 16)
def label_shape(line: str) -> str | None:
    """``"steps to reproduce:"`` for ``"Steps to reproduce: open the page"``: a short field label."""
    match = _LABEL.match(line)
    if not match or len(match.group(1).split()) > MAX_LABEL_WORDS:
        return None
    return line_shape(match.group(1)) + ":"


def is_machine_line(line: str) -> bool:
    """A stack frame, exception, log or shell line, or a line that is mostly symbols."""
    if STACK_FRAME.match(line) or LOG_LINE.match(line) or SHELL_PROMPT.match(line):
        return True
    if EXCEPTION_LINE.match(line):
        return True
    stripped = line.strip()
    if len(stripped) < 12:
        return False
    symbols = len(SYMBOLS.findall(stripped))
    words = len(WORDLIKE.findall(stripped))
    return symbols / len(stripped) > 0.25 and symbols > 2 * words


def without_markup(text: str) -> str:
    if not _MARKUP_HINT.search(text):
        return text
    for pattern, replacement in INLINE_MARKUP:
        text = pattern.sub(replacement, text)
    return text


@dataclass(frozen=True)
class _Split:
    """One ticket's lines before scaffolding is known, and its machine text."""

    lines: list[str]          # non-machine lines, markup removed, in order
    machine: list[str]        # machine lines and fenced blocks' lines


def _split(text: str) -> _Split:
    machine: list[str] = []

    def fenced(match: re.Match) -> str:
        body = match.group(2) if match.group(2) is not None else match.group(4) or ""
        machine.extend(line for line in body.split("\n") if line.strip())
        return "\n"

    text = FENCED.sub(fenced, text)
    lines = []
    for line in without_markup(text).split("\n"):
        if not line.strip():
            continue
        if is_machine_line(line):
            machine.append(line)
        else:
            lines.append(line.strip())
    return _Split(lines, machine)


@dataclass(frozen=True)
class Structure:
    """``ticket_structure``'s outcome, aligned with the texts it was given."""

    reporter: pd.Series            # the reporter's own words: no scaffolding, no machine text
    machine: pd.Series             # machine lines, "\n"-joined ("" when none)
    scaffolding: list[dict] = field(default_factory=list)   # shape, kind, tickets, coherence_ratio
    lines: dict = field(default_factory=dict)               # lines of each kind

    def record(self, signatures: pd.Series | None = None) -> dict:
        """What was recognised, for the run's manifest and ``--dry-run``; with the tickets'
        ``signatures``, how many carry one."""
        learned = [s for s in self.scaffolding if s["scaffolding"]]
        signed = {} if signatures is None else {"tickets_with_error_signature": int(signatures.notna().sum()),
                                                "error_signatures": int(signatures.nunique())}
        return {"lines": self.lines, "scaffolding_shapes": len(learned), **signed,
                "tickets_with_machine_text": int((self.machine != "").sum()),
                "scaffolding": sorted(learned, key=lambda s: -s["tickets"])[:EXAMPLES],
                "kept_as_content": [s for s in self.scaffolding if not s["scaffolding"]][:EXAMPLES]}


def structure_summary(record: dict) -> str:
    """``Structure.record()`` in a sentence, for the run's log and ``--dry-run``."""
    lines = record.get("lines", {})
    learned = record.get("scaffolding", [])
    examples = "; ".join(f"\"{s['shape']}\" in {s['tickets']:,} tickets" for s in learned[:3])
    signed = (f"; {record['tickets_with_error_signature']:,} tickets with an error signature "
              f"({record['error_signatures']:,} distinct)" if "error_signatures" in record else "")
    return (f"Structure: {lines.get(REPORTER, 0):,} lines of the reporters' words, "
            f"{lines.get(MACHINE, 0):,} of machine text ({record.get('tickets_with_machine_text', 0):,} tickets), "
            f"{lines.get(SCAFFOLDING, 0):,} of form scaffolding from {record.get('scaffolding_shapes', 0):,} "
            f"learned shape(s)" + (f" (e.g. {examples})" if examples else "") + signed + ".")


def ticket_structure(texts: pd.Series, *, groups: pd.Series | None = None, min_share: float = 0.01,
                     max_coherence_ratio: float = 1.5, random_state: int = 0) -> Structure:
    """Each text's reporter words and machine text, and the scaffolding learned from ``texts``
    (see the module docstring). ``groups`` (a product, project or source per text) lets a
    shape frequent within one group count even when it is rare overall. The first line of a
    text (the subject, when there is one) is never scaffolding."""
    texts = texts.fillna("").astype(str)
    splits = [_split(t) for t in texts]
    carriers: dict[str, list[int]] = defaultdict(list)
    for row, split in enumerate(splits):
        for key in _shape_keys(split.lines[1:]):
            carriers[key].append(row)
    candidates = _frequent(carriers, len(texts), min_share, groups) if min_share > 0 else []
    decided = _decided(candidates, carriers, splits, max_coherence_ratio, random_state)
    scaffolding = frozenset(d["shape"] for d in decided if d["scaffolding"])
    reporter, counts = [], Counter()
    for split in splits:
        kept = _reporter_lines(split.lines, scaffolding)
        counts[MACHINE] += len(split.machine)
        counts[SCAFFOLDING] += len(split.lines) - len(kept)
        counts[REPORTER] += len(kept)
        reporter.append("\n".join(kept))
    return Structure(pd.Series(reporter, index=texts.index, dtype="str"),
                     pd.Series(["\n".join(s.machine) for s in splits], index=texts.index, dtype="str"),
                     decided, dict(counts))


def _shape_keys(lines: list[str]) -> set[str]:
    keys = set()
    for line in lines:
        shape = line_shape(line)
        if shape and len(shape.split()) <= MAX_SHAPE_WORDS:
            keys.add(shape)
        label = label_shape(line)
        if label:
            keys.add(label)
            value = line_shape(_LABEL.match(line).group(2) or "")
            if value and len(value.split()) <= MAX_SHAPE_WORDS:
                keys.add(value)
    return keys


def _frequent(carriers: dict[str, list[int]], n: int, min_share: float,
              groups: pd.Series | None) -> list[str]:
    threshold = max(MIN_TICKETS, min_share * n)
    frequent = {k for k, rows in carriers.items() if len(rows) >= threshold}
    if groups is not None:
        group_of = groups.fillna("").astype(str).to_numpy()
        sizes = Counter(group_of)
        for key, rows in carriers.items():
            if key in frequent or len(rows) < MIN_TICKETS:
                continue
            per_group = Counter(group_of[rows])
            if any(g and c >= max(MIN_TICKETS, min_share * sizes[g]) for g, c in per_group.items()):
                frequent.add(key)
    return sorted(frequent, key=lambda k: -len(carriers[k]))


def _decided(candidates: list[str], carriers: dict[str, list[int]], splits: list[_Split],
             max_coherence_ratio: float, random_state: int) -> list[dict]:
    """Each frequent shape with the coherence of its tickets' other lines against the corpus's."""
    if not candidates:
        return []
    rng = np.random.default_rng(random_state)
    bodies = ["\n".join(s.lines) for s in splits]
    pick = rng.choice(len(bodies), size=min(len(bodies), 40 * SAMPLE), replace=False)
    vectorizer = TfidfVectorizer(min_df=2, sublinear_tf=True)
    try:
        vectorizer.fit([bodies[i][:TFIDF_CHARS] for i in pick])
    except ValueError:      # no words at all
        return []
    baseline = _coherence(vectorizer, [bodies[i] for i in rng.choice(len(bodies), size=min(len(bodies), SAMPLE),
                                                                      replace=False)])
    decided = []
    for key in candidates:
        rows = carriers[key]
        drawn = rng.choice(rows, size=min(len(rows), SAMPLE), replace=False)
        rest = ["\n".join(line for line in splits[r].lines if key not in (line_shape(line), label_shape(line)))
                for r in drawn]
        ratio = _coherence(vectorizer, rest) / max(baseline, 1e-9)
        decided.append({"shape": key, "kind": "label" if key.endswith(":") else "line",
                        "tickets": len(rows), "coherence_ratio": round(float(ratio), 2),
                        "scaffolding": bool(ratio <= max_coherence_ratio)})
    return decided


def _reporter_lines(lines: list[str], scaffolding: frozenset[str]) -> list[str]:
    """``lines`` without scaffolding (a field label is cut, its value kept); the first line
    (the subject, or a ticket's only line) always stays."""
    if not scaffolding:
        return list(lines)
    kept = lines[:1]
    for line in lines[1:]:
        if line_shape(line) in scaffolding:
            continue
        label = label_shape(line)
        if label in scaffolding:
            value = _LABEL.match(line).group(2) or ""
            if value and line_shape(value) not in scaffolding:
                kept.append(value.strip())
            continue
        kept.append(line)
    return kept
