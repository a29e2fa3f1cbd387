"""How fast the dashboard's pages render, against the API's health check in the same run.

    python bench/dashboard.py [--payments 4000] [--runs 15]
    python bench/dashboard.py --database-url URL --overview-only --year 2025
                                  # e.g. bench/analytics.py's million payments (--keep)

Loads the demo (``paytrack demo``'s data, default 4,000 payments) into a fresh SQLite file,
or uses the database given, signs in as an admin and as a seller over HTTP (the app in
process, as ``paytrack serve`` runs it, through Starlette's test client), and times each
page: 2 warm-up requests, then the median of ``--runs``. Prints milliseconds per page, the
ratio to ``GET /v1/health`` (the same client and middleware with no database work: the
baseline), and the issue's targets: every page under 200 ms on the demo data, the overview
under 300 ms on a million payments.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paytrack.adapters.storage.db import make_engine  # noqa: E402
from paytrack.adapters.storage.migrate import migrate  # noqa: E402
from paytrack.adapters.storage.uow import Storage  # noqa: E402
from paytrack.domain.actors import SYSTEM  # noqa: E402
from paytrack.domain.splits import Policy  # noqa: E402
from paytrack.entrypoints.api import create_app  # noqa: E402
from paytrack.services.keys import create_key  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ADMIN_PAGES = ["/dashboard/", "/dashboard/?interval=month", "/dashboard/payments",
               "/dashboard/payments?status=succeeded&currency=USD", "{payment}",
               "/dashboard/queues", "/dashboard/bookings", "/dashboard/coupons",
               "/dashboard/sellers", "/dashboard/gateways", "/dashboard/ledger"]
SELLER_PAGES = ["/dashboard/", "/dashboard/transactions", "/dashboard/payouts",
                "/dashboard/statements", "/dashboard/bookings", "{payment}"]


def timed(client: TestClient, path: str, runs: int) -> float | None:
    """Median milliseconds of ``runs`` GETs (None: the page is not there)."""
    for _ in range(2):
        if client.get(path).status_code == 404:
            return None
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(samples)


def signed_in(storage: Storage, role: str, seller_id: str | None = None) -> TestClient:
    with storage.unit_of_work() as uow:
        _, token = create_key(uow, role, SYSTEM, seller_id=seller_id, name="bench")
        uow.commit()
    client = TestClient(create_app(storage))
    form = client.get("/dashboard/sign-in").text
    form_token = re.search(r'name="form_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    client.post("/dashboard/sign-in", data={"form_token": form_token, "api_key": token})
    return client


def report(client: TestClient, pages: list[str], runs: int, baseline: float,
           limit_ms: float, payment: str) -> bool:
    ok = True
    for path in pages:
        path = path.replace("{payment}", f"/dashboard/payments/{payment}")
        ms = timed(client, path, runs)
        if ms is None:
            print(f"  {path:<55} (not built)")
            continue
        within = ms < limit_ms
        ok &= within
        print(f"  {path:<55} {ms:7.1f} ms  {ms / baseline:6.1f}× health  "
              f"{'within' if within else 'OVER'} {limit_ms:.0f} ms")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=4000)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--overview-only", action="store_true")
    parser.add_argument("--year", type=int, help="also the overview of this whole year, by day "
                                                 "and by month (bench/analytics.py: 2025)")
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        path = Path(tempfile.mkdtemp()) / "paytrack_bench_dashboard.db"
        url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    storage = Storage(engine, Policy())
    if args.database_url is None:
        from paytrack.entrypoints.demo import load_demo
        started = time.perf_counter()
        load_demo(storage, payments=args.payments)
        print(f"demo: {args.payments:,} payments loaded in {time.perf_counter() - started:.0f} s")
    # As a served process keeps them: the balance and revenue deltas folded.
    from paytrack.services.analytics import fold_revenue, prepare_rollups
    from paytrack.services.ledger import fold_balances
    with storage.unit_of_work() as uow:
        prepare_rollups(uow)
        uow.commit()
    for fold in (fold_revenue, fold_balances):
        while True:
            with storage.unit_of_work() as uow:
                done = fold(uow)
                uow.commit()
            if not done:
                break
    admin = signed_in(storage, "admin")
    with storage.unit_of_work(readonly=True) as uow:
        payment = uow.payments.list(filters={}, limit=1)[0]
    baseline = timed(admin, "/v1/health", args.runs)
    assert baseline is not None
    print(f"baseline GET /v1/health: {baseline:.2f} ms (median of {args.runs})")
    overviews = ["/dashboard/", "/dashboard/?interval=month"]
    if args.year:
        span = f"start={args.year}-01-01&end={args.year}-12-31&currency=USD"
        overviews += [f"/dashboard/?{span}&interval=day", f"/dashboard/?{span}&interval=month"]
    if args.overview_only:
        ok = report(admin, overviews, args.runs, baseline, 300, payment["id"])
    else:
        print("admin:")
        ok = report(admin, ADMIN_PAGES, args.runs, baseline, 200, payment["id"])
        seller = signed_in(storage, "seller", seller_id=payment["seller_id"])
        print(f"seller {payment['seller_id']}:")
        ok &= report(seller, SELLER_PAGES, args.runs, baseline, 200, payment["id"])
    print("every page within its target" if ok else "some page is over its target")


if __name__ == "__main__":
    main()
