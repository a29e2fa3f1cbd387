"""Refund requests reserve what they ask: open requests (requested or approved) plus what
was refunded never exceed the payment's total, and closing a request (reject, cancel)
releases its reservation. The database enforces it (a conditional UPDATE and a CHECK)."""

from collections import Counter

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from paytrack.adapters.storage.tables import payments as payments_table
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    RefundExceedsCaptured,
)
from paytrack.services import ledger, refunds
from paytrack.services.payments import get_payment
from paytrack.services.refunds import (
    approve_refund,
    get_refund,
    refund_payment,
    reject_refund,
    request_refund,
)
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, new_payment, race
from tests.integration.conftest import committed as _do

CUSTOMER = Actor(Role.CUSTOMER, "cust_1")
SELLER = Actor(Role.SELLER, "seller_1")


def _payment(storage, payment_id):
    with storage.unit_of_work(readonly=True) as uow:
        return get_payment(uow, payment_id, ADMIN)


def _held(storage, payment_id):
    stored = _payment(storage, payment_id)
    return stored["refunded_amount"], stored["refund_reserved_amount"]


def _verify(storage):
    with storage.unit_of_work(readonly=True) as uow:
        report = ledger.verify_ledger(uow, ADMIN)
    assert report["ok"], report


def test_a_second_full_request_is_refused_while_the_first_is_open(storage):
    """The issue's case: three full requests on a 163.750 KWD payment summed to 491.250."""
    payment = new_payment(storage, currency="KWD", subtotal=163750)
    first = _do(storage, request_refund, payment["id"], CUSTOMER, reason="not as described")
    assert first["amount"] == 163750
    for _ in range(2):
        with pytest.raises(RefundExceedsCaptured,
                           match=r"163\.750 KWD is held by open refund requests"):
            _do(storage, request_refund, payment["id"], CUSTOMER, reason="again")
    assert _held(storage, payment["id"]) == (0, 163750)
    done = _do(storage, approve_refund, first["id"], ADMIN)
    assert done["status"] == "succeeded"
    assert _held(storage, payment["id"]) == (163750, 0)
    _verify(storage)


def test_requests_that_each_fit_but_not_together_are_refused_when_asked(storage):
    payment = new_payment(storage)  # 100.00 USD
    _do(storage, refund_payment, payment["id"], ADMIN, amount=9000, reason="r")
    _do(storage, request_refund, payment["id"], CUSTOMER, amount=800, reason="a")
    with pytest.raises(RefundExceedsCaptured) as refused:
        _do(storage, request_refund, payment["id"], CUSTOMER, amount=800, reason="b")
    assert refused.value.extra["refundable"] == 200
    assert _held(storage, payment["id"]) == (9000, 800)


def test_a_full_request_reserves_what_is_refundable_when_asked(storage):
    payment = new_payment(storage)
    _do(storage, request_refund, payment["id"], CUSTOMER, amount=2500, reason="a")
    _do(storage, refund_payment, payment["id"], ADMIN, amount=1000, reason="b")
    rest = _do(storage, request_refund, payment["id"], SELLER, reason="the rest")
    assert rest["amount"] == 6500
    assert _held(storage, payment["id"]) == (1000, 9000)


def test_approving_after_a_partial_refund_of_the_same_payment_still_works(storage):
    """Before, a full request approved after another refund failed with 409 and stayed
    requested forever: it had asked for more than was left."""
    payment = new_payment(storage)
    asked = _do(storage, request_refund, payment["id"], CUSTOMER, amount=2500, reason="a")
    _do(storage, refund_payment, payment["id"], ADMIN, amount=1000, reason="goodwill")
    full = _do(storage, request_refund, payment["id"], CUSTOMER, reason="everything else")
    for refund in (asked, full):
        assert _do(storage, approve_refund, refund["id"], ADMIN)["status"] == "succeeded"
    stored = _payment(storage, payment["id"])
    assert (stored["status"], stored["refunded_amount"], stored["refund_reserved_amount"]) == (
        "refunded", 10000, 0)
    _verify(storage)


