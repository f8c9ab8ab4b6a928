"""Sources: read a ticket export into raw tickets, their column roles and the quarantine.

Only this wing and ``pipeline.store`` touch files. A source is a ``Reader`` (raw rows in
batches, rejected records with reasons, a description for the manifest); CSV, JSONL and
Parquet files have one each, helpdesk exports (Zendesk, Freshdesk, Jira) and SQL too, chosen
by ``reader_for``; ``read_tickets`` turns what a
reader yields into the tickets table and its quarantine.
"""

from pipeline.sources.csv_reader import CsvReader
from pipeline.sources.freshdesk import FreshdeskReader
from pipeline.sources.jira import JiraReader
from pipeline.sources.zendesk import ZendeskReader
from pipeline.sources.sql_reader import SqlReader
from pipeline.sources.events import events_source, read_events
from pipeline.sources.files import FileReader
from pipeline.sources.ingest import Ingested, read_tickets
from pipeline.sources.jsonl_reader import JsonlReader
from pipeline.sources.parquet_reader import ParquetReader
from pipeline.sources.protocol import MappedReader, RawBatch, Reader, SourceMapping
from pipeline.sources.readers import (FILE_READERS, FORMATS, HELPDESK_READERS, detected_source, input_format,
                                      reader_for, source_fingerprint)

__all__ = ["CsvReader", "FILE_READERS", "FORMATS", "FileReader", "FreshdeskReader", "HELPDESK_READERS",
           "Ingested", "JiraReader", "JsonlReader", "MappedReader", "ParquetReader", "RawBatch", "Reader",
           "SourceMapping", "SqlReader", "ZendeskReader", "detected_source", "events_source",
           "input_format", "read_events", "read_tickets", "reader_for", "source_fingerprint"]
