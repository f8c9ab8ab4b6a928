"""``ParquetReader``: a Parquet file, with its native column types."""

from __future__ import annotations

import io
import json
from typing import Any, Iterator

import pandas as pd
import pyarrow as pa

from pipeline.errors import InputError
from pipeline.sources.files import FileReader
from pipeline.sources.protocol import RawBatch, unique_names


class ParquetReader(FileReader):
    format = "parquet"
    extensions = (".parquet", ".pq")

    def _batches(self, data: bytes) -> Iterator[RawBatch]:
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(f"{self.name} is not a readable Parquet file ({exc}); re-export it, or "
                             "set [input] format if the extension is wrong") from exc
        frame.columns = unique_names([str(c) for c in frame.columns])
        for column in frame.columns:
            if frame[column].dtype == object:
                frame[column] = frame[column].map(_scalar)
        frame = frame.set_axis(pd.RangeIndex(1, len(frame) + 1), axis=0)
        for start in range(0, len(frame), self.batch_rows):
            yield RawBatch(frame.iloc[start:start + self.batch_rows])


def _scalar(value: Any) -> Any:
    """A Parquet list or struct cell as JSON text, so that every cell is hashable."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    return json.dumps(value, default=str) if isinstance(value, (dict, list)) else value
