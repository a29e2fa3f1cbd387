import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytrack.domain.errors import InvalidAmount, InvalidRate, ValidationFailed
from paytrack.domain.money import allocate
from paytrack.domain.splits import (
    Bearer,
    Breakdown,
    CommissionBase,
    Policy,
    Split,
    compute_split,
    parse_rate,
    refund_split,
    refunded_legs,
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


@pytest.mark.parametrize("text", ["0", "0.1", "0.20", "1", "1.0", "0.123456", "1.000000"])
def test_rates_are_decimal_fractions(text):
    assert parse_rate(text) == Decimal(text)


@pytest.mark.parametrize("value", ["1.01", "-0.1", "20%", "0.1234567", 0.2, "abc", None, 1,
                                   ".5", "0.", " 0.1", "0.1\n", "\u0660.\u0661"])
def test_bad_rates_are_refused(value):
    with pytest.raises(InvalidRate):
        parse_rate(value)


def test_a_full_refund_returns_every_leg_exactly():
    split = Split(8001, 1999, 37, 13)
    assert refund_split(split, 0, split.total) == split


def _within_quota(got: list[int], legs: list[int], refunded: int) -> bool:
    """Every leg is the floor or the ceiling of its exact share ``refunded × leg / total``."""
    total = sum(legs)
    return all(leg * refunded // total <= part <= -(-leg * refunded // total)
               for part, leg in zip(got, legs, strict=True))


def test_a_refund_never_moves_a_leg_backwards_where_largest_remainder_does():
    # the counterexample: net base, subtotal 49.99, tax 4.13, rate 0.20
    split = compute_split(Breakdown(4999, tax=413), Decimal("0.20"), NET)
    assert split.legs == [3999, 1000, 413, 0]
    paradox = [a - b for a, b in zip(allocate(19, split.legs), allocate(18, split.legs),
                                     strict=True)]
    assert paradox == [1, 1, -1, 0]  # largest remainder, cumulative: tax payable credited
    parts = refund_split(split, 18, 19)
    assert parts.total == 1 and min(parts.legs) == 0
    assert _within_quota(refunded_legs(split, 19).legs, split.legs, 19)


def test_two_legs_split_a_refund_by_largest_remainder_as_before():
    split = Split(8001, 2000)
    for refunded in range(0, split.total + 1, 7):
        assert refunded_legs(split, refunded).legs == allocate(refunded, split.legs)


def test_every_small_split_refunded_one_unit_at_a_time_keeps_all_properties():
    """Exhaustive over every split with legs 0..6: each one-unit refund is one part of 1,
    the rest 0; every cumulative leg is a floor or a ceiling of its share; the end is exact."""
    for legs in itertools.product(range(7), repeat=4):
        if not any(legs):
            continue
        split = Split(*legs)
        cumulative = [0, 0, 0, 0]
        for refunded in range(split.total):
            parts = refund_split(split, refunded, refunded + 1).legs
            assert sorted(parts) == [0, 0, 0, 1], (legs, refunded, parts)
            cumulative = [a + b for a, b in zip(cumulative, parts, strict=True)]
            assert _within_quota(cumulative, list(legs), refunded + 1), (legs, refunded)
        assert cumulative == list(legs)


leg_amounts = st.one_of(st.just(0), st.integers(1, 20), st.integers(1, 10**15))


@given(legs=st.lists(leg_amounts, min_size=4, max_size=4).filter(any), data=st.data())
def test_cumulative_refunds_are_house_monotone_and_within_quota_at_any_size(legs, data):
    """64 one-unit refunds from anywhere, on legs up to 10^15: no leg ever decreases."""
    split = Split(*legs)
    start = data.draw(st.integers(0, split.total - 1), label="start")
    here = refunded_legs(split, start).legs
    for refunded in range(start + 1, min(start + 64, split.total) + 1):
        after = refunded_legs(split, refunded).legs
        assert sum(after) == refunded
        assert all(b >= a for a, b in zip(here, after, strict=True)), (refunded, here, after)
        assert _within_quota(after, legs, refunded)
        here = after
    assert refunded_legs(split, split.total) == split


amounts = st.integers(min_value=1, max_value=10**9)


@given(
    subtotal=amounts, discount_pct=st.integers(0, 100), tax=st.integers(0, 10**6),
    shipping=st.integers(0, 10**6), rate=st.decimals(0, 1, places=4),
    base=st.sampled_from(list(CommissionBase)), ships=st.sampled_from(list(Bearer)),
    steps=st.lists(st.integers(min_value=1, max_value=10**9), max_size=8),
)
def test_partial_refunds_take_every_leg_forward_and_never_drift(subtotal, discount_pct, tax,
                                                                shipping, rate, base, ships,
                                                                steps):
    breakdown = Breakdown(subtotal, subtotal * discount_pct // 100 if discount_pct < 100 else 0,
                          tax, shipping)
    split = compute_split(breakdown, rate,
                          Policy(commission_base=base, shipping_collected_by=ships))
    assert split.total == breakdown.total
    refunded = 0
    per_leg = [0, 0, 0, 0]
    for wanted in [*steps, split.total]:  # some partial refunds, then the rest
        step = min(wanted, split.total - refunded)
        if step == 0:
            break
        parts = refund_split(split, refunded, refunded + step)
        assert parts.total == step  # (a) the parts are the refund
        assert min(parts.legs) >= 0  # (b) no part moves a leg backwards
        refunded += step
        per_leg = [a + b for a, b in zip(per_leg, parts.legs, strict=True)]
        assert _within_quota(per_leg, split.legs, refunded)  # (c) within one unit
    assert per_leg == split.legs  # (d) a full refund returns every leg exactly


@given(legs=st.lists(leg_amounts, min_size=4, max_size=4).filter(any),
       cuts=st.lists(st.integers(0, 10**16), max_size=6))
def test_any_sequence_of_refunds_of_any_split_has_non_negative_parts(legs, cuts):
    split = Split(*legs)
    points = sorted({0, split.total, *(cut % (split.total + 1) for cut in cuts)})
    per_leg = [0, 0, 0, 0]
    for before, after in itertools.pairwise(points):
        parts = refund_split(split, before, after)
        assert parts.total == after - before and min(parts.legs) >= 0
        per_leg = [a + b for a, b in zip(per_leg, parts.legs, strict=True)]
        assert _within_quota(per_leg, legs, after)
    assert per_leg == legs
