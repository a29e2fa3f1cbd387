"""Buffered appends: a unit of work's inserts, written in as few round trips as possible.

A unit of work adds status events, audit records, journal entries, postings and balance
deltas (and new payments and refunds) as it goes; nothing is sent yet (``row_buffer.py``).
They are written straight through the driver when anything else is about to run on the
connection, so a unit of work always reads its own writes, and at the latest with the
COMMIT:

- on PostgreSQL as one statement, each table's rows one JSON parameter
  (``flush_postgres.py``), which also checks the guards of cached reads;
- on SQLite as one multi-row INSERT per table (``flush_sqlite.py``).

On PostgreSQL the transaction begins only when the unit of work first writes, a lone final
flush needs no transaction at all, and otherwise the final flush and the COMMIT share one
pipelined round trip (``lazy_transaction.py``). Driver errors become domain errors as
SQLAlchemy's would (``errors.py``). ``bench/RESULTS.md`` shows what each step gained.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from paytrack.adapters.storage import flush_postgres, flush_sqlite
from paytrack.adapters.storage.db import unwatch_statements, watch_statements
from paytrack.adapters.storage.errors import driver_errors_translated
from paytrack.adapters.storage.lazy_transaction import LazyTransaction, writes
from paytrack.adapters.storage.row_buffer import Row, RowBuffer


class Appender:
    def __init__(self, conn: Connection, *, lazy_transaction: bool) -> None:
        self.conn = conn
        self._buffer = RowBuffer()
        driver: Any = conn.connection.driver_connection  # psycopg's or sqlite3's
        assert driver is not None, "a connection in use has its driver's connection"
        self._transaction = LazyTransaction(driver, enabled=lazy_transaction)
        watch_statements(conn, self.before_execute)

    def add(self, table: Table, row: Row) -> None:
        self._buffer.add(table, row)

    def guard(self, condition: Row) -> None:
        """Write nothing unless ``condition`` still holds (see ``flush_postgres``)."""
        assert self._transaction.enabled, "guards are checked by the PostgreSQL flush only"
        self._buffer.guard(condition)

    def before_execute(self, clause: Any) -> None:
        """Called before every other statement on the connection."""
        if self._transaction.deferred and (self._buffer or writes(clause)):
            self._transaction.begin()
        if self._buffer:
            self.flush()

    def flush(self) -> None:
        with driver_errors_translated(self.conn.dialect):
            self._write()

    def commit(self, commit: Callable[[], None]) -> None:
        """Flush and commit in as few round trips as the driver allows."""
        with driver_errors_translated(self.conn.dialect):
            # One pipelined round trip, except: when nothing has begun (the flush is then a
            # lone statement, atomic by itself, and the COMMIT sends nothing), when nothing
            # waits, and with guards (learn whether they held before committing).
            if self._transaction.deferred or not self._buffer or self._buffer.guarded:
                self._write()
                commit()
            else:
                self._transaction.pipelined(self._write, commit)

    def close(self) -> None:
        """Stop watching the connection; hand it back as the pool expects it."""
        unwatch_statements(self.conn)
        self._transaction.close()

    def _write(self) -> None:
        batches, guards = self._buffer.take()
        if not batches:
            return
        dialect = self.conn.dialect
        dbapi: Any = self.conn.connection.dbapi_connection
        cursor = dbapi.cursor()
        try:
            if dialect.name == "postgresql":
                flush_postgres.flush(cursor, batches, guards, dialect)
            else:
                flush_sqlite.flush(cursor, batches, dialect)
        finally:
            cursor.close()
