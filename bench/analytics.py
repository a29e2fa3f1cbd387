"""Analytics on a year of 1,000,000 payments: rollups against the naive query and DuckDB.

    python bench/analytics.py [--payments 1000000] [--database-url URL] [--runs 7] [--keep]
                              [--reuse-rollups]

Generates a deterministic year of a marketplace's payments (``analytics_data``), loads
it in bulk into a freshly migrated database (``analytics_load``: COPY on PostgreSQL,
executemany on SQLite; default a SQLite file in the temp directory), then times the
admin analytics for the year in the most common currency three ways, in one run:

- rollup: ``paytrack.services.analytics`` (summary, trend, top_sellers, top_items,
  methods) over its rollups, built first from the loaded history by its rebuild (timed);
- naive: the same figures straight from ``payments``, with the best index for them;
- duckdb: the same payments exported to Parquet, queried by DuckDB (``pip install
  -e '.[bench]'``).

Each query: 2 warm-up runs, then the median of ``--runs``. Prints the time per query and
the ratios against the rollup, the issue's targets (summary and trend under 50 ms, top
lists under 100 ms), and whether the three give the same figures (the rollups: the
payments and gross they share with the naive query). ``--keep`` reuses a database an
earlier run loaded with the same number of payments, migrated to the newest schema first;
``--reuse-rollups`` also skips the rebuild.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # python bench/analytics.py

from sqlalchemy import Engine, text  # noqa: E402

from bench.analytics_data import POLICY, SEED, YEAR_END, YEAR_START, Generator  # noqa: E402
from bench.analytics_load import (  # noqa: E402
    fresh_database,
    load,
    loaded_payments,
    mark_loaded,
)
from bench.analytics_queries import (  # noqa: E402
    QUERIES,
    TOP,
    Params,
    Result,
    create_index,
    duckdb_queries,
    export_parquet,
    naive_queries,
)
from paytrack.adapters.storage.db import make_engine  # noqa: E402
from paytrack.adapters.storage.migrate import migrate  # noqa: E402
from paytrack.adapters.storage.uow import Storage  # noqa: E402
from paytrack.domain.actors import Actor, Role  # noqa: E402
from paytrack.domain.money import round_half_up  # noqa: E402
from paytrack.services import analytics  # noqa: E402

TARGET_MS = {"summary": 50, "trend_day": 50, "trend_month": 50, "top_sellers": 100,
             "top_items": 100}
ADMIN = Actor(Role.ADMIN, "bench")


def timed(call: Callable[[], Result], runs: int, warmups: int = 2) -> tuple[float, Result]:
    """The median of ``runs`` warm runs, in milliseconds, and the last result."""
    for _ in range(warmups):
        result = call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), result


# -- the rollups -------------------------------------------------------------------------


def rebuild_rollups(storage: Storage) -> tuple[float, int]:
    """Build the rollups from the loaded history (journal entries, payments, disputes) as
    ``paytrack analytics rebuild`` does: seconds taken and deltas folded."""
    started = time.perf_counter()
    with storage.unit_of_work() as uow:
        rebuilt = analytics.rebuild_analytics(uow, ADMIN)
        uow.commit()
    return time.perf_counter() - started, rebuilt["deltas"]


def rollup_calls(storage: Storage, params: Params) -> dict[str, Callable[[], Any]]:
    """One call per query through the service functions the API serves, each in its own
    read-only unit of work, over the range of ``params`` (its local days, both ends
    inclusive, as the API takes them)."""
    span = {"currency": params.currency, "start": params.start.date(),
            "end": (params.end - timedelta(microseconds=1)).date()}

    def call(function: Callable[..., Any], **extra: Any) -> Callable[[], Any]:
        def run() -> Any:
            with storage.unit_of_work(readonly=True) as uow:
                return function(uow, ADMIN, **span, **extra)
        return run

    return {"summary": call(analytics.summary),
            "trend_day": call(analytics.trend, interval="day"),
            "trend_month": call(analytics.trend, interval="month"),
            "top_sellers": call(analytics.top_sellers, limit=TOP),
            "top_items": call(analytics.top_items, limit=TOP),
            "methods": call(analytics.methods)}


def comparable(name: str, answer: dict[str, Any]) -> Result:
    """What the rollups and the naive query both count, in the naive result's shape:
    payments captured and gross per row (a refund lands on its own day in the rollups but
    on its payment's capture day in ``payments``, and fee and seller amount are net of
    refunds there: those are not compared)."""
    if name == "summary":
        return [(answer["transactions"], answer["gross"])]
    if name.startswith("trend"):
        width = 10 if name == "trend_day" else 7
        return [(row["start"].isoformat()[:width], row["transactions"], row["gross"])
                for row in answer["data"] if row["transactions"] or row["gross"]]
    if name == "top_sellers":
        return [(row["seller_id"], row["units"], row["gross"]) for row in answer["data"]]
    if name == "top_items":
        return [(row["item_type"], row["item_id"], row["seller_id"], row["units"],
                 row["gross"]) for row in answer["data"]]
    assert name == "methods", name
    return sorted((row["method"], row["gateway"], row["count"], row["amount"])
                  for row in answer["data"])


def naive_comparable(name: str, rows: Result) -> Result:
    """The naive result cut to what ``comparable`` keeps."""
    if name == "summary":
        return [row[:2] for row in rows]
    if name.startswith("trend"):
        return [row[:3] for row in rows]
    return list(rows)


def measure_rollups(engine: Engine, params: Params, runs: int,
                    rebuild: bool) -> tuple[dict[str, float], dict[str, Result]]:
    """Milliseconds per query, and each answer cut to what the naive query also gives."""
    storage = Storage(engine, POLICY)
    if rebuild:
        seconds, deltas = rebuild_rollups(storage)
        print(f"rollups rebuilt from the history in {seconds:.1f} s ({deltas:,} deltas)",
              flush=True)
    calls = rollup_calls(storage, params)
    ms, answers = {}, {}
    for name in QUERIES:
        ms[name], answer = timed(calls[name], runs)
        answers[name] = comparable(name, answer)
    return ms, answers


# -- the run ----------------------------------------------------------------------------


def prepare(url: str, payments: int, keep: bool) -> Engine:
    engine = make_engine(url)
    if keep and loaded_payments(engine, SEED) == payments:
        print(f"reusing the {payments:,} payments loaded earlier")
        started = time.perf_counter()
        migrate(engine)  # loaded by an older schema: the upgrade the project ships
        print(f"migrate (to the newest schema): {time.perf_counter() - started:.1f} s")
        return engine
    engine.dispose()
    engine = fresh_database(url)
    print(f"generating and loading {payments:,} payments (seed {SEED})", flush=True)
    started = time.perf_counter()
    stats = load(engine, Generator(payments, SEED), progress=payments >= 250_000)
    elapsed = time.perf_counter() - started
    mark_loaded(engine, payments, SEED)
    rows = sum(stats.rows.values())
    print(f"loaded in {elapsed:.1f} s: generating {stats.generate_s:.1f} s, writing "
          f"{stats.write_s:.1f} s ({stats.rows['payments'] / stats.write_s:,.0f} payments/s, "
          f"{rows / stats.write_s:,.0f} rows/s of {rows:,} rows)")
    print("  " + ", ".join(f"{n} {c:,}" for n, c in stats.rows.most_common()))
    return engine


def shape(engine: Engine, params: Params) -> None:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT currency, status, count(*) FROM payments GROUP BY currency, status "
            "ORDER BY currency, status")).all()
    by_currency: dict[str, dict[str, int]] = {}
    for currency, status, count in rows:
        by_currency.setdefault(currency, {})[status] = count
    for currency, counts in by_currency.items():
        print(f"  {currency}: {sum(counts.values()):,} payments: " +
              ", ".join(f"{s} {c:,}" for s, c in counts.items()))
    print(f"queries: {params.currency}, captured {params.start:%Y-%m-%d} to "
          f"{params.end:%Y-%m-%d} (exclusive), UTC")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="default: a SQLite file in the temp directory")
    parser.add_argument("--runs", type=int, default=7, help="timed warm runs per query")
    parser.add_argument("--keep", action="store_true",
                        help="reuse the database if an earlier run loaded the same data")
    parser.add_argument("--currency", default="USD")
    parser.add_argument("--reuse-rollups", action="store_true",
                        help="with --keep: query the rollups an earlier run built")
    args = parser.parse_args()
    url = args.database_url or \
        f"sqlite:///{Path(tempfile.gettempdir()) / f'paytrack_bench_analytics_{args.payments}.db'}"
    params = Params(args.currency, YEAR_START, YEAR_END)

    engine = prepare(url, args.payments, args.keep)
    shape(engine, params)
    started = time.perf_counter()
    ddl = create_index(engine)
    print(f"naive baseline's index and statistics ({time.perf_counter() - started:.1f} s "
          "with ANALYZE):\n  " + ";\n  ".join(ddl))

    ms: dict[str, dict[str, float]] = {}
    results: dict[str, dict[str, Result]] = {}
    with engine.connect().execution_options(readonly=True) as conn:  # SQLite: a plain BEGIN
        for name, call in naive_queries(conn, params).items():
            ms.setdefault("naive", {})[name], results.setdefault("naive", {})[name] = \
                timed(call, args.runs)
    duck = measure_duckdb(engine, params, args.runs)
    if isinstance(duck, str):
        print(f"duckdb: {duck}")
    else:
        ms["duckdb"], results["duckdb"] = duck
    ms["rollup"], results["rollup"] = measure_rollups(engine, params, args.runs,
                                                      rebuild=not args.reuse_rollups)
    report(ms, results, params, args.runs)
    engine.dispose()


def measure_duckdb(engine: Engine, params: Params,
                   runs: int) -> tuple[dict[str, float], dict[str, Result]] | str:
    try:
        import duckdb  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as error:
        return f"skipped: {error.name} is not installed (pip install -e '.[bench]')"
    path = Path(tempfile.gettempdir()) / f"paytrack_bench_payments_{os.getpid()}.parquet"
    started = time.perf_counter()
    rows = export_parquet(engine, path)
    print(f"parquet export: {rows:,} payments in {time.perf_counter() - started:.1f} s, "
          f"{path.stat().st_size / 2**20:.0f} MiB ({path})")
    conn, calls = duckdb_queries(path, params)
    try:
        timings = {name: timed(call, runs) for name, call in calls.items()}
    finally:
        conn.close()
        path.unlink()
    return ({n: t for n, (t, _) in timings.items()}, {n: r for n, (_, r) in timings.items()})


def report(ms: dict[str, dict[str, float]], results: dict[str, dict[str, Result]],
           params: Params, runs: int) -> None:
    def cell(engine: str, name: str) -> str:
        return f"{ms[engine][name]:.1f}" if engine in ms else "—"

    def ratio(top: str, bottom: str, name: str) -> str:
        if top not in ms or bottom not in ms:
            return "—"
        return f"{ms[top][name] / ms[bottom][name]:.1f}"

    summary = results["naive"]["summary"][0]
    print(f"summary ({params.currency}): payments {summary[0]:,}, gross {summary[1]:,}, "
          f"refunded {summary[2]:,}, platform fee {summary[3]:,}, seller amount "
          f"{summary[4]:,}, tax {summary[5]:,}, average "
          f"{round_half_up_ratio(summary[1], summary[0]):,} (minor units)")
    if "duckdb" in results:
        same = [n for n in QUERIES if results["duckdb"][n] == results["naive"][n]]
        print(f"duckdb and naive give the same figures for {len(same)} of {len(QUERIES)} "
              "queries" + ("" if len(same) == len(QUERIES) else
                           f" (differ: {sorted(set(QUERIES) - set(same))})"))
    if "rollup" in results:
        same = [n for n in QUERIES
                if results["rollup"][n] == naive_comparable(n, results["naive"][n])]
        rollup = results["rollup"]["summary"][0]
        print(f"rollups and naive give the same payments and gross for {len(same)} of "
              f"{len(QUERIES)} queries" + ("" if len(same) == len(QUERIES) else
                                          f" (differ: {sorted(set(QUERIES) - set(same))})") +
              f"; summary from the rollups: payments {rollup[0]:,}, gross {rollup[1]:,} "
              "(refunds count on their own day there, on the capture day in payments: "
              "refunded, fee and seller amount are not compared)")
    print(f"\nmedian of {runs} warm runs, ms")
    header = ("query", "rollup", "naive", "duckdb", "naive/rollup", "duckdb/rollup",
              "naive/duckdb", "target")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in QUERIES:
        target = f"< {TARGET_MS[name]}" if name in TARGET_MS else "—"
        print(f"| {name} | {cell('rollup', name)} | {cell('naive', name)} | "
              f"{cell('duckdb', name)} | {ratio('naive', 'rollup', name)} | "
              f"{ratio('duckdb', 'rollup', name)} | {ratio('naive', 'duckdb', name)} | "
              f"{target} |", flush=True)


def round_half_up_ratio(numerator: int, denominator: int) -> int:
    return round_half_up(Decimal(numerator) / denominator) if denominator else 0


if __name__ == "__main__":
    main()
