"""Which 2-D projection for the dashboard's ticket map: measured, not assumed.

All 13,083 Banking77 queries are embedded with the pipeline's model (all-MiniLM-L6-v2,
ONNX int8), then each candidate method places every query on a plane:

- ``pca``: PCA to two components, fitted on a sample, applied to all (linear, exact transform).
- ``tsne-knn``: PCA to 50 components, then scikit-learn's Barnes-Hut t-SNE on a sample;
  every other query is placed at the similarity-weighted mean of its nearest sample
  queries (cosine, in the embedding space) — ``pipeline.analysis.map.TicketMap``.
- ``umap`` (needs ``umap-learn``): UMAP (cosine) on the sample, ``UMAP.transform`` for
  the rest; ``umap-knn``: UMAP on the sample, the rest placed like ``tsne-knn``.
- ``opentsne`` (needs ``openTSNE``): FFT-accelerated t-SNE on the sample, its
  ``transform`` for the rest.

What is measured, per method:

- *kNN agreement*: the share of queries whose intent is the most common intent of their
  10 nearest neighbours **on the map** — how well the map keeps problems apart (the same
  figure in the 384-d embedding space is the ceiling);
- *placed agreement*: the same, over the queries placed by transform only (not fitted);
- *trustworthiness* (scikit-learn, k = 10) on 2,000 queries;
- seconds to fit the sample and to place the rest; UMAP's first call in a fresh process
  also pays numba's compilation, which a nightly run (a fresh process) pays every night:
  ``--fresh`` times each method in a new process, imports included.

    python bench/map_bench.py                       # needs ../shared/data/banking77
    python bench/map_bench.py --sample 5000 --methods pca tsne-knn umap
    python bench/map_bench.py --fresh               # each method in a fresh process
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench import shared_data  # noqa: E402

METHODS = ("pca", "tsne-knn", "umap", "umap-knn", "opentsne")



def banking77_vectors(data: Path, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """The queries' real embeddings (kept in ``cache`` as .npy between runs) and intents."""
    queries = pd.concat([pd.read_csv(data / f) for f in ("train.csv.gz", "test.csv.gz")],
                        ignore_index=True)
    labels = queries["category"].to_numpy()
    if cache.is_file():
        return np.load(cache, allow_pickle=False), labels
    from pipeline.config import load_config
    from pipeline.embed import embedder_from_config

    vectors = embedder_from_config(load_config().embedding).encode(queries["text"].tolist()).vectors
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors, allow_pickle=False)
    return vectors, labels


def projected(method: str, vectors: np.ndarray, sample: np.ndarray, seed: int) -> tuple[np.ndarray, dict]:
    """Every row's 2-D position by ``method`` fitted on rows ``sample``; and its timings."""
    from pipeline.analysis.map import knn_placed

    started = time.perf_counter()
    coords = np.zeros((len(vectors), 2), dtype=np.float32)
    rest = np.setdiff1d(np.arange(len(vectors)), sample)
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(2, random_state=seed).fit(vectors[sample])
        fitted = time.perf_counter()
        coords[:] = pca.transform(vectors)
    elif method == "tsne-knn":
        from pipeline.analysis.map import TicketMap

        ticket_map = TicketMap(sample_size=len(sample), random_state=seed)
        coords[sample] = ticket_map._fitted_coords(vectors[sample])
        fitted = time.perf_counter()
        coords[rest] = knn_placed(vectors[rest], vectors[sample], coords[sample])
    elif method in ("umap", "umap-knn"):
        import umap

        model = umap.UMAP(n_neighbors=15, metric="cosine", random_state=seed).fit(vectors[sample])
        coords[sample] = model.embedding_
        fitted = time.perf_counter()
        coords[rest] = (model.transform(vectors[rest]) if method == "umap"
                        else knn_placed(vectors[rest], vectors[sample], coords[sample]))
    elif method == "opentsne":
        from openTSNE import TSNE

        embedding = TSNE(metric="cosine", random_state=seed, n_jobs=-1).fit(vectors[sample])
        coords[sample] = np.asarray(embedding)
        fitted = time.perf_counter()
        coords[rest] = np.asarray(embedding.transform(vectors[rest]))
    else:
        raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
    done = time.perf_counter()
    return coords, {"fit_s": round(fitted - started, 2), "place_s": round(done - fitted, 2)}


def knn_agreement(points: np.ndarray, labels: np.ndarray, rows: np.ndarray | None = None,
                  k: int = 10) -> float:
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k + 1).fit(points)
    rows = np.arange(len(points)) if rows is None else rows
    _, idx = nn.kneighbors(points[rows])
    neighbour_labels = labels[idx[:, 1:]]
    majority = [pd.Series(r).mode().iloc[0] for r in neighbour_labels]
    return round(float(np.mean(np.asarray(majority) == labels[rows])), 3)


def measure(method: str, vectors: np.ndarray, labels: np.ndarray, sample_size: int, seed: int) -> dict:
    from sklearn.manifold import trustworthiness

    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(len(vectors), min(sample_size, len(vectors)), replace=False))
    coords, seconds = projected(method, vectors, sample, seed)
    rest = np.setdiff1d(np.arange(len(vectors)), sample)
    subset = rng.choice(len(vectors), 2000, replace=False)
    return {"method": method, "sample": len(sample), **seconds,
            "knn_agreement": knn_agreement(coords, labels),
            "placed_agreement": knn_agreement(coords, labels, rest) if len(rest) else None,
            "trustworthiness": round(float(trustworthiness(vectors[subset], coords[subset],
                                                           n_neighbors=10)), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=shared_data() / "banking77", help="Banking77 folder")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--sample", type=int, default=5000, help="queries the method is fitted on")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fresh", action="store_true", help="time each method in a fresh process")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not (args.data / "train.csv.gz").is_file():
        print(f"Banking77 not found in {args.data}; pass --data DIR", file=sys.stderr)
        return 2
    cache = REPO / "bench" / "results" / "banking77_vectors.npy"
    vectors, labels = banking77_vectors(args.data, cache)
    rows = []
    if args.fresh:
        for method in args.methods:
            started = time.perf_counter()
            child = subprocess.run([sys.executable, __file__, "--data", str(args.data), "--methods", method,
                                    "--sample", str(args.sample), "--json", "/dev/stdout"],
                                   capture_output=True, text=True, check=False)
            if child.returncode != 0:
                print(f"{method}: failed\n{child.stderr[-2000:]}", file=sys.stderr)
                continue
            row = json.loads(child.stdout.strip().splitlines()[-1])[0]
            row["fresh_process_s"] = round(time.perf_counter() - started, 1)
            rows.append(row)
    else:
        ceiling = knn_agreement(vectors, labels)
        print(f"kNN agreement in the 384-d embedding space (ceiling): {ceiling}")
        for method in args.methods:
            try:
                rows.append(measure(method, vectors, labels, args.sample, args.seed))
            except ImportError as exc:
                print(f"{method}: skipped ({exc})", file=sys.stderr)
                continue
            print(json.dumps(rows[-1]))
    if args.json:
        Path(args.json).write_text(json.dumps(rows) + "\n")
    else:
        print(pd.DataFrame(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
