"""Subscriptions: a customer's service (an item of a seller) paid per period.

    pending_payment -> active              its first payment succeeded
                    -> incomplete_expired  that payment failed, was canceled or expired
                    -> canceled
    active -> active                       a renewal (period extended) or an upgrade
                                           (item and fee switched) was paid
           -> past_due                     the period ended unpaid (background job)
           -> canceled                     cancelled now, or at the end of the period
    past_due -> active                     the renewal was paid: the period continues
             -> expired                    still unpaid ``grace`` after the period ended
             -> canceled

Refunding a subscription payment moves money only; cancelling is a separate decision (as
at Stripe).

An upgrade is paid for the rest of the current period (``prorate``):

    amount = round_half_up((new_fee − fee) × remaining_seconds / period_seconds)

with ``period_seconds = current_period_end − current_period_start`` and
``remaining_seconds = max(0, current_period_end − now)``, in whole seconds, computed in
integers (exact in minor units). Periods paid ahead by an early renewal (the current period
starting after now) cost the whole difference each, on top (``upgrade_cost``).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict


class SubscriptionStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    EXPIRED = "expired"
    INCOMPLETE_EXPIRED = "incomplete_expired"


S = SubscriptionStatus

SUBSCRIPTION_TRANSITIONS: dict[SubscriptionStatus, frozenset[SubscriptionStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.ACTIVE, S.INCOMPLETE_EXPIRED, S.CANCELED}),
    S.ACTIVE: frozenset({S.ACTIVE, S.PAST_DUE, S.CANCELED}),
    S.PAST_DUE: frozenset({S.ACTIVE, S.EXPIRED, S.CANCELED}),
    S.CANCELED: frozenset(),
    S.EXPIRED: frozenset(),
    S.INCOMPLETE_EXPIRED: frozenset(),
}

# The service is on (the seed's ``active``) while the subscription is active; past_due
# keeps it on through the grace period.
SERVICE_ON = frozenset({S.ACTIVE, S.PAST_DUE})
ENDED = frozenset({S.CANCELED, S.EXPIRED, S.INCOMPLETE_EXPIRED})

MAX_PERIOD_MONTHS = 120


class SubscriptionPaymentKind(StrEnum):
    """Payment kinds a subscription makes (PaymentKind values)."""

    SUBSCRIPTION = "subscription"
    RENEWAL = "renewal"
    UPGRADE = "upgrade"


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months, the day clamped to the month's last
    (31 January + 1 month = 28 or 29 February)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_end(subscription: Subscription, renewals: int) -> datetime:
    """The end of the period after ``renewals`` renewals, counted in whole periods from the
    activation, so that month ends do not drift (activated 31 January, monthly: 28 or 29
    February, 31 March, 30 April …)."""
    anchor = subscription["activated_at"]
    assert anchor is not None, "an activated subscription"
    return add_months(anchor, subscription["period_months"] * (renewals + 1))


def prorate(fee: int, new_fee: int, start: datetime, end: datetime, now: datetime) -> int:
    """What an upgrade from ``fee`` to ``new_fee`` costs for the rest of the period (see
    the module's formula): round half up, in integers."""
    assert new_fee > fee, "an upgrade costs more"
    period = int((end - start).total_seconds())
    remaining = max(0, min(period, int((end - now).total_seconds())))
    if period <= 0:
        return 0
    difference = new_fee - fee
    return (2 * difference * remaining + period) // (2 * period)


def upgrade_cost(subscription: Subscription, new_fee: int, now: datetime) -> int:
    """What an upgrade to ``new_fee`` costs from ``now`` to the end of the current period:
    ``prorate`` of it, plus the whole difference of each period paid ahead (a renewal paid
    early makes the current period start after ``now``; the periods before it are still
    at the old fee and are upgraded too). Only the period ``now`` falls in is rounded."""
    start, end = subscription["current_period_start"], subscription["current_period_end"]
    assert start is not None and end is not None, "a subscription with its period"
    amount = prorate(subscription["fee"], new_fee, start, end, now)
    renewals = subscription["renewals"]
    while start > now and renewals > 0:
        renewals -= 1
        start, end = period_end(subscription, renewals - 1), start
        amount += prorate(subscription["fee"], new_fee, start, end, now)
    return amount


class Subscription(TypedDict):
    """One row of ``subscriptions``. ``fee`` is per period of ``period_months`` months, in
    minor units of ``currency``."""

    id: str
    customer_id: str
    seller_id: str
    item_type: str
    item_id: str  # the service subscribed to
    currency: str
    fee: int
    period_months: int
    gateway: str  # where its payments are taken (a Gateway value)
    method: str  # a PaymentMethod value
    status: str
    previous_status: str | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    # The payment it waits for (first, renewal or upgrade): at most one at a time.
    open_payment_id: str | None
    # An upgrade waiting for its payment: the service and fee it switches to.
    upgrade_item_id: str | None
    upgrade_fee: int | None
    renewals: int  # renewal payments that succeeded
    description: str | None
    metadata: dict[str, object]
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    canceled_at: datetime | None
    cancel_reason: str | None
    ended_at: datetime | None  # expired, incomplete_expired or canceled


def seed_fields(sub: Mapping[str, Any]) -> dict[str, Any]:
    """The subscription seed's names for a subscription's fields: ``active`` (the service
    is on), ``subscription_duration``, ``subscription_fee`` and ``subscription_expires_at``
    (the current period's end; before activation, the end a period from the application
    would have). Dates that are not ``datetime`` (an event's JSON snapshot) are taken as
    they are."""
    expires = sub.get("current_period_end")
    created = sub.get("created_at")
    if expires is None and sub.get("status") == S.PENDING_PAYMENT \
            and isinstance(created, datetime):
        expires = add_months(created, sub["period_months"])
    return {"active": sub.get("status") in SERVICE_ON,
            "subscription_duration": sub.get("period_months"),
            "subscription_fee": sub.get("fee"), "subscription_expires_at": expires}
