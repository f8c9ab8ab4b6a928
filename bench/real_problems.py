"""Real problems on real bug reports: are reports of one problem found as one iceberg?

Runs the real pipeline (``pipeline.run.run``, default settings) on GitBugs' Apache Hadoop
Jira export (``../shared/data/gitbugs_hadoop``: 2,503 real reports; CC BY 4.0, Patil,
arXiv:2504.09651) and scores it against the reports Jira links as duplicates of one
another (the connected components of ``hadoop_duplicates.csv``: 63 groups, mostly pairs —
a check that reports of one problem land together, not a full ground truth). BERTopic 0.17
with its defaults, on the same texts and the same model's embeddings, runs beside it
(the ``bench`` extra: ``pip install -e '.[bench]'``; ``--no-bertopic`` to skip).

    .venv/bin/python bench/real_problems.py                 # needs ../shared/data/gitbugs_hadoop
    .venv/bin/python bench/real_problems.py --json out.json

Prints, for each method: duplicate groups whole in one group, and in one group of at most
``--small`` (50) tickets; the share of tickets outside any group; the number of groups and
the largest; seconds per stage; and the ten top-ranked icebergs' names (with their theme).
Exit code 0 when Iceberg meets the bar (≥ 50 % of duplicate groups whole in one iceberg of
≤ 50, ≤ 25 % outside), 1 otherwise, 2 when the data is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import shared_data  # noqa: E402
from pipeline.config import Config  # noqa: E402
from pipeline.embed import embedder_from_config, ticket_embeddings  # noqa: E402
from pipeline.run import run  # noqa: E402
from pipeline.schemas import IcebergCols as I  # noqa: E402
from pipeline.schemas import TicketCols as T  # noqa: E402
from pipeline.store import load_run  # noqa: E402
from pipeline.store.embedding_cache import EmbeddingCache  # noqa: E402

BAR = {"whole_small": 0.50, "outside_share": 0.25}


def duplicate_groups(pairs: pd.DataFrame) -> list[set[str]]:
    """Connected components of the (report, duplicate) links, as sets of issue ids."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(pairs.iloc[:, 0].astype(str), pairs.iloc[:, 1].astype(str)):
        parent[root(a)] = root(b)
    groups: dict[str, set[str]] = {}
    for x in list(parent):
        groups.setdefault(root(x), set()).add(x)
    return [g for g in groups.values() if len(g) >= 2]


def scores(ids: pd.Series, groups_of: pd.Series, duplicates: list[set[str]], small: int) -> dict:
    """Duplicate groups whole in one group (and in one of ≤ ``small``), share outside, sizes.
    ``groups_of``: each ticket's group, NA outside; aligned with ``ids``."""
    group_of = dict(zip(ids.astype(str), groups_of))
    sizes = groups_of.dropna().value_counts()
    present = [g & group_of.keys() for g in duplicates]
    present = [g for g in present if len(g) >= 2]
    whole = [next(iter({group_of[i] for i in g})) for g in present
             if len({group_of[i] for i in g}) == 1 and not pd.isna(group_of[next(iter(g))])]
    return {"duplicate_groups": len(present),
            "whole": round(len(whole) / len(present), 3),
            "whole_small": round(sum(sizes[w] <= small for w in whole) / len(present), 3),
            "outside_share": round(float(groups_of.isna().mean()), 3),
            "groups": int(len(sizes)), "largest": int(sizes.max()) if len(sizes) else 0}


def iceberg_scores(out: Path, data: Path, duplicates: list[set[str]], small: int) -> tuple[dict, list[dict]]:
    started = time.perf_counter()
    result = run(data / "hadoop_bugs.csv.gz", out, Config(), progress=False, mode="full")
    loaded = load_run(out)
    tickets, icebergs = loaded.tickets, loaded.icebergs
    figures = scores(tickets[T.ticket_id], tickets[T.iceberg_id], duplicates, small)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["stages"] = {s["name"]: s["seconds"] for s in result.manifest.stages}
    figures["themes"] = int(icebergs[I.theme_id].nunique())
    top = icebergs.sort_values(I.rank).head(10)
    names = [{"rank": int(r[I.rank]), "name": r[I.label], "tickets": int(r[I.size]),
              "keywords": list(r[I.keywords])[:4], "theme": r[I.theme_id]} for _, r in top.iterrows()]
    return figures, names


