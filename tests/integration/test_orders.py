"""Orders through the services: one payment per seller, a status that follows them, the
cancelled order's other payments settled, hand-set statuses, discounts to the unit."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import (
    CouponNotApplicable,
    InvalidAmount,
    InvalidTransition,
    ItemSellerMismatch,
    NotFound,
    OrderTotalMismatch,
    ValidationFailed,
)
from paytrack.services import orders as svc
from paytrack.services.coupons import CreateCoupon, create_coupon
from paytrack.services.ledger import trial_balance
from paytrack.services.payments import capture_payment, fail_payment
from paytrack.services.refunds import refund_payment
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, committed, race

ADA, GRACE = "inst_ada", "inst_grace"


def line(item_id: str = "course_py", seller_id: str = ADA, unit_price: int = 5000,
         **extra) -> svc.LineIn:
    return svc.LineIn(item_type="course", item_id=item_id, seller_id=seller_id,
                      unit_price=unit_price, **extra)


TWO_SELLERS = [line("course_py", ADA, 5000), line("course_sql", GRACE, 3000),
               line("course_ml", ADA, 2001, quantity=2)]


def order(storage, lines=None, **extra) -> dict:
    cmd = svc.CreateOrder(customer_id=extra.pop("customer_id", "stu_1"), currency="USD",
                          lines=[line()] if lines is None else lines, **extra)
    return committed(storage, svc.create_order, cmd, ADMIN)


def status(storage, order_id: str) -> str:
    return committed(storage, svc.get_order, order_id, ADMIN)["status"]


def events_of(storage, order_id: str) -> Counter:
    with storage.unit_of_work(readonly=True) as uow:
        return Counter(e["type"] for e in uow.events.list(limit=100, object_id=order_id))


def test_a_multi_seller_order_makes_one_payment_per_seller_in_first_appearance_order(storage):
    made = order(storage, TWO_SELLERS, discount_percent="10", stream="2026-spring")
    assert [p["seller_id"] for p in made["payments"]] == [ADA, GRACE]
    ada, grace = made["payments"]
    with storage.unit_of_work(readonly=True) as uow:
        ada_payment = uow.payments.get(ada["id"])
    assert ada_payment is not None
    assert (ada_payment["subtotal"], ada_payment["discount"]) == (9002, 900)
    assert ada_payment["item_id"] == "course_py" and ada_payment["order_ref"] == made["id"]
    assert [x["line_no"] for x in ada_payment["metadata"]["order_lines"]] == [1, 3]
    by_payment: dict[str, int] = {}
    for x in made["lines"]:
        by_payment[x["payment_id"]] = by_payment.get(x["payment_id"], 0) + x["discount"]
    assert by_payment == {ada["id"]: 900, grace["id"]: 300}
    assert [x["discount"] for x in made["lines"]] == [500, 300, 400]
    for name in ("total",):
        assert made[name] == sum(p[name] for p in made["payments"]) == 9002 - 900 + 2700
    assert made["subtotal"] == 12002 and made["discount"] == 1200
    assert (made["status"], made["confirmed_code"]) == ("pending", 1)


def test_the_order_is_confirmed_once_when_every_payment_succeeded(storage):
    made = order(storage, TWO_SELLERS)
    first, second = (p["id"] for p in made["payments"])
    committed(storage, capture_payment, first, ADMIN)
    assert status(storage, made["id"]) == "pending"
    committed(storage, capture_payment, second, ADMIN)
    got = committed(storage, svc.get_order, made["id"], ADMIN)
    assert (got["status"], got["confirmed_code"]) == ("confirmed", 2)
    assert got["confirmed_at"] is not None
    assert events_of(storage, made["id"]) == {"order.confirmed": 1}


def test_the_orders_event_follows_the_event_of_the_payment_that_moved_it(storage):
    made = order(storage)
    payment_id = made["payments"][0]["id"]
    committed(storage, capture_payment, payment_id, ADMIN)
    with storage.unit_of_work(readonly=True) as uow:
        types = [e["type"] for e in reversed(uow.events.list(limit=100))]  # oldest first
    assert types[-2:] == ["payment.succeeded", "order.confirmed"]


def test_a_lost_payment_cancels_the_order_and_the_job_settles_its_siblings(storage):
    made = order(storage, [line("a", ADA), line("b", GRACE), line("c", "inst_linus")])
    paid, lost, still_open = (p["id"] for p in made["payments"])
    committed(storage, capture_payment, paid, ADMIN)
    committed(storage, fail_payment, lost, ADMIN, reason="card declined")
    assert status(storage, made["id"]) == "cancelled"
    history = committed(storage, svc.order_history, made["id"], ADMIN)
    assert history[-1]["reason"] == f"payment {lost} failed: card declined"

    assert svc.settle_cancelled(storage) == 1
    assert svc.settle_cancelled(storage) == 0  # nothing twice
    with storage.unit_of_work(readonly=True) as uow:
        assert uow.payments.get(still_open)["status"] == "canceled"
        asked = uow.refunds.list(filters={"payment_id": paid}, limit=10)
    assert len(asked) == 1 and asked[0]["reason"] == f"order {made['id']} cancelled"
    assert asked[0]["amount"] == 5000
    assert events_of(storage, made["id"]) == {"order.cancelled": 1}


def test_settling_asks_no_second_refund_when_one_is_already_open(storage):
    made = order(storage, [line("a", ADA), line("b", GRACE)])
    paid, lost = (p["id"] for p in made["payments"])
    committed(storage, capture_payment, paid, ADMIN)
    committed(storage, fail_payment, lost, ADMIN)
    with storage.unit_of_work() as uow:  # the job's claim expires without a settlement
        uow.orders.update(made["id"], {"settle_due_at": uow.now()})
        svc._settle(uow, made["id"], ADMIN, "first", strict=False)
        uow.commit()
    assert svc.settle_cancelled(storage) == 1
    with storage.unit_of_work(readonly=True) as uow:
        assert len(uow.refunds.list(filters={"payment_id": paid}, limit=10)) == 1


def test_refunds_move_a_confirmed_order_to_partially_refunded_then_refunded(storage):
    made = order(storage, [line("a", ADA, 4000), line("b", GRACE, 6000)])
    for p in made["payments"]:
        committed(storage, capture_payment, p["id"], ADMIN)
    first, second = (p["id"] for p in made["payments"])
    committed(storage, refund_payment, first, ADMIN, reason="changed mind", amount=1000)
    got = committed(storage, svc.get_order, made["id"], ADMIN)
    assert (got["status"], got["refunded_amount"], got["confirmed_code"]) == (
        "partially_refunded", 1000, 2)
    committed(storage, refund_payment, first, ADMIN, reason="rest")
    committed(storage, refund_payment, second, ADMIN, reason="all")
    got = committed(storage, svc.get_order, made["id"], ADMIN)
    assert (got["status"], got["refunded_amount"], got["confirmed_code"]) == (
        "refunded", 10000, -1)



def test_an_order_confirmed_after_a_refund_of_its_first_payment_shows_the_refund(storage):
    made = order(storage, [line("a", ADA, 4000), line("b", GRACE, 6000)])
    first, second = (p["id"] for p in made["payments"])
    committed(storage, capture_payment, first, ADMIN)
    committed(storage, refund_payment, first, ADMIN, reason="changed mind", amount=1000)
    committed(storage, capture_payment, second, ADMIN)
    got = committed(storage, svc.get_order, made["id"], ADMIN)
    assert (got["status"], got["refunded_amount"]) == ("partially_refunded", 1000)
    history = committed(storage, svc.order_history, made["id"], ADMIN)
    assert [e["to_status"] for e in history] == ["pending", "confirmed", "partially_refunded"]
    assert events_of(storage, made["id"]) == {"order.confirmed": 1}

def test_cancel_cancels_open_payments_and_asks_back_the_paid_ones(storage):
    made = order(storage, [line("a", ADA), line("b", GRACE)])
    paid, open_ = (p["id"] for p in made["payments"])
    committed(storage, capture_payment, paid, ADMIN)
    customer = Actor(Role.CUSTOMER, "stu_1")
    got = committed(storage, svc.cancel_order, made["id"], customer, reason="moved stream")
    assert got["status"] == "cancelled"
    assert {p["id"]: p["status"] for p in got["payments"]} == {paid: "succeeded",
                                                               open_: "canceled"}
    with storage.unit_of_work(readonly=True) as uow:
        assert len(uow.refunds.list(filters={"payment_id": paid}, limit=10)) == 1
        assert uow.orders.get(made["id"])["settle_due_at"] is None
    reasons = [e["reason"] for e in committed(storage, svc.order_history, made["id"], ADMIN)]
    assert f"order {made['id']} cancelled: moved stream" in reasons[-1]
    assert events_of(storage, made["id"]) == {"order.cancelled": 1}
    with pytest.raises(InvalidTransition):
        committed(storage, svc.cancel_order, made["id"], ADMIN)


def test_a_seller_learns_nothing_of_another_sellers_part_from_the_history(storage):
    ada = Actor(Role.SELLER, ADA)
    lost = order(storage, [line("a", ADA, 4000), line("b", GRACE, 6000)])
    own, other = (p["id"] for p in lost["payments"])
    committed(storage, fail_payment, other, ADMIN, reason="card declined")
    paid = order(storage, [line("a", ADA, 4000), line("b", GRACE, 6000)])
    own2, other2 = (p["id"] for p in paid["payments"])
    committed(storage, capture_payment, own2, ADMIN)
    committed(storage, capture_payment, other2, ADMIN)
    committed(storage, refund_payment, own2, ADMIN, reason="changed mind", amount=1000)
    committed(storage, refund_payment, own2, ADMIN, reason="rest")
    for made, theirs in ((lost, other), (paid, other2)):
        seen = " ".join(str(e["reason"])
                        for e in committed(storage, svc.order_history, made["id"], ada))
        assert theirs not in seen and "declined" not in seen
        assert "10000" not in seen and "6000" not in seen  # the whole order's, Grace's
    mine = committed(storage, svc.order_history, paid["id"], ada)
    assert [e["to_status"] for e in mine] == ["pending", "confirmed", "partially_refunded"]
    admin_view = str(committed(storage, svc.order_history, lost["id"], ADMIN))
    assert other in admin_view and "declined" in admin_view


def test_a_seller_cannot_find_orders_by_another_sellers_item(storage):
    order(storage, [line("course_py", ADA), line("course_sql", GRACE)])
    ada = Actor(Role.SELLER, ADA)
    assert committed(storage, svc.list_orders, ada, item_id="course_sql") == []
    assert len(committed(storage, svc.list_orders, ada, item_id="course_py")) == 1


def test_only_its_customer_or_an_admin_may_cancel_an_order(storage):
    made = order(storage)
    with pytest.raises(NotFound):
        committed(storage, svc.cancel_order, made["id"], Actor(Role.CUSTOMER, "stu_2"))


def test_a_hand_set_status_is_recorded_with_its_reason_and_moves_no_money(storage):
    made = order(storage, TWO_SELLERS)
    with storage.unit_of_work(readonly=True) as uow:
        before = trial_balance(uow, ADMIN)
    got = committed(storage, svc.override_status, made["id"], ADMIN, confirmed_code=2,
                    reason="paid in cash")
    assert (got["status"], got["confirmed_code"]) == ("confirmed", 2)
    assert {p["status"] for p in got["payments"]} == {"pending"}
    with storage.unit_of_work(readonly=True) as uow:
        assert trial_balance(uow, ADMIN) == before
        trail = uow.records.audit_trail("order", made["id"])
    assert trail[-1]["action"] == "order.status_overridden"
    last = committed(storage, svc.order_history, made["id"], ADMIN)[-1]
    assert (last["from_status"], last["to_status"], last["reason"]) == (
        "pending", "confirmed", "override: paid in cash")
    assert events_of(storage, made["id"]) == {"order.confirmed": 1}
    with pytest.raises(InvalidTransition):  # the status it already has
        committed(storage, svc.override_status, made["id"], ADMIN, status="confirmed",
                  reason="again")
    got = committed(storage, svc.override_status, made["id"], ADMIN, status="cancelled",
                    reason="no show")
    assert got["status"] == "cancelled"
    assert events_of(storage, made["id"]) == {"order.confirmed": 1, "order.cancelled": 1}
    assert svc.settle_cancelled(storage) == 0  # a hand-set cancel touches no payment


@pytest.mark.parametrize("bad", [{"confirmed_code": 0}, {"confirmed_code": True},
                                 {"status": "refunded"}, {"status": "nope"}, {}])
def test_a_bad_hand_set_status_is_refused(storage, bad):
    made = order(storage)
    with pytest.raises(ValidationFailed):
        committed(storage, svc.override_status, made["id"], ADMIN, reason="x", **bad)


def test_the_total_the_caller_expects_must_be_the_computed_one(storage):
    with pytest.raises(OrderTotalMismatch) as refused:
        order(storage, [line(unit_price=5000, tax=400)], total=5000)
    assert refused.value.extra["expected"] == 5400
    assert order(storage, [line(unit_price=5000, tax=400)], total=5400)["total"] == 5400


@pytest.mark.parametrize(("lines", "extra"), [
    ([], {}),
    ([line()] * 101, {}),
    ([line(quantity=0)], {}),
    ([line(quantity=10_001)], {}),
    ([line(unit_price=-1)], {}),
    ([line(unit_price=0)], {}),
    ([line(unit_price=10**15, quantity=10_000)], {}),
    ([line()], {"stream": "bad\x00stream"}),
    ([line()], {"discount_percent": "100.001"}),
    ([line()], {"discount_percent": "10", "coupon_code": "SPRING"}),
])
def test_bad_orders_are_refused_and_leave_nothing(storage, lines, extra):
    with pytest.raises((ValidationFailed, InvalidAmount)):
        order(storage, lines, **extra)
    assert committed(storage, svc.list_orders, ADMIN) == []


def test_an_item_of_another_seller_is_refused(storage):
    order(storage, [line("course_py", ADA)])
    with pytest.raises(ItemSellerMismatch):
        order(storage, [line("course_x", GRACE), line("course_py", GRACE)])
    assert len(committed(storage, svc.list_orders, ADMIN)) == 1


def coupon(storage, code: str, **extra) -> None:
    committed(storage, create_coupon, CreateCoupon(code=code, kind="percent",
                                                   percent_off="0.25", **extra), ADMIN)


def test_a_coupon_on_a_single_seller_order_discounts_its_payment(storage):
    coupon(storage, "SPRING25")
    made = order(storage, [line("a", unit_price=3001), line("b", unit_price=1000)],
                 coupon_code="SPRING25")
    (payment,) = made["payments"]
    assert made["discount"] == 1000  # round_half_up(4001 × 0.25)
    assert sum(x["discount"] for x in made["lines"]) == 1000
    assert [x["discount"] for x in made["lines"]] == [750, 250]
    assert made["total"] == payment["total"] == 3001


def test_a_coupon_on_a_multi_seller_order_goes_to_the_one_seller_it_targets(storage):
    coupon(storage, "GRACE25", seller_ids=[GRACE])
    coupon(storage, "SQL25", item_ids=["course_sql"])
    for code in ("GRACE25", "SQL25"):
        made = order(storage, TWO_SELLERS, coupon_code=code)
        ada, grace = made["payments"]
        assert ada["total"] == 9002 and grace["total"] == 3000 - 750
        assert [x["discount"] for x in made["lines"]] == [0, 750, 0]
    lower = order(storage, TWO_SELLERS, coupon_code="grace25")  # stored as the coupon's
    assert lower["coupon_code"] == "GRACE25"
    ada_sees = committed(storage, svc.get_order, lower["id"], Actor(Role.SELLER, ADA))
    grace_sees = committed(storage, svc.get_order, lower["id"], Actor(Role.SELLER, GRACE))
    assert (ada_sees["coupon_code"], grace_sees["coupon_code"]) == (None, "GRACE25")



@pytest.mark.parametrize("lines", [TWO_SELLERS, [line("course_py"), line("course_ml")]])
def test_a_coupon_for_some_items_is_not_spent_on_the_other_lines_of_their_payment(
        storage, lines):
    """A coupon discounts a payment's subtotal: with lines of other items in that payment
    it would discount items it is not for (here course_py), so it is refused."""
    coupon(storage, "ML25", item_ids=["course_ml"])
    with pytest.raises(CouponNotApplicable) as refused:
        order(storage, lines, coupon_code="ML25")
    assert "course_py" in refused.value.detail
    assert committed(storage, svc.list_orders, ADMIN) == []

@pytest.mark.parametrize("targets", [{}, {"seller_ids": [ADA, GRACE]},
                                     {"item_ids": ["course_py", "course_sql"]},
                                     {"seller_ids": ["inst_nobody"]}])
def test_a_coupon_for_no_single_seller_of_the_order_is_refused(storage, targets):
    coupon(storage, "WIDE25", **targets)
    with pytest.raises(CouponNotApplicable) as refused:
        order(storage, TWO_SELLERS, coupon_code="WIDE25")
    assert refused.value.extra["reason"] == "order_seller_ambiguous"
    assert "exactly one seller" in refused.value.detail


def test_an_unknown_coupon_is_refused(storage):
    with pytest.raises(CouponNotApplicable):
        order(storage, [line()], coupon_code="NOPE")


def test_percent_discounts_sum_exactly_per_payment_and_order(storage):
    made = order(storage, [line("a", ADA, 333, quantity=3), line("b", ADA, 1),
                           line("c", GRACE, 999), line("d", GRACE, 1001)],
                 discount_percent="12.5")
    for payment in made["payments"]:
        mine = [x for x in made["lines"] if x["payment_id"] == payment["id"]]
        with storage.unit_of_work(readonly=True) as uow:
            stored = uow.payments.get(payment["id"])
        assert sum(x["discount"] for x in mine) == stored["discount"]
        assert stored["total"] == payment["total"]
    assert made["discount"] == 125 + 250  # round_half_up(1000 × 12.5%), (2000 × 12.5%)
    assert made["total"] == sum(p["total"] for p in made["payments"])


def test_lists_filter_and_each_role_sees_its_own(storage):
    a = order(storage, TWO_SELLERS, stream="s1", customer_id="stu_1")
    b = order(storage, [line("course_sql", GRACE)], stream="s2", customer_id="stu_2")
    ids = lambda rows: [r["id"] for r in rows]  # noqa: E731
    assert ids(committed(storage, svc.list_orders, ADMIN)) == [b["id"], a["id"]]
    assert ids(committed(storage, svc.list_orders, ADMIN, stream="s1")) == [a["id"]]
    assert ids(committed(storage, svc.list_orders, ADMIN, item_id="course_sql")) == [
        b["id"], a["id"]]
    assert ids(committed(storage, svc.list_orders, ADMIN, seller_id=ADA)) == [a["id"]]
    assert ids(committed(storage, svc.list_orders, ADMIN, confirmed_code=1)) == [
        b["id"], a["id"]]
    assert committed(storage, svc.list_orders, ADMIN, confirmed_code=2) == []
    seller = Actor(Role.SELLER, ADA)
    (seen,) = committed(storage, svc.list_orders, seller)
    assert {x["seller_id"] for x in seen["lines"]} == {ADA}
    assert [p["seller_id"] for p in seen["payments"]] == [ADA]
    assert seen["total"] == seen["payments"][0]["total"] == 9002
    assert committed(storage, svc.list_orders, seller, seller_id=GRACE) == []
    with pytest.raises(NotFound):
        committed(storage, svc.get_order, b["id"], seller)
    customer = Actor(Role.CUSTOMER, "stu_2")
    assert ids(committed(storage, svc.list_orders, customer)) == [b["id"]]
    with pytest.raises(NotFound):
        committed(storage, svc.get_order, a["id"], customer)


@postgres_only
def test_two_captures_of_one_orders_payments_at_once_confirm_it_once(storage):
    for _ in range(3):
        made = order(storage, [line("a", ADA), line("b", GRACE)])
        ids = [p["id"] for p in made["payments"]]
        outcome = race(storage, 2, lambda uow, i, ids=ids: capture_payment(uow, ids[i], ADMIN))
        assert outcome == {"ok": 2}
        assert status(storage, made["id"]) == "confirmed"
        assert events_of(storage, made["id"]) == {"order.confirmed": 1}
        history = committed(storage, svc.order_history, made["id"], ADMIN)
        assert [e["to_status"] for e in history] == ["pending", "confirmed"]


@postgres_only
def test_a_cancel_racing_a_capture_ends_in_one_consistent_state(storage):
    for _ in range(3):
        made = order(storage, [line("a", ADA), line("b", GRACE)])
        first, second = (p["id"] for p in made["payments"])
        committed(storage, capture_payment, first, ADMIN)

        def act(uow, i, second=second, order_id=made["id"]):
            if i == 0:
                capture_payment(uow, second, ADMIN)
            else:
                svc.cancel_order(uow, order_id, ADMIN)

        outcome = race(storage, 2, act)
        got = committed(storage, svc.get_order, made["id"], ADMIN)
        states = {p["id"]: p["status"] for p in got["payments"]}
        if got["status"] == "confirmed":
            assert outcome == {"ok": 1, "invalid_transition": 1}
            assert set(states.values()) == {"succeeded"}
            assert events_of(storage, made["id"]) == {"order.confirmed": 1}
        else:
            assert got["status"] == "cancelled"
            assert states[second] in ("canceled", "succeeded")  # a late capture: flagged
            assert events_of(storage, made["id"]) == {"order.cancelled": 1}



@postgres_only
def test_a_cancel_racing_a_capture_of_its_second_open_payment_does_not_deadlock(storage):
    """The capture holds the second payment's row when the cancel starts; the cancel must
    lock every payment row before its first move locks the order, else the capture (which
    then wants the order) and the cancel (which wants that payment) wait for each other."""
    made = order(storage, [line("a", ADA), line("b", GRACE)])
    second = made["payments"][1]["id"]
    held = threading.Event()

    def capture() -> None:
        with storage.unit_of_work() as uow:
            uow.payments.lock(second)
            held.set()
            _wait_for_a_blocked_transaction(storage)
            capture_payment(uow, second, ADMIN)
            uow.commit()

    def cancel() -> None:
        held.wait()
        with storage.unit_of_work() as uow:
            svc.cancel_order(uow, made["id"], ADMIN)
            uow.commit()

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [pool.submit(capture), pool.submit(cancel)]
        for future in done:
            future.result()  # a deadlock raises here
    got = committed(storage, svc.get_order, made["id"], ADMIN)
    assert got["status"] == "cancelled"
    assert {p["id"]: p["status"] for p in got["payments"]}[second] == "succeeded"
    assert events_of(storage, made["id"]) == {"order.cancelled": 1}


def _wait_for_a_blocked_transaction(storage) -> None:
    """Until another session waits for a row lock (the cancel, on the held payment)."""
    for _ in range(1000):
        with storage.engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar():
                return
        time.sleep(0.01)
    raise AssertionError("the cancel never waited for the held payment row")
