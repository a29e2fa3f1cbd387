"""Coupons: their terms, the discount they give, and why one does not apply.

A coupon discounts a payment's subtotal only (DESIGN, "Coupon"):

    percent   round_half_up(subtotal × percent_off), capped at max_discount, then at subtotal
    fixed     min(amount_off, subtotal), in the coupon's currency

A fixed coupon has a currency. A percent coupon applies in any currency unless it names one;
it must name one when it has a ``min_order_amount`` or a ``max_discount`` (an amount means
nothing without its currency), and then it applies in that currency only.

Its redemptions (one per payment that carries its code) move
``reserved -> redeemed -> released`` (or ``reserved -> released``, and back to ``redeemed``
when a gateway confirms a payment after it was cancelled): see ``services.coupons``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypedDict

from paytrack.domain.errors import ValidationFailed
from paytrack.domain.money import round_half_up

# A code's one grammar: 1 to 64 ASCII letters, digits, `-` and `_`, starting with a letter
# or a digit. Codes are compared without regard to case (``code_key``).
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
CODE_EXPECTED = ("1 to 64 letters, digits, `-` and `_`, starting with a letter or digit; "
                 "case does not matter")
_CODE_TEXT = re.compile(CODE_PATTERN)

# A fraction above 0 and at most 1, with at most 6 decimal places ("0.15" is 15%).
PERCENT_PATTERN = r"^(0\.0{0,5}[1-9][0-9]{0,5}|1|1\.0{1,6})$"
PERCENT_MAX_LENGTH = 8
PERCENT_EXPECTED = ('a fraction above "0" and at most "1" as a decimal string with at most '
                    '6 decimal places ("0.15" is 15% off)')
_PERCENT_TEXT = re.compile(PERCENT_PATTERN)

MAX_REDEMPTIONS = 1_000_000_000  # the most any usage limit may be
MAX_TARGETS = 100  # item ids or seller ids one coupon may name


class CouponKind(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


class FundedBy(StrEnum):
    """Who bears the discount. ``seller``: the split is computed on the discounted total.
    ``platform``: the seller is paid as if undiscounted; ``platform:discounts`` bears it."""

    PLATFORM = "platform"
    SELLER = "seller"


class RedemptionStatus(StrEnum):
    RESERVED = "reserved"  # the payment is not paid yet; it holds a place in the limits
    REDEEMED = "redeemed"  # the payment succeeded
    RELEASED = "released"  # failed, cancelled or fully refunded: the place is given back


class Reason(StrEnum):
    """Why a coupon does not apply: stable codes, in the order they are checked."""

    UNKNOWN_CODE = "unknown_code"
    INACTIVE = "inactive"
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    OTHER_CURRENCY = "other_currency"
    NOT_FOR_SELLER = "not_for_seller"
    NOT_FOR_ITEM = "not_for_item"
    BELOW_MINIMUM = "below_minimum"
    USED_UP = "used_up"
    CUSTOMER_LIMIT = "customer_limit"


class Coupon(TypedDict):
    """A coupon as stored, read and returned: one row of ``coupons`` with its targets.

    ``redemptions_held`` counts the redemptions that hold a place against
    ``max_redemptions`` (reserved or redeemed); it is kept only when there is a limit."""

    id: str
    code: str
    code_key: str  # the code in capitals: unique
    kind: str  # a CouponKind value
    percent_off: str | None  # "0.15"
    amount_off: int | None
    currency: str | None
    max_discount: int | None
    min_order_amount: int | None
    max_redemptions: int | None
    max_redemptions_per_customer: int | None
    redemptions_held: int
    starts_at: datetime | None
    expires_at: datetime | None
    funded_by: str  # a FundedBy value
    active: bool
    description: str | None
    deactivated_at: datetime | None
    deactivation_reason: str | None
    created_at: datetime
    updated_at: datetime
    item_ids: list[str]  # empty: any item
    seller_ids: list[str]  # empty: any seller


class Redemption(TypedDict):
    """One payment's use of a coupon: one row of ``coupon_redemptions``. ``counted``: it
    holds its place in the coupon's limits (always while reserved; a confirmation after a
    cancel that found the limits full is redeemed without one)."""

    payment_id: str
    coupon_id: str
    customer_id: str
    status: str  # a RedemptionStatus value
    counted: bool
    created_at: datetime
    updated_at: datetime
    redeemed_at: datetime | None
    released_at: datetime | None


@dataclass(frozen=True, slots=True)
class Order:
    """What a coupon is checked against: one payment's buyer, seller, item and subtotal."""

    customer_id: str
    seller_id: str
    item_id: str
    currency: str
    subtotal: int


