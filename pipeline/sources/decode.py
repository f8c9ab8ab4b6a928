"""Bytes to text: the configured encoding, else a BOM, UTF-8, or charset-normalizer's guess."""

from __future__ import annotations

import codecs

import charset_normalizer

from pipeline.errors import InputError

BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))


def decoded_text(data: bytes, encoding: str, name: str) -> tuple[str, str]:
    """``data`` as text, and the encoding it was read with: the configured encoding, else
    a BOM, UTF-8, or charset-normalizer's guess."""
    if encoding != "auto":
        try:
            return data.decode(encoding).removeprefix("\ufeff"), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot decode {name} as {encoding!r} ({exc}); set [input] encoding "
                             "to the file's encoding (e.g. \"cp1252\") or to \"auto\"") from exc
    for bom, bom_encoding in BOMS:
        if data.startswith(bom):
            return data.decode(bom_encoding, errors="replace"), bom_encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        raise InputError(f"cannot detect the text encoding of {name}; set [input] encoding "
                         "(e.g. \"cp1252\" or \"utf-16\")")
    # Short Western-European samples are often taken for a Mac or Central-European code
    # page that decodes them just as cleanly; cp1252 is by far the likelier source.
    best = next((m for m in matches if m.encoding == "cp1252" and m.chaos <= matches[0].chaos + 0.1),
                matches[0])
    return str(best), best.encoding