def test_rejecting_or_canceling_releases_the_reservation(storage):
    payment = new_payment(storage)
    full = _do(storage, request_refund, payment["id"], CUSTOMER, reason="a")
    _do(storage, reject_refund, full["id"], ADMIN, reason="outside the window")
    assert _held(storage, payment["id"]) == (0, 0)
    again = _do(storage, request_refund, payment["id"], CUSTOMER, reason="please")
    canceled = _do(storage, refunds.cancel_refund, again["id"], CUSTOMER, reason="found it")
    assert (canceled["status"], canceled["cancellation_reason"]) == ("canceled", "found it")
    assert canceled["decided_by"] == "customer:cust_1" and canceled["canceled_at"]
    assert _held(storage, payment["id"]) == (0, 0)
    assert _do(storage, refund_payment, payment["id"], ADMIN, reason="r")["amount"] == 10000
    _verify(storage)


def test_an_admins_one_step_refund_counts_the_open_requests(storage):
    payment = new_payment(storage)
    asked = _do(storage, request_refund, payment["id"], CUSTOMER, amount=6000, reason="a")
    with pytest.raises(RefundExceedsCaptured, match=r"exceeds the refundable 40\.00 USD"):
        _do(storage, refund_payment, payment["id"], ADMIN, amount=10000, reason="all of it")
    done = _do(storage, refund_payment, payment["id"], ADMIN, reason="the rest")
    assert done["amount"] == 4000 and _held(storage, payment["id"]) == (4000, 6000)
    _do(storage, approve_refund, asked["id"], ADMIN)
    assert _payment(storage, payment["id"])["status"] == "refunded"
    _verify(storage)


def test_a_refunded_payment_has_nothing_left_to_refund(storage):
    payment = new_payment(storage)
    _do(storage, refund_payment, payment["id"], ADMIN, reason="r")
    with pytest.raises(RefundExceedsCaptured):
        _do(storage, request_refund, payment["id"], CUSTOMER, reason="again")


def test_the_requester_or_an_admin_may_cancel_an_open_request(storage):
    payment = new_payment(storage)
    by_customer = _do(storage, request_refund, payment["id"], CUSTOMER, amount=100, reason="a")
    by_seller = _do(storage, request_refund, payment["id"], SELLER, amount=200, reason="b")
    by_admin = _do(storage, request_refund, payment["id"], ADMIN, amount=300, reason="c")
    with pytest.raises(Forbidden, match="only when it made the request"):
        _do(storage, refunds.cancel_refund, by_seller["id"], CUSTOMER)
    with pytest.raises(Forbidden):
        _do(storage, refunds.cancel_refund, by_customer["id"], SELLER)
    with pytest.raises(NotFound):
        _do(storage, refunds.cancel_refund, by_customer["id"],
            Actor(Role.CUSTOMER, "cust_2"))
    with pytest.raises(NotFound):
        _do(storage, refunds.cancel_refund, by_seller["id"], Actor(Role.SELLER, "seller_2"))
    for refund, actor in ((by_customer, CUSTOMER), (by_seller, SELLER), (by_admin, ADMIN)):
        canceled = _do(storage, refunds.cancel_refund, refund["id"], actor, reason="dup")
        assert canceled["status"] == "canceled"
    assert _held(storage, payment["id"]) == (0, 0)
    with storage.unit_of_work(readonly=True) as uow:
        steps = [h["to_status"] for h in uow.records.status_history("refund", by_admin["id"])]
        actions = [a["action"] for a in uow.records.audit_trail("refund", by_admin["id"])]
    assert steps == ["requested", "canceled"] and actions[-1] == "refund.canceled"


