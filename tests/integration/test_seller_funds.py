"""Seller balances with a hold: earnings held in pending, released in batches, refunds
after the release taken from available and then as the seller's debt, recovered from its
next releases."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.ledger import JournalEntry, seller_available, seller_in_transit
from paytrack.domain.splits import Bearer, Policy
from paytrack.services import ledger, parties, seller_funds
from paytrack.services.payments import capture_payment
from paytrack.services.refunds import refund_payment
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, committed, new_payment

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(engine, clock) -> Storage:
    return Storage(engine, Policy(hold_days=7), clock=clock)


def balance(storage, seller="seller_1", currency="USD") -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        rows = ledger.seller_balance(uow, seller, ADMIN)["balances"]
    row = next((r for r in rows if r["currency"] == currency), None)
    return {k: v for k, v in (row or {}).items() if k != "currency"}


def release(storage) -> int:
    return committed(storage, seller_funds.release_due)


def earnings(storage, seller="seller_1", **filters) -> list[dict]:
    with storage.unit_of_work(readonly=True) as uow:
        return seller_funds.list_earnings(uow, seller, ADMIN, limit=100, **filters)


def verified(storage) -> None:
    with storage.unit_of_work(readonly=True) as uow:
        report = ledger.verify_ledger(uow, ADMIN)
    assert report["ok"], report


def refund(storage, payment, amount=None):
    return committed(storage, refund_payment, payment["id"], ADMIN, reason="test",
                     amount=amount)


def pay_out(storage, seller: str, amount: int, currency: str = "USD") -> None:
    """Stand-in for a paid payout: move ``amount`` out of available."""
    entry = JournalEntry("payout.requested", "test payout")
    entry.debit(seller_available(seller), currency, amount)
    entry.credit(seller_in_transit(seller), currency, amount)
    with storage.unit_of_work() as uow:
        uow.ledger.post(entry, uow.now())
        uow.commit()


def test_a_capture_is_held_for_the_hold_period_then_released(storage, clock):
    payment = new_payment(storage, subtotal=10000)  # seller share 8000
    [earning] = earnings(storage)
    assert earning["available_on"] == START + timedelta(days=7)
    assert (earning["gross"], earning["commission"], earning["net"], earning["pending"]) == (
        10000, 2000, 8000, 8000)
    assert earning["payment_id"] == payment["id"]
    assert release(storage) == 0
    clock.advance(days=7, seconds=-1)
    assert release(storage) == 0
    assert balance(storage) == {"pending": 8000, "available": 0, "in_transit": 0,
                                "paid_out": 0, "debt": 0}
    clock.advance(seconds=1)
    assert release(storage) == 1
    assert balance(storage)["pending"] == 0
    assert balance(storage)["available"] == 8000
    assert release(storage) == 0  # idempotent: nothing is released twice
    [earning] = earnings(storage)
    assert (earning["pending"], earning["released"], earning["released_at"]) == (
        0, 8000, clock.now)
    verified(storage)


def test_a_sellers_own_hold_period_wins(storage, clock):
    committed(storage, parties.upsert_party, "seller", "seller_1", ADMIN, hold_days=0)
    new_payment(storage, subtotal=1000)
    new_payment(storage, subtotal=1000, seller_id="seller_2")
    assert release(storage) == 1
    assert balance(storage)["available"] == 800
    assert balance(storage, "seller_2")["pending"] == 800


def test_one_release_moves_many_earnings_in_one_entry_per_seller_and_currency(storage, clock):
    for _ in range(3):
        new_payment(storage, subtotal=1000)
    new_payment(storage, subtotal=1000, currency="EUR")
    new_payment(storage, subtotal=1000, seller_id="seller_2")
    clock.advance(days=8)
    assert release(storage) == 5
    with storage.unit_of_work(readonly=True) as uow:
        entries = [e for e in ledger.list_entries(uow, ADMIN, limit=100)
                   if e["kind"] == "seller.released"]
    assert len(entries) == 3
    assert balance(storage)["available"] == 2400
    assert balance(storage, currency="EUR")["available"] == 800
    verified(storage)


def test_a_refund_before_the_release_takes_from_pending(storage, clock):
    payment = new_payment(storage, subtotal=10000)
    refund(storage, payment, 2500)  # seller part 2000
    assert balance(storage)["pending"] == 6000
    [earning] = earnings(storage)
    assert (earning["pending"], earning["refunded"]) == (6000, 2000)
    clock.advance(days=7)
    release(storage)
    assert balance(storage) == {"pending": 0, "available": 6000, "in_transit": 0,
                                "paid_out": 0, "debt": 0}
    verified(storage)


def test_a_refund_after_the_release_takes_from_available(storage, clock):
    payment = new_payment(storage, subtotal=10000)
    clock.advance(days=7)
    release(storage)
    refund(storage, payment, 5000)
    assert balance(storage)["available"] == 4000
    assert balance(storage)["debt"] == 0
    verified(storage)


def test_a_refund_after_payout_is_never_blocked_and_becomes_debt(storage, clock):
    first = new_payment(storage, subtotal=10000)
    clock.advance(days=7)
    release(storage)
    pay_out(storage, "seller_1", 7000)  # 1000 left available
    refund(storage, first)  # the seller's part: 8000
    assert balance(storage)["available"] == 0
    assert balance(storage)["debt"] == 7000
    # the next releases pay the debt first
    new_payment(storage, subtotal=5000)  # 4000 to the seller
    clock.advance(days=7)
    release(storage)
    assert balance(storage) == {"pending": 0, "available": 0, "in_transit": 7000,
                                "paid_out": 0, "debt": 3000}
    new_payment(storage, subtotal=5000)
    clock.advance(days=7)
    release(storage)
    assert balance(storage)["debt"] == 0
    assert balance(storage)["available"] == 1000
    verified(storage)


def test_a_refund_of_a_held_payment_with_a_released_one_before_takes_from_its_own_hold(
        storage, clock):
    old = new_payment(storage, subtotal=10000)
    clock.advance(days=7)
    release(storage)
    fresh = new_payment(storage, subtotal=10000)
    refund(storage, fresh)
    assert balance(storage) == {"pending": 0, "available": 8000, "in_transit": 0,
                                "paid_out": 0, "debt": 0}
    assert old["id"] != fresh["id"]
    clock.advance(days=7)
    assert release(storage) == 1  # the refunded earning releases nothing
    assert balance(storage)["available"] == 8000
    verified(storage)


def test_a_gateway_fee_the_seller_bears_is_netted_from_its_earning(engine, clock):
    storage = Storage(engine, Policy(gateway_fee_bearer=Bearer.SELLER), clock=clock)
    payment = new_payment(storage, subtotal=1000, capture=False)
    committed(storage, capture_payment, payment["id"], ADMIN, gateway_fee=59)
    [earning] = earnings(storage)
    assert (earning["net"], earning["pending"]) == (800 - 59, 741)
    clock.advance(days=7)
    release(storage)
    assert balance(storage)["available"] == 741
    verified(storage)


def test_a_crash_mid_release_changes_nothing(storage, clock, monkeypatch):
    new_payment(storage, subtotal=10000)
    clock.advance(days=7)

    def crash(*args, **kwargs):
        raise RuntimeError("killed between marking and posting")

    with storage.unit_of_work() as uow:
        monkeypatch.setattr(uow.ledger, "post", crash)
        with pytest.raises(RuntimeError):
            seller_funds.release_due(uow)
    assert earnings(storage)[0]["released_at"] is None
    assert balance(storage)["pending"] == 8000
    assert release(storage) == 1
    assert balance(storage)["available"] == 8000
    verified(storage)


def test_earnings_list_filters_and_pages(storage, clock):
    ids = [new_payment(storage, subtotal=1000)["id"] for _ in range(3)]
    clock.advance(days=7)
    release(storage)
    newest = new_payment(storage, subtotal=1000)["id"]
    assert [e["payment_id"] for e in earnings(storage, released=False)] == [newest]
    assert [e["payment_id"] for e in earnings(storage, released=True)] == ids[::-1]
    with storage.unit_of_work(readonly=True) as uow:
        page = seller_funds.list_earnings(uow, "seller_1", ADMIN, limit=2, cursor=newest)
    assert [e["payment_id"] for e in page] == ids[::-1][:2]


@postgres_only
def test_concurrent_releases_move_each_earning_once(storage, clock):
    for i in range(40):
        new_payment(storage, subtotal=1000, seller_id=f"seller_{i % 4}")
    clock.advance(days=7)
    barrier = threading.Barrier(4)

    def worker(_: int) -> int:
        barrier.wait()
        moved = 0
        while True:
            with storage.unit_of_work() as uow:
                batch = seller_funds.release_due(uow, limit=3)
                uow.commit()
            if not batch:
                return moved
            moved += batch

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sum(pool.map(worker, range(4))) == 40
    for i in range(4):
        assert balance(storage, f"seller_{i}")["available"] == 8000
    verified(storage)


@postgres_only
def test_refunds_racing_a_release_take_each_unit_from_one_place(storage, clock):
    payments = [new_payment(storage, subtotal=1000) for _ in range(20)]
    clock.advance(days=7)
    barrier = threading.Barrier(21)

    def one(i: int) -> None:
        barrier.wait()
        if i == 20:
            release(storage)
        else:
            refund(storage, payments[i], 500)

    with ThreadPoolExecutor(max_workers=21) as pool:
        list(pool.map(one, range(21)))
    release(storage)
    # 20 × 800 earned, 20 × 400 refunded: wherever each refund found the money
    assert balance(storage) == {"pending": 0, "available": 8000, "in_transit": 0,
                                "paid_out": 0, "debt": 0}
    verified(storage)


def test_verify_reports_a_pending_balance_its_earnings_do_not_hold(storage, clock):
    payment = new_payment(storage, subtotal=10000)
    verified(storage)
    with storage.unit_of_work() as uow:  # an earning changed behind the ledger's back
        uow.earnings.change(payment["id"], pending=-1)
        uow.commit()
    with storage.unit_of_work(readonly=True) as uow:
        report = ledger.verify_ledger(uow, ADMIN)
    assert not report["ok"]
    assert report["held_differences"] == [{"seller_id": "seller_1", "currency": "USD",
                                           "pending_balance": 8000,
                                           "held_by_earnings": 7999}]


def test_a_new_hold_period_applies_to_what_the_seller_still_has_held(storage, clock):
    new_payment(storage, subtotal=1000)
    clock.advance(days=2)
    assert release(storage) == 0
    committed(storage, parties.upsert_party, "seller", "seller_1", ADMIN, hold_days=1)
    [earning] = earnings(storage)
    assert earning["available_on"] == START + timedelta(days=1)
    assert release(storage) == 1
    committed(storage, parties.upsert_party, "seller", "seller_1", ADMIN, hold_days=30)
    new_payment(storage, subtotal=1000)
    clock.advance(days=29)
    assert release(storage) == 0
    clock.advance(days=1)
    assert release(storage) == 1
