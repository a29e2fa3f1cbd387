"""Subscription periods and upgrade proration: calendar months clamped to the month's end,
and the prorated difference exact in minor units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytrack.domain.subscriptions import (
    ENDED,
    SUBSCRIPTION_TRANSITIONS,
    SubscriptionStatus,
    add_months,
    period_end,
    prorate,
    seed_fields,
)


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(("start", "months", "end"), [
    (at(2026, 1, 31), 1, at(2026, 2, 28)),
    (at(2028, 1, 31), 1, at(2028, 2, 29)),  # a leap year
    (at(2026, 3, 31), 1, at(2026, 4, 30)),
    (at(2026, 11, 15), 2, at(2027, 1, 15)),  # across the year
    (at(2026, 12, 31), 12, at(2027, 12, 31)),
    (at(2026, 8, 31), 6, at(2027, 2, 28)),
    (at(2026, 1, 1), 120, at(2036, 1, 1)),
])
def test_add_months_clamps_to_the_months_last_day(start, months, end):
    assert add_months(start, months) == end


def test_renewed_periods_count_from_the_activation_and_do_not_drift_at_month_ends():
    sub = {"activated_at": at(2026, 1, 31, 9), "period_months": 1}
    ends = [period_end(sub, n) for n in range(4)]  # type: ignore[arg-type]
    assert ends == [at(2026, 2, 28, 9), at(2026, 3, 31, 9), at(2026, 4, 30, 9),
                    at(2026, 5, 31, 9)]
    quarterly = {"activated_at": at(2026, 11, 30), "period_months": 3}
    assert period_end(quarterly, 1) == at(2027, 5, 30)  # type: ignore[arg-type]


def test_add_months_keeps_the_time_of_day():
    assert add_months(at(2026, 1, 31, 15), 1) == at(2026, 2, 28, 15)


@pytest.mark.parametrize(("fee", "new_fee", "days_left", "expected"), [
    (3000, 5000, 14, 1000),  # half of 28 days: half the difference
    (3000, 5001, 21, 1501),  # 2001 × 3/4 = 1500.75, rounded half up
    (1000, 1003, 14, 2),  # 1.5 rounds half up to 2
    (1000, 1001, 14, 1),  # 0.5 rounds half up to 1
    (1000, 2000, 28, 1000),  # the whole period left: the whole difference
    (1000, 2000, 0, 0),  # nothing left
])
def test_prorate_is_the_rounded_share_of_the_difference(fee, new_fee, days_left, expected):
    start, end = at(2026, 2, 1), at(2026, 3, 1)  # 28 days
    assert prorate(fee, new_fee, start, end, end - timedelta(days=days_left)) == expected


def test_prorate_after_the_period_or_before_it_stays_within_the_difference():
    start, end = at(2026, 2, 1), at(2026, 3, 1)
    assert prorate(100, 300, start, end, end + timedelta(days=3)) == 0
    assert prorate(100, 300, start, end, start - timedelta(days=3)) == 200


@given(fee=st.integers(1, 10**12), extra=st.integers(1, 10**12),
       period_s=st.integers(1, 10 * 366 * 86400), offset_s=st.integers(-10**9, 10**9))
def test_prorate_is_never_below_zero_nor_above_the_difference(fee, extra, period_s, offset_s):
    start = at(2026, 1, 1)
    end = start + timedelta(seconds=period_s)
    amount = prorate(fee, fee + extra, start, end, start + timedelta(seconds=offset_s))
    assert isinstance(amount, int) and 0 <= amount <= extra


@given(fee=st.integers(1, 10**9), extra=st.integers(1, 10**9),
       period_s=st.integers(1, 10**8), a=st.integers(0, 10**8), b=st.integers(0, 10**8))
def test_prorate_costs_less_the_later_it_is_asked(fee, extra, period_s, a, b):
    start = at(2026, 1, 1)
    end = start + timedelta(seconds=period_s)
    early, late = sorted((a, b))
    assert prorate(fee, fee + extra, start, end, start + timedelta(seconds=early)) >= \
        prorate(fee, fee + extra, start, end, start + timedelta(seconds=late))


def test_ended_subscriptions_move_no_more():
    for status in ENDED:
        assert SUBSCRIPTION_TRANSITIONS[status] == frozenset()


def test_the_seed_fields_say_whether_the_service_is_on_and_until_when():
    pending = {"status": "pending_payment", "period_months": 6, "fee": 54999,
               "current_period_end": None, "created_at": at(2025, 1, 2)}
    assert seed_fields(pending) == {"active": False, "subscription_duration": 6,
                                    "subscription_fee": 54999,
                                    "subscription_expires_at": at(2025, 7, 2)}
    running = {**pending, "status": SubscriptionStatus.PAST_DUE,
               "current_period_end": at(2025, 8, 1)}
    assert seed_fields(running)["active"] is True
    assert seed_fields(running)["subscription_expires_at"] == at(2025, 8, 1)
    never_paid = {**pending, "status": "incomplete_expired"}
    assert seed_fields(never_paid)["subscription_expires_at"] is None
