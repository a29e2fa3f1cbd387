"""Races on PostgreSQL, where they are real: each thread has its own connection and
transaction, and all start together at a barrier."""

from __future__ import annotations

from collections import Counter

from paytrack.domain.errors import InvalidTransition, RefundExceedsCaptured
from paytrack.services import ledger
from paytrack.services.payments import capture_payment, get_payment
from paytrack.services.refunds import approve_refund, refund_payment, request_refund
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, new_payment, race

pytestmark = postgres_only



def _check_ledger(storage):
    with storage.unit_of_work(readonly=True) as uow:
        report = ledger.verify_ledger(uow, ADMIN)
    assert report["ok"], report


def test_fifty_concurrent_partial_refunds_never_exceed_the_capture(storage):
    payment = new_payment(storage, subtotal=10000)
    outcome = race(storage, 50, lambda uow, i: refund_payment(
        uow, payment["id"], ADMIN, amount=300, reason=f"race {i}"))
    assert outcome == Counter({"ok": 33, RefundExceedsCaptured.code: 17})
    with storage.unit_of_work(readonly=True) as uow:
        stored = get_payment(uow, payment["id"], ADMIN)
        accounts = {a["code"]: a["balance"] for a in ledger.list_accounts(uow, ADMIN)}
    assert (stored["refunded_amount"], stored["status"]) == (9900, "partially_refunded")
    assert accounts["gateway:manual:clearing"] == 100
    assert accounts["seller:seller_1:pending"] + accounts["platform:revenue"] == 100
    _check_ledger(storage)


def test_two_concurrent_full_refunds_succeed_once(storage):
    """The one that loses is told the refund exceeds what is left, not that the payment
    moved under it (``invalid_transition``)."""
    payment = new_payment(storage, subtotal=10000)
    outcome = race(storage, 2, lambda uow, i: refund_payment(
        uow, payment["id"], ADMIN, reason="duplicate"))
    assert outcome == Counter({"ok": 1, RefundExceedsCaptured.code: 1})
    with storage.unit_of_work(readonly=True) as uow:
        assert get_payment(uow, payment["id"], ADMIN)["refunded_amount"] == 10000
    _check_ledger(storage)


def test_approving_the_same_refund_twice_at_once_pays_it_once(storage):
    payment = new_payment(storage)
    with storage.unit_of_work() as uow:
        refund = request_refund(uow, payment["id"], ADMIN, amount=1000, reason="r")
        uow.commit()
    outcome = race(storage, 8, lambda uow, i: approve_refund(uow, refund["id"], ADMIN))
    assert outcome == Counter({"ok": 1, InvalidTransition.code: 7})
    with storage.unit_of_work(readonly=True) as uow:
        assert get_payment(uow, payment["id"], ADMIN)["refunded_amount"] == 1000
    _check_ledger(storage)


def test_concurrent_captures_of_one_payment_post_once(storage):
    payment = new_payment(storage, capture=False)
    outcome = race(storage, 10, lambda uow, i: capture_payment(uow, payment["id"], ADMIN))
    assert outcome == Counter({"ok": 1, InvalidTransition.code: 9})
    with storage.unit_of_work(readonly=True) as uow:
        assert len(ledger.list_entries(uow, ADMIN, payment_id=payment["id"])) == 1
    _check_ledger(storage)


def test_concurrent_captures_for_one_seller_keep_its_balance_exact(storage):
    made = [new_payment(storage, subtotal=1000 + i, capture=False) for i in range(40)]
    outcome = race(storage, 40, lambda uow, i: capture_payment(uow, made[i]["id"], ADMIN))
    assert outcome == Counter({"ok": 40})
    with storage.unit_of_work(readonly=True) as uow:
        balance = ledger.seller_balance(uow, "seller_1", ADMIN)["balances"][0]
    expected = sum(p["seller_amount"] for p in made)
    assert balance["pending"] == expected
    _check_ledger(storage)


def test_folding_while_captures_run_loses_nothing(storage):
    made = [new_payment(storage, subtotal=500, capture=False) for i in range(30)]

    def action(uow, i):
        if i % 3 == 0:
            ledger.fold_balances(uow)
        else:
            capture_payment(uow, made[i]["id"], ADMIN)

    assert race(storage, 30, action) == Counter({"ok": 30})
    with storage.unit_of_work() as uow:
        ledger.fold_balances(uow)
        uow.commit()
    _check_ledger(storage)
