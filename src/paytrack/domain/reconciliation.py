"""Reconciliation: a gateway's settlement report set against paytrack's own records.

Each line of a report is classified once, when the report is imported:

    matched              the line's ids name a payment (or refund) and its amount and fee agree
    amount_mismatch      found, but the amount differs (or paytrack has no money taken for it)
    fee_mismatch         found, amounts agree, the report's fee is not the payment's
    missing_in_paytrack  no payment or refund at that gateway has the line's ids
    duplicate            the line's id, or the payment (refund) it settles, appeared earlier
                         in the same report
    missing_in_report    (no line) a payment taken at the gateway within the report's period
                         that no line matched
    ignored              payouts, adjustments, transfers, stand-alone fees: not a sale

Every class but ``matched`` and ``ignored`` is an exception for an admin to resolve.
A fee the report gives and paytrack does not have is recorded on the payment, and the
difference is posted by ``fee_adjustment_entry``: the platform bears a later difference.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from paytrack.domain.analytics import RevenueTags
from paytrack.domain.ledger import PLATFORM_FEES, JournalEntry, gateway_clearing


class ReportGateway(StrEnum):
    """The providers whose settlement reports paytrack reads."""

    STRIPE = "stripe"
    RAZORPAY = "razorpay"
    PAYPAL = "paypal"


class LineKind(StrEnum):
    CHARGE = "charge"  # money taken from a customer
    REFUND = "refund"  # money given back
    OTHER = "other"  # payouts, adjustments, transfers, fees on their own


class MatchClass(StrEnum):
    MATCHED = "matched"
    AMOUNT_MISMATCH = "amount_mismatch"
    FEE_MISMATCH = "fee_mismatch"
    MISSING_IN_PAYTRACK = "missing_in_paytrack"
    DUPLICATE = "duplicate"
    MISSING_IN_REPORT = "missing_in_report"
    IGNORED = "ignored"


EXCEPTION_CLASSES = frozenset({MatchClass.AMOUNT_MISMATCH, MatchClass.FEE_MISMATCH,
                               MatchClass.MISSING_IN_PAYTRACK, MatchClass.DUPLICATE,
                               MatchClass.MISSING_IN_REPORT})


class ExceptionStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class ReconciliationImport(TypedDict):
    """One imported report: one row of ``reconciliation_imports``. The same file (by its
    SHA-256) is imported once per gateway."""

    id: str
    gateway: str
    sha256: str
    filename: str | None
    line_count: int
    period_start: datetime | None  # the earliest and latest time a line carries
    period_end: datetime | None
    imported_by: str
    created_at: datetime


class ReconciliationLine(TypedDict):
    """A report line and how it was classified (``line_number`` None: a payment missing
    from the report), one row of ``reconciliation_lines``; an exception while
    ``exception_status`` is set."""

    id: str
    import_id: str
    gateway: str
    line_number: int | None
    kind: str  # a LineKind value
    match_class: str  # a MatchClass value
    gateway_ref: str | None  # the provider's id of what the line is about
    currency: str
    report_amount: int | None
    report_fee: int | None
    paytrack_amount: int | None
    paytrack_fee: int | None  # the payment's fee before the import recorded the report's
    fee_posted: int  # the fee difference the import posted to the ledger (signed)
    payment_id: str | None
    refund_id: str | None
    occurred_at: datetime | None
    description: str | None
    exception_status: str | None  # an ExceptionStatus value; None: not an exception
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None
    created_at: datetime


class Found(TypedDict):
    """What paytrack holds for a line: an amount taken (0 if nothing was) and, for a
    charge, the payment's recorded gateway fee."""

    amount: int
    currency: str
    fee: int | None


def classify(kind: LineKind, amount: int, currency: str, fee: int | None,
             found: Found | None, *, seen_before: bool) -> MatchClass:
    """The class of one report line (see the module's docstring)."""
    if kind is LineKind.OTHER:
        return MatchClass.IGNORED
    if seen_before:
        return MatchClass.DUPLICATE
    if found is None:
        return MatchClass.MISSING_IN_PAYTRACK
    if found["currency"] != currency or found["amount"] != amount:
        return MatchClass.AMOUNT_MISMATCH
    if kind is LineKind.CHARGE and fee is not None and fee != found["fee"]:
        return MatchClass.FEE_MISMATCH
    return MatchClass.MATCHED


def fee_adjustment_entry(*, payment_id: str, gateway: str, currency: str,
                         recorded_fee: int, report_fee: int,
                         about: RevenueTags | None = None) -> JournalEntry | None:
    """The report's fee replaces the one recorded at capture: the difference leaves (or
    returns to) the gateway's clearing account and is borne by the platform
    (``platform:fees``), whoever bore the fee at capture. None when they agree."""
    difference = report_fee - recorded_fee
    if difference == 0:
        return None
    entry = JournalEntry("reconciliation.fee_adjusted",
                         f"gateway fee of {payment_id} per the settlement report",
                         payment_id=payment_id, about=about)
    entry.post(PLATFORM_FEES, currency, difference)
    entry.post(gateway_clearing(gateway), currency, -difference)
    return entry
