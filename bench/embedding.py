"""The embedding stage against the model's ceiling, in one run, interleaved A/B/A/B.

A (raw): a bare ONNX Runtime InferenceSession on the same int8 model file the pipeline
uses, the same tokenizer and the same batches (the embedder's plan), mean pooling in numpy.
B (stage): ``ticket_embeddings`` with no cache (hashing, dedup, planning, executor, pooling).
Both on the same texts, Banking77 (13,083 queries) when ``../shared/data/banking77`` is
there, else the sample data (says which). Prints texts/s of each (median of the rounds),
the ratio, and the cosine of the stage's vectors to the fp32 torch model's (min / mean).

    python bench/embedding.py [--rounds 3] [--data DIR]   # DIR default: ../shared/data/banking77
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench import shared_data  # noqa: E402
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pipeline.config import load_config  # noqa: E402
from pipeline.embed import embedder_from_config, ticket_embeddings  # noqa: E402
from pipeline.embed.embedder import default_threads  # noqa: E402
from pipeline.embed.onnx_backend import exported_model  # noqa: E402

DEFAULT_DATA = shared_data() / "banking77"


def corpus(data: Path) -> tuple[str, list[str]]:
    files = [data / "train.csv.gz", data / "test.csv.gz"]
    if all(f.is_file() for f in files):
        return "Banking77", _texts(pd.concat([pd.read_csv(f) for f in files])["text"])
    print(f"Banking77 NOT found in {data} (pass --data DIR): falling back to sample_data/helpdesk_tickets.csv")
    return "sample data", _texts(pd.read_csv(REPO / "sample_data" / "helpdesk_tickets.csv")["body"])


def _texts(column: pd.Series) -> list[str]:
    return column.fillna("").astype(str).tolist()


def raw_vectors(session, plan) -> np.ndarray:
    """The bare model on the plan's batches: no hashing, no cache, no executor."""
    out = np.zeros((len(plan.windows.owners), 384), dtype=np.float32)
    for batch, rows in zip(plan.batches, plan.rows):
        ids = batch.ids.astype(np.int64)
        mask = (np.arange(ids.shape[1]) < batch.lengths[:, None]).astype(np.int64)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                    "token_type_ids": np.zeros_like(ids)})[0]
        summed = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        out[rows] = summed / np.linalg.norm(summed, axis=1, keepdims=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    name, texts = corpus(args.data)
    texts = list(dict.fromkeys(texts))         # the stage embeds each distinct text once
    config = load_config().embedding
    embedder = embedder_from_config(config)
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = default_threads(config.threads)
    options.inter_op_num_threads = 1
    path = exported_model(embedder._folder(), embedder._cache_root(), quantized=True)
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    ticket_embeddings(texts[:200], embedder, None, shard_name="-", model_name="m", progress=False)  # warm

    raw, stage = [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        plan = embedder.planned(texts)            # tokenising is part of the ceiling too
        raw_vectors(session, plan)
        raw.append(len(texts) / (time.perf_counter() - started))
        started = time.perf_counter()
        result = ticket_embeddings(texts, embedder, None, shard_name="-", model_name="m", progress=False)
        stage.append(len(texts) / (time.perf_counter() - started))

    torch = embedder_from_config(load_config(overrides={"embedding.backend": "torch"}).embedding)
    exact = torch.encode(texts).vectors
    cosine = np.sum(result.vectors * exact, axis=1)
    print(f"{name}: {len(texts):,} distinct texts, {args.rounds} rounds interleaved, "
          f"{default_threads(config.threads)} threads, int8 model {path.name}")
    print("| path | texts/s (median) | rounds |\n|---|---|---|")
    print(f"| raw onnxruntime session | {statistics.median(raw):,.0f} | {', '.join(f'{r:,.0f}' for r in raw)} |")
    print(f"| ticket_embeddings (no cache) | {statistics.median(stage):,.0f} | "
          f"{', '.join(f'{r:,.0f}' for r in stage)} |")
    print(f"stage / raw = {statistics.median(stage) / statistics.median(raw):.3f}; "
          f"cosine to fp32 torch: min {cosine.min():.4f}, mean {cosine.mean():.4f}")


if __name__ == "__main__":
    main()
