"""Disputes (chargebacks): the record, and the journal entries its three money moves post.

A dispute of amount ``D`` takes back the payment's legs like a refund would
(``splits.taken_back`` from the refunded-plus-disputed amount before it): ``parts`` and a
``discount_part`` for a platform-funded discount. The seller's part is ``parts.seller_amount``;
the platform's held part is everything else of ``D``, ``D - seller_part`` (negative when a
large platform-funded discount makes the seller's part more than ``D``).

    opened  credit gateway clearing D        (the gateway took the money back)
            debit  the seller side           seller_part: held earning, available, debt
            debit  platform:disputes         D - seller_part (signed)
            debit  platform:disputes fee, credit gateway clearing fee   (any dispute fee)
    won     the mirror of the hold: debit clearing D, credit the seller side and
            platform:disputes; the fee stays lost (the gateway keeps it)
    lost    the platform's part leaves its revenue: debit platform:revenue, tax payable and
            shipping by their parts, credit platform:discounts the discount part and
            platform:disputes the held part, so platform:disputes keeps only fees
            (no postings at all when the seller's part was the whole dispute)

Each entry balances by construction; ``JournalEntry.check_balanced`` proves it on posting.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict

from paytrack.domain.analytics import RevenueTags
from paytrack.domain.ledger import (
    PLATFORM_DISCOUNTS,
    PLATFORM_DISPUTES,
    PLATFORM_REVENUE,
    PLATFORM_SHIPPING,
    PLATFORM_TAX_PAYABLE,
    JournalEntry,
    gateway_clearing,
)
from paytrack.domain.payments import SellerSide
from paytrack.domain.splits import Split


class DisputeReason(StrEnum):
    """The card networks' broad reasons, as gateways report them."""

    FRAUDULENT = "fraudulent"
    PRODUCT_NOT_RECEIVED = "product_not_received"
    PRODUCT_UNACCEPTABLE = "product_unacceptable"
    DUPLICATE = "duplicate"
    SUBSCRIPTION_CANCELED = "subscription_canceled"
    UNRECOGNIZED = "unrecognized"
    CREDIT_NOT_PROCESSED = "credit_not_processed"
    GENERAL = "general"


class Evidence(TypedDict):
    """One submission of evidence: what it says and what it points at (file ids, URLs)."""

    text: str
    references: list[str]
    submitted_by: str  # the role that submitted it ("admin", "seller"), never a key id
    submitted_at: str  # ISO-8601, as stored in the JSON column


class Dispute(TypedDict):
    """A dispute as stored, read and returned: one row of ``disputes``.

    ``amount`` is held from the payment's ``currency`` at opening; the five parts are the
    legs it takes back (fixed at opening) and sum to ``amount + discount_part``. ``fee`` is
    what the gateway charges for the dispute, borne by the platform whatever the outcome.
    ``payment_status_before`` is where a won dispute returns the payment."""

    id: str
    payment_id: str
    seller_id: str
    customer_id: str
    currency: str
    gateway: str
    gateway_dispute_id: str | None
    amount: int
    fee: int
    reason: str
    reason_code: str  # a DisputeReason value
    status: str  # a DisputeStatus value
    previous_status: str | None
    due_by: datetime | None
    evidence: list[dict[str, Any]]  # Evidence records, oldest first
    seller_part: int
    platform_part: int
    tax_part: int
    shipping_part: int
    discount_part: int
    payment_status_before: str
    decision_reason: str | None
    created_at: datetime
    updated_at: datetime
    opened_at: datetime
    under_review_at: datetime | None
    won_at: datetime | None
    lost_at: datetime | None


def parts_of(dispute: Dispute) -> Split:
    return Split(dispute["seller_part"], dispute["platform_part"], dispute["tax_part"],
                 dispute["shipping_part"])


def held_by_platform(amount: int, seller_part: int) -> int:
    """What the platform holds of a dispute: all of it but the seller's part (signed)."""
    return amount - seller_part


def opened_entry(*, dispute_id: str, payment_id: str, gateway: str, currency: str,
                 amount: int, seller_side: SellerSide, fee: int = 0,
                 about: RevenueTags | None = None) -> JournalEntry:
    """The hold: the gateway took ``amount`` back; the seller's part comes from
    ``seller_side`` (its debits), the platform's from ``platform:disputes``. A ``fee`` the
    gateway charges is the platform's (``platform:disputes``) and leaves clearing too."""
    seller_part = sum(part for _, part in seller_side)
    entry = JournalEntry("dispute.opened", f"dispute {dispute_id} of {payment_id} opened",
                         payment_id=payment_id, about=about)
    clearing = gateway_clearing(gateway)
    entry.credit(clearing, currency, amount)
    for account, part in seller_side:
        entry.debit(account, currency, part)
    entry.post(PLATFORM_DISPUTES, currency, held_by_platform(amount, seller_part))
    entry.debit(PLATFORM_DISPUTES, currency, fee)
    entry.credit(clearing, currency, fee)
    return entry


def won_entry(*, dispute_id: str, payment_id: str, gateway: str, currency: str,
              amount: int, seller_side: SellerSide,
              about: RevenueTags | None = None) -> JournalEntry:
    """The hold released: the gateway returns ``amount``; the seller gets its part back
    through ``seller_side`` (its credits), the platform's leaves ``platform:disputes``. The
    fee is not returned."""
    seller_part = sum(part for _, part in seller_side)
    entry = JournalEntry("dispute.won", f"dispute {dispute_id} of {payment_id} won",
                         payment_id=payment_id, about=about)
    entry.debit(gateway_clearing(gateway), currency, amount)
    for account, part in seller_side:
        entry.credit(account, currency, part)
    entry.post(PLATFORM_DISPUTES, currency, -held_by_platform(amount, seller_part))
    return entry


def lost_entry(*, dispute_id: str, payment_id: str, currency: str, amount: int, parts: Split,
               discount_part: int, about: RevenueTags | None = None) -> JournalEntry:
    """The funds leave for good. The seller's part already left at opening; the platform's
    held part now leaves its revenue, tax payable and shipping (as a refund would take
    them) and returns the platform-funded discount, emptying ``platform:disputes`` of it."""
    assert parts.total == amount + discount_part
    entry = JournalEntry("dispute.lost", f"dispute {dispute_id} of {payment_id} lost",
                         payment_id=payment_id, about=about)
    entry.debit(PLATFORM_REVENUE, currency, parts.platform_fee)
    entry.debit(PLATFORM_TAX_PAYABLE, currency, parts.tax_collected)
    entry.debit(PLATFORM_SHIPPING, currency, parts.shipping_collected)
    entry.credit(PLATFORM_DISCOUNTS, currency, discount_part)
    entry.post(PLATFORM_DISPUTES, currency, -held_by_platform(amount, parts.seller_amount))
    return entry
