"""Stripe's "Balance transactions" export (Dashboard → Balances → Export, itemized).

Columns as Stripe names them: ``id`` (``txn_…``), ``Type``, ``Source`` (``ch_…``, ``py_…``,
``re_…``, ``po_…``), ``Amount``, ``Fee``, ``Net`` (decimals in major units, refunds
negative), ``Currency`` (lower case), ``Created (UTC)``, ``Description``; and, when the
export includes metadata, ``paytrack_payment_id (metadata)`` / ``paytrack_refund_id
(metadata)``; ``payment_intent_id`` where the export has it (a Stripe payment is stored by
its PaymentIntent, which the legacy export's ``Source`` (the charge) does not name).
``Net`` must be ``Amount - Fee``.
"""

from __future__ import annotations

from paytrack.adapters.reports.common import (
    ReportLine,
    Row,
    description,
    parse_time,
    read_rows,
)
from paytrack.domain.reconciliation import LineKind

REQUIRED = ("id", "Type", "Source", "Amount", "Fee", "Net", "Currency", "Created (UTC)")
KINDS = {"charge": LineKind.CHARGE, "payment": LineKind.CHARGE,
         "refund": LineKind.REFUND, "payment_refund": LineKind.REFUND}
# Optional: the PaymentIntent (what paytrack stores for a Stripe payment; Stripe's itemized
# reports name it ``payment_intent_id``) and paytrack's own ids from the metadata it sends.
OPTIONAL_REFS = ("payment_intent_id", "Payment Intent ID", "paytrack_payment_id (metadata)",
                 "paytrack_refund_id (metadata)")
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ")


def parse(data: bytes) -> list[ReportLine]:
    return [_line(row) for row in read_rows(data, REQUIRED)]


def _line(row: Row) -> ReportLine:
    currency = row.currency("Currency")
    amount = row.amount("Amount", currency)
    fee = row.amount("Fee", currency)
    if row.amount("Net", currency) != amount - fee:
        raise row.refuse("Net", "is not Amount - Fee")
    kind = KINDS.get(row.text("Type").lower(), LineKind.OTHER)
    if kind is not LineKind.OTHER:
        row.sign("Amount", amount, kind, negative=kind is LineKind.REFUND)
    if kind is LineKind.CHARGE:
        row.fee_within("Fee", fee, amount)
    source = row.ref("Source")
    refs = tuple(ref for ref in (source, row.ref("id"), *(row.ref(c) for c in OPTIONAL_REFS
                                                         if c in row.cells)) if ref)
    return ReportLine(
        line_number=row.line_number, kind=kind, gateway_ref=source or row.ref("id"),
        refs=refs, currency=currency, amount=abs(amount),
        fee=abs(fee) if kind is LineKind.CHARGE else None,
        occurred_at=parse_time(row, "Created (UTC)", TIME_FORMATS),
        description=description(row, "Description"))
