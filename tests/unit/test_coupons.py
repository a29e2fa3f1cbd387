"""The discount a coupon gives (DESIGN, "Coupon") and the grammar of its terms."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytrack.domain.coupons import (
    Order,
    Reason,
    check_code,
    code_key,
    fixed_discount,
    parse_percent,
    percent_discount,
    reason_not_applicable,
)
from paytrack.domain.errors import ValidationFailed
from paytrack.domain.limits import MAX_AMOUNT_MINOR

subtotals = st.integers(1, MAX_AMOUNT_MINOR)
percents = st.integers(1, 1_000_000).map(lambda n: Decimal(n) / 1_000_000)
caps = st.none() | st.integers(1, MAX_AMOUNT_MINOR)


@given(subtotals, percents, caps)
def test_a_percent_discount_never_exceeds_the_subtotal_or_the_cap(subtotal, percent, cap):
    discount = percent_discount(subtotal, percent, cap)
    assert 0 <= discount <= subtotal
    if cap is not None:
        assert discount <= cap


@given(subtotals, percents)
def test_a_percent_discount_is_the_exact_share_rounded_half_up(subtotal, percent):
    exact = subtotal * percent
    discount = percent_discount(subtotal, percent, None)
    assert abs(discount - exact) <= Decimal("0.5")
    if exact - int(exact) == Decimal("0.5"):
        assert discount == int(exact) + 1  # a half goes up


@given(subtotals, st.integers(1, MAX_AMOUNT_MINOR))
def test_a_fixed_discount_is_its_amount_at_most_the_subtotal(subtotal, amount_off):
    assert fixed_discount(subtotal, amount_off) == min(subtotal, amount_off)


@pytest.mark.parametrize(("subtotal", "percent", "cap", "expected"), [
    (4999, "0.25", None, 1250),  # 1249.75 rounds up
    (10, "0.15", None, 2),  # 1.5: a half goes up
    (9, "0.5", None, 5),  # 4.5 -> 5
    (4999, "0.25", 1000, 1000),  # capped
    (300, "1", None, 300),  # all of it, never more
    (1, "0.000001", None, 0),
])
def test_percent_discount_examples(subtotal, percent, cap, expected):
    assert percent_discount(subtotal, Decimal(percent), cap) == expected


@pytest.mark.parametrize("good", ["0.15", "0.1", "0.10", "0.000001", "1", "1.0", "1.000000",
                                  "0.999999"])
def test_percent_off_is_a_fraction_above_zero_and_at_most_one(good):
    assert parse_percent(good) == Decimal(good)


@pytest.mark.parametrize("bad", ["0", "0.0", "0.000000", "1.5", "1.01", "15", "-0.1", ".5",
                                 "0.1234567", "0,15", " 0.15", "15%", "", None, 0.15])
def test_other_percents_are_refused(bad):
    with pytest.raises(ValidationFailed, match="percent_off"):
        parse_percent(bad)


def test_codes_are_compared_without_case():
    assert code_key("Spring25") == code_key("SPRING25") == "SPRING25"


@pytest.mark.parametrize("bad", ["", "-SPRING", "SPRING 25", "SPRÏNG", "A" * 65, "a;b"])
def test_a_code_is_letters_digits_dash_and_underscore(bad):
    with pytest.raises(ValidationFailed, match="letters, digits"):
        check_code(bad)


NOW = datetime(2026, 6, 1, tzinfo=UTC)
ORDER = Order("c1", "s1", "course_1", "USD", 5000)


def coupon(**terms):
    return {"active": True, "starts_at": None, "expires_at": None, "currency": None,
            "seller_ids": [], "item_ids": [], "min_order_amount": None, **terms}


@pytest.mark.parametrize(("terms", "reason"), [
    ({}, None),
    ({"active": False}, Reason.INACTIVE),
    ({"starts_at": NOW + timedelta(seconds=1)}, Reason.NOT_STARTED),
    ({"starts_at": NOW}, None),
    ({"expires_at": NOW}, Reason.EXPIRED),
    ({"expires_at": NOW + timedelta(seconds=1)}, None),
    ({"currency": "EUR"}, Reason.OTHER_CURRENCY),
    ({"currency": "USD"}, None),
    ({"seller_ids": ["s2"]}, Reason.NOT_FOR_SELLER),
    ({"item_ids": ["course_2"]}, Reason.NOT_FOR_ITEM),
    ({"min_order_amount": 5001, "currency": "USD"}, Reason.BELOW_MINIMUM),
    ({"min_order_amount": 5000, "currency": "USD"}, None),
])
def test_the_terms_an_order_must_meet(terms, reason):
    assert reason_not_applicable(coupon(**terms), ORDER, NOW) == reason
