"""Revenue analytics equal to the ledger (issue 12, point 3), on SQLite and PostgreSQL.

A mixed marketplace (``analytics_support``) is summed per currency and every figure is
checked against the ledger's balances and against what the test itself sent: first from
the deltas alone, then after the background job folded them, then after a rebuild; and
``ledger verify`` agrees each time. Then the parts: trends that add up to the summary, top
lists, local days, a time zone change, concurrent folds, a fold that fails half way."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, select, text, update

from paytrack.adapters.storage import analytics as analytics_storage
from paytrack.adapters.storage.analytics_history import RevenueHistory
from paytrack.adapters.storage.tables import (
    analytics_state,
    customer_firsts,
    revenue_deltas,
    rollups,
)
from paytrack.domain.analytics import MEASURES as ALL_MEASURES
from paytrack.domain.analytics import Measures
from paytrack.domain.errors import AnalyticsRebuilding, LedgerError
from paytrack.domain.ledger import JournalEntry, gateway_clearing, seller_pending
from paytrack.domain.limits import MAX_BALANCE_MINOR
from paytrack.domain.splits import Policy
from paytrack.entrypoints.upkeep import run_once
from paytrack.services import analytics, ledger
from paytrack.services.payments import cancel_payment, capture_payment
from paytrack.services.refunds import refund_payment
from tests.clock import Clock
from tests.conftest import postgres_only
from tests.integration.analytics_support import (
    DISPUTE_FEES,
    EXPECTED,
    PAID_OUT,
    make_storage,
    marketplace,
)
from tests.integration.conftest import ADMIN, committed, new_payment

# Whole March from the month rollup, the days around it from the day rollup.
FROM, TO = date(2026, 2, 15), date(2026, 4, 10)
MEASURES = list(EXPECTED["USD"])


def summary(storage, currency: str, start: date = FROM, end: date = TO, **kw) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        return analytics.summary(uow, ADMIN, currency=currency, start=start, end=end, **kw)


def verify(storage) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        return ledger.verify_ledger(uow, ADMIN)


def count(storage, table) -> int:
    with storage.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def ledger_says(storage, currency: str) -> dict[str, int]:
    """The figures the ledger's balances give, per the README's definitions."""
    with storage.unit_of_work(readonly=True) as uow:
        accounts = uow.ledger.accounts(currency=currency)
        paid_out = sum(uow.ledger.paid_out(a["code"]).get(currency, 0) for a in accounts
                       if a["code"].endswith(":payout_in_transit"))
    balance: dict[str, int] = {}
    for a in accounts:
        balance[a["code"]] = a["current_balance"]
    owed = sum(v if not code.endswith(":debt") else -v
               for code, v in balance.items() if code.startswith("seller:"))
    return {"platform_revenue": balance.get("platform:revenue", 0),
            "tax": balance.get("platform:tax_payable", 0),
            "shipping": balance.get("platform:shipping", 0),
            "platform_discount": balance.get("platform:discounts", 0),
            "fees": balance.get("platform:fees", 0),
            "seller_earnings": owed + paid_out,  # payouts left the seller's accounts
            "clearing": sum(v for code, v in balance.items() if code.startswith("gateway:")),
            "paid_out": paid_out}


def check_every_figure(storage) -> None:
    for currency, expected in EXPECTED.items():
        found = summary(storage, currency)
        assert {m: found[m] for m in MEASURES} == expected, currency
        books = ledger_says(storage, currency)
        for name in ("platform_revenue", "tax", "shipping", "platform_discount", "fees",
                     "seller_earnings"):
            assert found[name] == books[name], (currency, name)
        assert books["paid_out"] == PAID_OUT[currency]
        # what the gateways still hold: what they took, less fees, refunds, disputes and
        # their fees, and payouts
        assert books["clearing"] == (found["gross"] - found["fees"] - found["refunded"]
                                     - found["disputed"] - DISPUTE_FEES[currency]
                                     - PAID_OUT[currency]), currency
    usd = summary(storage, "USD")
    assert (usd["average_transaction_value"], usd["success_rate"], usd["failure_rate"]) == (
        10100, "0.6667", "0.3333")
    assert summary(storage, "JPY")["success_rate"] == "1.0000"
    report = verify(storage)
    assert report["ok"] and report["revenue_checked"], report


@pytest.fixture
def world(engine):
    storage = make_storage(engine)
    return storage, marketplace(storage)


def test_every_figure_equals_the_ledger_and_what_was_sent_before_and_after_folding_and_rebuilding(
        world):
    storage, _ = world
    deltas = count(storage, revenue_deltas)
    assert deltas > 0 and count(storage, rollups[("totals", "day")]) == 0
    check_every_figure(storage)  # from the deltas alone

    assert run_once(storage).revenue_folded == deltas
    assert count(storage, revenue_deltas) == 0
    check_every_figure(storage)  # from the rollups

    rebuilt = committed(storage, analytics.rebuild_analytics, ADMIN)
    assert rebuilt["tz"] == "UTC" and rebuilt["deltas"] > 0
    check_every_figure(storage)  # rebuilt from the journal entries, payments and disputes


@pytest.mark.parametrize(("held", "held_periods"), [
    (1, analytics_storage.HELD_PERIOD_CELLS),  # day cells written every batch
    (1, 1),  # every cell written every batch
    (analytics_storage.HELD_CELLS, analytics_storage.HELD_PERIOD_CELLS)])  # all at the end
def test_a_rebuild_in_many_batches_adds_cells_up_across_them_exactly(world, monkeypatch, held,
                                                                      held_periods):
    storage, _ = world
    monkeypatch.setattr(analytics, "FOLD_BATCH", 2)  # a batch's cells meet the held ones
    monkeypatch.setattr(analytics_storage, "HELD_CELLS", held)
    monkeypatch.setattr(analytics_storage, "HELD_PERIOD_CELLS", held_periods)
    rebuilt = committed(storage, analytics.rebuild_analytics, ADMIN)
    assert rebuilt["deltas"] > 10
    assert count(storage, revenue_deltas) == 0
    check_every_figure(storage)


def test_one_sellers_summary_is_its_share(world):
    storage, _ = world
    run_once(storage)
    s1, s2 = (summary(storage, "USD", seller_id=s) for s in ("s1", "s2"))
    assert (s1["gross"], s2["gross"]) == (11500 + 18500 + 5400, 5000)
    assert s1["seller_id"] == "s1" and s1["failed"] == 1 and s2["failed"] == 1
    for measure in MEASURES:
        assert s1[measure] + s2[measure] == EXPECTED["USD"][measure], measure
    assert summary(storage, "USD", seller_id="nobody")["transactions"] == 0


def test_a_tampered_rollup_fails_ledger_verify(world):
    storage, _ = world
    run_once(storage)
    table = rollups[("items", "month")]
    with storage.engine.begin() as conn:
        conn.execute(update(table).where(table.c.currency == "EUR", table.c.item_id == "jazz")
                     .values(refunded=table.c.refunded + 1))
    report = verify(storage)
    assert not report["ok"]
    assert report["revenue_differences"] == [{
        "rollup": "revenue_items_month", "currency": "EUR", "period": None,
        "measure": "refunded",
        "stored": 2001, "expected": 2000}]


def test_a_figure_moved_to_another_seller_item_method_or_coupon_fails_ledger_verify(world):
    # Every currency total and every day still agree: only whose figure it is changed.
    storage, p = world
    run_once(storage)
    moves = [("sellers", "seller_id", "s1", "s2"), ("items", "item_id", "py", "sql"),
             ("methods", "gateway", "razorpay", "paypal"),
             ("coupons", "coupon_id", p["B"]["coupon_id"], p["C"]["coupon_id"])]
    for name, column, source, target in moves:
        table = rollups[(name, "month")]
        with storage.engine.begin() as conn:
            conn.execute(update(table).where(table.c.currency == "USD",
                                             table.c[column] == source)
                         .values(gross=table.c.gross - 100))
            conn.execute(update(table).where(table.c.currency == "USD",
                                             table.c[column] == target)
                         .values(gross=table.c.gross + 100))
        report = verify(storage)
        assert not report["ok"], name
        assert {(d["rollup"], d["group"][column], d["stored"] - d["expected"])
                for d in report["revenue_differences"]} == {
            (table.name, source, -100), (table.name, target, 100)}, name
        committed(storage, analytics.rebuild_analytics, ADMIN)  # the remedy
        assert verify(storage)["ok"], name


@pytest.mark.xfail(strict=True, reason="ledger verify does not check the cohorts rollup "
                   "(nor customer_firsts) yet: its cells depend on each customer's first "
                   "capture day in the analytics time zone")
def test_a_tampered_cohort_fails_ledger_verify(world):
    storage, _ = world
    run_once(storage)
    table = rollups[("cohorts", "day")]
    with storage.engine.begin() as conn:
        conn.execute(update(table).where(table.c.currency == "JPY")
                     .values(gross=table.c.gross + 1))
    report = verify(storage)
    assert not report["ok"]
    assert [(d["rollup"], d["measure"], d["stored"] - d["expected"])
            for d in report["revenue_differences"]] == [("revenue_cohorts_day", "gross", 1)]


def test_the_currencies_list_the_most_gross_first_before_and_after_folding(world):
    storage, _ = world
    gross = {c: summary(storage, c)["gross"] for c in ("USD", "EUR", "JPY")}
    expected = [c for c, g in sorted(gross.items(), key=lambda i: (-i[1], i[0])) if g]
    with storage.unit_of_work(readonly=True) as uow:
        assert analytics.currencies(uow, ADMIN) == expected  # from the deltas alone
    run_once(storage)
    with storage.unit_of_work(readonly=True) as uow:
        assert analytics.currencies(uow, ADMIN) == expected  # from the year rows


def test_trend_buckets_add_up_to_the_summary(world):
    storage, _ = world
    run_once(storage)
    new_payment(storage, seller_id="s2", customer_id="c9", item_id="jazz", subtotal=700)
    whole = summary(storage, "USD")
    for interval, buckets in (("day", 55), ("week", 9), ("month", 3)):
        with storage.unit_of_work(readonly=True) as uow:
            found = analytics.trend(uow, ADMIN, currency="USD", start=FROM, end=TO,
                                    interval=interval)
        assert len(found["data"]) == buckets
        assert (found["data"][0]["start"], found["data"][-1]["end"]) == (FROM, TO)
        for measure in MEASURES:
            assert sum(b[measure] for b in found["data"]) == whole[measure], (interval, measure)
    with storage.unit_of_work(readonly=True) as uow:
        days = analytics.trend(uow, ADMIN, currency="USD", start=date(2026, 3, 1),
                               end=date(2026, 3, 5))["data"]
    assert [(d["bucket"], d["transactions"], d["refunds"], d["disputes"]) for d in days] == [
        ("2026-03-01", 0, 0, 0), ("2026-03-02", 4, 0, 0), ("2026-03-03", 0, 3, 0),
        ("2026-03-04", 0, 0, 1), ("2026-03-05", 1, 0, 0)]
    assert days[1]["platform_revenue"] == 2000 + 4000 + 1080 + 1000
    assert days[1]["seller_earnings"] == 8000 + 16000 + 4320 + 4000


def test_top_lists_are_ordered_and_limited(world):
    storage, _ = world
    run_once(storage)
    with storage.unit_of_work(readonly=True) as uow:
        sellers = analytics.top_sellers(uow, ADMIN, currency="USD", start=FROM, end=TO)
        first = analytics.top_sellers(uow, ADMIN, currency="USD", start=FROM, end=TO, limit=1,
                                      by="net")
        items = analytics.top_items(uow, ADMIN, currency="USD", start=FROM, end=TO)
        units = analytics.top_items(uow, ADMIN, currency="USD", start=FROM, end=TO,
                                    by="units", limit=2)
        methods = analytics.methods(uow, ADMIN, currency="USD", start=FROM, end=TO)
    assert [(s["seller_id"], s["revenue"], s["units"]) for s in sellers["data"]] == [
        ("s1", 35400, 3), ("s2", 5000, 1)]
    assert sellers["data"][1] == {"seller_id": "s2", "revenue": 5000, "units": 1,
                                  "gross": 5000, "refunded": 5000, "refunds": 1, "net": 0,
                                  "platform_revenue": 0, "seller_earnings": 0}
    assert [(s["seller_id"], s["revenue"]) for s in first["data"]] == [("s1", 26950)]
    assert [(i["item_id"], i["seller_id"], i["revenue"], i["units"]) for i in items["data"]] \
        == [("py", "s1", 30000, 2), ("sql", "s1", 5400, 1), ("jazz", "s2", 5000, 1)]
    # ties (one unit each) in item order
    assert [(i["item_id"], i["revenue"]) for i in units["data"]] == [("py", 2), ("jazz", 1)]
    assert [(m["method"], m["gateway"], m["count"], m["amount"], m["failed"],
             m["success_rate"]) for m in methods["data"]] == [
        ("card", "manual", 1, 18500, 1, "0.5000"), ("card", "stripe", 1, 11500, 1, "0.5000"),
        ("upi", "razorpay", 1, 5400, 0, "1.0000"), ("paypal", "paypal", 1, 5000, 0, "1.0000")]


def test_coupon_and_cohort_rollups_and_first_captures(world):
    storage, _ = world
    run_once(storage)
    with storage.engine.connect() as conn:
        firsts = {(r.customer_id, r.currency): r.first_day
                  for r in conn.execute(select(customer_firsts))}
        coupons = rollups[("coupons", "month")]
        by_coupon = conn.execute(select(coupons.c.discount_funded_by, coupons.c.discount,
                                        coupons.c.captured)
                                 .order_by(coupons.c.discount_funded_by)).all()
        cohorts = rollups[("cohorts", "month")]
        cohort_gross = dict(conn.execute(
            select(cohorts.c.currency, func.sum(cohorts.c.gross)).group_by(cohorts.c.currency)
        ).all())
    day1 = date(2026, 3, 2)
    assert firsts == {("c1", "USD"): day1, ("c2", "USD"): day1, ("c3", "USD"): day1,
                      ("c5", "EUR"): day1, ("c6", "JPY"): day1}  # c4 never paid
    assert [tuple(r) for r in by_coupon] == [("platform", 1500, 1), ("seller", 600, 1)]
    assert cohort_gross == {c: EXPECTED[c]["gross"] for c in EXPECTED}


def test_a_payment_at_2330_utc_counts_on_the_next_day_in_kolkata(engine):
    clock = Clock(datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    storage = make_storage(engine, Policy(analytics_tz="Asia/Kolkata"), clock)
    new_payment(storage, subtotal=4200)

    def on(day: int) -> int:
        return summary(storage, "USD", date(2026, 3, day), date(2026, 3, day))["gross"]

    assert (on(1), on(2)) == (0, 4200)
    assert summary(storage, "USD", date(2026, 3, 2), date(2026, 3, 2))["tz"] == "Asia/Kolkata"
    run_once(storage)
    assert (on(1), on(2)) == (0, 4200)
    committed(storage, analytics.rebuild_analytics, ADMIN)
    assert (on(1), on(2)) == (0, 4200)


def test_changing_the_time_zone_rebuilds_the_rollups(engine):
    clock = Clock(datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    in_utc = make_storage(engine, Policy(), clock)
    new_payment(in_utc, subtotal=4200)
    run_once(in_utc)
    assert summary(in_utc, "USD", date(2026, 3, 1), date(2026, 3, 1))["gross"] == 4200

    in_kolkata = make_storage(engine, Policy(analytics_tz="Asia/Kolkata"), clock)
    with pytest.raises(AnalyticsRebuilding, match="Asia/Kolkata"):
        summary(in_kolkata, "USD")
    assert verify(in_kolkata)["ok"]  # totals do not depend on the day
    run_once(in_kolkata)  # the background job sees the new zone and rebuilds
    assert summary(in_kolkata, "USD", date(2026, 3, 1), date(2026, 3, 1))["gross"] == 0
    assert summary(in_kolkata, "USD", date(2026, 3, 2), date(2026, 3, 2))["gross"] == 4200
    with in_kolkata.unit_of_work(readonly=True) as uow:
        assert uow.analytics.state()["tz"] == "Asia/Kolkata"


def test_an_upgraded_install_builds_its_history_before_answering(engine):
    storage = make_storage(engine, Policy())
    new_payment(storage, subtotal=4200)
    with storage.engine.begin() as conn:  # as migration 0015 leaves an install with history
        conn.execute(text("DELETE FROM revenue_deltas"))
        conn.execute(text("DELETE FROM analytics_state"))
        conn.execute(insert(analytics_state).values(id=1, tz=None, rebuild_required=True))
    with pytest.raises(AnalyticsRebuilding, match="no history yet"):
        summary(storage, "USD")
    report = verify(storage)
    assert report["ok"] and not report["revenue_checked"]
    run_once(storage)
    assert summary(storage, "USD")["gross"] == 4200
    assert verify(storage)["revenue_checked"]


def test_the_ledger_refuses_an_entry_about_a_payment_without_its_tags(storage):
    payment = new_payment(storage)
    entry = JournalEntry("payment.adjusted", "no tags", payment_id=payment["id"])
    entry.debit(gateway_clearing("manual"), "USD", 100)
    entry.credit(seller_pending("seller_1"), "USD", 100)
    before = count(storage, revenue_deltas)
    with storage.unit_of_work() as uow, pytest.raises(LedgerError, match="revenue tags"):
        uow.ledger.post(entry, uow.now())
    assert count(storage, revenue_deltas) == before
    assert verify(storage)["ok"]


def test_a_fold_that_fails_half_way_folds_nothing(world, monkeypatch):
    storage, _ = world
    committed(storage, analytics.prepare_rollups)
    deltas = count(storage, revenue_deltas)
    real, calls = analytics_storage._upsert, []

    def upsert_then_die(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("the worker was killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(analytics_storage, "_upsert", upsert_then_die)
    with pytest.raises(RuntimeError):
        committed(storage, analytics.fold_revenue)
    assert count(storage, revenue_deltas) == deltas
    assert all(count(storage, table) == 0 for table in rollups.values())
    assert count(storage, customer_firsts) == 0
    monkeypatch.setattr(analytics_storage, "_upsert", real)
    assert committed(storage, analytics.fold_revenue) == deltas
    check_every_figure(storage)


def test_a_rollup_cell_never_passes_the_limit_and_sums_stay_exact(storage):
    # Deltas no real payment makes (each amount is at most 10^14), to reach the limit.
    committed(storage, analytics.prepare_rollups)
    big = 3 * 10**18
    row = {"day": date(2026, 3, 2), "currency": "USD", "seller_id": "s", "customer_id": "c",
           "item_type": "course", "item_id": "i", "method": "card", "gateway": "manual",
           "coupon_id": None, "discount_funded_by": None,
           **Measures(captured=1, gross=big).as_dict()}
    with storage.engine.begin() as conn:
        conn.execute(insert(revenue_deltas), [row] * 4)
    for _ in range(4):
        with storage.unit_of_work() as uow:
            assert uow.analytics.fold(limit=1) == 1
            uow.commit()
    table = rollups[("totals", "day")]
    with storage.engine.connect() as conn:
        parts = conn.execute(select(table.c.part, table.c.gross).order_by(table.c.part)).all()
    assert [tuple(p) for p in parts] == [(0, big), (1, big), (2, big), (3, big)]
    assert all(abs(g) <= MAX_BALANCE_MINOR for _, g in parts)
    found = summary(storage, "USD", date(2026, 3, 1), date(2026, 3, 31))
    assert (found["gross"], found["transactions"]) == (4 * big, 4)  # past 2^63, exactly


def test_a_rebuilt_cell_never_passes_the_limit_either(storage):
    committed(storage, analytics.prepare_rollups)
    big = 3 * 10**18
    row = {"day": date(2026, 3, 2), "currency": "USD", "seller_id": "s", "customer_id": "c",
           "item_type": "course", "item_id": "i", "method": "card", "gateway": "manual",
           "coupon_id": None, "discount_funded_by": None,
           **Measures(captured=1, gross=big).as_dict()}
    with storage.unit_of_work() as uow:
        assert uow.analytics.refill([[row], [row], [row]]) == 3  # held across batches
        uow.commit()
    table = rollups[("items", "year")]
    with storage.engine.connect() as conn:
        parts = conn.execute(select(table.c.part, table.c.gross).order_by(table.c.part)).all()
    assert [tuple(p) for p in parts] == [(0, big), (1, big), (2, big)]
    found = summary(storage, "USD", date(2026, 1, 1), date(2026, 12, 31))
    assert (found["gross"], found["transactions"]) == (3 * big, 3)


@postgres_only
def test_two_folds_at_once_fold_every_delta_exactly_once(engine):
    storage = make_storage(engine, Policy())
    for i in range(3):
        new_payment(storage, customer_id=f"c{i}", subtotal=1000 * (i + 1))
    committed(storage, analytics.prepare_rollups)
    first_has_claimed, release_first = threading.Event(), threading.Event()

    def first() -> int:
        with storage.unit_of_work() as uow:
            uow.analytics.lock_state(exclusive=False)
            folded = uow.analytics.fold(limit=2)
            first_has_claimed.set()
            release_first.wait(10)  # hold the claimed deltas and the rows it upserted
            uow.commit()
        return folded

    with ThreadPoolExecutor(max_workers=2) as pool:
        held = pool.submit(first)
        assert first_has_claimed.wait(10)
        for i in range(3, 5):
            new_payment(storage, customer_id=f"c{i}", subtotal=1000 * (i + 1))
        second = pool.submit(committed, storage, analytics.fold_revenue)
        release_first.set()
        assert held.result() == 2
        assert second.result() == 3  # the one the first left, and the two made since
    assert count(storage, revenue_deltas) == 0
    found = summary(storage, "USD", date(2026, 3, 1), date(2026, 3, 31))
    assert (found["transactions"], found["gross"]) == (5, 1000 + 2000 + 3000 + 4000 + 5000)
    assert verify(storage)["ok"]


def test_a_lost_dispute_that_moves_no_platform_money_still_counts_as_a_loss(storage):
    from paytrack.services.disputes import lose_dispute, open_dispute

    payment = new_payment(storage, subtotal=5000, commission_rate="0")  # all the seller's
    dispute = committed(storage, open_dispute, payment["id"], ADMIN, amount=5000, reason="x")
    committed(storage, lose_dispute, dispute["id"], ADMIN)  # no entry: nothing left to move
    today = storage.clock().date()
    found = summary(storage, "USD", today, today)
    assert (found["dispute_losses"], found["disputed"], found["net"]) == (5000, 5000, 0)
    assert verify(storage)["ok"]
    committed(storage, analytics.rebuild_analytics, ADMIN)
    assert summary(storage, "USD", today, today)["dispute_losses"] == 5000


def cohort_cells(storage) -> dict[tuple, tuple[int, int, int]]:
    """(period, cohort: its first capture's day) -> (captured, failed, gross), over both
    grains' tables."""
    cells = {}
    with storage.engine.connect() as conn:
        for grain in ("day", "month"):
            table = rollups[("cohorts", grain)]
            for r in conn.execute(select(table)):
                values = (r.captured, r.failed, r.gross)
                if any(values):
                    cells[(grain, r._mapping[grain], r.cohort_day)] = values
    return cells


def test_a_payment_confirmed_after_it_was_canceled_leaves_no_negative_count_in_a_cohort(
        engine):
    clock = Clock(datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
    storage = make_storage(engine, Policy(), clock)
    payment = new_payment(storage, subtotal=1000, customer_id="late", capture=False)
    committed(storage, cancel_payment, payment["id"], ADMIN)
    run_once(storage)  # the customer has no capture yet: the cancel is in no cohort
    clock.advance(40 * 86400)
    committed(storage, capture_payment, payment["id"], ADMIN)  # takes the cancel back
    run_once(storage)
    first = date(2026, 4, 10)
    expected = {("day", first, first): (1, 0, 1000),
                ("month", date(2026, 4, 1), first): (1, 0, 1000)}
    assert cohort_cells(storage) == expected
    committed(storage, analytics.rebuild_analytics, ADMIN)
    assert cohort_cells(storage) == expected


def test_a_figure_moved_to_another_day_fails_ledger_verify(world):
    storage, _ = world
    run_once(storage)
    table = rollups[("totals", "day")]  # the month row still holds both days
    with storage.engine.begin() as conn:
        conn.execute(update(table).where(table.c.currency == "EUR",
                                         table.c.day == date(2026, 3, 3))
                     .values(refunded=table.c.refunded - 2000))
        conn.execute(update(table).where(table.c.currency == "EUR",
                                         table.c.day == date(2026, 3, 2))
                     .values(refunded=table.c.refunded + 2000))
    report = verify(storage)
    assert not report["ok"]
    assert report["revenue_differences"] == [
        {"rollup": "revenue_totals_day", "currency": "EUR", "period": date(2026, 3, day),
         "measure": "refunded", "stored": stored, "expected": expected}
        for day, stored, expected in ((2, 2000, 0), (3, 0, 2000))]


def test_a_delta_dated_in_a_stale_time_zone_fails_ledger_verify(engine):
    clock = Clock(datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    in_kolkata = make_storage(engine, Policy(analytics_tz="Asia/Kolkata"), clock)
    new_payment(in_kolkata, subtotal=1000)
    run_once(in_kolkata)
    assert verify(in_kolkata)["ok"]
    # A process still configured in UTC (a rolling restart) dates its capture 1 March.
    new_payment(make_storage(engine, Policy(), clock), customer_id="c2", subtotal=2000)
    for folded in (False, True):
        if folded:
            run_once(in_kolkata)
        report = verify(in_kolkata)
        assert not report["ok"], folded
        assert {(d["rollup"], d["period"], d["stored"], d["expected"])
                for d in report["revenue_differences"] if d["measure"] == "gross"} >= {
            ("revenue_totals_day", date(2026, 3, 1), 2000, 0),
            ("revenue_totals_day", date(2026, 3, 2), 1000, 3000)}
    committed(in_kolkata, analytics.rebuild_analytics, ADMIN)  # the remedy
    assert verify(in_kolkata)["ok"]


@postgres_only
def test_ledger_verify_while_payments_are_captured_reports_no_difference(world, monkeypatch):
    storage, _ = world
    real = RevenueHistory.expected

    def expected_then_a_capture_commits(self, *args):
        found = real(self, *args)
        new_payment(storage, customer_id="c_meanwhile", subtotal=1000)  # another session
        return found

    monkeypatch.setattr(RevenueHistory, "expected", expected_then_a_capture_commits)
    report = verify(storage)
    assert report["ok"], report["revenue_differences"]


def test_whole_years_read_from_the_year_rollup_agree_with_the_days_and_months(engine):
    """Captures at the ends of three years: a range of whole years reads year rows, one
    around them years, months and days; each agrees with what was captured, before the
    fold (deltas) and after it; a year row moved to another year fails verify."""
    clock = Clock(datetime(2024, 12, 31, 23, 0, tzinfo=UTC))
    storage = make_storage(engine, Policy(), clock)
    sent = {}
    for at, subtotal in ((datetime(2024, 12, 31, 23, 0), 1000),
                         (datetime(2025, 1, 1, 0, 0), 2000),
                         (datetime(2025, 7, 15, 12, 0), 4000),
                         (datetime(2025, 12, 31, 23, 59), 8000),
                         (datetime(2026, 1, 1, 0, 0), 16000)):
        clock.now = at.replace(tzinfo=UTC)
        new_payment(storage, subtotal=subtotal, item_id=f"course_{at.year}")
        sent[at.date()] = subtotal

    def gross(start: date, end: date) -> int:
        return summary(storage, "USD", start, end)["gross"]

    def expected(start: date, end: date) -> int:
        return sum(v for day, v in sent.items() if start <= day <= end)

    ranges = [(date(2025, 1, 1), date(2025, 12, 31)), (date(2024, 12, 31), date(2026, 1, 1)),
              (date(2024, 1, 1), date(2025, 12, 31)), (date(2025, 1, 2), date(2025, 12, 31)),
              (date(2024, 12, 1), date(2026, 1, 31))]
    before = [gross(*r) for r in ranges]
    run_once(storage)
    assert [gross(*r) for r in ranges] == before == [expected(*r) for r in ranges]
    with storage.unit_of_work(readonly=True) as uow:
        top = analytics.top_items(uow, ADMIN, currency="USD", start=date(2025, 1, 1),
                                  end=date(2025, 12, 31))
        months = analytics.trend(uow, ADMIN, currency="USD", start=date(2025, 1, 1),
                                 end=date(2025, 12, 31), interval="month")["data"]
    assert [(i["item_id"], i["gross"]) for i in top["data"]] == [("course_2025", 14000)]
    assert [m["gross"] for m in months] == [2000, 0, 0, 0, 0, 0, 4000, 0, 0, 0, 0, 8000]
    table = rollups[("totals", "year")]
    with storage.engine.connect() as conn:
        years = conn.execute(select(table.c.year, table.c.gross).order_by(table.c.year)).all()
    assert [tuple(r) for r in years] == [(date(2024, 1, 1), 1000), (date(2025, 1, 1), 14000),
                                         (date(2026, 1, 1), 16000)]
    assert verify(storage)["ok"]
    with storage.engine.begin() as conn:
        conn.execute(update(table).where(table.c.year == date(2025, 1, 1))
                     .values(gross=table.c.gross - 2000))
        conn.execute(update(table).where(table.c.year == date(2026, 1, 1))
                     .values(gross=table.c.gross + 2000))
    report = verify(storage)
    assert not report["ok"]
    assert [(d["rollup"], d["period"], d["stored"], d["expected"])
            for d in report["revenue_differences"] if d["measure"] == "gross"] == [
        ("revenue_totals_year", date(2025, 1, 1), 12000, 14000),
        ("revenue_totals_year", date(2026, 1, 1), 18000, 16000)]


def test_a_top_list_skips_groups_that_add_up_to_nothing_and_still_fills_up(engine):
    """Ranked on its figure first, then summed in full: a group whose every figure is 0
    (here a rollup row of zeros, as a take-back leaves) is not shown, and the next group
    takes its place; by net, refunds count."""
    clock = Clock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    storage = make_storage(engine, Policy(), clock)
    new_payment(storage, subtotal=3000, item_id="course_z")
    refunded = new_payment(storage, subtotal=5000, item_id="course_y")
    committed(storage, refund_payment, refunded["id"], ADMIN, amount=4000, reason="r")
    unpaid = new_payment(storage, subtotal=1000, item_id="course_b", capture=False)
    committed(storage, cancel_payment, unpaid["id"], ADMIN)
    run_once(storage)
    table = rollups[("items", "day")]
    with storage.engine.begin() as conn:
        conn.execute(insert(table).values(
            currency="USD", day=date(2026, 3, 2), seller_id="seller_1", item_type="course",
            item_id="course_a", part=0, **dict.fromkeys(ALL_MEASURES, 0)))

    def top(by: str, limit: int) -> list[tuple[str, int]]:
        with storage.unit_of_work(readonly=True) as uow:
            found = analytics.top_items(uow, ADMIN, currency="USD", start=date(2026, 3, 1),
                                        end=date(2026, 3, 31), by=by, limit=limit)
        return [(i["item_id"], i["revenue"]) for i in found["data"]]

    assert top("gross", 3) == [("course_y", 5000), ("course_z", 3000), ("course_b", 0)]
    assert top("net", 2) == [("course_z", 3000), ("course_y", 1000)]
    assert top("units", 3) == [("course_y", 1), ("course_z", 1), ("course_b", 0)]
