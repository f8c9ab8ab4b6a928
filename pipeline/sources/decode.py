"""Bytes to text: the configured encoding, else a BOM, UTF-8 (line by line), or charset-normalizer's guess.

An export is often UTF-8 with a few rows pasted from a Windows program (cp1252): such a
file is decoded line by line, UTF-8 where a line is valid UTF-8 and the fallback encoding
where it is not, and the lines decoded by the fallback are counted. A file with no valid
non-ASCII UTF-8 at all is in a legacy encoding as a whole and is decoded as such.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

import charset_normalizer

from pipeline.errors import InputError

BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))
ARCHIVES = ((b"PK\x03\x04", "a ZIP archive (an .xlsx or .docx file?)"), (b"%PDF", "a PDF document"),
            (b"\xd0\xcf\x11\xe0", "an old Office document (.xls?)"), (b"PAR1", "a Parquet file"))
SNIFF_BYTES = 65_536
# Text control characters are tab, newline and carriage return; a file with many others is binary.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_CONTROL_SHARE = 0.05
NON_ASCII = re.compile(rb"[\x80-\xff]")
NON_ASCII_RUN = re.compile(rb"[\x80-\xff]+")
WESTERN = "cp1252"
REPLACED = "none (replacement characters)"   # the fallback for bytes no encoding explains


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str                          # what the file was read as
    fallback: str | None = None            # the encoding of the lines that are not valid UTF-8
    fallback_lines: frozenset[int] = field(default_factory=frozenset)   # their 1-based numbers


def decoded_text(data: bytes, encoding: str, name: str) -> Decoded:
    """``data`` as text: the configured encoding, else a BOM, UTF-8 (line by line, with a
    fallback for the lines that are not UTF-8), or charset-normalizer's guess."""
    for magic, what in ARCHIVES:
        if data.startswith(magic):
            raise InputError(f"{name} is {what}, not a text export; export the tickets as CSV, "
                             "JSONL or Parquet (and name the file after its format)")
    if encoding != "auto":
        return _configured(data, encoding, name)
    for bom, bom_encoding in BOMS:
        if data.startswith(bom):
            return _checked(Decoded(data.decode(bom_encoding, errors="replace"), bom_encoding), name)
    wide = _utf16_without_bom(data)
    if wide:
        try:
            return _checked(Decoded(data.decode(wide), wide), name)
        except UnicodeDecodeError:
            pass
    try:
        return _checked(Decoded(data.decode("utf-8"), "utf-8"), name)
    except UnicodeDecodeError:
        pass
    separator = b"\n" if b"\n" in data else b"\r"
    lines = data.split(separator)
    valid = [_utf8(line) for line in lines]
    if not any(text is not None and NON_ASCII.search(line) for line, text in zip(lines, valid)):
        legacy = _legacy(data)
        if legacy is not None:
            return _checked(legacy, name)
        if len(CONTROL_BYTES.findall(data[:SNIFF_BYTES])) > MAX_CONTROL_SHARE * min(len(data), SNIFF_BYTES):
            raise InputError(f"{name} holds binary data, not text; export the tickets as CSV, JSONL "
                             "or Parquet, or set [input] encoding if it is text")
    bad = [line for line, text in zip(lines, valid) if text is None]
    guess = _legacy(separator.join(bad))
    fallback = guess.encoding if guess is not None else "utf-8"     # with replacement characters
    text = separator.decode().join(t if t is not None else line.decode(fallback, errors="replace")
                                   for line, t in zip(lines, valid))
    numbers = frozenset(i for i, t in enumerate(valid, start=1) if t is None)
    return _checked(Decoded(text, "utf-8", fallback if guess is not None else REPLACED, numbers), name)


def line_of(data: bytes, offset: int) -> int:
    """The 1-based line number of byte ``offset``."""
    return data.count(b"\n", 0, offset) + 1


def _configured(data: bytes, encoding: str, name: str) -> Decoded:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise InputError(f"cannot decode {name} as {encoding!r} ({exc}); set [input] encoding "
                         "to the file's encoding (e.g. \"cp1252\") or to \"auto\"") from exc
    try:
        return _checked(Decoded(data.decode(encoding).removeprefix("\ufeff"), encoding), name)
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot decode {name} as {encoding!r}: line {line_of(data, exc.start)} "
                         f"holds bytes that are not {encoding} ({exc.reason}); set [input] encoding "
                         "to \"auto\" (it reads each line that is not UTF-8 with a fallback) or to "
                         "the file's encoding") from exc


def _legacy(data: bytes) -> Decoded | None:
    """``data`` in the legacy encoding charset-normalizer finds for it, when it finds one it
    can stand by: cp1252 when that reads the bytes, else its guess when the non-ASCII bytes
    form words (not stray bytes between them)."""
    matches = list(charset_normalizer.from_bytes(data))
    try:
        western = data.decode(WESTERN)
    except UnicodeDecodeError:
        western = None
    if not matches:
        return None if western is None else Decoded(western, WESTERN)
    best = matches[0]
    # Short Western-European samples are often taken for a Mac or Central-European code
    # page that decodes them just as cleanly; cp1252 is by far the likelier source: it is
    # taken when it reads the bytes as the best guess does, or the guess found no language.
    close = [m for m in matches if m.chaos <= best.chaos + 0.1]
    if western is not None and (western == str(best) or any(m.encoding == WESTERN for m in close)
                                or best.coherence == 0):
        return Decoded(western, WESTERN)
    return Decoded(str(best), best.encoding) if _in_words(data) else None


def _in_words(data: bytes) -> bool:
    """Whether the non-ASCII bytes are mostly parts of words (next to a letter, or runs of
    three or more, as whole words in a legacy code page are) rather than stray bytes."""
    runs = list(NON_ASCII_RUN.finditer(data))
    wordlike = sum(1 for run in runs if run.end() - run.start() >= 3
                   or data[run.start() - 1:run.start()].isalpha() or data[run.end():run.end() + 1].isalpha())
    return wordlike >= len(runs) / 2


def _utf8(line: bytes) -> str | None:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` / ``-be`` when the NUL bytes sit where ASCII text in UTF-16 puts them."""
    sample = data[:SNIFF_BYTES]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / max(len(odd), 1)
    if odd_nul > 0.4 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.4 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _checked(decoded: Decoded, name: str) -> Decoded:
    """``decoded``, unless its text is mostly control characters: binary bytes, not an export."""
    sample = decoded.text[:SNIFF_BYTES]
    if sample and len(CONTROL.findall(sample)) > MAX_CONTROL_SHARE * len(sample):
        raise InputError(f"{name} holds binary data, not text (read as {decoded.encoding}); export "
                         "the tickets as CSV, JSONL or Parquet, or set [input] encoding if it is text")
    return decoded
