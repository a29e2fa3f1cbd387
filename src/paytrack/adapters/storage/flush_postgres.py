"""PostgreSQL: every buffered row in one statement, each table's rows as one JSON parameter.

    WITH t0 AS (INSERT INTO payments (...) SELECT ... FROM jsonb_populate_recordset(
                    NULL::payments, %(t0)s::jsonb)),
         t1 AS (INSERT INTO status_events (...) ...),
         ...
    SELECT true

One data-modifying CTE per table, so the statement has one parameter per table whatever
the number of rows, its text depends only on which tables and columns are written, and
psycopg keeps it prepared. Foreign keys between the parts hold: PostgreSQL checks them at
the end of the statement.

With guards (cached reads the writes relied on; see ``PartyRepository.lookup``) a first CTE
checks that they still hold, nothing is inserted unless they do, and the statement answers
whether they did: if not, ``flush`` raises ``StaleRead`` and nothing was written.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect

from paytrack.adapters.storage.errors import StaleRead
from paytrack.adapters.storage.row_buffer import Batches, Row

# A guard holds while each cached seller still has the rate, and each cached item the
# seller, that the unit of work used.
_GUARD = """g AS (SELECT NOT EXISTS (
    SELECT 1 FROM jsonb_to_recordset(%(guards)s::jsonb) AS x(
        seller_id text, seller_rate text, item_type text, item_id text, item_seller text)
    WHERE (SELECT s.commission_rate FROM sellers s WHERE s.id = x.seller_id)
              IS DISTINCT FROM x.seller_rate
       OR (SELECT i.seller_id FROM items i WHERE i.item_type = x.item_type AND i.id = x.item_id)
              IS DISTINCT FROM x.item_seller) AS ok)"""


def flush(cursor: Any, batches: Batches, guards: list[Row], dialect: Dialect) -> None:
    """Write ``batches`` through a driver cursor in one round trip."""
    cursor.execute(*_statement(batches, guards, dialect))
    if not cursor.fetchone()[0]:
        raise StaleRead("a cached party changed; nothing was written")


def _statement(batches: Batches, guards: list[Row],
               dialect: Dialect) -> tuple[str, dict[str, Any]]:
    shape = []
    params: dict[str, Any] = {"guards": json.dumps(guards)} if guards else {}
    for i, (table, rows) in enumerate(batches):
        shape.append((table, tuple(rows[0])))
        params[f"t{i}"] = json.dumps(rows, default=_json_default, separators=(",", ":"))
    return _sql(tuple(shape), dialect, bool(guards)), params


@cache
def _sql(shape: tuple[tuple[Table, tuple[str, ...]], ...], dialect: Dialect,
         guarded: bool) -> str:
    """The statement for tables and columns ``shape``, built once per shape."""
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


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):  # a datetime carries its offset
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a buffered row")
