"""Coupon limits under concurrent payments, on PostgreSQL where the race is real: each
thread records a payment with the code in its own transaction, all released together."""

from collections import Counter

from paytrack.domain.errors import CouponNotApplicable
from paytrack.services import coupons
from paytrack.services.payments import CreatePayment, create_payment
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, committed, new_payment, race

pytestmark = postgres_only


def _payment(customer_id: str) -> CreatePayment:
    return CreatePayment(customer_id=customer_id, seller_id="seller_1", item_type="course",
                         item_id="course_seller_1", currency="USD", subtotal=10000,
                         coupon_code="RACE")


def _held(storage, coupon_id: str) -> tuple[int, int]:
    with storage.unit_of_work(readonly=True) as uow:
        coupon = uow.coupons.get(coupon_id)
        counted = [r for r in uow.coupons.redemptions(coupon_id) if r["counted"]]
    return coupon["redemptions_held"], len(counted)


def test_twenty_concurrent_payments_take_exactly_the_five_places(storage):
    for i in range(20):  # the parties exist, so the race is on the coupon alone
        new_payment(storage, customer_id=f"cust_{i}", capture=False)
    coupon = committed(storage, coupons.create_coupon, coupons.CreateCoupon(
        code="RACE", kind="percent", percent_off="0.10", max_redemptions=5), ADMIN)
    outcome = race(storage, 20, lambda uow, i: create_payment(uow, _payment(f"cust_{i}"),
                                                               ADMIN))
    assert outcome == Counter({"ok": 5, CouponNotApplicable.code: 15})
    assert _held(storage, coupon["id"]) == (5, 5)


def test_one_customers_concurrent_payments_take_its_two_places(storage):
    new_payment(storage, customer_id="cust_1", capture=False)
    coupon = committed(storage, coupons.create_coupon, coupons.CreateCoupon(
        code="RACE", kind="percent", percent_off="0.10", max_redemptions_per_customer=2),
        ADMIN)
    outcome = race(storage, 12, lambda uow, i: create_payment(uow, _payment("cust_1"), ADMIN))
    assert outcome == Counter({"ok": 2, CouponNotApplicable.code: 10})
    with storage.unit_of_work(readonly=True) as uow:
        assert uow.coupons.customer_held(coupon["id"], "cust_1") == 2
