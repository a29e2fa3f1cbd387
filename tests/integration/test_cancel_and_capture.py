"""Cancel cannot lose a real payment: a customer or seller cancels only a pending payment,
and a gateway's confirmation that arrives after a cancel (or a failure) is recorded all the
same, flagged for review in the payment's history. Races on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from paytrack.domain.actors import SYSTEM, Actor, Role
from paytrack.domain.errors import Forbidden, InvalidTransition, NotFound, PaytrackError
from paytrack.services import ledger
from paytrack.services.payments import (
    cancel_payment,
    capture_payment,
    fail_payment,
    get_payment,
    list_payments,
    mark_processing,
    payment_history,
)
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, new_payment
from tests.integration.conftest import committed as _do

CUSTOMER = Actor(Role.CUSTOMER, "cust_1")
SELLER = Actor(Role.SELLER, "seller_1")


def _ledger_ok(storage) -> None:
    with storage.unit_of_work(readonly=True) as uow:
        report = ledger.verify_ledger(uow, ADMIN)
    assert report["ok"], report


def _capture_entries(storage, payment_id: str) -> list[dict]:
    with storage.unit_of_work(readonly=True) as uow:
        return [e for e in ledger.list_entries(uow, ADMIN, payment_id=payment_id)
                if e["kind"] == "payment.captured"]


@pytest.mark.parametrize("actor", [CUSTOMER, SELLER])
def test_a_customer_or_seller_cancels_only_a_pending_payment(storage, actor):
    processing = new_payment(storage, capture=False)
    _do(storage, mark_processing, processing["id"], ADMIN)
    with storage.unit_of_work() as uow, pytest.raises(
            InvalidTransition, match=f"a {actor.role} may cancel only a pending payment"):
        cancel_payment(uow, processing["id"], actor)
    pending = new_payment(storage, capture=False)
    assert _do(storage, cancel_payment, pending["id"], actor)["status"] == "canceled"


def test_nobody_cancels_another_partys_payment(storage):
    theirs = new_payment(storage, capture=False, seller_id="seller_2", customer_id="cust_2")
    for actor in (CUSTOMER, SELLER):
        with storage.unit_of_work() as uow, pytest.raises(NotFound):
            cancel_payment(uow, theirs["id"], actor)


def test_an_admin_cancels_a_pending_or_processing_payment(storage):
    payment = new_payment(storage, capture=False)
    _do(storage, mark_processing, payment["id"], ADMIN)
    assert _do(storage, cancel_payment, payment["id"], ADMIN)["status"] == "canceled"


@pytest.mark.parametrize("actor", [CUSTOMER, SELLER])
def test_only_an_admin_or_the_system_marks_a_payment_processing(storage, actor):
    payment = new_payment(storage, capture=False)
    with storage.unit_of_work() as uow, pytest.raises(Forbidden):
        mark_processing(uow, payment["id"], actor)
    assert _do(storage, mark_processing, payment["id"], SYSTEM)["status"] == "processing"


@pytest.mark.parametrize(("end", "ended", "marker"), [
    (cancel_payment, "canceled", "confirmed after cancel: review"),
    (fail_payment, "failed", "confirmed after failure: review"),
])
def test_a_confirmation_after_cancel_or_failure_is_recorded_and_flagged(storage, end, ended,
                                                                        marker):
    payment = new_payment(storage, capture=False, subtotal=5000)
    other = new_payment(storage, capture=True, subtotal=700)
    _do(storage, end, payment["id"], ADMIN)
    captured = _do(storage, capture_payment, payment["id"], SYSTEM, gateway_fee=150,
                   gateway_payment_id="pi_late", reason="stripe evt_1")
    assert (captured["status"], captured["gateway_fee"]) == ("succeeded", 150)
    assert len(_capture_entries(storage, payment["id"])) == 1
    _ledger_ok(storage)
    with storage.unit_of_work(readonly=True) as uow:
        history = payment_history(uow, payment["id"], ADMIN)
        flagged = list_payments(uow, ADMIN, needs_review=True)
        unflagged = list_payments(uow, ADMIN, needs_review=False)
        balance = ledger.seller_balance(uow, "seller_1", ADMIN)["balances"][0]
    last = history[-1]
    assert (last["from_status"], last["to_status"]) == (ended, "succeeded")
    assert last["reason"] == f"{marker}; stripe evt_1"
    assert last["needs_review"] is True
    assert not any(e["needs_review"] for e in history[:-1])
    assert [p["id"] for p in flagged] == [payment["id"]]
    assert [p["id"] for p in unflagged] == [other["id"]]
    assert balance["pending"] == captured["seller_amount"] + other["seller_amount"]


def test_a_late_confirmation_is_recorded_once(storage):
    payment = new_payment(storage, capture=False)
    _do(storage, cancel_payment, payment["id"], CUSTOMER)
    _do(storage, capture_payment, payment["id"], SYSTEM)
    with storage.unit_of_work() as uow, pytest.raises(InvalidTransition):
        capture_payment(uow, payment["id"], SYSTEM)
    assert len(_capture_entries(storage, payment["id"])) == 1
    _ledger_ok(storage)


@postgres_only
def test_a_capture_waiting_on_a_cancels_lock_still_records_the_money(storage):
    """The cancel has moved the row and holds its lock; the capture's conditional UPDATE
    waits, then re-checks its guard against the committed ``canceled`` row."""
    payment = new_payment(storage, capture=False)
    moved, result = threading.Event(), {}

    def cancel() -> None:
        with storage.unit_of_work() as uow:
            cancel_payment(uow, payment["id"], CUSTOMER)
            moved.set()
            time.sleep(0.3)  # the capture is now blocked on this row
            uow.commit()

    def capture() -> None:
        moved.wait()
        with storage.unit_of_work() as uow:
            try:
                result["payment"] = capture_payment(uow, payment["id"], SYSTEM)
                uow.commit()
            except PaytrackError as exc:
                result["refused"] = exc.detail

    threads = [threading.Thread(target=cancel), threading.Thread(target=capture)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "refused" not in result, result["refused"]
    assert result["payment"]["status"] == "succeeded"
    assert result["payment"]["previous_status"] == "canceled"
    assert len(_capture_entries(storage, payment["id"])) == 1
    _ledger_ok(storage)


@postgres_only
def test_captures_racing_cancels_never_lose_the_money(storage):
    made = [new_payment(storage, capture=False, subtotal=1000 + i) for i in range(15)]
    barrier = threading.Barrier(len(made) * 2)

    def one(i: int) -> str:
        payment = made[i // 2]
        with storage.unit_of_work() as uow:
            barrier.wait()
            try:
                if i % 2:  # the customer's cancel reads the payment first, the system's not
                    cancel_payment(uow, payment["id"], CUSTOMER if i % 4 == 1 else SYSTEM)
                else:
                    capture_payment(uow, payment["id"], SYSTEM)
                uow.commit()
                return "cancel ok" if i % 2 else "capture ok"
            except PaytrackError as exc:
                return exc.code

    with ThreadPoolExecutor(max_workers=len(made) * 2) as pool:
        outcome = Counter(pool.map(one, range(len(made) * 2)))
    assert outcome["capture ok"] == len(made), outcome
    assert outcome["cancel ok"] + outcome[InvalidTransition.code] == len(made), outcome
    with storage.unit_of_work(readonly=True) as uow:
        stored = [get_payment(uow, p["id"], ADMIN) for p in made]
        balance = ledger.seller_balance(uow, "seller_1", ADMIN)["balances"][0]
        flagged = list_payments(uow, ADMIN, needs_review=True, limit=100)
    assert {p["status"] for p in stored} == {"succeeded"}
    assert len(flagged) == outcome["cancel ok"]  # each cancel that won was then confirmed
    assert balance["pending"] == sum(p["seller_amount"] for p in made)
    for p in made:
        assert len(_capture_entries(storage, p["id"])) == 1
    _ledger_ok(storage)
