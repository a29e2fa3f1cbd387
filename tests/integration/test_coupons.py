"""Coupons through the services: every reason one does not apply, the discount a payment
gets, and a redemption's life (reserved -> redeemed -> released) as its payment moves."""

from datetime import timedelta

import pytest

from paytrack.domain.actors import Actor, Role
from paytrack.domain.coupons import Order
from paytrack.domain.errors import (
    CouponCodeTaken,
    CouponNotApplicable,
    DiscountMismatch,
    NotFound,
    ValidationFailed,
)
from paytrack.services import coupons, ledger
from paytrack.services.payments import (
    cancel_payment,
    capture_payment,
    fail_payment,
)
from paytrack.services.refunds import refund_payment
from tests.integration.conftest import ADMIN, committed, new_payment

SELLER = Actor(Role.SELLER, "seller_1")


def make_coupon(storage, code="SPRING25", **terms):
    terms = {"kind": "percent", "percent_off": "0.25", **terms}
    return committed(storage, coupons.create_coupon, coupons.CreateCoupon(code=code, **terms),
                     ADMIN)


def check(storage, code="SPRING25", *, customer_id="cust_1", seller_id="seller_1",
          item_id="course_seller_1", currency="USD", subtotal=10000):
    order = Order(customer_id, seller_id, item_id, currency, subtotal)
    return committed(storage, coupons.validate_coupon, code, order, ADMIN)


def pay(storage, code="SPRING25", **extra):
    return new_payment(storage, coupon_code=code, **extra)


def redemption(storage, payment):
    with storage.unit_of_work(readonly=True) as uow:
        found = coupons.redemption_of(uow, payment["id"])
        coupon = uow.coupons.get(payment["coupon_id"])
    assert found is not None and coupon is not None
    return found["status"], found["counted"], coupon["redemptions_held"]


# -- the discount and the reasons --------------------------------------------------------


def test_a_payment_with_a_code_gets_the_coupons_discount(storage):
    coupon = make_coupon(storage, percent_off="0.15")
    payment = pay(storage, "spring25", subtotal=4999, capture=False)  # any case
    assert (payment["discount"], payment["total"]) == (750, 4249)  # 749.85 rounded half up
    # the payment keeps the coupon's own code, whatever case it was sent in
    assert (payment["coupon_id"], payment["coupon_code"]) == (coupon["id"], coupon["code"])
    assert coupon["code"] != "spring25"


def test_a_percent_coupon_is_capped_and_a_fixed_one_is_at_most_the_subtotal(storage):
    make_coupon(storage, "CAPPED", percent_off="0.5", currency="USD", max_discount=1000)
    make_coupon(storage, "BIG", kind="fixed", percent_off=None, amount_off=99999,
                currency="USD")
    assert check(storage, "CAPPED")["discount"] == 1000
    assert check(storage, "BIG", subtotal=500)["discount"] == 500


def test_a_discount_sent_along_must_be_the_coupons(storage):
    make_coupon(storage)
    with pytest.raises(DiscountMismatch, match="2500"):
        pay(storage, discount=2000)
    with pytest.raises(DiscountMismatch):
        pay(storage, discount=0)
    assert pay(storage, discount=2500)["discount"] == 2500


def test_every_reason_a_coupon_does_not_apply(storage):
    now = storage.clock()
    make_coupon(storage, "OFF")
    committed(storage, coupons.deactivate_coupon,
              make_coupon(storage, "GONE")["id"], ADMIN, reason="over")
    make_coupon(storage, "LATER", starts_at=now + timedelta(days=1))
    make_coupon(storage, "PAST", expires_at=now - timedelta(seconds=1))
    make_coupon(storage, "EURO", kind="fixed", percent_off=None, amount_off=500,
                currency="EUR")
    make_coupon(storage, "OTHERS", seller_ids=["seller_2"])
    make_coupon(storage, "ITEM", item_ids=["course_9"])
    make_coupon(storage, "MIN", currency="USD", min_order_amount=20000)
    make_coupon(storage, "ONCE", max_redemptions=1)
    make_coupon(storage, "MINE", max_redemptions_per_customer=1)
    pay(storage, "ONCE")
    pay(storage, "MINE")
    expected = {"NOPE": "unknown_code", "not a code!": "unknown_code", "GONE": "inactive",
                "LATER": "not_started", "PAST": "expired", "EURO": "other_currency",
                "OTHERS": "not_for_seller", "ITEM": "not_for_item", "MIN": "below_minimum",
                "ONCE": "used_up", "MINE": "customer_limit"}
    for code, reason in expected.items():
        answer = check(storage, code)
        assert (answer["valid"], answer["discount"], answer["reason"]) == (False, 0, reason)
        assert answer["detail"]
        with pytest.raises(CouponNotApplicable) as refused:
            pay(storage, code)
        assert refused.value.extra["reason"] == reason
    assert check(storage, "MINE", customer_id="cust_2")["valid"] is True
    assert check(storage, "off") == {"code": "OFF", "valid": True, "discount": 2500,
                                     "currency": "USD", "reason": None, "detail": None}


