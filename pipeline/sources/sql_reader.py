"""``SqlReader``: tickets from a database table or query, through SQLAlchemy.

``[input] sql_url`` is an SQLAlchemy URL without a password (``postgresql+psycopg://iceberg@db/helpdesk``,
``sqlite:///tickets.db``); the password, when one is needed, comes from the environment
variable ``[input] sql_password_env`` names and is never written anywhere. ``sql_table``
(``schema.table`` too) or ``sql_query`` says what to read. Rows are streamed with a
server-side cursor (``stream_results``), ``sql_batch_rows`` at a time, so memory holds
one batch of raw rows at once, not the whole result. The manifest records the URL (any
password masked), the table or query and the row count; there is no file hash, so
``fingerprint()`` is None. A wrong URL, a missing driver, table or password and a failing
query are one-line errors.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import pandas as pd

from pipeline.config import InputConfig
from pipeline.errors import ConfigError, InputError, InputNotFound
from pipeline.sources.protocol import RawBatch, unique_names


class SqlReader:
    """A table or query of a database (``Reader`` protocol)."""

    def __init__(self, settings: InputConfig) -> None:
        self.settings = settings
        if bool(settings.sql_table.strip()) == bool(settings.sql_query.strip()):
            raise ConfigError("source sql reads one table or one query: set exactly one of "
                              "input.sql_table and input.sql_query (e.g. --set input.sql_table=tickets)")
        self._rows = 0

    @property
    def name(self) -> str:
        what = self.settings.sql_table or "query"
        return f"{self._url().render_as_string(hide_password=True)} ({what})"

    def fingerprint(self) -> str | None:
        return None

    def description(self) -> dict[str, Any]:
        return {"kind": "sql", "uri": self._url().render_as_string(hide_password=True),
                "table": self.settings.sql_table or None, "query": self.settings.sql_query or None,
                "rows": self._rows}

    def batches(self) -> Iterator[RawBatch]:
        sa = sqlalchemy()
        self._rows = 0
        try:
            engine = sa.create_engine(self._url())
        except sa.exc.NoSuchModuleError as exc:
            raise ConfigError(f"no SQLAlchemy dialect or driver for input.sql_url "
                              f"{self.settings.sql_url!r} ({exc}); install it, e.g. pip install "
                              "'psycopg[binary]' for postgresql+psycopg://") from None
        except ModuleNotFoundError as exc:
            raise ConfigError(f"the database driver {exc.name!r} for input.sql_url is not installed; "
                              f"pip install {exc.name}") from None
        except sa.exc.ArgumentError as exc:
            raise ConfigError(f"input.sql_url {self.settings.sql_url!r} is not a usable SQLAlchemy "
                              f"URL ({exc}); e.g. postgresql+psycopg://user@host/db") from None
        try:
            with engine.connect() as connection:
                result = connection.execution_options(stream_results=True).execute(
                    self._statement(connection))
                names = unique_names([str(k) for k in result.keys()])
                first = 1
                for part in result.partitions(self.settings.sql_batch_rows):
                    frame = pd.DataFrame.from_records(part, columns=names,
                                                      index=pd.RangeIndex(first, first + len(part)))
                    frame.index = frame.index.astype("int64")
                    first += len(part)
                    self._rows += len(part)
                    yield RawBatch(frame)
        except sa.exc.NoSuchTableError as exc:
            raise InputNotFound(f"table {str(exc)!r} not found in {self._shown()}; check "
                                "input.sql_table (schema.table for another schema)") from None
        except sa.exc.DBAPIError as exc:
            reason = " ".join(str(exc.orig).split()) or type(exc.orig).__name__
            raise InputError(f"{self._shown()}: {reason}; check input.sql_url, the table or query, "
                             "and the password variable (input.sql_password_env)") from None
        finally:
            engine.dispose()

    def _statement(self, connection: Any) -> Any:
        sa = sqlalchemy()
        if self.settings.sql_query:
            return sa.text(self.settings.sql_query)
        schema, _, table = self.settings.sql_table.rpartition(".")
        reflected = sa.Table(table, sa.MetaData(), schema=schema or None, autoload_with=connection)
        return sa.select(reflected)

    def _url(self) -> Any:
        sa = sqlalchemy()
        try:
            url = sa.engine.make_url(self.settings.sql_url)
        except sa.exc.ArgumentError as exc:
            raise ConfigError(f"input.sql_url {self.settings.sql_url!r} is not an SQLAlchemy URL "
                              f"({exc}); e.g. postgresql+psycopg://user@host/db") from None
        variable = self.settings.sql_password_env
        if variable:
            if variable not in os.environ:
                raise ConfigError(f"input.sql_password_env names {variable!r}, which is not set; "
                                  f"export {variable}=... before the run")
            url = url.set(password=os.environ[variable])
        return url

    def _shown(self) -> str:
        return self._url().render_as_string(hide_password=True)


def sqlalchemy() -> Any:
    """The sqlalchemy module (the ``sql`` extra), or a one-line error saying how to install it."""
    try:
        import sqlalchemy as sa
    except ModuleNotFoundError:
        raise ConfigError("source sql needs SQLAlchemy: pip install 'ticket-iceberg[sql]'") from None
    return sa
