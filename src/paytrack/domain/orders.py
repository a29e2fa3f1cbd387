"""Orders: what a customer buys (a booking of a course stream, a shop order), its lines,
and the status its payments drive.

    pending -> confirmed            every payment succeeded
            -> cancelled            a payment failed or was canceled, or the order was
                                    cancelled (customer or admin) before it was paid
    confirmed -> partially_refunded -> refunded      following its payments' refunds

The booking seed's code is part of the representation: ``confirmed_code`` 2 (confirmed,
partially refunded), 1 (pending), -1 (cancelled, refunded). An admin may set one of the
three by hand (``OVERRIDES``): recorded with its reason, it never moves money.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypedDict

from paytrack.domain.errors import ValidationFailed
from paytrack.domain.money import allocate, round_half_up


class OrderStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


OS = OrderStatus

# Moves its payments make (``follow``) and a cancellation before payment.
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OS.PENDING: frozenset({OS.CONFIRMED, OS.CANCELLED}),
    OS.CONFIRMED: frozenset({OS.PARTIALLY_REFUNDED, OS.REFUNDED}),
    OS.PARTIALLY_REFUNDED: frozenset({OS.PARTIALLY_REFUNDED, OS.REFUNDED}),
    OS.CANCELLED: frozenset(),
    OS.REFUNDED: frozenset(),
}

# An admin's hand-set status (the booking seed's dropdown): between these three only.
OVERRIDABLE = frozenset({OS.PENDING, OS.CONFIRMED, OS.CANCELLED})

CONFIRMED_CODES: dict[OrderStatus, int] = {
    OS.CONFIRMED: 2, OS.PARTIALLY_REFUNDED: 2, OS.PENDING: 1, OS.CANCELLED: -1, OS.REFUNDED: -1,
}
STATUS_OF_CODE: dict[int, OrderStatus] = {2: OS.CONFIRMED, 1: OS.PENDING, -1: OS.CANCELLED}

# Payment statuses, as the order reads them.
_PAID = frozenset({"succeeded", "partially_refunded", "refunded", "disputed", "charged_back"})
_LOST = frozenset({"failed", "canceled"})

MAX_LINES = 100
MAX_QUANTITY = 10_000
STREAM_PATTERN = r"^[\x21-\x7e][\x20-\x7e]{0,99}$"  # printable ASCII, 1-100 characters
STREAM_EXPECTED = '1 to 100 printable ASCII characters, e.g. "2026-spring"'


def confirmed_code(status: str) -> int:
    return CONFIRMED_CODES[OrderStatus(status)]


def status_of_code(code: object) -> OrderStatus:
    if isinstance(code, bool) or not isinstance(code, int) or code not in STATUS_OF_CODE:
        raise ValidationFailed("confirmed_code must be 2 (confirmed), 1 (pending) or "
                               "-1 (cancelled)", field="confirmed_code")
    return STATUS_OF_CODE[code]


@dataclass(frozen=True, slots=True)
class PaymentState:
    """What the order needs to know of one of its payments."""

    status: str
    total: int
    refunded_amount: int


def follow(current: str, payments: Iterable[PaymentState]) -> OrderStatus | None:
    """The status the order's payments now call for, or None to stay where it is.

    A pending order is confirmed when every payment is paid, cancelled as soon as one is
    lost (failed or canceled). A confirmed order follows the refunds: all its money back ->
    refunded, some -> partially_refunded. A cancelled or refunded order stays (a payment
    confirmed after a cancel is flagged on the payment for review)."""
    states = list(payments)
    status = OrderStatus(current)
    if status is OS.PENDING:
        if any(p.status in _LOST for p in states):
            return OS.CANCELLED
        if states and all(p.status in _PAID for p in states):
            return OS.CONFIRMED
        return None
    if status in (OS.CONFIRMED, OS.PARTIALLY_REFUNDED):
        refunded = sum(p.refunded_amount for p in states)
        if refunded and refunded >= sum(p.total for p in states):
            return OS.REFUNDED
        if refunded and status is OS.CONFIRMED:
            return OS.PARTIALLY_REFUNDED
    return None


def parse_discount_percent(value: object) -> Decimal:
    """A percent of the subtotal, 0 to 100 with at most 2 decimal places ("12.5")."""
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise ValidationFailed('discount_percent must be a number from 0 to 100 with at '
                               'most 2 decimal places, e.g. 10 or "12.5"',
                               field="discount_percent")
    try:
        percent = Decimal(str(value).strip())
    except InvalidOperation:
        percent = Decimal("NaN")
    if (not percent.is_finite() or not 0 <= percent <= 100
            or percent != percent.quantize(Decimal("0.01"))):
        raise ValidationFailed('discount_percent must be a number from 0 to 100 with at '
                               'most 2 decimal places, e.g. 10 or "12.5"',
                               field="discount_percent")
    return percent


def percent_discount(subtotal: int, percent: Decimal) -> int:
    """``round_half_up(subtotal × percent / 100)``: the discount one payment gets."""
    return round_half_up(subtotal * percent / 100)


def spread(amount: int, line_amounts: list[int]) -> list[int]:
    """A payment's discount spread over its lines in proportion to their amounts, exactly
    (largest remainder): what each booking's confirmed revenue is net of."""
    return allocate(amount, line_amounts) if amount else [0] * len(line_amounts)


class Order(TypedDict):
    """One row of ``orders``. Amounts are minor units of ``currency``; the totals are the
    sums of its payments'."""

    id: str
    customer_id: str
    currency: str
    stream: str | None  # a course cohort or session, e.g. "2026-spring"
    referral_code: str | None
    coupon_code: str | None
    discount_percent: str | None  # as sent, a decimal string
    subtotal: int
    discount: int
    tax: int
    shipping: int
    total: int
    refunded_amount: int  # the sum of its payments', kept by ``follow``
    status: str
    previous_status: str | None
    description: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    refunded_at: datetime | None
    # Set when a lost payment cancelled it and its other payments are still to be cancelled
    # or refunded (the background job's lease while it does so); None: nothing to settle.
    settle_due_at: datetime | None


class OrderLine(TypedDict):
    """One row of ``order_lines``: one booking (an item, its quantity and its seller)."""

    id: int
    order_id: str
    line_no: int  # 1, 2, … in the order as sent
    item_type: str
    item_id: str
    seller_id: str
    stream: str | None  # the order's, kept here for the per-stream statistics
    quantity: int
    unit_price: int
    amount: int  # quantity × unit_price
    discount: int  # its share of its payment's discount
    tax: int
    shipping: int
    payment_id: str  # the payment of its seller's part
    created_at: datetime
