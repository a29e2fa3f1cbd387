"""The demo's year: what a newcomer's first look should show (payouts in every state,
disputes of each outcome, sellers in debt, released earnings), loaded through the services
and leaving a ledger that verifies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from paytrack.adapters.storage.db import make_engine
from paytrack.adapters.storage.migrate import migrate
from paytrack.adapters.storage.tables import disputes, order_lines, payouts, refunds
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import SYSTEM
from paytrack.domain.splits import Policy
from paytrack.entrypoints.demo import SELLERS, DemoSummary, load_demo
from paytrack.services.ledger import seller_balance, verify_ledger
from paytrack.services.orders import stream_stats
from paytrack.services.payouts import list_payout_accounts, pending_payouts
from paytrack.services.seller_funds import list_earnings
from paytrack.services.subscriptions import list_subscriptions

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PAYOUT_STATES = {"requested", "approved", "paid", "failed", "canceled"}
DISPUTE_STATES = {"open", "under_review", "won", "lost"}


@pytest.fixture
def demo(storage: Storage) -> tuple[Storage, DemoSummary]:
    return storage, load_demo(storage, payments=200, now=NOW)


def test_the_demo_year_has_payouts_disputes_debt_and_a_ledger_that_verifies(demo):
    storage, summary = demo
    assert set(summary.payouts) == PAYOUT_STATES
    assert set(summary.disputes) == DISPUTE_STATES
    assert summary.in_debt and summary.with_available > len(SELLERS) // 2
    assert summary.released > 0
    with storage.unit_of_work(readonly=True) as uow:
        assert verify_ledger(uow, SYSTEM)["ok"]
        rows = {s[0]: seller_balance(uow, s[0], SYSTEM)["balances"] for s in SELLERS}
        queue = pending_payouts(uow, SYSTEM, limit=100)
        accounts = [list_payout_accounts(uow, s[0], SYSTEM) for s in SELLERS]
        stored_payouts = uow.conn.execute(select(payouts)).mappings().all()
        stored_disputes = uow.conn.execute(select(disputes)).mappings().all()
        earnings = [e for s in SELLERS for e in all_earnings(uow, s[0])]
        rules = {r.decision_rule for r in uow.conn.execute(select(refunds.c.decision_rule))}
    in_debt = [s for s, balances in rows.items() if any(b["debt"] > 0 for b in balances)]
    assert in_debt == summary.in_debt
    assert sum(b["paid_out"] for balances in rows.values() for b in balances) > 0
    # the admin's queue: the payouts still requested or approved at the end
    assert {p["status"] for p in queue} == {"requested", "approved"}
    assert all(len(a) == 1 and a[0]["masked"].startswith("****") for a in accounts)
    for payout in stored_payouts:
        assert (payout["status"] == "paid") == (payout["reference"] is not None)
        assert (payout["status"] == "failed") == (payout["failure_reason"] is not None)
    for dispute in stored_disputes:
        assert dispute["reason_code"] != "general" and dispute["gateway_dispute_id"]
        assert bool(dispute["evidence"]) == (dispute["status"] == "under_review"
                                             or dispute["under_review_at"] is not None)
    # the demo's refund policy refunds some customer requests at once
    assert {"admin_one_step", "customer_small_recent", "manual_review", "admin"} <= rules
    # released every few nights and at the end: only what is not due yet is still held
    assert earnings
    for earning in earnings:
        due = aware(earning["available_on"]) <= NOW
        assert (earning["released_at"] is not None) == due


def all_earnings(uow, seller_id: str) -> list:
    found, cursor = [], None
    while page := list_earnings(uow, seller_id, SYSTEM, limit=100, cursor=cursor):
        found += page
        cursor = page[-1]["payment_id"]
    return found


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_the_demo_is_the_same_for_a_seed(tmp_path):
    """Ids differ from run to run; everything else is the seed's."""

    def load(name: str) -> tuple[DemoSummary, list[tuple]]:
        engine = make_engine(f"sqlite:///{tmp_path / name}")
        migrate(engine)
        storage = Storage(engine, Policy())
        summary = load_demo(storage, payments=40, now=NOW)
        with storage.unit_of_work(readonly=True) as uow:
            rows = uow.conn.execute(select(payouts.c.seller_id, payouts.c.amount,
                                           payouts.c.status, payouts.c.created_at)
                                    .order_by(payouts.c.created_at)).all()
        engine.dispose()
        return summary, [tuple(r) for r in rows]

    assert load("one.db") == load("two.db")


def test_the_demo_has_bookings_in_two_streams_and_subscriptions_in_every_state(demo):
    storage, summary = demo
    assert {"confirmed", "pending", "cancelled"} <= set(summary.orders)
    assert set(summary.subscriptions) == {"pending_payment", "active", "past_due", "canceled",
                                          "expired", "incomplete_expired"}
    with storage.unit_of_work(readonly=True) as uow:
        stats = stream_stats(uow, SYSTEM)
        waiting = list_subscriptions(uow, SYSTEM, status="pending_payment")
        lines = uow.conn.execute(select(order_lines.c.seller_id)).scalars().all()
    assert {row["stream"] for row in stats} == {"2026-spring", "2026-autumn", None}
    assert sum(row["confirmed"] for row in stats) > 0 and sum(row["cancelled"] for row in stats)
    # a multi-vendor shop order: several sellers' lines in one order
    assert {"vend_ceramics", "vend_coffee", "vend_books"} & set(lines)
    # applications still at the simulator's checkout, with their payment page
    payments = [get_payment(storage, sub["open_payment_id"]) for sub in waiting]
    assert waiting and all(p["payment_url"] and p["kind"] == "subscription" for p in payments)


def get_payment(storage: Storage, payment_id: str) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        payment = uow.payments.get(payment_id)
    assert payment is not None
    return dict(payment)
