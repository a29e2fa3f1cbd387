"""Razorpay's settlement recon report (Dashboard → Reports → Settlement recon, or
``GET /v1/settlements/recon/combined`` written as CSV).

Columns as Razorpay names them: ``entity_id`` (``pay_…``, ``rfnd_…``, ``adj_…``),
``type`` (payment, refund, adjustment, transfer, dispute), ``debit``, ``credit``,
``amount``, ``fee`` (GST included), ``tax``, ``currency``, ``on_hold``, ``settled``,
``created_at``, ``settled_at`` (Unix seconds), ``settlement_id``, ``payment_id`` (a
refund's payment), ``order_id``, ``description``. Amounts are integers in the currency's
subunit (paise), as Razorpay reports them. ``tax`` must not exceed ``fee``.
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

REQUIRED = ("entity_id", "type", "debit", "credit", "amount", "currency", "fee", "tax",
            "settled", "created_at", "settlement_id")
KINDS = {"payment": LineKind.CHARGE, "refund": LineKind.REFUND}
TIME_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S")


def parse(data: bytes) -> list[ReportLine]:
    return [_line(row) for row in read_rows(data, REQUIRED)]


def _line(row: Row) -> ReportLine:
    currency = row.currency("currency")
    amount, fee, tax = row.minor("amount"), row.minor("fee"), row.minor("tax")
    for column in ("debit", "credit"):
        row.minor(column)
    if not 0 <= tax <= abs(fee):
        raise row.refuse("tax", "is not between 0 and the fee (which includes it)")
    kind = KINDS.get(row.text("type").lower(), LineKind.OTHER)
    if kind is not LineKind.OTHER:  # Razorpay's amounts are unsigned (debit/credit say which way)
        row.sign("amount", amount, kind, negative=False)
    if kind is LineKind.CHARGE:
        row.fee_within("fee", fee, amount)
    entity = row.ref("entity_id")
    refs = tuple(ref for ref in (entity, row.ref("order_id") if kind is LineKind.CHARGE
                                 else None) if ref)
    if "payment_id" in row.cells:
        row.ref("payment_id")
    return ReportLine(
        line_number=row.line_number, kind=kind, gateway_ref=entity, refs=refs,
        currency=currency, amount=abs(amount),
        fee=abs(fee) if kind is LineKind.CHARGE else None,
        occurred_at=parse_time(row, "created_at", TIME_FORMATS),
        description=description(row, "description"))
