"""Capture throughput on PostgreSQL against pgbench TPC-B on the same server, same run.

    python bench/capture_throughput.py [--seconds 10] [--server postgresql://postgres@127.0.0.1:5432]

A "capture" here is what a platform does for every sale, through the service layer:
create the payment (parties, breakdown, split, status history, audit) and capture it
(guarded status move, balanced journal entry with its postings, balance deltas, history,
audit). Two flows are measured:

- two-step: create, then capture, as two durable transactions (a manual capture);
- recorded: a payment the gateway already confirmed, created and captured in one durable
  transaction (``CreatePayment(captured=True)``, what a webhook or verify callback does).

Workers are processes (no shared GIL), each with its own connection, warm as in a running
platform (10,000 customers and 1,000 sellers already known). Prints captures/s, pgbench tps
and their ratio, for 1 and 4 workers, and all captures on one "hot" seller against captures
spread over 1,000 sellers: medians of ``--rounds`` interleaved rounds, each measurement
starting from a fresh CHECKPOINT.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import re
import statistics
import subprocess
import time

from sqlalchemy import create_engine, text

from paytrack.adapters.storage.db import make_engine
from paytrack.adapters.storage.migrate import migrate
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor, Role
from paytrack.services.payments import CreatePayment, capture_payment, create_payment

ADMIN = Actor(Role.ADMIN, "bench")
SELLERS = 1000
CUSTOMERS = 10_000


def _recreate(server: str, name: str) -> str:
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"{server}/{name}"


def _worker(url: str, hot: bool, one_step: bool, seconds: float, start_at: float,
            seed: int) -> int:
    rng = random.Random(seed)
    engine = make_engine(url, pool_size=1)
    storage = Storage(engine)
    storage.prime_caches()
    done = 0
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = start_at + seconds
    while time.time() < deadline:
        seller = "hot_seller" if hot else f"seller_{rng.randrange(SELLERS)}"
        cmd = CreatePayment(customer_id=f"cust_{rng.randrange(CUSTOMERS)}", seller_id=seller,
                            item_type="course", item_id=f"course_{seller}", currency="USD",
                            subtotal=rng.randrange(500, 50_000), tax=rng.randrange(0, 500),
                            captured=one_step)
        payment = storage.run(lambda uow, cmd=cmd: create_payment(uow, cmd, ADMIN))
        if not one_step:
            with storage.unit_of_work() as uow:
                capture_payment(uow, payment["id"], ADMIN)
                uow.commit()
        done += 1
    engine.dispose()
    return done


def _seed_parties(url: str) -> None:
    engine = make_engine(url)
    storage = Storage(engine)
    with storage.unit_of_work() as uow:
        now = uow.now()
        for i in range(CUSTOMERS):
            uow.parties.ensure("customer", f"cust_{i}", now)
        for seller in [*(f"seller_{i}" for i in range(SELLERS)), "hot_seller"]:
            uow.parties.ensure("seller", seller, now)
            uow.parties.ensure_item("course", f"course_{seller}", seller, now)
        uow.commit()
    engine.dispose()


def captures_per_second(url: str, workers: int, *, hot: bool, one_step: bool,
                        seconds: float) -> float:
    start_at = time.time() + 1.5
    with mp.get_context("spawn").Pool(workers) as pool:
        counts = pool.starmap(_worker, [(url, hot, one_step, seconds, start_at, i)
                                        for i in range(workers)])
    return sum(counts) / seconds


def pgbench_tps(server: str, db: str, clients: int, seconds: int) -> float:
    host = re.search(r"@([^:/]+)", server).group(1)
    out = subprocess.run(
        ["pgbench", "-h", host, "-U", "postgres", "-M", "prepared", "-c", str(clients),
         "-j", str(clients), "-T", str(seconds), "-n", db],
        capture_output=True, text=True, check=True,
    ).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3,
                        help="measure each figure this many times, interleaved; report medians")
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    pgbench_db = "paytrack_bench_pgbench"
    _recreate(args.server, pgbench_db)
    host = re.search(r"@([^:/]+)", args.server).group(1)
    subprocess.run(["pgbench", "-h", host, "-U", "postgres", "-i", "-s", "10", "-q", pgbench_db],
                   check=True, capture_output=True)
    url = _recreate(args.server, "paytrack_bench")
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    # A platform that has been running: its parties exist and its processes are warm.
    _seed_parties(url)
    captures_per_second(url, 2, hot=False, one_step=True, seconds=3)

    print(f"{'flow':>9} {'workers':>7} {'pgbench tps':>12} {'uniform cap/s':>14} "
          f"{'ratio':>6} {'hot cap/s':>10} {'hot/uniform':>11}")
    for workers in (1, 4):
        runs: dict[str, list[float]] = {}
        for _ in range(args.rounds):  # interleaved, so drift hits every figure alike
            _checkpoint(args.server)
            runs.setdefault("tps", []).append(
                pgbench_tps(args.server, pgbench_db, workers, args.seconds))
            for flow, one_step in (("two-step", False), ("recorded", True)):
                for hot in (False, True):
                    _checkpoint(args.server)
                    runs.setdefault(f"{flow} {hot}", []).append(captures_per_second(
                        url, workers, hot=hot, one_step=one_step, seconds=args.seconds))
        tps = statistics.median(runs["tps"])
        for flow in ("two-step", "recorded"):
            uniform = statistics.median(runs[f"{flow} False"])
            hot = statistics.median(runs[f"{flow} True"])
            print(f"{flow:>9} {workers:>7} {tps:>12.0f} {uniform:>14.0f} {uniform / tps:>6.2f} "
                  f"{hot:>10.0f} {hot / uniform:>11.2f}", flush=True)


def _checkpoint(server: str) -> None:
    """Start every measurement from a fresh checkpoint (no full-page-write burst in it)."""
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CHECKPOINT"))
    admin.dispose()


if __name__ == "__main__":
    main()
