"""Refunds, coupons, customers and a seller's own analytics (issue 12, points 1 and 2) on
the mixed marketplace (``analytics_support``): every figure checked against amounts this
test computes from what was sent, from the deltas alone, after folding and after a
rebuild."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import Forbidden, NotFound, ValidationFailed
from paytrack.entrypoints.upkeep import run_once
from paytrack.services import analytics
from paytrack.services.payments import cancel_payment, capture_payment
from tests.integration.analytics_support import EXPECTED, START, make_storage, marketplace
from tests.integration.conftest import ADMIN, committed, new_payment

FROM, TO = date(2026, 2, 15), date(2026, 4, 10)
DAY1 = date(2026, 3, 2)
USD = EXPECTED["USD"]


@pytest.fixture
def world(engine):
    storage = make_storage(engine)
    return storage, marketplace(storage)


def read(storage, view, actor=ADMIN, **kw):
    with storage.unit_of_work(readonly=True) as uow:
        return view(uow, actor, **{"currency": "USD", "start": FROM, "end": TO, **kw})


def each_state(storage):
    """The deltas alone, then folded, then rebuilt from history."""
    yield "pending"
    run_once(storage)
    yield "folded"
    committed(storage, analytics.rebuild_analytics, ADMIN)
    yield "rebuilt"


def rate(part: int, whole: int) -> str:
    from decimal import ROUND_HALF_UP, Decimal
    return str((Decimal(part) / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def test_refund_rates_per_seller_and_item_and_in_all(world):
    storage, _ = world
    # s1: A 11500 (5750 back), B 18500, C 5400 (2700 back); s2: D 5000 (all back)
    sellers = [("s1", 2, 5750 + 2700, 3, 11500 + 18500 + 5400), ("s2", 1, 5000, 1, 5000)]
    items = [("py", 1, 5750, 2, 11500 + 18500), ("jazz", 1, 5000, 1, 5000),
             ("sql", 1, 2700, 1, 5400)]
    for state in each_state(storage):
        found = read(storage, analytics.refunds, limit=2)
        assert (found["refunds"], found["refunded"], found["captured"], found["gross"]) == (
            USD["refunds"], USD["refunded"], USD["transactions"], USD["gross"]), state
        assert found["refund_rate_by_count"] == rate(3, 4) == "0.7500"
        assert found["refund_rate_by_amount"] == rate(13450, 40400)
        assert [(s["seller_id"], s["refunds"], s["refunded"], s["captured"], s["gross"])
                for s in found["sellers"]] == sellers, state
        assert found["sellers"][1]["refund_rate_by_amount"] == "1.0000"
        assert [(i["item_id"], i["refunds"], i["refunded"], i["captured"], i["gross"])
                for i in found["items"]] == items[:2], state  # the top 2 by refunded
    assert read(storage, analytics.refunds, currency="JPY")["refund_rate_by_count"] == "0.0000"


def test_coupon_usage_discount_and_funder(world):
    storage, p = world
    platform, seller = p["B"]["coupon_id"], p["C"]["coupon_id"]
    for state in each_state(storage):
        found = read(storage, analytics.coupons)
        assert [(c["coupon_id"], c["code"], c["funded_by"], c["uses"], c["discount"],
                 c["gross"], c["refunded"], c["net"]) for c in found["data"]] == [
            (platform, "PLAT15", "platform", 1, 1500, 18500, 0, 18500),  # dispute won
            (seller, "SELL10", "seller", 1, 600, 5400, 2700, 2700)], state
        assert [(t["funded_by"], t["uses"], t["discount"]) for t in found["totals"]] == [
            ("platform", 1, 1500), ("seller", 1, 600)]
        assert sum(t["discount"] for t in found["totals"]) == USD["discount"]
    assert read(storage, analytics.coupons, currency="EUR")["data"] == []


def test_new_and_returning_customers_and_cohorts(world):
    storage, _ = world
    clock = storage.clock
    # April: c1 (first paid on day 1) comes back; c7 is new
    clock.now = clock.now.replace(month=4, day=6)
    new_payment(storage, seller_id="s1", customer_id="c1", item_id="py", subtotal=2000)
    new_payment(storage, seller_id="s2", customer_id="c7", item_id="jazz", subtotal=3000)
    march_net = USD["gross"] - USD["refunded"]
    for state in each_state(storage):
        months = read(storage, analytics.customers, interval="month")
        assert months["new_customers"] == 4, state  # c1, c2, c3 in March, c7 in April
        assert [(b["bucket"], b["new_customers"], b["new"], b["returning"])
                for b in months["data"]] == [
            ("2026-02", 0, {"payments": 0, "gross": 0, "net": 0},
             {"payments": 0, "gross": 0, "net": 0}),
            ("2026-03", 3, {"payments": 4, "gross": USD["gross"], "net": march_net},
             {"payments": 0, "gross": 0, "net": 0}),
            ("2026-04", 1, {"payments": 1, "gross": 3000, "net": 3000},
             {"payments": 1, "gross": 2000, "net": 2000})], state
        assert [(c["cohort"], c["customers"], c["payments"], c["gross"], c["net"])
                for c in months["cohorts"]] == [
            ("2026-03", 3, 5, USD["gross"] + 2000, march_net + 2000),
            ("2026-04", 1, 1, 3000, 3000)], state
        # the cohorts' revenue is the platform's and the sellers': all of it (c4 never paid)
        march = months["cohorts"][0]
        assert march["platform_revenue"] == USD["platform_revenue"] + 400

        days = read(storage, analytics.customers, start=DAY1,
                     end=DAY1 + timedelta(days=1))
        # day 2: the refunds of day-1 customers are returning customers' money
        assert [(b["bucket"], b["new_customers"], b["new"], b["returning"])
                for b in days["data"]] == [
            ("2026-03-02", 3, {"payments": 4, "gross": USD["gross"], "net": USD["gross"]},
             {"payments": 0, "gross": 0, "net": 0}),
            ("2026-03-03", 0, {"payments": 0, "gross": 0, "net": 0},
             {"payments": 0, "gross": 0, "net": -USD["refunded"]})], state
        weeks = read(storage, analytics.customers, interval="week")
        assert sum(b["new_customers"] for b in weeks["data"]) == 4
        assert sum(b["new"]["gross"] + b["returning"]["gross"] for b in weeks["data"]) == (
            USD["gross"] + 5000)


def test_a_pending_capture_earlier_than_a_folded_first_capture_moves_no_one_twice(world):
    storage, _ = world
    run_once(storage)  # c1's first capture (day 1) folded
    new_payment(storage, seller_id="s1", customer_id="c1", item_id="py", subtotal=700)
    found = read(storage, analytics.customers, interval="month")
    assert found["new_customers"] == 3
    assert found["data"][1]["new"]["payments"] == 5  # same month: still new


def test_a_pending_delta_before_a_customers_first_capture_is_in_no_cohort(engine):
    # c1's payment is canceled on 1 March and confirmed on 3 March (its first capture):
    # the cancel's +1 was folded while c1 had no capture (no cohort), the confirmation's
    # -1 is dated 1 March too. Read before it is folded, the -1 must stay out of the
    # 3-March cohort, as the fold keeps it out.
    storage = make_storage(engine)
    payment = new_payment(storage, customer_id="c1", subtotal=1000, capture=False)
    committed(storage, cancel_payment, payment["id"], ADMIN)
    run_once(storage)
    storage.clock.advance(2 * 86400)
    committed(storage, capture_payment, payment["id"], ADMIN)
    day = START.date()
    pending = read(storage, analytics.customers, start=day, end=day)
    run_once(storage)
    assert pending == read(storage, analytics.customers, start=day, end=day)
    assert pending["cohorts"] == []


SELLER_1 = Actor(Role.SELLER, "s1")


def test_a_seller_sees_its_own_figures_only(world):
    storage, _ = world
    # s1: A, B, C captured (35400); refunds 5750 + 2700; F canceled; EUR: G
    for state in each_state(storage):
        own = read(storage, analytics.seller_summary, SELLER_1)
        assert own == read(storage, analytics.seller_summary, seller_id="s1"), state
        assert (own["seller_id"], own["transactions"], own["gross"], own["refunded"],
                own["failed"], own["discount"]) == (
            "s1", 3, 35400, 8450, 1, 2100), state
        assert own["earnings"] == 8000 + 16000 + 4320 - 4000 - 2160
        assert own["commission"] == 2000 + 4000 + 1080 - 1000 - 540
        assert own["average_order_value"] == 11800
        assert "seller_earnings" not in own and "platform_revenue" not in own
        trend = read(storage, analytics.seller_trend, SELLER_1, start=DAY1,
                     end=DAY1 + timedelta(days=2))
        assert [(b["bucket"], b["transactions"], b["gross"], b["earnings"],
                 b["commission"]) for b in trend["data"]] == [
            ("2026-03-02", 3, 35400, 8000 + 16000 + 4320, 2000 + 4000 + 1080),
            ("2026-03-03", 0, 0, -4000 - 2160, -1000 - 540),
            ("2026-03-04", 0, 0, 0, 0)], state  # B's dispute opened and won
        top = read(storage, analytics.seller_top_items, SELLER_1)
        assert [(i["item_id"], i["units"], i["gross"]) for i in top["data"]] == [
            ("py", 2, 30000), ("sql", 1, 5400)]
    before = read(storage, analytics.seller_summary, SELLER_1)
    new_payment(storage, seller_id="s2", customer_id="c1", subtotal=99000)
    assert read(storage, analytics.seller_summary, SELLER_1) == before


def test_a_seller_reaches_no_other_sellers_analytics(world):
    storage, _ = world
    for view in (analytics.seller_summary, analytics.seller_trend,
                 analytics.seller_top_items):
        with pytest.raises(NotFound):
            read(storage, view, SELLER_1, seller_id="s2")
        with pytest.raises(Forbidden):
            read(storage, view, Actor(Role.CUSTOMER, "c1"))
        with pytest.raises(ValidationFailed):
            read(storage, view)  # an admin names the seller
        with pytest.raises(NotFound):
            read(storage, view, seller_id="nobody")


def test_a_sellers_transactions_page_by_page_with_their_total(world):
    storage, _ = world
    start = START + timedelta(days=10)
    storage.clock.now = start
    mine = [new_payment(storage, seller_id="s1", customer_id=f"c{i}", subtotal=1000 + i,
                        capture=i % 2 == 0)["id"] for i in range(5)]

    def walk(**kw):
        seen, cursor, totals = [], None, set()
        while True:
            with storage.unit_of_work(readonly=True) as uow:
                seller, rows, total = analytics.seller_transactions(
                    uow, SELLER_1, limit=3, cursor=cursor, **kw)
            assert seller == "s1"
            totals.add(total)
            seen += [r["id"] for r in rows[:2]]
            if len(rows) <= 2:
                return seen, totals
            cursor = rows[1]["id"]

    everything, totals = walk()
    assert len(everything) == len(set(everything)) == 5 + 5  # A B C F G and these
    assert everything[:5] == mine[::-1] and totals == {10}
    succeeded, totals = walk(status="succeeded")
    assert totals == {len(succeeded)} and set(mine[0::2]) <= set(succeeded)
    assert not set(mine[1::2]) & set(succeeded)
    eur, totals = walk(currency="EUR")
    assert totals == {1} and len(eur) == 1
