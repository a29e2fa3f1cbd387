"""The analytics figures three ways: straight from the ``payments`` table (the naive
baseline, with the best index the bench can give it), in DuckDB over the same payments
exported to Parquet, and in Python from the generated rows (the reference the test checks
both against).

The figures, per currency over [start, end) of capture time (``succeeded_at``, UTC days
and months), counting every payment that was captured (whatever happened to it after):

- summary: payments, gross (sum of totals), refunded, platform_fee, seller_amount, tax;
- trend_day / trend_month: per bucket payments, gross, platform_fee, seller_amount,
  refunded;
- top_sellers / top_items: the 10 with the highest gross (ties by id), with payments;
- methods: payments and gross per (method, gateway).

From the payments table alone, a refund counts on the day of its payment's capture, and
platform_fee / seller_amount are the split at capture (the legs a refund takes back are
on the refund rows). Sums are plain ``SUM``: at a million payments they stay far below
2^63, where SQLite's would raise (the service code uses ``sql.exact_sum_parts``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, select, text
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.tables import UTCDateTime, payments

QUERIES = ("summary", "trend_day", "trend_month", "top_sellers", "top_items", "methods")
TOP = 10
INDEX = "bench_payments_captured"
# What the queries read besides currency and succeeded_at (the index's key).
READ = ("total", "refunded_amount", "platform_fee", "seller_amount", "tax", "seller_id",
        "item_type", "item_id", "method", "gateway")
EXPORTED = ("id", "currency", "status", "customer_id", "seller_id", "item_type", "item_id",
            "method", "gateway", "kind", "coupon_id", "discount_funded_by", "subtotal",
            "discount", "tax", "shipping", "total", "platform_fee", "seller_amount",
            "tax_collected", "shipping_collected", "gateway_fee", "refunded_amount",
            "disputed_amount", "platform_discount", "created_at", "succeeded_at", "failed_at",
            "refunded_at")

Result = list[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Params:
    currency: str
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive


def _sql(bucket_day: str, bucket_month: str) -> dict[str, str]:
    where = "currency = :currency AND succeeded_at >= :start AND succeeded_at < :end"
    trend = ("SELECT {bucket} AS bucket, count(*), sum(total), sum(platform_fee), "
             "sum(seller_amount), sum(refunded_amount) FROM payments WHERE " + where +
             " GROUP BY 1 ORDER BY 1")
    return {
        "summary": "SELECT count(*), sum(total), sum(refunded_amount), sum(platform_fee), "
                   f"sum(seller_amount), sum(tax) FROM payments WHERE {where}",
        "trend_day": trend.format(bucket=bucket_day),
        "trend_month": trend.format(bucket=bucket_month),
        "top_sellers": "SELECT seller_id, count(*), sum(total) AS gross FROM payments "
                       f"WHERE {where} GROUP BY seller_id ORDER BY gross DESC, seller_id "
                       f"LIMIT {TOP}",
        "top_items": "SELECT item_type, item_id, seller_id, count(*), sum(total) AS gross "
                     f"FROM payments WHERE {where} GROUP BY item_type, item_id, seller_id "
                     f"ORDER BY gross DESC, item_type, item_id LIMIT {TOP}",
        "methods": "SELECT method, gateway, count(*), sum(total) FROM payments "
                   f"WHERE {where} GROUP BY method, gateway ORDER BY method, gateway",
    }


_PG_DAY = "date_trunc('day', succeeded_at AT TIME ZONE 'UTC')"
_PG_MONTH = "date_trunc('month', succeeded_at AT TIME ZONE 'UTC')"
SQL = {
    "postgresql": _sql(_PG_DAY, _PG_MONTH),
    # UTCDateTime stores 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC on SQLite.
    "sqlite": _sql("substr(succeeded_at, 1, 10)", "substr(succeeded_at, 1, 7)"),
}
# PostgreSQL statistics for the groups the queries make (the expressions exactly as above).
STATISTICS = {"bench_payments_days": f"ON ({_PG_DAY})",
              "bench_payments_months": f"ON ({_PG_MONTH})",
              "bench_payments_items": "(ndistinct) ON item_type, item_id, seller_id"}
DUCKDB_SQL = {name: sql.replace(":currency", "$currency").replace(":start", "$start")
              .replace(":end", "$end")
              for name, sql in _sql("date_trunc('day', succeeded_at)",
                                    "date_trunc('month', succeeded_at)").items()}


def normalized(name: str, rows: Iterable[Iterable[Any]]) -> Result:
    """Rows as plain tuples: ints for numbers (PostgreSQL sums are Decimal), buckets as
    'YYYY-MM-DD' or 'YYYY-MM' strings, the methods in Python's order."""
    out = []
    for row in rows:
        values = [v if isinstance(v, str) or v is None else
                  v.strftime("%Y-%m-%d") if isinstance(v, date) else int(v) for v in row]
        if name == "trend_month":
            values[0] = values[0][:7]
        elif name == "trend_day":
            values[0] = values[0][:10]
        elif name == "summary":
            values = [v or 0 for v in values]
        out.append(tuple(values))
    return sorted(out) if name == "methods" else out


# -- the naive baseline ---------------------------------------------------------------