def code_key(code: str) -> str:
    """The form codes are compared in: ``spring25`` and ``SPRING25`` are one code."""
    return code.strip().upper()


def check_code(code: object) -> str:
    if not isinstance(code, str) or not _CODE_TEXT.fullmatch(code):
        raise ValidationFailed(f"coupon code {code!r}: expected {CODE_EXPECTED}, e.g. "
                               "'SPRING25'", field="code")
    return code


def is_code(code: str) -> bool:
    return _CODE_TEXT.fullmatch(code) is not None


def parse_percent(value: object) -> Decimal:
    """``percent_off`` in its one grammar (``PERCENT_PATTERN``)."""
    if (not isinstance(value, str) or len(value) > PERCENT_MAX_LENGTH
            or not _PERCENT_TEXT.fullmatch(value)):
        raise ValidationFailed(f"percent_off {value!r}: expected {PERCENT_EXPECTED}, e.g. "
                               "'0.15'", field="percent_off")
    return Decimal(value)


def percent_discount(subtotal: int, percent_off: Decimal, max_discount: int | None) -> int:
    """``round_half_up(subtotal × percent_off)``, capped at ``max_discount`` and at the
    subtotal."""
    assert subtotal >= 0 and Decimal(0) < percent_off <= Decimal(1)
    discount = round_half_up(subtotal * percent_off)
    if max_discount is not None:
        discount = min(discount, max_discount)
    return min(discount, subtotal)


def fixed_discount(subtotal: int, amount_off: int) -> int:
    assert subtotal >= 0 and amount_off > 0
    return min(amount_off, subtotal)


def discount_for(coupon: Coupon, subtotal: int) -> int:
    """The discount ``coupon`` gives on ``subtotal`` (in the payment's currency, which
    ``reason_not_applicable`` has checked)."""
    if coupon["kind"] == CouponKind.FIXED:
        assert coupon["amount_off"] is not None
        return fixed_discount(subtotal, coupon["amount_off"])
    assert coupon["percent_off"] is not None
    return percent_discount(subtotal, Decimal(coupon["percent_off"]), coupon["max_discount"])


def reason_not_applicable(coupon: Coupon, order: Order, now: datetime) -> Reason | None:
    """The first of the coupon's terms ``order`` does not meet at ``now``, or None. The
    usage limits are the database's to decide (``used_up``, ``customer_limit``)."""
    if not coupon["active"]:
        return Reason.INACTIVE
    if coupon["starts_at"] is not None and now < coupon["starts_at"]:
        return Reason.NOT_STARTED
    if coupon["expires_at"] is not None and now >= coupon["expires_at"]:
        return Reason.EXPIRED
    if coupon["currency"] is not None and coupon["currency"] != order.currency:
        return Reason.OTHER_CURRENCY
    if coupon["seller_ids"] and order.seller_id not in coupon["seller_ids"]:
        return Reason.NOT_FOR_SELLER
    if coupon["item_ids"] and order.item_id not in coupon["item_ids"]:
        return Reason.NOT_FOR_ITEM
    minimum = coupon["min_order_amount"]
    if minimum is not None and order.subtotal < minimum:
        return Reason.BELOW_MINIMUM
    return None


def explain(reason: Reason, coupon: Coupon | None, order: Order) -> str:
    """A sentence for people about why the coupon does not apply."""
    if coupon is None or reason is Reason.UNKNOWN_CODE:
        return "no coupon has this code"
    code = coupon["code"]
    texts = {
        Reason.INACTIVE: f"coupon {code} has been deactivated",
        Reason.NOT_STARTED: f"coupon {code} is valid only from {coupon['starts_at']}",
        Reason.EXPIRED: f"coupon {code} expired at {coupon['expires_at']}",
        Reason.OTHER_CURRENCY: f"coupon {code} is for {coupon['currency']} payments, "
                               f"not {order.currency}",
        Reason.NOT_FOR_SELLER: f"coupon {code} does not apply to seller {order.seller_id}",
        Reason.NOT_FOR_ITEM: f"coupon {code} does not apply to item {order.item_id}",
        Reason.BELOW_MINIMUM: f"coupon {code} needs a subtotal of at least "
                              f"{coupon['min_order_amount']} minor units of "
                              f"{coupon['currency']}; this one is {order.subtotal}",
        Reason.USED_UP: f"coupon {code} has been used {coupon['max_redemptions']} times, "
                        "its limit",
        Reason.CUSTOMER_LIMIT: f"customer {order.customer_id} has used coupon {code} "
                               f"{coupon['max_redemptions_per_customer']} times, the most "
                               "one customer may",
    }
    return texts[reason]
