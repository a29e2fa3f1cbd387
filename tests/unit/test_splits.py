from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytrack.domain.errors import InvalidAmount, InvalidRate, ValidationFailed
from paytrack.domain.splits import (
    Bearer,
    Breakdown,
    CommissionBase,
    Policy,
    Split,
    compute_split,
    parse_rate,
    refund_split,
)

TOTAL = Policy()
NET = Policy(commission_base=CommissionBase.NET)


def test_total_is_subtotal_minus_discount_plus_tax_plus_shipping():
    assert Breakdown(5000, 500, 100, 50).total == 4650


def test_a_discount_above_the_subtotal_is_refused():
    with pytest.raises(ValidationFailed, match="exceeds subtotal"):
        Breakdown(1000, 1001)


@pytest.mark.parametrize("kwargs", [{"subtotal": 0}, {"subtotal": -5}, {"subtotal": 100, "tax": -1},
                                    {"subtotal": 10**16}, {"subtotal": 10.5}, {"subtotal": True}])
def test_breakdown_amounts_must_be_positive_bounded_integers(kwargs):
    with pytest.raises(InvalidAmount):
        Breakdown(**kwargs)


def test_default_commission_is_twenty_percent_of_the_total():
    split = compute_split(Breakdown(10000), Decimal("0.20"), TOTAL)
    assert (split.platform_fee, split.seller_amount) == (2000, 8000)


def test_multi_vendor_example_ten_percent_of_1000():
    split = compute_split(Breakdown(100000), Decimal("0.10"), TOTAL)
    assert (split.platform_fee, split.seller_amount) == (10000, 90000)


def test_platform_fee_rounds_half_up_once():
    split = compute_split(Breakdown(1005), Decimal("0.10"), TOTAL)  # 100.5
    assert (split.platform_fee, split.seller_amount) == (101, 904)


def test_net_base_takes_commission_on_subtotal_less_discount_and_passes_tax_through():
    split = compute_split(Breakdown(5000, 500, 100, 50), Decimal("0.10"), NET)
    assert split == Split(seller_amount=4500 - 450 + 50, platform_fee=450, tax_collected=100)
    platform_ships = Policy(commission_base=CommissionBase.NET,
                            shipping_collected_by=Bearer.PLATFORM)
    split = compute_split(Breakdown(5000, 500, 100, 50), Decimal("0.10"), platform_ships)
    assert split == Split(4050, 450, 100, 50)


@pytest.mark.parametrize("text", ["0", "0.1", "0.20", "1", "1.0", "0.123456", ".5"])
def test_rates_are_decimal_fractions(text):
    assert parse_rate(text) == Decimal(text)


@pytest.mark.parametrize("value", ["1.01", "-0.1", "20%", "0.1234567", 0.2, "abc", None, 1])
def test_bad_rates_are_refused(value):
    with pytest.raises(InvalidRate):
        parse_rate(value)


def test_a_full_refund_returns_every_leg_exactly():
    split = Split(8001, 1999, 37, 13)
    assert refund_split(split, 0, split.total) == split


amounts = st.integers(min_value=1, max_value=10**9)


@given(
    subtotal=amounts, discount_pct=st.integers(0, 100), tax=st.integers(0, 10**6),
    shipping=st.integers(0, 10**6), rate=st.decimals(0, 1, places=4),
    base=st.sampled_from(list(CommissionBase)),
    steps=st.lists(st.integers(min_value=1, max_value=10**9), max_size=8),
)
def test_partial_refunds_never_drift_from_the_exact_share(subtotal, discount_pct, tax, shipping,
                                                          rate, base, steps):
    breakdown = Breakdown(subtotal, subtotal * discount_pct // 100 if discount_pct < 100 else 0,
                          tax, shipping)
    split = compute_split(breakdown, rate, Policy(commission_base=base))
    assert split.total == breakdown.total
    refunded = 0
    per_leg = [0, 0, 0, 0]
    for wanted in [*steps, split.total]:  # some partial refunds, then the rest
        step = min(wanted, split.total - refunded)
        if step == 0:
            break
        parts = refund_split(split, refunded, refunded + step)
        assert parts.total == step
        refunded += step
        per_leg = [a + b for a, b in zip(per_leg, parts.legs, strict=True)]
        for got, leg in zip(per_leg, split.legs, strict=True):
            exact = Decimal(refunded) * leg / split.total
            assert abs(got - exact) < 1
    assert per_leg == split.legs