def create_index(engine: Engine) -> list[str]:
    """The one index every query can answer from: captured payments by currency and
    capture time, carrying every column they read (a covering index). On PostgreSQL also
    the statistics its planner lacks for the groups (days, months, items: without them it
    expects a group per row and sorts on disk). Returns the DDL."""
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        ddl = [f"CREATE INDEX IF NOT EXISTS {INDEX} ON payments (currency, succeeded_at) "
               f"INCLUDE ({', '.join(READ)})",
               *(f"CREATE STATISTICS IF NOT EXISTS {name} {spec} FROM payments"
                 for name, spec in STATISTICS.items())]
    else:  # no INCLUDE: the columns go in the key
        ddl = [f"CREATE INDEX IF NOT EXISTS {INDEX} ON payments "
               f"(currency, succeeded_at, {', '.join(READ)})"]
    with engine.begin() as conn:
        for statement in ddl:
            conn.execute(text(statement))
    analyze = "VACUUM ANALYZE payments" if postgres else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(analyze))  # PostgreSQL: the visibility map index-only scans need
    return ddl


def drop_index(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"DROP INDEX IF EXISTS {INDEX}"))
        if engine.dialect.name == "postgresql":
            for name in STATISTICS:
                conn.execute(text(f"DROP STATISTICS IF EXISTS {name}"))


def naive_queries(conn: Connection, params: Params) -> dict[str, Callable[[], Result]]:
    """Each query as a call that runs it on ``conn`` and returns its normalized rows."""
    statements = {name: text(sql).bindparams(bindparam("start", type_=UTCDateTime),
                                             bindparam("end", type_=UTCDateTime))
                  for name, sql in SQL[conn.dialect.name].items()}
    values = {"currency": params.currency, "start": params.start, "end": params.end}

    def run(name: str) -> Callable[[], Result]:
        return lambda: normalized(name, conn.execute(statements[name], values).all())

    return {name: run(name) for name in QUERIES}


# -- DuckDB over Parquet ----------------------------------------------------------------


def export_parquet(engine: Engine, path: Path, *, batch_rows: int = 100_000) -> int:
    """Stream the payments (the columns analytics reads, ``EXPORTED``) into a Parquet file;
    returns the rows written. Times are UTC without a zone (DuckDB's TIMESTAMP)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = [payments.c[name] for name in EXPORTED]
    schema = pa.schema([(c.name, _arrow_type(pa, c)) for c in columns])
    written = 0
    with engine.connect() as conn, pq.ParquetWriter(path, schema) as writer:
        result = conn.execution_options(stream_results=True, yield_per=batch_rows).execute(
            select(*columns).order_by(payments.c.id))
        for batch in result.partitions():
            by_column = list(zip(*batch, strict=True))
            writer.write_batch(pa.record_batch(
                [pa.array(values, type=field.type) for values, field in
                 zip(by_column, schema, strict=True)], schema=schema))
            written += len(batch)
    return written


def _arrow_type(pa: Any, column: Any) -> Any:
    if isinstance(column.type, UTCDateTime):
        return pa.timestamp("us")
    return pa.int64() if column.type.python_type is int else pa.string()


def duckdb_queries(path: Path, params: Params) -> tuple[Any, dict[str, Callable[[], Result]]]:
    """An in-memory DuckDB connection with a view over the Parquet file, and each query
    as a call on it."""
    import duckdb

    conn = duckdb.connect()
    conn.execute(f"CREATE VIEW payments AS SELECT * FROM read_parquet('{path}')")
    values = {"currency": params.currency,
              "start": params.start.astimezone(UTC).replace(tzinfo=None),
              "end": params.end.astimezone(UTC).replace(tzinfo=None)}

    def run(name: str) -> Callable[[], Result]:
        return lambda: normalized(name, conn.execute(DUCKDB_SQL[name], values).fetchall())

    return conn, {name: run(name) for name in QUERIES}


# -- the reference, in Python -----------------------------------------------------------


def reference(rows: Iterable[dict[str, Any]], params: Params) -> dict[str, Result]:
    """The same figures computed in Python from generated payment rows."""
    captured = [p for p in rows if p["currency"] == params.currency
                and p["succeeded_at"] is not None
                and params.start <= p["succeeded_at"] < params.end]
    measures = ("total", "platform_fee", "seller_amount", "refunded_amount")
    out: dict[str, Result] = {"summary": [(
        len(captured), *(sum(p[m] for p in captured) for m in
                         ("total", "refunded_amount", "platform_fee", "seller_amount", "tax")))]}
    for name, width in (("trend_day", 10), ("trend_month", 7)):
        buckets: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
        for p in captured:
            sums = buckets[p["succeeded_at"].strftime("%Y-%m-%d")[:width]]
            sums[0] += 1
            for i, m in enumerate(measures, 1):
                sums[i] += p[m]
        out[name] = [(b, *sums) for b, sums in sorted(buckets.items())]
    for name, key in (("top_sellers", ("seller_id",)),
                      ("top_items", ("item_type", "item_id", "seller_id")),
                      ("methods", ("method", "gateway"))):
        groups: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
        for p in captured:
            sums = groups[tuple(p[k] for k in key)]
            sums[0] += 1
            sums[1] += p["total"]
        ranked = [(*k, *v) for k, v in groups.items()]
        if name == "methods":
            out[name] = sorted(ranked)
        else:
            out[name] = sorted(ranked, key=lambda r: (-r[-1], *r[:2]))[:TOP]
    return out
