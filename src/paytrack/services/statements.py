"""A seller's statement for a period, read from the ledger.

The balance is what the platform owes the seller in one currency: pending + available +
in transit − debt, each in its account's normal direction, which is minus the signed sum
of the postings on the seller's four accounts. The opening balance sums the postings of
entries made before ``start``; each entry in [start, end) that touches the seller's
accounts is a line with its change to each bucket and to the balance; the closing balance
is the opening plus the lines, and equals the ledger's balance at ``end``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypedDict

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.errors import ValidationFailed
from paytrack.domain.ledger import spec_for
from paytrack.domain.money import currency_exponent, validate_currency
from paytrack.services.exports import cell, decimal_cell
from paytrack.services.ledger import require_seller

BUCKETS = ("pending", "available", "in_transit", "debt")
_BUCKET_OF_SUFFIX = {"pending": "pending", "available": "available",
                     "payout_in_transit": "in_transit", "debt": "debt"}
# Journal entry kinds as a statement names them.
LINE_KINDS = {
    "payment.captured": "earning",
    "refund.succeeded": "refund",
    "dispute.opened": "dispute",
    "dispute.won": "dispute_won",
    "dispute.lost": "dispute_lost",
    "seller.released": "release",
    "payout.requested": "payout_requested",
    "payout.paid": "payout_paid",
    "payout.failed": "payout_failed",
    "payout.canceled": "payout_canceled",
}
_PAYOUT_ID = re.compile(r"\bpo_[0-9A-HJKMNP-TV-Z]{26}\b")
_DISPUTE_ID = re.compile(r"\bdp_[0-9A-HJKMNP-TV-Z]{26}\b")


class StatementLine(TypedDict):
    """One journal entry on the seller's accounts. ``amount``: its change to the balance
    (signed); the buckets: its change to each, in the normal direction."""

    date: datetime
    kind: str
    entry_id: str
    description: str
    payment_id: str | None
    refund_id: str | None
    payout_id: str | None
    dispute_id: str | None
    pending: int
    available: int
    in_transit: int
    debt: int
    amount: int
    balance: int


CSV_FIELDS = list(StatementLine.__annotations__)


class KindTotal(TypedDict):
    kind: str
    lines: int
    amount: int


class Statement(TypedDict):
    seller_id: str
    currency: str
    start: datetime
    end: datetime
    opening_balance: int
    closing_balance: int
    totals: list[KindTotal]
    lines: list[StatementLine]


def seller_statement(uow: UnitOfWork, seller_id: str, actor: Actor, *, currency: str,
                     start: datetime, end: datetime) -> Statement:
    """The statement of ``seller_id`` in ``currency`` for [start, end)."""
    require_seller(uow, seller_id, actor)
    validate_currency(currency)
    if end <= start:
        raise ValidationFailed("`to` must be after `from`")
    buckets = {account_id: _bucket(code) for account_id, code in
               uow.statements.seller_accounts(seller_id, currency).items()}
    ids = sorted(buckets)
    opening = -sum(uow.statements.sums_before(ids, start).values())
    lines = list(_lines(uow.statements.movements(ids, start, end), buckets, opening))
    totals: dict[str, KindTotal] = {}
    for line in lines:
        total = totals.setdefault(line["kind"], {"kind": line["kind"], "lines": 0,
                                                 "amount": 0})
        total["lines"] += 1
        total["amount"] += line["amount"]
    closing = lines[-1]["balance"] if lines else opening
    return {"seller_id": seller_id, "currency": currency, "start": start, "end": end,
            "opening_balance": opening, "closing_balance": closing,
            "totals": sorted(totals.values(), key=lambda t: t["kind"]), "lines": lines}


def _bucket(code: str) -> str:
    spec = spec_for(code)
    return _BUCKET_OF_SUFFIX[code.rpartition(":")[2]] if spec.seller_id else code


def _lines(postings: Iterable[dict[str, Any]], buckets: dict[int, str],
           opening: int) -> Iterable[StatementLine]:
    balance = opening
    line: StatementLine | None = None
    for p in postings:
        if line is None or line["entry_id"] != p["entry_id"]:
            if line is not None:
                yield _named(line)
            line = _new_line(p, balance)
        bucket = buckets[p["account_id"]]
        # Credit-normal buckets grow with credits (negative postings); debt with debits.
        change = p["amount"] if bucket == "debt" else -p["amount"]
        line[bucket] += change  # type: ignore[literal-required]
        line["amount"] -= p["amount"]
        balance -= p["amount"]
        line["balance"] = balance
    if line is not None:
        yield _named(line)


def _new_line(p: dict[str, Any], balance: int) -> StatementLine:
    kind = LINE_KINDS.get(p["kind"], p["kind"])
    payout = _PAYOUT_ID.search(p["description"]) if p["kind"].startswith("payout.") else None
    dispute = _DISPUTE_ID.search(p["description"]) if p["kind"].startswith("dispute.") else None
    return {"date": p["created_at"], "kind": kind, "entry_id": p["entry_id"],
            "description": p["description"], "payment_id": p["payment_id"],
            "refund_id": p["refund_id"], "payout_id": payout and payout.group(),
            "dispute_id": dispute and dispute.group(), "pending": 0, "available": 0,
            "in_transit": 0, "debt": 0, "amount": 0, "balance": balance}


def _named(line: StatementLine) -> StatementLine:
    """A release that paid down debt is a debt recovery."""
    if line["kind"] == "release" and line["debt"]:
        line["kind"] = "debt_recovery"
    return line


def statement_csv(statement: Statement) -> str:
    """The statement's lines as CSV, between an opening and a closing row (the same
    numbers as the JSON; amounts in minor units and as decimals)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    currency = statement["currency"]
    exponent = currency_exponent(currency)
    money = set(BUCKETS) | {"amount", "balance"}
    head: list[str] = []
    for name in CSV_FIELDS:
        head += [name, f"{name}_decimal"] if name in money else [name]
    writer.writerow(head)
    blank = dict.fromkeys(CSV_FIELDS)
    rows: list[dict[str, Any]] = [
        {**blank, "date": statement["start"], "kind": "opening_balance",
         "balance": statement["opening_balance"]},
        *(dict(line) for line in statement["lines"]),
        {**blank, "date": statement["end"], "kind": "closing_balance",
         "balance": statement["closing_balance"]}]
    for row in rows:
        out: list[str | int | None] = []
        for name in CSV_FIELDS:
            value = row[name]
            out.append(cell(value))
            if name in money:
                out.append(None if value is None else decimal_cell(value, exponent))
        writer.writerow(out)
    return buffer.getvalue()
