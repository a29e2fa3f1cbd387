"""Buffered appends, and on PostgreSQL a transaction opened only when one is needed.

A unit of work adds status events, audit records, journal entries, postings and balance
deltas (and new payments and refunds) as it goes; ``flush`` writes them straight through
the driver: on PostgreSQL as one statement (each table's rows as one JSON parameter), on
SQLite as one multi-row INSERT per table with SQLAlchemy's own type processing. Any other
statement on the connection flushes first, so a unit of work always reads its own writes.

On PostgreSQL a unit of work starts in autocommit: its reads need no BEGIN (at READ
COMMITTED every statement takes its own snapshot either way). The first write, or the
first flush before another statement, opens the transaction. A unit of work whose only
write is the final flush sends it alone: one statement is atomic and durable by itself,
so it needs neither BEGIN nor COMMIT. Otherwise the flush and the COMMIT travel together
in one pipelined round trip.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Engine, Table, event, insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError

from paytrack.adapters.storage.errors import StaleRead, translate
from paytrack.adapters.storage.tables import metadata

_ORDER = {table: i for i, table in enumerate(metadata.sorted_tables)}


ROWS_PER_STATEMENT = 100


@cache
def _processors(table: Table, columns: tuple[str, ...], dialect: Dialect):
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]


# A guard holds while each cached seller still has the rate, and each cached item the
# seller, that the unit of work used. It is checked in the same statement as the writes.
_GUARD = """g AS (SELECT NOT EXISTS (
    SELECT 1 FROM jsonb_to_recordset(%(guards)s::jsonb) AS x(
        seller_id text, seller_rate text, item_type text, item_id text, item_seller text)
    WHERE (SELECT s.commission_rate FROM sellers s WHERE s.id = x.seller_id)
              IS DISTINCT FROM x.seller_rate
       OR (SELECT i.seller_id FROM items i WHERE i.item_type = x.item_type AND i.id = x.item_id)
              IS DISTINCT FROM x.item_seller) AS ok)"""


@cache
def _json_rows_sql(shape: tuple[tuple[Table, tuple[str, ...]], ...], dialect: Dialect,
                   guarded: bool) -> str:
    """PostgreSQL: every pending row in one statement, each table's rows as one JSON array.

    One data-modifying CTE per table reads its rows with ``jsonb_populate_recordset``, so
    the statement has a parameter per table (and psycopg keeps it prepared). Foreign keys
    between the parts hold: they are checked at the end of the statement. With guards,
    nothing is inserted unless they hold, and the statement answers whether they did."""
    quote = dialect.identifier_preparer.quote
    parts = [_GUARD] if guarded else []
    only_if = " WHERE (SELECT ok FROM g)" if guarded else ""
    for i, (table, columns) in enumerate(shape):
        names = ", ".join(quote(c) for c in columns)
        parts.append(
            f"t{i} AS (INSERT INTO {quote(table.name)} ({names}) SELECT {names} "
            f"FROM jsonb_populate_recordset(NULL::{quote(table.name)}, %(t{i})s::jsonb)"
            f"{only_if})"
        )
    return f"WITH {', '.join(parts)} SELECT {'ok FROM g' if guarded else 'true'}"


@cache
def _multi_values_sql(table: Table, columns: tuple[str, ...], count: int, dialect: Dialect) -> str:
    """``INSERT … VALUES (…), (…)`` for ``count`` rows; binds are named ``<column>_m<row>``."""
    rows = [dict.fromkeys(columns) for _ in range(count)]
    return insert(table).values(rows).compile(dialect=dialect).string


_KEY = "paytrack_appender"


@event.listens_for(Engine, "before_execute")
def _before_execute(conn: Connection, clause: Any, *_args: Any) -> None:
    """Every statement on a connection with an open unit of work goes past its appender
    (one engine-wide hook: cheaper than a listener per unit of work)."""
    appender = conn.info.get(_KEY)
    if appender is not None:
        appender.before_execute(clause)


class Appender:
    def __init__(self, conn: Connection, *, lazy_transaction: bool) -> None:
        self.conn = conn
        self._rows: dict[Table, list[dict[str, Any]]] = {}
        self._guards: list[dict[str, Any]] = []
        self._driver: Any = conn.connection.driver_connection  # psycopg's or sqlite3's
        assert self._driver is not None, "a connection in use has its driver's connection"
        self._lazy = lazy_transaction and hasattr(self._driver, "autocommit")
        if self._lazy:
            self._driver.autocommit = True
        conn.info[_KEY] = self  # found by the engine-wide hook below

    def add(self, table: Table, row: dict[str, Any]) -> None:
        rows = self._rows.setdefault(table, [])
        assert not rows or rows[0].keys() == row.keys(), f"{table.name} rows differ in columns"
        rows.append(row)

    def guard(self, condition: dict[str, Any]) -> None:
        """Write nothing unless ``condition`` still holds (PostgreSQL; see ``_GUARD``)."""
        assert self._lazy, "guards are checked by the PostgreSQL flush only"
        self._guards.append(condition)

    @property
    def _in_autocommit(self) -> bool:
        return self._lazy and self._driver.autocommit

    def before_execute(self, clause: Any) -> None:
        if self._in_autocommit and (self._rows or _writes(clause)):
            self._driver.autocommit = False  # the next statement opens the transaction
        if self._rows:
            self.flush()

    def close(self) -> None:
        """Hand the connection back as the pool expects it: idle, not in autocommit."""
        self.conn.info.pop(_KEY, None)
        if self._lazy:
            if self._driver.info.transaction_status != 0:  # not idle
                self._driver.rollback()
            self._driver.autocommit = False

    def flush(self) -> None:
        with self._driver_errors():
            self._write()

    def _write(self) -> None:
        pending, self._rows = self._rows, {}
        guards, self._guards = self._guards, []
        if not pending:
            return
        dialect = self.conn.dialect
        dbapi: Any = self.conn.connection.dbapi_connection
        cursor = dbapi.cursor()
        try:
            if dialect.name == "postgresql":
                cursor.execute(*_one_statement(pending, guards, dialect))
                if not cursor.fetchone()[0]:
                    raise StaleRead("a cached party changed; nothing was written")
                return
            for table in sorted(pending, key=_ORDER.__getitem__):
                rows = pending[table]
                columns = tuple(rows[0])
                processors = _processors(table, columns, dialect)
                for start in range(0, len(rows), ROWS_PER_STATEMENT):
                    chunk = rows[start:start + ROWS_PER_STATEMENT]
                    sql = _multi_values_sql(table, columns, len(chunk), dialect)
                    cursor.execute(sql, _bind(chunk, columns, processors, dialect.positional))
        finally:
            cursor.close()

    def commit(self, commit: Callable[[], None]) -> None:
        """Flush and commit in as few round trips as the driver allows."""
        driver = self._driver
        pipeline = getattr(driver, "pipeline", None)
        with self._driver_errors():
            if self._in_autocommit:  # nothing written yet: one statement, atomic alone
                self._write()
                commit()
                return
            if pipeline is None or not self._rows or self._guards:
                self._write()  # with guards: learn whether they held before committing
                commit()
                return
            try:
                with pipeline():
                    self._write()
                    commit()
            except Exception:
                driver.rollback()  # leave the aborted pipeline's transaction cleanly
                raise

    @contextmanager
    def _driver_errors(self) -> Iterator[None]:
        """Raise driver errors as SQLAlchemy's, then as domain errors where one fits."""
        dbapi = self.conn.dialect.loaded_dbapi
        try:
            yield
        except DBAPIError as exc:  # raised through SQLAlchemy's own commit
            raise translate(exc) from exc
        except dbapi.Error as exc:
            wrapped = DBAPIError.instance("(buffered appends)", None, exc, dbapi.Error)
            raise translate(wrapped) from exc


