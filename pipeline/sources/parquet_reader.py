"""``ParquetReader``: a Parquet file, with its native column types, row group by row group.

Struct columns are flattened to dotted columns (``requester.id``), list columns kept as
JSON text, binary cells decoded as UTF-8; a named pandas index is kept as a column.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import InputError
from pipeline.sources.files import FileReader
from pipeline.sources.protocol import RawBatch, unique_names

UNNAMED_INDEX = re.compile(r"__index_level_\d+__")


class ParquetReader(FileReader):
    format = "parquet"
    extensions = (".parquet", ".pq")

    def _batches(self, data: bytes) -> Iterator[RawBatch]:
        try:
            parquet = pq.ParquetFile(io.BytesIO(data))
            batches = parquet.iter_batches(batch_size=self.batch_rows)
            first = 1
            for batch in batches:
                frame = _flat(pa.Table.from_batches([batch])).to_pandas(ignore_metadata=True)
                frame = frame[[c for c in frame.columns if not UNNAMED_INDEX.fullmatch(str(c))]]
                frame.columns = unique_names([str(c) for c in frame.columns])
                for column in frame.columns:
                    if frame[column].dtype == object:
                        frame[column] = frame[column].map(_scalar)
                frame.index = range(first, first + len(frame))
                first += len(frame)
                yield RawBatch(frame)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(f"{self.name} is not a readable Parquet file ({exc}); re-export it, or "
                             "set [input] format if the extension is wrong") from exc


def _flat(table: pa.Table) -> pa.Table:
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table


def _scalar(value: Any) -> Any:
    """A list cell as JSON text and a binary cell as text, so that every cell is hashable."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return value
