"""The readers, chosen by ``[input] source``, and for files by format.

``source`` is ``file`` (CSV, JSONL or Parquet, chosen by the ``[input] format`` setting,
else the file's extension), a helpdesk export (``HELPDESK_READERS``: zendesk, freshdesk,
jira), ``sql`` (``SqlReader``, no file), or ``auto``: a helpdesk export when the file's
first records or header have its fields (``detected_source``), else ``file``.
A new kind of source is a class with the ``Reader`` protocol's methods; a new file format
is a ``FileReader`` subclass added to ``FILE_READERS``.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import re
from pathlib import Path

from pipeline.config import InputConfig
from pipeline.errors import InputError, InputNotFound
from pipeline.sources.csv_reader import CsvReader
from pipeline.sources.files import GZIP_MAGIC, FileReader
from pipeline.sources.freshdesk import FreshdeskReader
from pipeline.sources.helpdesk import HelpdeskReader
from pipeline.sources.jira import JiraReader
from pipeline.sources.jira_locales import english_header
from pipeline.sources.jsonl_reader import JsonlReader
from pipeline.sources.parquet_reader import ParquetReader
from pipeline.sources.protocol import Reader
from pipeline.sources.roles import name_key
from pipeline.sources.sql_reader import SqlReader
from pipeline.sources.zendesk import ZendeskReader

FILE_READERS: dict[str, type[FileReader]] = {r.format: r for r in (CsvReader, JsonlReader, ParquetReader)}
FORMATS = tuple(FILE_READERS)
EXTENSIONS = {extension: r.format for r in FILE_READERS.values() for extension in r.extensions}
HELPDESK_READERS: dict[str, type[HelpdeskReader]] = {
    r.format: r for r in (ZendeskReader, FreshdeskReader, JiraReader)}
DETECT_CHARS = 65_536      # of a file's start looked at to tell a helpdesk export
JSON_KEY = re.compile(r'"([A-Za-z_]+)"\s*:')
ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]{1,9}-\d+")


def reader_for(source: str | Path | Reader | None, settings: InputConfig | None = None) -> Reader:
    """The reader for ``source``: a ``Reader`` as it is; else, for ``[input] source``, the
    SQL reader (``source`` unused), or the reader for the file at ``source``."""
    if isinstance(source, Reader):
        return source
    settings = settings or InputConfig()
    if settings.source == "sql":
        return SqlReader(settings)
    if source is None:
        raise InputNotFound("no input: pass a ticket export to --input, or set [input] source = "
                            "\"sql\" with sql_url and sql_table or sql_query")
    path = Path(source)
    if not path.is_file():
        raise InputNotFound(f"input file {str(path)!r} not found; pass an existing CSV, JSONL "
                            "or Parquet file to --input")
    kind = detected_source(path, settings.format) if settings.source == "auto" else settings.source
    if kind in HELPDESK_READERS:
        return HELPDESK_READERS[kind](path, settings)
    return FILE_READERS[input_format(path, settings.format)](path, settings)


def detected_source(path: Path, fmt: str = "auto") -> str:
    """``zendesk``, ``freshdesk`` or ``jira`` when the file's start has that export's fields
    (JSON: Freshdesk's ``description_text``/``responder_id``, else Zendesk's ``via`` with
    ``requester_id``; CSV: Jira's ``Issue key`` with ``Issue Type`` or ``Summary``, in any of
    the UI languages ``jira_locales`` knows, Zendesk's ``Via`` with ``Requester``), else ``file``."""
    kind = input_format(path, fmt)
    if kind == "parquet":
        return "file"
    with open(path, "rb") as handle:
        head = handle.read(2)
        handle.seek(0)
        if head == GZIP_MAGIC:
            handle = gzip.open(handle)
        try:
            start = handle.read(DETECT_CHARS).decode("utf-8", errors="replace").lstrip("\ufeff")
        except (OSError, EOFError):
            return "file"
    if kind == "jsonl" or start.lstrip()[:1] in ("{", "["):
        keys = set(JSON_KEY.findall(start))
        if "requester_id" in keys and keys & {"description_text", "responder_id"}:
            return "freshdesk"
        if "requester_id" in keys and re.search(r'"via"\s*:\s*\{', start):
            return "zendesk"
        return "file"
    names = re.split(r"[,;\t|]", start.split("\n", 1)[0].replace('"', ""))
    header = {name_key(n) for n in names}
    if "issuekey" in (jira := {name_key(english_header(n.strip())) for n in names}) \
            and jira & {"issuetype", "summary"}:
        return "jira"
    if _jira_shaped(start):
        return "jira"
    if "via" in header and header & {"requester", "requesterid"}:
        return "zendesk"
    return "file"


def _jira_shaped(start: str) -> bool:
    """Jira's CSV by its shape, whatever its language: repeated columns (one per comment,
    label, watcher) and a first row holding an issue key (``SUP-101``)."""
    try:
        head = list(itertools.islice(csv.reader(io.StringIO(start)), 2))
    except csv.Error:
        return False
    if len(head) < 2:
        return False
    names = [n.strip() for n in head[0]]
    repeated = len(names) - len(set(names))
    return repeated >= 2 and any(ISSUE_KEY.fullmatch(v.strip()) for v in head[1])


def source_fingerprint(source: str | Path | Reader | None, settings: InputConfig | None = None) -> str | None:
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
