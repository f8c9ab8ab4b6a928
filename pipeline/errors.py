"""One error hierarchy: every foreseeable failure is an ``IcebergError`` that carries its exit code.

The CLI maps them in one place (``pipeline.cli.main``): the message goes to stderr as one
line, ``iceberg: error: …``, naming the bad value and the fix, and the process exits with
the class's ``exit_code``. Anything else is a bug and keeps its traceback (exit 1).
"""

from __future__ import annotations

from typing import ClassVar

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_MISSING_INPUT = 4
EXIT_CONFIG = 5
EXIT_LOCK_HELD = 6
EXIT_NO_RUN = 7
EXIT_OUTPUT = 8
EXIT_INTERRUPTED = 130
EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_INTERNAL: "unexpected internal error (a bug: please report it with the traceback)",
    EXIT_USAGE: "usage error: unknown command or option, missing argument, an unknown iceberg id or "
                "report format",
    EXIT_DATA: "data error: the input cannot be read as tickets (empty, no text column, bad format), "
               "or a run folder cannot be read (unknown schema_version, damaged file)",
    EXIT_MISSING_INPUT: "the input file does not exist",
    EXIT_CONFIG: "configuration error: unknown setting, wrong type, a value out of range or not "
                 "one of its choices, unreadable config file, unusable embedding model",
    EXIT_LOCK_HELD: "another run holds the output folder's lock (OUT/.lock); nothing was done",
    EXIT_NO_RUN: "no finished run where one was expected (iceberg show before iceberg run)",
    EXIT_OUTPUT: "the output folder or file cannot be written (a file in the way, read-only, disk full)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}


class IcebergError(Exception):
    """A foreseeable failure; ``str(error)`` names the problem and the fix."""

    exit_code: ClassVar[int] = EXIT_INTERNAL


class UsageError(IcebergError, ValueError):
    """An argument names something that does not exist (an iceberg id, a report format)."""

    exit_code = EXIT_USAGE


class InputError(IcebergError, ValueError):
    """The input cannot be read as tickets."""

    exit_code = EXIT_DATA


class InputNotFound(InputError, FileNotFoundError):
    """The input file (or another file a setting names) does not exist."""

    exit_code = EXIT_MISSING_INPUT


class ConfigError(IcebergError, ValueError):
    """A setting is unknown, of the wrong type, out of range or not one of its choices."""

    exit_code = EXIT_CONFIG


class EmbeddingError(ConfigError):
    """The embedding model cannot be loaded or used with the configured backend."""


class LockHeld(IcebergError, RuntimeError):
    """Another run holds ``OUT/.lock``."""

    exit_code = EXIT_LOCK_HELD


class RunNotFound(IcebergError, FileNotFoundError):
    """No finished run where one was expected."""

    exit_code = EXIT_NO_RUN


class RunUnreadable(IcebergError, ValueError):
    """A run folder exists but cannot be read (unknown schema version, damaged file)."""

    exit_code = EXIT_DATA


class UnsupportedSchema(RunUnreadable):
    """A run was written under a schema version this reader does not know."""


class OutputError(IcebergError, OSError):
    """The output folder or file cannot be written."""

    exit_code = EXIT_OUTPUT
