"""``FileReader``: what the file readers share — opening, gzip, the sha256, batching."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path
from typing import Any, ClassVar, Iterator

import pandas as pd

from pipeline.config import InputConfig
from pipeline.errors import InputError, InputNotFound
from pipeline.sources.decode import decoded_text
from pipeline.sources.protocol import RawBatch

BATCH_ROWS = 50_000        # rows per batch a file reader yields
GZIP_MAGIC = b"\x1f\x8b"


class FileReader:
    """A ticket export in one local file, plain or gzip-compressed (``Reader`` protocol).

    Subclasses set ``format`` and ``extensions`` and implement ``_batches(data)`` over the
    file's (decompressed) bytes, recording what they detect in ``self.details``.
    """

    format: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]

    def __init__(self, path: str | Path, settings: InputConfig | None = None, *,
                 batch_rows: int = BATCH_ROWS) -> None:
        self.path = Path(path)
        self.settings = settings or InputConfig()
        self.batch_rows = batch_rows
        self.details: dict[str, Any] = {}
        self._sha256: str | None = None
        self._rows = 0

    @property
    def name(self) -> str:
        return str(self.path)

    def fingerprint(self) -> str | None:
        try:
            digest = hashlib.sha256()
            with open(self.path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            return digest.hexdigest()
        except OSError:
            return None

    def batches(self) -> Iterator[RawBatch]:
        self._rows = 0
        self.details = {}
        for batch in self._batches(self._content()):
            self._rows += batch.size
            yield batch

    def description(self) -> dict[str, Any]:
        return {"path": self.name, "sha256": self._sha256, "rows": self._rows, "kind": "file",
                "format": self.format, **self.details}

    def _batches(self, data: bytes) -> Iterator[RawBatch]:
        raise NotImplementedError

    def _text(self, data: bytes, what: str = "at least one ticket") -> str:
        """``data`` decoded (``[input] encoding``, else detected; recorded in ``details``);
        an export holding nothing but white space is an error that says what it should hold."""
        decoded = decoded_text(data, self.settings.encoding, self.name)
        self.details["encoding"] = decoded.encoding
        if not decoded.text.strip():
            raise InputError(f"{self.name} is empty; export {what}")
        return decoded.text

    def _content(self) -> bytes:
        """The file's bytes, decompressed when they are gzip; records the file's sha256."""
        if not self.path.is_file():
            raise InputNotFound(f"input file {self.name!r} not found; pass an existing CSV, JSONL "
                                "or Parquet file to --input")
        data = self.path.read_bytes()
        self._sha256 = hashlib.sha256(data).hexdigest()
        if data[:2] == GZIP_MAGIC:
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as exc:
                raise InputError(f"{self.name} looks gzip-compressed but cannot be decompressed "
                                 f"({exc}); re-export the file") from exc
            self.details["compression"] = "gzip"
        return data


def text_frame(rows: list[list[str | None]], positions: list[int], names: list[str]) -> pd.DataFrame:
    """Rows of text fields as a DataFrame indexed by their positions; "" is missing."""
    frame = pd.DataFrame(rows, columns=names, index=pd.Index(positions, dtype="int64"), dtype="str")
    return frame.where(frame != "")