def test_a_percent_coupon_without_a_currency_applies_in_any(storage):
    make_coupon(storage)
    assert check(storage, currency="JPY", subtotal=1000)["discount"] == 250


def test_terms_are_checked_when_a_coupon_is_created(storage):
    make_coupon(storage, "TAKEN")
    now = storage.clock()
    with pytest.raises(CouponCodeTaken):
        make_coupon(storage, "taken")
    refused = {
        "percent_off": {"percent_off": "1.5"},
        "currency": {"currency": None, "min_order_amount": 100},
        "max_discount": {"kind": "fixed", "percent_off": None, "amount_off": 5,
                         "currency": "USD", "max_discount": 3},
        "amount_off": {"kind": "fixed", "percent_off": None, "currency": "USD"},
        "expires_at": {"starts_at": now, "expires_at": now},
        "code": {"code": "no spaces"},
    }
    for field, terms in refused.items():
        with pytest.raises(ValidationFailed) as error:
            make_coupon(storage, **{"code": "X1", **terms})
        assert error.value.extra["field"] == field


# -- a redemption's life -------------------------------------------------------------------


def test_a_payment_reserves_then_its_capture_redeems(storage):
    make_coupon(storage, max_redemptions=3)
    payment = pay(storage, capture=False)
    assert redemption(storage, payment) == ("reserved", True, 1)
    captured = committed(storage, capture_payment, payment["id"], ADMIN)
    assert redemption(storage, captured) == ("redeemed", True, 1)


@pytest.mark.parametrize("move", [fail_payment, cancel_payment])
def test_a_failed_or_cancelled_payment_releases_its_place_once(storage, move):
    make_coupon(storage, max_redemptions=1, max_redemptions_per_customer=1)
    payment = pay(storage, capture=False)
    committed(storage, move, payment["id"], ADMIN)
    assert redemption(storage, payment) == ("released", False, 0)
    with storage.unit_of_work() as uow:  # released twice: nothing more is given back
        coupons.payment_released(uow, uow.payments.get(payment["id"]))
        uow.commit()
    assert redemption(storage, payment) == ("released", False, 0)
    assert pay(storage)["discount"] == 2500  # the place is free again, for the same customer


def test_a_full_refund_releases_and_a_partial_one_keeps_the_redemption(storage):
    make_coupon(storage, max_redemptions=1)
    payment = pay(storage)
    committed(storage, refund_payment, payment["id"], ADMIN, reason="r", amount=1000)
    assert redemption(storage, payment) == ("redeemed", True, 1)
    assert check(storage)["reason"] == "used_up"
    committed(storage, refund_payment, payment["id"], ADMIN, reason="r")
    assert redemption(storage, payment) == ("released", False, 0)
    assert check(storage)["valid"] is True


def test_capturing_twice_redeems_once(storage):
    make_coupon(storage, max_redemptions=2)
    payment = pay(storage)
    with storage.unit_of_work() as uow:
        coupons.payment_captured(uow, uow.payments.get(payment["id"]))
        uow.commit()
    assert redemption(storage, payment) == ("redeemed", True, 1)


def test_a_capture_after_cancel_redeems_again_with_a_free_place(storage):
    make_coupon(storage, max_redemptions=1)
    payment = pay(storage, capture=False)
    committed(storage, cancel_payment, payment["id"], ADMIN)
    late = committed(storage, capture_payment, payment["id"], ADMIN)
    assert late["status"] == "succeeded"
    assert redemption(storage, payment) == ("redeemed", True, 1)


def test_a_capture_after_cancel_is_recorded_even_when_the_coupon_is_used_up(storage):
    make_coupon(storage, max_redemptions=1)
    first = pay(storage, capture=False)
    committed(storage, cancel_payment, first["id"], ADMIN)
    second = pay(storage, customer_id="cust_2")  # takes the freed place
    late = committed(storage, capture_payment, first["id"], ADMIN)  # the money was taken
    assert late["status"] == "succeeded"
    assert redemption(storage, first) == ("redeemed", False, 1)
    assert redemption(storage, second) == ("redeemed", True, 1)
    committed(storage, refund_payment, first["id"], ADMIN, reason="r")  # held no place
    assert redemption(storage, first) == ("released", False, 1)
    with storage.unit_of_work(readonly=True) as uow:
        usage = coupons.coupon_usage(uow, late["coupon_id"], ADMIN)
    assert usage["redemptions"] == 1


