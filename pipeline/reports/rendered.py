"""``Rendered``: the files one format made of a report, in memory, ready to write or download."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

ZIP_MIME = "application/zip"


@dataclass(frozen=True)
class Rendered:
    """``files``: file name → content, in order; ``mime``: the type of each file; ``text``:
    the files are text a terminal can take (``--output -``); ``numbered``: the files are
    consecutive parts of one file (a Jira export of more than 250 problems)."""

    files: dict[str, bytes]
    mime: str
    text: bool = False
    numbered: bool = False

    def zip_bytes(self) -> bytes:
        """Every file in one ZIP archive (fixed timestamps, so the same report zips the same)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, content in self.files.items():
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, content)
        return buffer.getvalue()

    def download(self, stem: str = "iceberg-report") -> tuple[str, bytes, str]:
        """(file name, content, mime) for one download button: the file itself when there is
        one, else a ZIP of them all named ``stem.zip``."""
        if len(self.files) == 1:
            name, content = next(iter(self.files.items()))
            return name, content, self.mime
        return f"{stem}.zip", self.zip_bytes(), ZIP_MIME