def bertopic_scores(out: Path, tickets: pd.DataFrame, duplicates: list[set[str]], small: int) -> dict:
    """BERTopic 0.17's defaults on the stored ticket texts, with the same model's embeddings."""
    try:
        from bertopic import BERTopic
    except ImportError:
        return {"skipped": "bertopic is not installed: pip install -e '.[bench]'"}
    config = Config()
    embedder = embedder_from_config(config.embedding)
    cache = EmbeddingCache(out / "cache" / "embeddings", embedder.key).load()
    texts = tickets[T.text].fillna("").astype(str).tolist()
    started = time.perf_counter()
    vectors = ticket_embeddings(texts, embedder, cache, shard_name="bertopic", model_name=config.embedding.model,
                                progress=False).vectors
    topics, _ = BERTopic().fit_transform(texts, embeddings=vectors)
    labels = pd.Series(np.where(np.asarray(topics) < 0, None, np.asarray(topics)), dtype="object")
    figures = scores(tickets[T.ticket_id].reset_index(drop=True), labels, duplicates, small)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=shared_data() / "gitbugs_hadoop",
                        help="folder with hadoop_bugs.csv.gz and hadoop_duplicates.csv")
    parser.add_argument("--out", type=Path, default=Path("/tmp/iceberg-real-problems"),
                        help="run folder (its embedding cache is reused)")
    parser.add_argument("--small", type=int, default=50, help="largest group that counts as one problem")
    parser.add_argument("--no-bertopic", action="store_true", help="skip the BERTopic comparison")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not (args.data / "hadoop_bugs.csv.gz").is_file():
        print(f"GitBugs Hadoop not found in {args.data} (hadoop_bugs.csv.gz, hadoop_duplicates.csv); pass --data "
              "DIR (https://github.com/av9ash/gitbugs)", file=sys.stderr)
        sys.exit(2)
    duplicates = duplicate_groups(pd.read_csv(args.data / "hadoop_duplicates.csv", dtype=str))
    iceberg, names = iceberg_scores(args.out, args.data, duplicates, args.small)
    report = {"data": "gitbugs_hadoop", "iceberg": iceberg, "top_names": names}
    if not args.no_bertopic:
        report["bertopic"] = bertopic_scores(args.out, load_run(args.out).tickets, duplicates, args.small)
    print(f"{'method':10s} {'whole':>6s} {'whole≤' + str(args.small):>8s} {'outside':>8s} {'groups':>7s} "
          f"{'largest':>8s} {'seconds':>8s}")
    for method in ("iceberg", "bertopic"):
        f = report.get(method)
        if f and "skipped" not in f:
            print(f"{method:10s} {f['whole']:6.0%} {f['whole_small']:8.0%} {f['outside_share']:8.0%} "
                  f"{f['groups']:7d} {f['largest']:8d} {f['seconds']:8.1f}")
        elif f:
            print(f"{method:10s} skipped: {f['skipped']}")
    print(f"Iceberg: {iceberg['duplicate_groups']} duplicate groups, {iceberg['themes']} themes; stages (s): "
          + ", ".join(f"{k} {v}" for k, v in iceberg["stages"].items()))
    print("Top 10 icebergs:")
    for n in names:
        print(f"  #{n['rank']:<3d} {n['name']}  ({n['tickets']} tickets; {n['theme']}; {' · '.join(n['keywords'])})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    met = iceberg["whole_small"] >= BAR["whole_small"] and iceberg["outside_share"] <= BAR["outside_share"]
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