def test_a_decided_refund_cannot_be_canceled(storage):
    payment = new_payment(storage)
    done = _do(storage, request_refund, payment["id"], CUSTOMER, amount=100, reason="a")
    _do(storage, approve_refund, done["id"], ADMIN)
    rejected = _do(storage, request_refund, payment["id"], CUSTOMER, amount=100, reason="b")
    _do(storage, reject_refund, rejected["id"], ADMIN, reason="no")
    canceled = _do(storage, request_refund, payment["id"], CUSTOMER, amount=100, reason="c")
    _do(storage, refunds.cancel_refund, canceled["id"], CUSTOMER)
    for refund in (done, rejected, canceled):
        with pytest.raises(InvalidTransition):
            _do(storage, refunds.cancel_refund, refund["id"], ADMIN)
    with pytest.raises(InvalidTransition):
        _do(storage, approve_refund, canceled["id"], ADMIN)
    assert _held(storage, payment["id"]) == (100, 0)
    _verify(storage)


def test_the_database_refuses_reservations_past_the_total(storage):
    payment = new_payment(storage)
    _do(storage, refund_payment, payment["id"], ADMIN, amount=4000, reason="r")
    statement = update(payments_table).where(payments_table.c.id == payment["id"])
    with pytest.raises(IntegrityError), storage.engine.begin() as conn:
        conn.execute(statement.values(refund_reserved_amount=6001))
    with pytest.raises(IntegrityError), storage.engine.begin() as conn:
        conn.execute(statement.values(refund_reserved_amount=-1))
    with storage.engine.begin() as conn:
        conn.execute(statement.values(refund_reserved_amount=6000))


# -- races (PostgreSQL) ----------------------------------------------------------------


@postgres_only
def test_concurrent_full_requests_reserve_the_payment_once(storage):
    payment = new_payment(storage)
    outcome = race(storage, 20, lambda uow, i: request_refund(
        uow, payment["id"], CUSTOMER, reason=f"race {i}"))
    assert outcome == Counter({"ok": 1, RefundExceedsCaptured.code: 19})
    assert _held(storage, payment["id"]) == (0, 10000)


@postgres_only
def test_concurrent_requests_and_refunds_never_hold_more_than_the_total(storage):
    payment = new_payment(storage)  # 10000
    asked = _do(storage, request_refund, payment["id"], CUSTOMER, amount=1500, reason="a")

    def action(uow, i):
        if i == 0:
            approve_refund(uow, asked["id"], ADMIN)
        elif i % 3 == 0:
            refund_payment(uow, payment["id"], ADMIN, amount=700, reason=f"race {i}")
        else:
            request_refund(uow, payment["id"], CUSTOMER, amount=700, reason=f"race {i}")

    outcome = race(storage, 40, action)
    assert set(outcome) == {"ok", RefundExceedsCaptured.code}
    assert outcome["ok"] == 1 + 12  # the approval, and 8500 // 700 of the others
    refunded, reserved = _held(storage, payment["id"])
    assert refunded + reserved == 1500 + 12 * 700
    _verify(storage)


@postgres_only
def test_a_cancel_racing_an_approval_settles_the_reservation_once(storage):
    payment = new_payment(storage)

    def approve_or_cancel(refund_id: str):
        return lambda uow, i: (approve_refund(uow, refund_id, ADMIN) if i
                               else refunds.cancel_refund(uow, refund_id, CUSTOMER))

    for _ in range(10):
        asked = _do(storage, request_refund, payment["id"], CUSTOMER, amount=100, reason="a")
        outcome = race(storage, 2, approve_or_cancel(asked["id"]))
        assert outcome == Counter({"ok": 1, InvalidTransition.code: 1})
        with storage.unit_of_work(readonly=True) as uow:
            assert get_refund(uow, asked["id"], ADMIN)["status"] in ("succeeded", "canceled")
    refunded, reserved = _held(storage, payment["id"])
    assert reserved == 0 and refunded % 100 == 0
    _verify(storage)
