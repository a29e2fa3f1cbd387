"""SQLite: buffered rows as multi-row ``INSERT … VALUES (…), (…)``, a table at a time.

Each table's rows go in statements of up to ``ROWS_PER_STATEMENT`` rows (parents first, so
foreign keys hold), their values passed through SQLAlchemy's own type processing (dates,
JSON) as ``insert()`` would, but without building an ``insert()`` per flush: the SQL for a
table, its columns and a row count is compiled once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect

from paytrack.adapters.storage.row_buffer import Batches, Row

ROWS_PER_STATEMENT = 100


def flush(cursor: Any, batches: Batches, dialect: Dialect) -> None:
    """Write ``batches`` through a driver cursor."""
    for table, rows in batches:
        columns = tuple(rows[0])
        processors = _processors(table, columns, dialect)
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start:start + ROWS_PER_STATEMENT]
            sql = _sql(table, columns, len(chunk), dialect)
            cursor.execute(sql, _bind(chunk, columns, processors, dialect.positional))


@cache
def _processors(table: Table, columns: tuple[str, ...],
                dialect: Dialect) -> list[Callable[[Any], Any] | None]:
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]


@cache
def _sql(table: Table, columns: tuple[str, ...], count: int, dialect: Dialect) -> str:
    """``INSERT … VALUES (…), (…)`` for ``count`` rows; binds are named ``<column>_m<row>``."""
    rows = [dict.fromkeys(columns) for _ in range(count)]
    return insert(table).values(rows).compile(dialect=dialect).string


def _bind(rows: list[Row], columns: tuple[str, ...],
          processors: list[Callable[[Any], Any] | None],
          positional: bool) -> list[Any] | dict[str, Any]:
    """Parameters for ``_sql``, row-major, through the column types."""
    values = [
        (f"{name}_m{i}", row[name] if proc is None else proc(row[name]))
        for i, row in enumerate(rows)
        for name, proc in zip(columns, processors, strict=True)
    ]
    return [v for _, v in values] if positional else dict(values)