def _writes(clause: Any) -> bool:
    """Whether a statement must run inside the transaction (anything but a plain SELECT)."""
    if getattr(clause, "is_select", False):
        return getattr(clause, "_for_update_arg", None) is not None
    return True


def _one_statement(pending: dict[Table, list[dict[str, Any]]], guards: list[dict[str, Any]],
                   dialect: Dialect):
    shape = []
    params: dict[str, Any] = {"guards": json.dumps(guards)} if guards else {}
    for i, (table, rows) in enumerate(sorted(pending.items(), key=lambda p: _ORDER[p[0]])):
        shape.append((table, tuple(rows[0])))
        params[f"t{i}"] = json.dumps(rows, default=_json_default, separators=(",", ":"))
    return _json_rows_sql(tuple(shape), dialect, bool(guards)), params


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a buffered row")


def _bind(rows: list[dict[str, Any]], columns: tuple[str, ...],
          processors: list[Callable[[Any], Any] | None], positional: bool):
    """Parameters for ``_multi_values_sql``, row-major, through the column types."""
    values = [
        (f"{name}_m{i}", row[name] if proc is None else proc(row[name]))
        for i, row in enumerate(rows)
        for name, proc in zip(columns, processors, strict=True)
    ]
    return [v for _, v in values] if positional else dict(values)
