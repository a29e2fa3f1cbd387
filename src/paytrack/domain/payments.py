"""Payment vocabulary, the payment record, and the journal entries a payment's money
movements post."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict

from paytrack.domain.analytics import RevenueTags
from paytrack.domain.ledger import (
    PLATFORM_DISCOUNTS,
    PLATFORM_FEES,
    PLATFORM_REVENUE,
    PLATFORM_SHIPPING,
    PLATFORM_TAX_PAYABLE,
    AccountSpec,
    JournalEntry,
    gateway_clearing,
    seller_debt,
    seller_pending,
)
from paytrack.domain.splits import Bearer, Split
from paytrack.domain.states import CAPTURED_STATES


class PaymentMethod(StrEnum):
    CARD = "card"
    PAYPAL = "paypal"
    STRIPE = "stripe"
    BANK_TRANSFER = "bank_transfer"
    UPI = "upi"
    WALLET = "wallet"
    NET_BANKING = "net_banking"
    COD = "cod"
    CRYPTO = "crypto"
    OTHER = "other"


class Gateway(StrEnum):
    MANUAL = "manual"
    SIMULATOR = "simulator"
    STRIPE = "stripe"
    PAYPAL = "paypal"
    RAZORPAY = "razorpay"


class PaymentKind(StrEnum):
    ONE_TIME = "one_time"
    SUBSCRIPTION = "subscription"
    RENEWAL = "renewal"
    UPGRADE = "upgrade"


def refundable_amount(payment: Payment) -> int:
    """What a new refund may still ask for: neither refunded, nor held by an open request,
    nor disputed; nothing while the payment cannot be refunded (not yet captured, failed,
    canceled, disputed or charged back)."""
    if payment["status"] not in CAPTURED_STATES:
        return 0
    return (payment["total"] - payment["refunded_amount"] - payment["refund_reserved_amount"]
            - payment["disputed_amount"])


class Payment(TypedDict):
    """A payment as stored, read and returned: one row of ``payments``.

    ``subtotal - discount + tax + shipping = total``; the split (``seller_amount``,
    ``platform_fee``, ``tax_collected``, ``shipping_collected``) sums to ``total`` and is
    fixed at creation. Amounts are integer minor units of ``currency``; ``status`` is a
    ``PaymentStatus`` value and ``method``, ``gateway``, ``kind`` the enums above."""

    id: str
    customer_id: str
    seller_id: str
    item_type: str
    item_id: str
    order_id: str | None
    currency: str
    subtotal: int
    discount: int
    tax: int
    shipping: int
    total: int
    method: str
    gateway: str
    kind: str
    status: str
    previous_status: str | None  # set by every move: history and dispute returns
    coupon_code: str | None
    coupon_id: str | None  # the coupon that gave ``discount``, if one did
    discount_funded_by: str | None  # with a coupon: who bears it (a coupons.FundedBy value)
    commission_rate: str  # the decimal fraction used ("0.20")
    commission_base: str  # a CommissionBase value
    platform_fee: int
    seller_amount: int
    tax_collected: int
    shipping_collected: int
    gateway_fee: int
    gateway_fee_bearer: str  # a Bearer value
    refunded_amount: int
    refund_reserved_amount: int  # held by open refund requests
    disputed_amount: int  # held by open disputes and taken by lost ones
    platform_discount: int  # the part of ``discount`` the platform funds
    gateway_payment_id: str | None
    gateway_order_id: str | None  # the provider's checkout: an order or a session
    payment_url: str | None  # where the customer pays, until payment_url_expires_at
    payment_url_expires_at: datetime | None
    gateway_mode: str | None  # test or live: the gateway configuration that took it
    order_ref: str | None  # the order it pays (one payment per seller), made by paytrack
    subscription_id: str | None  # the subscription whose period, renewal or upgrade it pays
    description: str | None
    metadata: dict[str, Any]
    billing_details: dict[str, Any] | None
    ip_address: str | None
    provider_response: dict[str, Any] | None
    failure_reason: str | None
    reconciled: bool
    reconciled_at: datetime | None  # when it was marked reconciled, by hand or by an import
    reconciled_by: str | None  # who marked it (an admin's key, or the import's)
    created_at: datetime
    updated_at: datetime
    processing_at: datetime | None
    succeeded_at: datetime | None
    failed_at: datetime | None
    canceled_at: datetime | None
    refunded_at: datetime | None


SellerSide = list[tuple[AccountSpec, int]]  # seller accounts and amounts, in that order


def _house_legs() -> list[AccountSpec]:
    return [PLATFORM_REVENUE, PLATFORM_TAX_PAYABLE, PLATFORM_SHIPPING]


def seller_fee_share(seller_amount: int, gateway_fee: int,
                     fee_bearer: Bearer) -> tuple[int, int]:
    """A gateway fee the seller bears: how much comes out of the capture's share, and how
    much more than that share it is (owed by the seller: ``seller:<id>:debt``)."""
    if fee_bearer is not Bearer.SELLER:
        return 0, 0
    from_share = min(gateway_fee, seller_amount)
    return from_share, gateway_fee - from_share


def capture_entry(*, payment_id: str, gateway: str, seller_id: str, currency: str,
                  split: Split, gateway_fee: int, fee_bearer: Bearer,
                  platform_discount: int = 0, about: RevenueTags | None = None) -> JournalEntry:
    """Debit the gateway's clearing account with what the customer paid; credit each leg
    of the split. A platform-funded discount is debited to ``platform:discounts`` (the
    legs sum to the total plus it).

    A gateway fee is money the gateway keeps: it leaves clearing and is borne by the
    platform (``platform:fees``) or, by policy, taken from the seller's share (what the
    share cannot cover becomes the seller's debt).
    """
    entry = JournalEntry("payment.captured", f"capture of {payment_id}", payment_id=payment_id,
                         about=about)
    clearing = gateway_clearing(gateway)
    entry.debit(clearing, currency, split.total - platform_discount)
    entry.debit(PLATFORM_DISCOUNTS, currency, platform_discount)
    legs = [seller_pending(seller_id), *_house_legs()]
    for account, amount in zip(legs, split.legs, strict=True):
        entry.credit(account, currency, amount)
    if gateway_fee:
        from_share, owed = seller_fee_share(split.seller_amount, gateway_fee, fee_bearer)
        entry.debit(PLATFORM_FEES, currency, gateway_fee - from_share - owed)
        entry.debit(seller_pending(seller_id), currency, from_share)
        entry.debit(seller_debt(seller_id), currency, owed)
        entry.credit(clearing, currency, gateway_fee)
    return entry


def refund_entry(*, payment_id: str, refund_id: str, gateway: str, currency: str,
                 parts: Split, seller_side: SellerSide, discount_part: int = 0,
                 about: RevenueTags | None = None) -> JournalEntry:
    """The mirror of the capture for the refunded part: debit each leg the capture credited
    (the seller's part from where ``seller_side`` says it is: pending, available, or its
    debt), credit the gateway's clearing account with what the customer gets back and
    ``platform:discounts`` with the platform-funded discount that returns with it."""
    assert sum(amount for _, amount in seller_side) == parts.seller_amount
    entry = JournalEntry("refund.succeeded", f"refund {refund_id} of {payment_id}",
                         payment_id=payment_id, refund_id=refund_id, about=about)
    for account, amount in seller_side:
        entry.debit(account, currency, amount)
    for account, amount in zip(_house_legs(), parts.legs[1:], strict=True):
        entry.debit(account, currency, amount)
    entry.credit(gateway_clearing(gateway), currency, parts.total - discount_part)
    entry.credit(PLATFORM_DISCOUNTS, currency, discount_part)
    return entry
