"""The ticket records of a helpdesk's JSON export, however it was saved.

An API export comes as a JSON array of tickets, as pages (``{"tickets": [...],
"next_page": ...}``), as several pages one after another in one file (``cat page-*.json``),
or as JSON Lines (the incremental export: one ticket, or one page, per line).
``json_records`` reads a sequence of top-level JSON values and yields every ticket in
them, numbered from 1 in file order; a value that is no ticket and a stretch that is not
JSON are yielded with a reason, and reading resumes at the next line.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator, NamedTuple

PAGE_KEYS = ("tickets", "results")    # Zendesk's pages and its search results
WHITESPACE = re.compile(r"\s*")
MAX_RAW_CHARS = 10_000


class JsonRecord(NamedTuple):
    position: int          # 1-based, in file order, counting rejected values too
    value: Any             # the ticket object (None when unreadable)
    raw: str               # the text as found, for a rejected record ("" otherwise)
    reason: str            # why it is not a ticket; "" when it is one


def json_records(text: str) -> Iterator[JsonRecord]:
    """Every ticket record of ``text`` (see the module docstring), with what is not one."""
    decoder = json.JSONDecoder()
    position, number = WHITESPACE.match(text).end(), 0
    while position < len(text):
        line = text.count("\n", 0, position) + 1
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            resume = text.find("\n", position)
            resume = len(text) if resume < 0 else resume
            number += 1
            yield JsonRecord(number, None, _cut(text[position:resume]),
                             f"invalid JSON on line {exc.lineno}: {exc.msg} (column {exc.colno})")
            position = WHITESPACE.match(text, resume).end()
            continue
        for item, reason in _tickets(value, line):
            number += 1
            raw = "" if not reason else _cut(json.dumps(item, ensure_ascii=False, default=str))
            yield JsonRecord(number, item if not reason else None, raw, reason)
        position = WHITESPACE.match(text, end).end()
        if text.startswith(",", position):     # objects separated by commas without brackets
            position = WHITESPACE.match(text, position + 1).end()


def page_list(value: dict[str, Any]) -> list[Any] | None:
    """A page's tickets: its ``tickets`` (or ``results``) list, else its only list of objects."""
    for key in PAGE_KEYS:
        if isinstance(value.get(key), list):
            return value[key]
    lists = [v for v in value.values() if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)]
    return lists[0] if len(lists) == 1 and "id" not in value else None    # a ticket has an id


def _tickets(value: Any, line: int) -> Iterator[tuple[Any, str]]:
    if isinstance(value, list):
        for i, item in enumerate(value, start=1):
            yield item, _not_an_object(item, f"item {i} of the array on line {line}")
    elif isinstance(value, dict):
        items = page_list(value)
        if items is None:
            yield value, ""
        else:
            for i, item in enumerate(items, start=1):
                yield item, _not_an_object(item, f"item {i} of the page on line {line}")
    else:
        yield value, _not_an_object(value, f"the value on line {line}")


def _not_an_object(value: Any, where: str) -> str:
    return "" if isinstance(value, dict) else f"{where} is a JSON {type(value).__name__}, not a ticket object"


def _cut(raw: str) -> str:
    return raw if len(raw) <= MAX_RAW_CHARS else raw[:MAX_RAW_CHARS] + "…"
