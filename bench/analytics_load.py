"""Bulk load of the generated year into a freshly migrated database, not through the API:
``COPY … FROM STDIN`` (psycopg 3, text format) on PostgreSQL, ``executemany`` on SQLite,
one transaction per chunk of whole days (a journal entry commits with its postings, as the
PostgreSQL triggers require). Every constraint, foreign key and trigger stays on."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Engine, Table, bindparam, delete, insert, select, text, update
from sqlalchemy.engine import make_url

from bench.analytics_data import YEAR_START, Generator, house_accounts
from paytrack.adapters.storage.db import make_engine
from paytrack.adapters.storage.migrate import migrate
from paytrack.adapters.storage.tables import (
    Json,
    UTCDateTime,
    accounts,
    analytics_state,
    coupons,
    customers,
    disputes,
    items,
    journal_entries,
    payments,
    postings,
    refunds,
    seller_earnings,
    sellers,
)

MARKER = "bench_analytics_load"  # what a database loaded by this bench carries


@dataclass(slots=True)
class LoadStats:
    rows: Counter[str] = field(default_factory=Counter)
    generate_s: float = 0.0  # making the rows in Python
    write_s: float = 0.0  # sending them to the database and committing


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def fresh_database(url: str) -> Engine:
    """An empty, migrated database at ``url``. It must be empty already or hold an earlier
    load of this bench, finished or not (``MARKER``): nothing else is ever dropped."""
    engine = make_engine(url)
    with engine.connect() as conn:
        names = set(engine.dialect.get_table_names(conn))
    if names and MARKER not in names:
        engine.dispose()
        sys.exit(f"{make_url(url).render_as_string()} holds tables but no earlier load of "
                 "this bench: give an empty database (or --keep to reuse a loaded one)")
    if names and is_postgres(engine):
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    elif names:
        engine.dispose()
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:  # marked from the start: an interrupted load is redone
        conn.execute(text(f"CREATE TABLE {MARKER} (payments BIGINT, seed BIGINT NOT NULL)"))
    return engine


def loaded_payments(engine: Engine, seed: int) -> int | None:
    """How many payments an earlier load with ``seed`` left here, if one did."""
    with engine.connect() as conn:
        if MARKER not in engine.dialect.get_table_names(conn):
            return None
        row = conn.execute(text(f"SELECT payments FROM {MARKER} WHERE seed = :seed "
                                "AND payments IS NOT NULL"), {"seed": seed}).first()
    return None if row is None else int(row.payments)


def mark_loaded(engine: Engine, payments_count: int, seed: int) -> None:
    """Record a finished load (``--keep`` reuses only those)."""
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {MARKER} VALUES (:n, :seed)"),
                     {"n": payments_count, "seed": seed})


def load(engine: Engine, generator: Generator, *, progress: bool = False) -> LoadStats:
    """Write the generator's world and year into ``engine``'s (empty, migrated) database."""
    stats = LoadStats()
    writer = _Writer(engine, stats)
    world = generator.world
    now = YEAR_START
    try:
        writer.write(customers, ({"id": f"cus_{i:06d}", "name": None, "email": None,
                                  "metadata": {}, "created_at": now, "updated_at": now}
                                 for i in range(world.customers)))
        writer.write(sellers, world.sellers)
        writer.write(items, world.items)
        writer.write(coupons, world.coupons)
        writer.commit()
        account_ids = _create_accounts(engine, generator)
        started = time.perf_counter()
        chunks = generator.chunks()
        while True:
            before = time.perf_counter()
            chunk = next(chunks, None)
            stats.generate_s += time.perf_counter() - before
            if chunk is None:
                break
            for table in (payments, refunds, disputes, seller_earnings, journal_entries):
                writer.write(table, getattr(chunk, table.name))
            writer.write_tuples(postings, ("entry_id", "account_id", "currency", "amount"),
                                [(e, account_ids[(code, cur)], cur, amount)
                                 for e, code, cur, amount in chunk.postings])
            writer.commit()
            if progress and stats.rows["payments"] % 250_000 < len(chunk.payments):
                print(f"  {stats.rows['payments']:>9,} payments "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)
    finally:
        writer.close()
    before = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.id == bindparam("account_id"))
                     .values(balance=bindparam("new_balance")),
                     [{"account_id": account_ids[key], "new_balance": balance}
                      for key, balance in sorted(generator.balances.items())])
        # History written without its revenue deltas, as on an upgraded install: the
        # analytics answer 503 (and verify leaves them out) until the rollups are rebuilt.
        conn.execute(delete(analytics_state))
        conn.execute(insert(analytics_state).values(id=1, tz=None, rebuild_required=True))
    stats.write_s += time.perf_counter() - before
    return stats


def _create_accounts(engine: Engine, generator: Generator) -> dict[tuple[str, str], int]:
    with engine.begin() as conn:
        conn.execute(accounts.insert(), [
            {"code": spec.code, "currency": currency, "normal": str(spec.normal),
             "non_negative": spec.non_negative, "balance": 0, "seller_id": spec.seller_id,
             "created_at": YEAR_START}
            for spec, currency in house_accounts(generator.world)])
        rows = conn.execute(select(accounts.c.code, accounts.c.currency, accounts.c.id))
        return {(r.code, r.currency): r.id for r in rows}


class _Writer:
    """Rows into tables in bulk on the engine's own connection; ``commit`` ends a batch."""

    def __init__(self, engine: Engine, stats: LoadStats) -> None:
        self.postgres = is_postgres(engine)
        self.raw = engine.raw_connection()
        self.stats = stats
        self.open = False

    def write(self, table: Table, rows: Iterable[dict[str, Any]]) -> None:
        names = [c.name for c in table.columns]
        convert = [self._converter(c.type) for c in table.columns]
        tuples = (tuple(v if f is None else f(v) for v, f in
                        zip((row[n] for n in names), convert, strict=True)) for row in rows)
        self.write_tuples(table, names, tuples)

    def write_tuples(self, table: Table, names: Iterable[str],
                     rows: Iterable[tuple[Any, ...]]) -> None:
        names = list(names)
        before = time.perf_counter()
        count = 0
        cursor = self.raw.cursor()
        if self.postgres:
            columns = ", ".join(f'"{n}"' for n in names)
            with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            if not self.open:
                cursor.execute("BEGIN")
                self.open = True
            rows = list(rows)
            count = len(rows)
            marks = ", ".join("?" * len(names))
            cursor.executemany(f"INSERT INTO {table.name} ({', '.join(names)}) "
                               f"VALUES ({marks})", rows)
        cursor.close()
        self.stats.rows[table.name] += count
        self.stats.write_s += time.perf_counter() - before

    def commit(self) -> None:
        before = time.perf_counter()
        if self.postgres:
            self.raw.commit()
        elif self.open:
            self.raw.cursor().execute("COMMIT")
            self.open = False
        self.stats.write_s += time.perf_counter() - before

    def close(self) -> None:
        if not self.postgres and self.open:
            self.raw.cursor().execute("ROLLBACK")
        self.raw.close()

    def _converter(self, type_: Any) -> Callable[[Any], Any] | None:
        if isinstance(type_, UTCDateTime) and not self.postgres:
            return _sqlite_time
        if isinstance(type_, type(Json)):
            return _json
        if isinstance(type_, Boolean) and not self.postgres:
            return _optional_int
        return None


def _sqlite_time(value: datetime | None) -> str | None:
    """As ``UTCDateTime`` stores it on SQLite: naive UTC, always with microseconds."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)

