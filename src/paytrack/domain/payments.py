"""Payment vocabulary, the payment record, and the journal entries a payment's money
movements post."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict

from paytrack.domain.ledger import (
    PLATFORM_FEES,
    PLATFORM_REVENUE,
    PLATFORM_SHIPPING,
    PLATFORM_TAX_PAYABLE,
    AccountSpec,
    JournalEntry,
    gateway_clearing,
    seller_pending,
)
from paytrack.domain.splits import Bearer, Split


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
    """What a new refund may still ask for: neither refunded nor held by an open request."""
    return payment["total"] - payment["refunded_amount"] - payment["refund_reserved_amount"]


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
    gateway_payment_id: str | None
    description: str | None
    metadata: dict[str, Any]
    billing_details: dict[str, Any] | None
    ip_address: str | None
    provider_response: dict[str, Any] | None
    failure_reason: str | None
    reconciled: bool
    created_at: datetime
    updated_at: datetime
    processing_at: datetime | None
    succeeded_at: datetime | None
    failed_at: datetime | None
    canceled_at: datetime | None
    refunded_at: datetime | None


def _split_legs(seller_id: str) -> list[AccountSpec]:
    return [seller_pending(seller_id), PLATFORM_REVENUE, PLATFORM_TAX_PAYABLE, PLATFORM_SHIPPING]


def capture_entry(*, payment_id: str, gateway: str, seller_id: str, currency: str,
                  split: Split, gateway_fee: int, fee_bearer: Bearer) -> JournalEntry:
    """Debit the gateway's clearing account with the total; credit each leg of the split.

    A gateway fee is money the gateway keeps: it leaves clearing and is borne by the
    platform (``platform:fees``) or, by policy, taken from the seller's share.
    """
    entry = JournalEntry("payment.captured", f"capture of {payment_id}", payment_id=payment_id)
    clearing = gateway_clearing(gateway)
    entry.debit(clearing, currency, split.total)
    for account, amount in zip(_split_legs(seller_id), split.legs, strict=True):
        entry.credit(account, currency, amount)
    if gateway_fee:
        bearer = PLATFORM_FEES if fee_bearer is Bearer.PLATFORM else seller_pending(seller_id)
        entry.debit(bearer, currency, gateway_fee)
        entry.credit(clearing, currency, gateway_fee)
    return entry


def refund_entry(*, payment_id: str, refund_id: str, gateway: str, seller_id: str,
                 currency: str, parts: Split) -> JournalEntry:
    """The mirror of the capture for the refunded part: debit each leg the capture credited
    (a zero part posts nothing), credit the gateway's clearing account with the total."""
    entry = JournalEntry("refund.succeeded", f"refund {refund_id} of {payment_id}",
                         payment_id=payment_id, refund_id=refund_id)
    for account, amount in zip(_split_legs(seller_id), parts.legs, strict=True):
        entry.debit(account, currency, amount)
    entry.credit(gateway_clearing(gateway), currency, parts.total)
    return entry
