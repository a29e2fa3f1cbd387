"""PayPal's activity download (Activity → Statements → Activity download, CSV).

Columns as PayPal names them: ``Date`` (MM/DD/YYYY), ``Time``, ``TimeZone`` (PST, PDT,
UTC … or an IANA name), ``Name``, ``Type`` ("Express Checkout Payment", "Payment Refund",
"General Withdrawal" …), ``Status`` (only "Completed" lines count), ``Currency``,
``Gross``, ``Fee``, ``Net`` (decimals with thousands separators; a payment's fee is
negative), ``Transaction ID`` (the capture or refund id), ``Reference Txn ID`` (a refund's
capture), ``Invoice Number`` and ``Custom Number`` (paytrack's own id, sent with the
order). ``Net`` must be ``Gross + Fee``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from paytrack.adapters.reports.common import ReportLine, Row, description, read_rows
from paytrack.domain.reconciliation import LineKind

REQUIRED = ("Date", "Time", "TimeZone", "Type", "Status", "Currency", "Gross", "Fee", "Net",
            "Transaction ID", "Reference Txn ID")
_ZONES = {"UTC": 0, "GMT": 0, "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6,
          "CDT": -5, "EST": -5, "EDT": -4, "BST": 1, "CET": 1, "CEST": 2, "AEST": 10,
          "AEDT": 11}


def parse(data: bytes) -> list[ReportLine]:
    return [_line(row) for row in read_rows(data, REQUIRED)]


def _line(row: Row) -> ReportLine:
    currency = row.currency("Currency")
    gross = row.amount("Gross", currency, thousands=True)
    fee = row.amount("Fee", currency, thousands=True)
    if row.amount("Net", currency, thousands=True) != gross + fee:
        raise row.refuse("Net", "is not Gross + Fee")
    kind = LineKind.OTHER
    if row.text("Status").lower() == "completed":
        type_ = row.text("Type").lower()
        if "refund" in type_:  # money back to the buyer; not a refund's reversal
            kind = LineKind.REFUND if gross < 0 else LineKind.OTHER
        elif "payment" in type_ and gross > 0:
            kind = LineKind.CHARGE
    if kind is LineKind.CHARGE:
        row.fee_within("Fee", fee, gross)
    transaction = row.ref("Transaction ID")
    row.ref("Reference Txn ID")
    own = [row.ref(c) for c in ("Invoice Number", "Custom Number") if c in row.cells]
    return ReportLine(
        line_number=row.line_number, kind=kind, gateway_ref=transaction,
        refs=tuple(ref for ref in (transaction, *own) if ref), currency=currency,
        amount=abs(gross), fee=abs(fee) if kind is LineKind.CHARGE else None,
        occurred_at=_when(row), description=description(row, "Item Title")
        or description(row, "Name"))


def _when(row: Row) -> datetime:
    try:
        local = datetime.strptime(f"{row.text('Date')} {row.text('Time')}",
                                  "%m/%d/%Y %H:%M:%S")
    except ValueError:
        raise row.refuse("Date", "Date and Time are not like 11/02/2026 and 14:03:27") \
            from None
    try:
        utc = local.replace(tzinfo=_zone(row)).astimezone(UTC)
    except OverflowError:  # the zone pushed it past the calendar's end
        raise row.refuse("Date", "is not a settlement date") from None
    return row.in_range("Date", utc)


def _zone(row: Row) -> tzinfo:
    name = row.text("TimeZone")
    if name.upper() in _ZONES:
        return timezone(timedelta(hours=_ZONES[name.upper()]))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise row.refuse("TimeZone", f"{name[:40]!r} is not a time zone paytrack knows") \
            from None
