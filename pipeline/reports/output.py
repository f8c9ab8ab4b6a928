"""Writing a ``Rendered`` report where it was asked for: a file, a folder, a ZIP or stdout.

- ``-``: standard output, for a text format that made one file;
- a folder (an existing one, a path ending in ``/``, or a name without a suffix): every
  file by its name, the folder created when missing;
- ``NAME.zip``: every file in one archive;
- any other file name: the one file; the numbered parts of a Jira export (more than 250
  problems) become ``NAME-1.csv``, ``NAME-2.csv``….

Each file is written atomically (a temporary file beside it, then renamed), so a reader
never sees half a report.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

from pipeline.errors import OutputError, UsageError
from pipeline.reports.rendered import Rendered

STDOUT = "-"


def _file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


def is_folder_target(output: str) -> bool:
    """Whether ``output`` names a folder to write the report's files into."""
    if output == STDOUT:
        return False
    path = Path(output)
    return path.is_dir() or output.endswith(("/", os.sep)) or not path.suffix


def wants_split(output: str) -> bool:
    """Whether briefs should go one file each (a folder or a ZIP) rather than one document."""
    return is_folder_target(output) or output.lower().endswith(".zip")


def write_rendered(rendered: Rendered, output: str, *, stdout: BinaryIO | None = None) -> list[str]:
    """Write ``rendered`` to ``output`` (see the module docstring); returns the paths written."""
    if output == STDOUT:
        if not rendered.text or len(rendered.files) != 1:
            what = "several files" if len(rendered.files) > 1 else "a binary file"
            raise UsageError(f"this report is {what}, which --output - (standard output) cannot take; "
                             "give a file or folder, e.g. --output report/ or --output report.zip")
        stream = stdout or sys.stdout.buffer
        stream.write(next(iter(rendered.files.values())))
        stream.flush()
        return [STDOUT]
    path = Path(output)
    if is_folder_target(output):
        folder = _folder(path)
        return [_write(folder / name, content) for name, content in rendered.files.items()]
    if path.suffix.lower() == ".zip":
        return [_write(path, rendered.zip_bytes())]
    if len(rendered.files) == 1:
        return [_write(path, next(iter(rendered.files.values())))]
    if rendered.numbered:
        return [_write(path.with_name(f"{path.stem}-{i}{path.suffix}"), content)
                for i, content in enumerate(rendered.files.values(), 1)]
    names = ", ".join(rendered.files)
    raise UsageError(f"this report is {len(rendered.files)} files ({names}); give a folder "
                     f"(--output {path.with_suffix('')}/) or a ZIP (--output {path.with_suffix('.zip')})")


def _folder(path: Path) -> Path:
    try:
        if path.exists() and not path.is_dir():
            raise OSError(errno.ENOTDIR, "it is a file, not a folder")
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _error(exc, path) from exc
    return path


def _write(path: Path, content: bytes) -> str:
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.chmod(tmp, _FILE_MODE)     # mkstemp makes it private; a report is an ordinary file
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise _error(exc, path) from exc
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return str(path)


def _error(exc: OSError, path: Path) -> OutputError:
    return OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}; pass a writable file or "
                       "folder as --output")
