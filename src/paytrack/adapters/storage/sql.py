"""Small dialect helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row, RowMapping
from sqlalchemy.sql import operators

R = TypeVar("R")

# SQLite sums a 64-bit value as its quotient and remainder by 2^32: every part is below
# 2^32 in size, so each of the two sums stays inside 64 bits for up to 2^31 rows.
_HALF = 2**32


def insert_ignore(conn: Connection, table: Table):
    """``INSERT … ON CONFLICT DO NOTHING`` for the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def exact_sum_parts(conn: Connection, value: ColumnElement) -> list[ColumnElement]:
    """Aggregates whose results ``exact_sum`` adds up to ``SUM(value)``, exactly.

    A sum of money over many rows (every posting of a currency, say) is not bounded by
    anything a single write can check, so it must not overflow. PostgreSQL sums bigints as
    ``numeric``: one ``SUM`` is exact. SQLite's ``SUM`` raises "integer overflow" past 2^63
    (and ``TOTAL`` is a float), so there the value is summed as two parts:
    ``value / 2^32`` and ``value % 2^32`` (both truncate toward zero, so
    ``value == quotient * 2^32 + remainder`` for either sign)."""
    if is_postgres(conn):
        return [func.sum(value)]
    # SQLite's own integer / and % (SQLAlchemy's would divide as reals), grouped as such.
    precedence = operators._PRECEDENCE[operators.mod]
    return [func.sum(value.op("/", precedence=precedence)(_HALF)),
            func.sum(value.op("%", precedence=precedence)(_HALF))]


def exact_sum(parts: Sequence[Any]) -> int:
    """Add up what the ``exact_sum_parts`` aggregates returned (NULL, no rows, is 0)."""
    if len(parts) == 1:
        return int(parts[0] or 0)
    quotient, remainder = parts
    return int(quotient or 0) * _HALF + int(remainder or 0)


def labeled_sum(conn: Connection, value: ColumnElement, name: str) -> list[ColumnElement]:
    """``exact_sum_parts`` labelled ``<name>_0``, ``<name>_1``; read back with ``read_sum``."""
    return [part.label(f"{name}_{i}") for i, part in enumerate(exact_sum_parts(conn, value))]


def read_sum(row: RowMapping, name: str) -> int:
    return exact_sum([row[f"{name}_{i}"] for i in range(2) if f"{name}_{i}" in row])


def record(row: Row, row_type: type[R]) -> R:
    """A row as a ``row_type`` record (a TypedDict: a plain dict at run time, so this is
    ``dict(row._mapping)``; the columns selected are the record's keys)."""
    return cast(R, dict(row._mapping))


def record_or_none(row: Row | None, row_type: type[R]) -> R | None:
    return None if row is None else record(row, row_type)


def records(rows: Iterable[Row], row_type: type[R]) -> list[R]:
    return [record(row, row_type) for row in rows]
