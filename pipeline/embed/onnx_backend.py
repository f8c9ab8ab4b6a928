"""The ``onnx`` / ``onnx-int8`` embedding backends: the model run by ONNX Runtime.

On first use the model folder's transformer is exported to ONNX with ``torch.onnx``
(and, for ``onnx-int8``, quantised with ONNX Runtime's dynamic int8 quantisation,
per channel with reduced range so it stays accurate on CPUs without VNNI). The result is
kept under ``embedding.model_cache`` (default ``~/.cache/iceberg/models``), keyed by the
model's files, so later runs load it in a fraction of a second and need no torch import.
Mean pooling and L2 normalisation are done here, as the sentence-transformers config of
the model says; a model that pools otherwise needs ``backend = "torch"``.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from filelock import FileLock

from pipeline.config import EmbeddingConfig
from pipeline.embed.embedder import (EmbeddingError, EncodeResult, Plan, default_threads, embedder_key,
                                     resolve_model_path, token_windows)
from pipeline.embed.executor import LocalExecutor, encoded

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class TokenBatch:
    """Token windows, with their special tokens, padded with 0 to the longest of them."""

    ids: np.ndarray          # (rows, width) int32
    lengths: np.ndarray      # (rows,) tokens of each window before padding


class OnnxEmbedder:
    """The model under ONNX Runtime. Plans on the driver (tokenizer only) and embeds
    batches wherever ``batch_vectors`` runs; it pickles as its settings, and each process
    loads the session once (``_session``)."""

    def __init__(self, config: EmbeddingConfig, *, quantized: bool = True):
        self.config = config
        self.quantized = quantized
        self._tokenizer = None
        self._window_size = 0

    def __getstate__(self) -> dict:
        return {"config": self.config, "quantized": self.quantized}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["config"], quantized=state["quantized"])

    @property
    def key(self) -> str:
        return embedder_key(self.config, "onnx-int8" if self.quantized else "onnx")

    @property
    def dim(self) -> int:
        return json.loads((self._folder() / "config.json").read_text())["hidden_size"]

    def _folder(self) -> Path:
        folder = Path(resolve_model_path(self.config.model))
        if not (folder / "config.json").is_file() or not (folder / "tokenizer.json").is_file():
            raise EmbeddingError(
                f"embedding.backend {self.key.split('__')[1]!r} needs a local model folder with "
                f"config.json and tokenizer.json; {self.config.model!r} is not one. Point "
                "embedding.model at such a folder, or set embedding.backend = \"torch\"")
        pooling = folder / "1_Pooling" / "config.json"
        if pooling.is_file() and not json.loads(pooling.read_text()).get("pooling_mode_mean_tokens"):
            raise EmbeddingError(f"model {self.config.model!r} does not use mean pooling; "
                                 "set embedding.backend = \"torch\"")
        return folder

    def _window(self, folder: Path) -> int:
        settings = folder / "sentence_bert_config.json"
        max_len = json.loads(settings.read_text()).get("max_seq_length", 256) if settings.is_file() else 256
        positions = json.loads((folder / "config.json").read_text()).get("max_position_embeddings", max_len)
        return min(max_len, positions, self.config.window_tokens) - 2   # room for the special tokens

    def _loaded_tokenizer(self):
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            folder = self._folder()
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            tokenizer.no_padding()
            tokenizer.no_truncation()
            self._window_size = self._window(folder)
            self._tokenizer = tokenizer
        return self._tokenizer

    def _loaded_session(self):
        path = exported_model(self._folder(), self._cache_root(), quantized=self.quantized)
        return _session(path, default_threads(self.config.threads))

    def _cache_root(self) -> Path:
        if self.config.model_cache:
            return Path(self.config.model_cache).expanduser()
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(base) / "iceberg" / "models"

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> EncodeResult:
        return encoded(self, texts, LocalExecutor(), progress=progress)

    def planned(self, texts: Sequence[str]) -> Plan:
        """Tokenised, cut into windows and grouped into batches of similar length."""
        tokenizer = self._loaded_tokenizer()
        encodings = tokenizer.encode_batch(list(texts), add_special_tokens=True)
        first, last = encodings[0].ids[0], encodings[0].ids[-1]   # e.g. [CLS] and [SEP]
        windows = token_windows([e.ids[1:-1] for e in encodings], self._window_size,
                                self.config.long_text, self.config.max_chunks)
        rows = token_budget_batches([len(w) + 2 for w in windows.ids], self.config.batch_size)
        return Plan(windows, [_padded([windows.ids[r] for r in batch], first, last) for batch in rows], rows)

    def batch_vectors(self, batch: TokenBatch) -> np.ndarray:
        session, names = self._loaded_session()
        ids = batch.ids.astype(np.int64)
        mask = (np.arange(ids.shape[1]) < batch.lengths[:, None]).astype(np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(None, {k: v for k, v in feed.items() if k in names})[0]
        summed = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return (summed / np.linalg.norm(summed, axis=1, keepdims=True)).astype(np.float32)


def _padded(windows: list[list[int]], first: int, last: int) -> TokenBatch:
    lengths = np.array([len(w) + 2 for w in windows], dtype=np.int64)
    ids = np.zeros((len(windows), int(lengths.max())), dtype=np.int32)
    for j, w in enumerate(windows):
        ids[j, 0], ids[j, 1:len(w) + 1], ids[j, len(w) + 1] = first, w, last
    return TokenBatch(ids, lengths)


_sessions: dict[tuple[str, int], tuple] = {}
_sessions_lock = threading.Lock()


def _session(path: Path, threads: int) -> tuple:
    """One ONNX Runtime session per (model file, threads) in this process, and its input names."""
    with _sessions_lock:
        if (str(path), threads) not in _sessions:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            _sessions[str(path), threads] = session, {i.name for i in session.get_inputs()}
        return _sessions[str(path), threads]


TOKENS_PER_BATCH = 64 * 64


def token_budget_batches(lengths: list[int], batch_size: int) -> list[np.ndarray]:
    """Rows grouped by similar length (little padding), at most ``batch_size`` rows and
    about ``TOKENS_PER_BATCH`` tokens each: long windows go in small batches, which is
    much faster on a CPU than padding 64 of them at once."""
    order = np.argsort(lengths, kind="stable")
    batches, current = [], []
    for row in order:
        if current and (len(current) >= batch_size
                        or (len(current) + 1) * lengths[row] > TOKENS_PER_BATCH):
            batches.append(np.asarray(current))
            current = []
        current.append(row)
    if current:
        batches.append(np.asarray(current))
    return batches


def exported_model(folder: Path, cache_root: Path, *, quantized: bool) -> Path:
    """The model's ONNX file in ``cache_root``, exported (and quantised) if not there yet."""
    fingerprint = hashlib.sha256()
    for name in sorted(p.name for p in folder.iterdir() if p.is_file()):
        fingerprint.update(f"{name}:{(folder / name).stat().st_size};".encode())
    fingerprint.update((folder / "config.json").read_bytes())
    target_dir = cache_root / f"{folder.name}-{fingerprint.hexdigest()[:12]}"
    target = target_dir / ("model-int8.onnx" if quantized else "model.onnx")
    if target.is_file():
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target_dir / ".lock")):
        if target.is_file():
            return target
        plain = target_dir / "model.onnx"
        if not plain.is_file():
            _export(folder, plain)
        if quantized:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp = target.with_suffix(".tmp.onnx")
            quantize_dynamic(str(plain), str(tmp), weight_type=QuantType.QInt8,
                             per_channel=True, reduce_range=True)
            os.replace(tmp, target)
    return target


def _export(folder: Path, target: Path) -> None:
    import warnings

    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()
    model = transformers.AutoModel.from_pretrained(str(folder)).eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    example = torch.ones((2, 8), dtype=torch.long)
    tmp = target.with_suffix(".tmp.onnx")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(LastHiddenState(model), (example, example, torch.zeros_like(example)),
                          str(tmp), input_names=list(_INPUTS), output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in (*_INPUTS, "last_hidden_state")},
                          opset_version=17, dynamo=False)
    os.replace(tmp, target)
