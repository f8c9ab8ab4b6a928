"""Redaction benchmark: recall per kind on personal data seeded into real texts, and false
positives on the same texts left clean.

    python bench/redaction.py                       # needs ../shared/data (Banking77, CFPB)
    python bench/redaction.py --data DIR --per-kind 600 --clean 3000
    python bench/redaction.py --kinds address person   # the opt-in kinds too

For each kind, ``--per-kind`` values (``bench/pii_seeds.py``: every SEPA country's IBAN,
phones in 40 national formats…) are each put inside a different real text (half Banking77
queries, half CFPB narratives, cleaned as the pipeline cleans them), followed by a word, and the text is redacted. A value
counts as redacted when nothing of it is left: not the value; for a number, no six of its
characters in a row holding four digits; for an e-mail, not its local part; for a name or
an address, none of its (capitalised) words. Recall is printed per kind and per
format. False positives: placeholders put into ``--clean`` real texts without seeded data
(per 1,000 texts), and into texts holding a number that is no personal data (dates, times,
amounts, order numbers, epoch timestamps… — ``NOT_PII``), with examples. Columns last: helpdesk
ids in id columns kept, phone numbers in a phone column pseudonymised (``column_figures``).
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.pii_seeds import NOT_PII, pii_values, seeded  # noqa: E402
from pipeline.config import CleanConfig, RedactConfig  # noqa: E402
from pipeline.text.clean import clean_text  # noqa: E402
from pipeline.text.redact import DEFAULT_KINDS, PLACEHOLDERS, redact_text  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
MAX_TEXT_CHARS = 1500


def real_texts(data: Path, n: int, rng: random.Random) -> list[str]:
    """``n`` real texts, half Banking77 queries and half CFPB narratives (cut to 1,500 chars)."""
    banking = data / "banking77" / "train.csv.gz"
    cfpb = data / "cfpb_complaints" / "cfpb_narratives_text_only.csv.gz"
    missing = [str(p) for p in (banking, cfpb) if not p.is_file()]
    if missing:
        sys.exit(f"data not found: {', '.join(missing)}; pass --data pointing at shared/data")
    queries = pd.read_csv(banking)["text"].dropna().tolist()
    with gzip.open(cfpb, "rt") as f:
        narratives = pd.read_csv(f)["Consumer complaint narrative"].dropna().tolist()
    texts = rng.sample(queries, n // 2) + [t[:MAX_TEXT_CHARS] for t in rng.sample(narratives, n - n // 2)]
    rng.shuffle(texts)
    # As the pipeline sees them: cleaned first (CFPB's XXXX masks neutralised).
    return [clean_text(t, CleanConfig()) for t in texts]


def leaked(value: str, kind: str, output: str) -> bool:
    """Whether anything of ``value`` is left in ``output``."""
    if value in output:
        return True
    if kind == "url":      # its path ("/account") may well be a word of the text
        return re.sub(r"^\w+://|^www\.", "", value).split("/")[0] in output
    if kind == "person":
        return any(re.search(rf"\b{re.escape(w)}\b", output) for w in value.split() if len(w) > 2)
    if kind == "email":    # its domain ("example.com") may well be words of the text
        local = value.split("@")[0].lower()
        return value.lower() in output.lower() or re.search(rf"\b{re.escape(local)}\b", output.lower()) is not None
    if kind == "address":
        return any(re.search(rf"\b{re.escape(w)}\b", output) for w in value.split() if len(w) > 3 and w[0].isupper())
    # Numbers: no six characters of it in a row with four digits among them.
    core = re.sub(r"[\W_]", "", value).lower()
    rest = re.sub(r"[\W_]", "", output).lower()
    windows = [core[i:i + 6] for i in range(max(1, len(core) - 5))]
    return any(sum(c.isdigit() for c in w) >= 4 and w in rest for w in windows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--per-kind", type=int, default=600)
    parser.add_argument("--clean", type=int, default=2000, help="clean real texts for false positives")
    parser.add_argument("--kinds", nargs="*", default=[], help="opt-in kinds to add: address person")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--examples", type=int, default=3)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    kinds = list(DEFAULT_KINDS) + [k for k in args.kinds if k not in DEFAULT_KINDS]
    config = RedactConfig(kinds=kinds)
    seeded_kinds = [k for k in ("email", "card", "iban", "ip", "phone", "url", "address", "person") if k in kinds]
    texts = real_texts(args.data, max(args.clean, args.per_kind), rng)
    print(f"redaction benchmark: kinds {', '.join(kinds)}; {args.per_kind} seeded values per kind "
          f"in real texts (Banking77 + CFPB), {args.clean} clean texts; seed {args.seed}\n")

    started, redacted_texts = time.perf_counter(), 0
    recall: dict[str, Counter] = {}
    by_format: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    misses: dict[str, list[str]] = defaultdict(list)
    for kind in seeded_kinds:
        counts: Counter = Counter()
        for i, (value, fmt) in enumerate(pii_values(kind, args.per_kind, rng)):
            text = seeded(texts[i % len(texts)], value, rng)
            output, _ = redact_text(text, kinds, config)
            redacted_texts += 1
            ok = not leaked(value, kind, output)
            counts["found" if ok else "missed"] += 1
            by_format[kind][fmt]["found" if ok else "missed"] += 1
            if not ok and len(misses[kind]) < args.examples:
                misses[kind].append(value)
        recall[kind] = counts

    print("| kind | seeded | redacted | recall | missed, e.g. |\n|---|---:|---:|---:|---|")
    for kind, c in recall.items():
        total = c["found"] + c["missed"]
        print(f"| {kind} | {total} | {c['found']} | {c['found'] / total:.3f} | "
              f"{', '.join(f'`{m}`' for m in misses[kind])} |")
    print("\nrecall per format (formats under 1.0 and phone formats):")
    for kind, formats in by_format.items():
        for fmt, c in sorted(formats.items()):
            total = c["found"] + c["missed"]
            if kind == "phone" or c["missed"]:
                print(f"  {kind:8s} {fmt:28s} {c['found']:4d}/{total:<4d} {c['found'] / total:.3f}")

    false = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    for text in texts[:args.clean]:
        output, found = redact_text(text, kinds, config)
        redacted_texts += 1
        for kind in found:
            false[kind] += 1
            if len(examples[kind]) < args.examples:
                examples[kind].append(_context(text, output, PLACEHOLDERS[kind]))
    print(f"\nfalse positives in {args.clean} clean real texts (texts with a placeholder, per 1,000):")
    for kind in kinds:
        print(f"  {kind:8s} {1000 * false[kind] / args.clean:6.2f}   {' | '.join(examples[kind])}")

    hard = Counter()
    hard_examples: list[str] = []
    for i, number in enumerate(NOT_PII * 20):
        text = seeded(texts[i % len(texts)], number, rng)
        output, found = redact_text(text, kinds, config)
        redacted_texts += 1
        base = redact_text(texts[i % len(texts)], kinds, config)[1]
        extra = found - base
        if extra:
            hard[number] += 1
            if len(hard_examples) < 10 and number not in hard_examples:
                hard_examples.append(number)
    n_hard = len(NOT_PII) * 20
    print(f"\nnumbers that are not personal data ({len(NOT_PII)} kinds x 20, inside real texts): "
          f"{sum(hard.values())} of {n_hard} redacted ({1000 * sum(hard.values()) / n_hard:.1f} per 1,000)"
          + (f"; e.g. {', '.join(hard_examples)}" if hard_examples else ""))
    column_figures(args.per_kind, rng, config)
    elapsed = time.perf_counter() - started
    print(f"\n{redacted_texts:,} texts redacted in {elapsed:.1f} s ({redacted_texts / elapsed:,.0f} texts/s)")


def column_figures(n: int, rng: random.Random, config: RedactConfig) -> None:
    """Columns, as ``redacted_columns`` treats them: helpdesk ids (Zendesk's 12-digit ``36…``,
    Freshdesk's 10-digit ``50…``) in id columns must stay as they are; seeded phone numbers
    in a phone-named column must all be pseudonymised."""
    from pipeline.text.redact_columns import redacted_columns

    ids = {"brand_id": [f"36{rng.randrange(10**10):010d}" for _ in range(n)],
           "customer_id": [f"36{rng.randrange(10**10):010d}" for _ in range(n)],
           "group_id": [f"50{rng.randrange(10**8):08d}" for _ in range(n)],
           "submitter_id": [rng.randrange(360 * 10**9, 370 * 10**9) for _ in range(n)]}
    phones = [value for value, _ in pii_values("phone", n, rng)]
    frame = pd.DataFrame({**ids, "phone": phones})
    redacted, _ = redacted_columns(frame, config)
    kept = sum(int((redacted[c].astype(str) == frame[c].astype(str)).sum()) for c in ids)
    caught = int((redacted["phone"] != frame["phone"]).sum())
    print(f"\ncolumns: {kept:,} of {n * len(ids):,} helpdesk ids kept as written (id columns: "
          f"{', '.join(ids)}); {caught:,} of {n:,} phone numbers in a phone column pseudonymised")


def _context(text: str, output: str, placeholder: str) -> str:
    at = output.find(placeholder)
    prefix = output[max(0, at - 25):at]
    start = text.find(prefix) + len(prefix) if prefix and prefix in text else max(0, at - 25)
    return repr(text[start:start + 30])


if __name__ == "__main__":
    main()
