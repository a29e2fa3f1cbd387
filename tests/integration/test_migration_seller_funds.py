"""Upgrading to seller funds (0005): a seller whose pending balance a gateway fee it bore
took below zero (possible before) gets that shortfall as debt, so its pending balance is
what its held earnings add up to and ``ledger verify`` is clean after the upgrade."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert

from paytrack.adapters.storage.migrate import migrate
from paytrack.adapters.storage.tables import (
    accounts,
    customers,
    items,
    journal_entries,
    payments,
    postings,
    sellers,
)
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.splits import Policy
from paytrack.services import ledger, seller_funds
from tests.integration.conftest import ADMIN, committed, new_payment

NOW = datetime(2026, 11, 1, tzinfo=UTC)
STAMPS = {"created_at": NOW, "updated_at": NOW, "metadata": {}}


def _seed_at_0004(engine: Engine) -> None:
    """A 5.00 sale at an 80% rate whose 3.00 gateway fee the seller bore, as 0004 posted it:
    the seller's pending balance is 1.00 - 3.00 = -2.00."""
    migrate(engine, "0004")
    with engine.begin() as conn:
        conn.execute(insert(customers).values(id="cust", **STAMPS))
        conn.execute(insert(sellers).values(id="s1", **STAMPS))
        conn.execute(insert(items).values(item_type="course", id="c1", seller_id="s1",
                                          **STAMPS))
        conn.execute(insert(payments).values(
            id="pay_1", customer_id="cust", seller_id="s1", item_type="course", item_id="c1",
            currency="USD", subtotal=500, discount=0, tax=0, shipping=0, total=500,
            method="card", gateway="manual", kind="one_time", status="succeeded",
            commission_rate="0.80", commission_base="total", platform_fee=400,
            seller_amount=100, tax_collected=0, shipping_collected=0, gateway_fee=300,
            gateway_fee_bearer="seller", refunded_amount=0, reconciled=False,
            succeeded_at=NOW, **STAMPS))
        ids = {}
        for code, normal, balance, seller in (("gateway:manual:clearing", "debit", 200, None),
                                              ("seller:s1:pending", "credit", -200, "s1"),
                                              ("platform:revenue", "credit", 400, None)):
            ids[code] = conn.execute(insert(accounts).values(
                code=code, currency="USD", normal=normal, non_negative=False,
                balance=balance, seller_id=seller, created_at=NOW)
                .returning(accounts.c.id)).scalar_one()
        conn.execute(insert(journal_entries).values(
            id="je_1", kind="payment.captured", description="capture of pay_1",
            payment_id="pay_1", created_at=NOW))
        conn.execute(insert(postings), [
            {"entry_id": "je_1", "account_id": ids[code], "currency": "USD", "amount": amount}
            for code, amount in (("gateway:manual:clearing", 500), ("seller:s1:pending", -100),
                                 ("platform:revenue", -400), ("seller:s1:pending", 300),
                                 ("gateway:manual:clearing", -300))])


def test_a_pending_balance_below_its_earnings_becomes_debt(empty_engine):
    _seed_at_0004(empty_engine)
    migrate(empty_engine)
    clock = [NOW + timedelta(days=1)]
    storage = Storage(empty_engine, Policy(hold_days=0), clock=lambda: clock[0])
    with storage.unit_of_work(readonly=True) as uow:
        report = ledger.verify_ledger(uow, ADMIN)
        balance = ledger.seller_balance(uow, "s1", ADMIN)["balances"]
    assert report["ok"], report
    assert balance == [{"currency": "USD", "pending": 0, "available": 0, "in_transit": 0,
                        "paid_out": 0, "debt": 200}]
    new_payment(storage, seller_id="s1", item_id="c1", subtotal=1000)  # 800: 200 pay the debt
    assert committed(storage, seller_funds.release_due) == 1
    with storage.unit_of_work(readonly=True) as uow:
        assert ledger.seller_balance(uow, "s1", ADMIN)["balances"][0]["debt"] == 0
        assert ledger.verify_ledger(uow, ADMIN)["ok"]
