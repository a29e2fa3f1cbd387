"""Automatic approvals racing on PostgreSQL, where races are real."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import RefundExceedsCaptured
from paytrack.domain.refund_rules import RefundPolicy
from paytrack.services import ledger
from paytrack.services.payments import get_payment
from paytrack.services.refunds import list_refunds, request_refund
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, new_payment, race

pytestmark = postgres_only
CUSTOMER = Actor(Role.CUSTOMER, "cust_1")



def test_concurrent_auto_approved_requests_never_refund_more_than_the_total(engine):
    storage = Storage(engine, refund_policy=RefundPolicy(
        auto_approve_max_amount={"USD": 300}, auto_approve_within_days=1,
        auto_approve_max_refund_rate=Decimal("1")))
    payment = new_payment(storage, subtotal=10000)
    outcome = race(storage, 50, lambda uow, i: request_refund(
        uow, payment["id"], CUSTOMER, amount=300, reason=f"race {i}"))
    assert outcome == Counter({"ok": 33, RefundExceedsCaptured.code: 17})
    with storage.unit_of_work(readonly=True) as uow:
        stored = get_payment(uow, payment["id"], ADMIN)
        refunds = list_refunds(uow, ADMIN, payment_id=payment["id"], limit=100)
        report = ledger.verify_ledger(uow, ADMIN)
    assert (stored["refunded_amount"], stored["refund_reserved_amount"]) == (9900, 0)
    assert {(r["status"], r["decision_rule"]) for r in refunds} == {
        ("succeeded", "customer_small_recent")}
    assert len(refunds) == 33
    assert report["ok"], report


def test_racing_requests_each_see_the_refunds_before_them_on_the_payment(engine):
    """They queue on the payment row, so the rate each one reads counts every refund
    committed before it: at most 0.10 of 10000 is ever approved automatically."""
    storage = Storage(engine, refund_policy=RefundPolicy(
        auto_approve_max_amount={"USD": 300}, auto_approve_max_refund_rate=Decimal("0.10")))
    payment = new_payment(storage, subtotal=10000)
    outcome = race(storage, 20, lambda uow, i: request_refund(
        uow, payment["id"], CUSTOMER, amount=300, reason=f"race {i}"))
    assert outcome == Counter({"ok": 20})
    with storage.unit_of_work(readonly=True) as uow:
        refunds = list_refunds(uow, ADMIN, payment_id=payment["id"], limit=100)
    rules = Counter(r["decision_rule"] for r in refunds)
    # 0, 300, 600, 900 refunded before: each at most 0.10; 1200 is above
    assert rules == Counter({"customer_small_recent": 4, "manual_review": 16})