def test_a_payment_recorded_as_captured_is_redeemed_at_once(storage):
    make_coupon(storage, max_redemptions=1)
    payment = pay(storage, capture=False, captured=True)
    assert redemption(storage, payment) == ("redeemed", True, 1)


# -- usage, scope and funding ------------------------------------------------------------


def test_usage_counts_redemptions_discounts_and_revenue_a_seller_only_its_own(storage):
    coupon = make_coupon(storage, seller_ids=["seller_1", "seller_2"])
    pay(storage, subtotal=10000)
    pay(storage, subtotal=4000, seller_id="seller_2")
    pay(storage, subtotal=2000, capture=False)  # reserved
    failed = pay(storage, subtotal=2000, capture=False)
    committed(storage, fail_payment, failed["id"], ADMIN)
    with storage.unit_of_work(readonly=True) as uow:
        everything = coupons.coupon_usage(uow, coupon["id"], ADMIN)
        own = coupons.coupon_usage(uow, coupon["id"], SELLER)
    assert everything["currencies"] == [{
        "currency": "USD", "redemptions": 2, "reserved": 1, "discount_given": 3500,
        "revenue": 10500, "refunded": 0}]
    assert own["currencies"] == [{
        "currency": "USD", "redemptions": 1, "reserved": 1, "discount_given": 2500,
        "revenue": 7500, "refunded": 0}]


def test_a_seller_sees_only_the_coupons_limited_to_it(storage):
    mine = make_coupon(storage, "MINE", seller_ids=["seller_1"])
    theirs = make_coupon(storage, "THEIRS", seller_ids=["seller_2"])
    make_coupon(storage, "EVERYONE")
    with storage.unit_of_work(readonly=True) as uow:
        assert [c["code"] for c in coupons.list_coupons(uow, SELLER)] == ["MINE"]
        assert coupons.get_coupon(uow, mine["id"], SELLER)["code"] == "MINE"
        with pytest.raises(NotFound):
            coupons.get_coupon(uow, theirs["id"], SELLER)
        with pytest.raises(NotFound):
            coupons.coupon_usage(uow, theirs["id"], SELLER)


def accounts(storage) -> dict[str, int]:
    with storage.unit_of_work() as uow:
        ledger.fold_balances(uow)
        uow.commit()
    with storage.unit_of_work(readonly=True) as uow:
        return {a["code"]: a["balance"] for a in ledger.list_accounts(uow, ADMIN)}


def test_a_platform_funded_coupon_pays_the_seller_as_if_undiscounted(storage):
    make_coupon(storage, funded_by="platform")
    payment = pay(storage, subtotal=10000)
    plain = new_payment(storage, subtotal=10000, seller_id="seller_2")
    assert payment["discount_funded_by"] == "platform"
    assert (payment["total"], payment["platform_discount"]) == (7500, 2500)
    assert (payment["seller_amount"], payment["platform_fee"]) == (
        plain["seller_amount"], plain["platform_fee"]) == (8000, 2000)
    balances = accounts(storage)
    assert balances["platform:discounts"] == 2500
    assert balances["gateway:manual:clearing"] == 7500 + 10000


def test_a_seller_funded_coupon_must_name_its_sellers(storage):
    with pytest.raises(ValidationFailed, match="seller_ids"):
        make_coupon(storage, funded_by="seller")


def test_a_seller_funded_coupon_splits_the_discounted_total(storage):
    make_coupon(storage, funded_by="seller", seller_ids=["seller_1"])
    payment = pay(storage, subtotal=10000)
    assert (payment["discount_funded_by"], payment["platform_discount"]) == ("seller", 0)
    assert (payment["total"], payment["seller_amount"], payment["platform_fee"]) == (
        7500, 6000, 1500)
    assert accounts(storage).get("platform:discounts", 0) == 0


def test_a_full_refund_of_a_platform_funded_payment_returns_the_discount(storage):
    make_coupon(storage, funded_by="platform")
    payment = pay(storage, subtotal=10000)
    committed(storage, refund_payment, payment["id"], ADMIN, reason="r")
    balances = accounts(storage)
    assert balances["platform:discounts"] == 0
    assert balances["gateway:manual:clearing"] == 0
    with storage.unit_of_work(readonly=True) as uow:
        assert ledger.verify_ledger(uow, ADMIN)["ok"]
