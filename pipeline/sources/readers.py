"""The readers, chosen by format: the ``[input] format`` setting, else the file's extension.

A new kind of source (a helpdesk API, SQL) is a class with the ``Reader`` protocol's
methods; a new file format is a ``FileReader`` subclass added to ``FILE_READERS``.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import InputConfig
from pipeline.errors import InputError, InputNotFound
from pipeline.sources.csv_reader import CsvReader
from pipeline.sources.files import FileReader
from pipeline.sources.jsonl_reader import JsonlReader
from pipeline.sources.parquet_reader import ParquetReader
from pipeline.sources.protocol import Reader

FILE_READERS: dict[str, type[FileReader]] = {r.format: r for r in (CsvReader, JsonlReader, ParquetReader)}
FORMATS = tuple(FILE_READERS)
EXTENSIONS = {extension: r.format for r in FILE_READERS.values() for extension in r.extensions}


def reader_for(source: str | Path | Reader, settings: InputConfig | None = None) -> Reader:
    """The reader for ``source``: a ``Reader`` as it is, else the file reader for the path."""
    if isinstance(source, Reader):
        return source
    settings = settings or InputConfig()
    path = Path(source)
    if not path.is_file():
        raise InputNotFound(f"input file {str(path)!r} not found; pass an existing CSV, JSONL "
                            "or Parquet file to --input")
    return FILE_READERS[input_format(path, settings.format)](path, settings)


def source_fingerprint(source: str | Path | Reader, settings: InputConfig | None = None) -> str | None:
    """``reader_for(source).fingerprint()``; None when no reader can be made for it (reading
    it will then say why)."""
    try:
        return reader_for(source, settings).fingerprint()
    except InputError:
        return None


def input_format(path: Path, setting: str = "auto") -> str:
    """The file format to read: the ``[input] format`` setting, else the file's extension."""
    if setting != "auto":
        if setting not in FORMATS:
            raise InputError(f"unknown input format {setting!r} ([input] format); use one of "
                             f"auto, {', '.join(FORMATS)}")
        return setting
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    extension = suffixes[-1] if suffixes else ""
    if extension not in EXTENSIONS:
        raise InputError(f"unsupported input format {extension or '(no extension)'!r} for "
                         f"{path.name}; supported: {', '.join(EXTENSIONS)} (optionally .gz), or "
                         f"set [input] format to one of {', '.join(FORMATS)}")
    return EXTENSIONS[extension]
