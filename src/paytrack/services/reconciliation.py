"""Reconciliation: import a gateway's settlement report, classify its lines against
paytrack's payments and refunds, record the gateway's fees, work through the exceptions,
and mark payments reconciled by hand (the rules are in ``domain/reconciliation.py``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from paytrack.adapters.reports import ReportLine, parse_report
from paytrack.adapters.storage.reconciliation import CurrencyTotals
from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.analytics import RevenueTags
from paytrack.domain.errors import InvalidTransition, NotFound, ValidationFailed
from paytrack.domain.ids import new_id
from paytrack.domain.payments import Payment
from paytrack.domain.reconciliation import (
    EXCEPTION_CLASSES,
    ExceptionStatus,
    Found,
    LineKind,
    MatchClass,
    ReconciliationImport,
    ReconciliationLine,
    ReportGateway,
    classify,
    fee_adjustment_entry,
)
from paytrack.domain.refunds import Refund
from paytrack.domain.states import RefundStatus
from paytrack.services import permissions
from paytrack.services._common import require_text
from paytrack.services.permissions import Action

MARK_MAX = 1000  # payment ids per request to mark reconciled


class ImportReport(TypedDict):
    """An import with what it found: lines per class, money per currency."""

    id: str
    gateway: str
    sha256: str
    filename: str | None
    line_count: int
    period_start: datetime | None
    period_end: datetime | None
    imported_by: str
    created_at: datetime
    counts: dict[str, int]  # every MatchClass value, 0 included
    exceptions: int
    totals: list[CurrencyTotals]


class MarkResult(TypedDict):
    marked: list[str]  # marked now
    already_reconciled: list[str]  # marked before: left as they were
    not_found: list[str]


@dataclass(frozen=True, slots=True)
class Imported:
    report: ImportReport
    created: bool  # False: the same file was imported before, this is that import


def gateway_of(value: str) -> ReportGateway:
    try:
        return ReportGateway(value)
    except ValueError:
        raise ValidationFailed(f"gateway {value!r} is not one of: "
                               f"{', '.join(ReportGateway)}", field="gateway") from None


def import_report(uow: UnitOfWork, gateway: str, data: bytes, actor: Actor, *,
                  filename: str | None = None) -> Imported:
    """Import ``gateway``'s settlement report ``data``: every line classified and stored,
    the report's fees recorded (and their difference posted), matched payments marked
    reconciled. The same file again changes nothing and answers its first import."""
    permissions.check(actor, Action.IMPORT_SETTLEMENT_REPORT)
    provider = gateway_of(gateway)
    digest = hashlib.sha256(data).hexdigest()
    earlier = uow.reconciliation.import_by_file(provider, digest)
    if earlier is not None:
        return Imported(_report(uow, earlier), created=False)
    lines = parse_report(provider, data)
    now = uow.now()
    times = [line.occurred_at for line in lines if line.occurred_at is not None]
    row: ReconciliationImport = {
        "id": new_id("rci"), "gateway": str(provider), "sha256": digest,
        "filename": (filename or "")[:255] or None, "line_count": len(lines),
        "period_start": min(times, default=None), "period_end": max(times, default=None),
        "imported_by": str(actor), "created_at": now}
    if not uow.reconciliation.insert_import(row):  # a concurrent import of the same file
        earlier = uow.reconciliation.import_by_file(provider, digest)
        assert earlier is not None
        return Imported(_report(uow, earlier), created=False)
    stored = _classified(uow, row, lines, now)
    stored += _missing_in_report(uow, row, stored, now)
    matched = [line["payment_id"] for line in stored if line["payment_id"]
               and line["kind"] == LineKind.CHARGE and line["match_class"] == MatchClass.MATCHED]
    mismatched = {line["payment_id"]: line for line in stored
                  if line["match_class"] == MatchClass.FEE_MISMATCH and line["payment_id"]}
    # Every payment this import changes, locked at once in id order (no deadlock with
    # another import), before any of them is changed.
    locked = uow.reconciliation.lock_payments([*matched, *mismatched])
    _record_fees(uow, row, mismatched, locked, actor, now)
    marked = uow.reconciliation.mark_reconciled(matched, str(actor), now)
    uow.reconciliation.add_lines(stored)
    uow.records.audit(str(actor), "reconciliation.imported", "settlement_report",
                      row["id"], None, {"gateway": row["gateway"], "sha256": digest,
                                        "lines": len(lines), "marked_reconciled": marked}, now)
    return Imported(_report(uow, row), created=True)


def _classified(uow: UnitOfWork, row: ReconciliationImport, lines: list[ReportLine],
                now: datetime) -> list[ReconciliationLine]:
    gateway = row["gateway"]
    refs = [ref for line in lines if line.kind is not LineKind.OTHER for ref in line.refs]
    payments_by_ref: dict[str, Payment] = {}
    for named in uow.reconciliation.payments_named(gateway, refs):
        for ref in (named["id"], named["gateway_payment_id"], named["gateway_order_id"]):
            if ref:
                payments_by_ref.setdefault(ref, named)
    refunds_by_ref: dict[str, Refund] = {}
    for given_back in uow.reconciliation.refunds_named(gateway, refs):
        for ref in (given_back["id"], given_back["gateway_refund_id"]):
            if ref:
                refunds_by_ref.setdefault(ref, given_back)
    seen: set[tuple[str, str]] = set()
    stored: list[ReconciliationLine] = []
    for line in lines:
        payment: Payment | None = None
        refund: Refund | None = None
        found: Found | None = None
        if line.kind is LineKind.CHARGE:
            payment = next((payments_by_ref[r] for r in line.refs if r in payments_by_ref),
                           None)
            if payment is not None:
                taken = payment["total"] if payment["succeeded_at"] is not None else 0
                found = {"amount": taken, "currency": payment["currency"],
                         "fee": payment["gateway_fee"]}
        elif line.kind is LineKind.REFUND:
            refund = next((refunds_by_ref[r] for r in line.refs if r in refunds_by_ref), None)
            if refund is not None:
                given = refund["amount"] if refund["status"] == RefundStatus.SUCCEEDED else 0
                found = {"amount": given, "currency": refund["currency"], "fee": None}
        # The same id twice, or two lines settling the same payment or refund (a
        # customer who paid one order twice): the later line is a duplicate.
        keys = {(str(line.kind), line.gateway_ref or f"line {line.line_number}")}
        if refund is not None:
            keys.add((str(line.kind), refund["id"]))
        elif payment is not None:
            keys.add((str(line.kind), payment["id"]))
        match = classify(line.kind, line.amount, line.currency, line.fee, found,
                         seen_before=not keys.isdisjoint(seen))
        seen |= keys
        if match is MatchClass.DUPLICATE:
            payment = refund = None
            found = None
        stored.append(_line(row, now, match, kind=line.kind, line_number=line.line_number,
                            gateway_ref=line.gateway_ref, currency=line.currency,
                            report_amount=line.amount, report_fee=line.fee,
                            paytrack_amount=found["amount"] if found else None,
                            paytrack_fee=found["fee"] if found else None,
                            payment_id=payment["id"] if payment else
                            (refund["payment_id"] if refund else None),
                            refund_id=refund["id"] if refund else None,
                            occurred_at=line.occurred_at, description=line.description))
    return stored


def _missing_in_report(uow: UnitOfWork, row: ReconciliationImport,
                       stored: list[ReconciliationLine],
                       now: datetime) -> list[ReconciliationLine]:
    """Payments taken at the gateway within the report's period that no line found."""
    if row["period_start"] is None or row["period_end"] is None:
        return []
    named = {line["payment_id"] for line in stored if line["kind"] == LineKind.CHARGE}
    return [_line(row, now, MatchClass.MISSING_IN_REPORT, kind=LineKind.CHARGE,
                  line_number=None, gateway_ref=p["gateway_payment_id"] or p["gateway_order_id"],
                  currency=p["currency"], report_amount=None, report_fee=None,
                  paytrack_amount=p["total"], paytrack_fee=p["gateway_fee"],
                  payment_id=p["id"], refund_id=None, occurred_at=p["succeeded_at"],
                  description=p["description"])
            for p in uow.reconciliation.taken_between(row["gateway"], row["period_start"],
                                                      row["period_end"])
            if p["id"] not in named]


def _record_fees(uow: UnitOfWork, row: ReconciliationImport,
                 mismatched: dict[str, ReconciliationLine], locked: dict[str, Payment],
                 actor: Actor, now: datetime) -> None:
    """Each fee mismatch: the report's fee on the payment, the difference in the ledger,
    from the fee read under the lock (a concurrent import of another file may have
    recorded it meanwhile)."""
    for payment_id in sorted(mismatched):
        line = mismatched[payment_id]
        payment = locked[payment_id]
        assert line["report_fee"] is not None
        entry = fee_adjustment_entry(payment_id=payment_id, gateway=row["gateway"],
                                     currency=payment["currency"],
                                     recorded_fee=payment["gateway_fee"],
                                     report_fee=line["report_fee"],
                                     about=RevenueTags.of(payment))
        if entry is None:
            continue
        uow.ledger.post(entry, now)
        uow.reconciliation.set_fee(payment_id, line["report_fee"], now)
        line["fee_posted"] = line["report_fee"] - payment["gateway_fee"]
        uow.records.audit(str(actor), "payment.gateway_fee_reconciled", "payment", payment_id,
                          {"gateway_fee": payment["gateway_fee"]},
                          {"gateway_fee": line["report_fee"], "import_id": row["id"]}, now)


def _line(row: ReconciliationImport, now: datetime, match: MatchClass, *, kind: LineKind,
          line_number: int | None, gateway_ref: str | None, currency: str,
          report_amount: int | None, report_fee: int | None, paytrack_amount: int | None,
          paytrack_fee: int | None, payment_id: str | None, refund_id: str | None,
          occurred_at: datetime | None, description: str | None) -> ReconciliationLine:
    return {
        "id": new_id("rcl"), "import_id": row["id"], "gateway": row["gateway"],
        "line_number": line_number, "kind": str(kind), "match_class": str(match),
        "gateway_ref": gateway_ref, "currency": currency, "report_amount": report_amount,
        "report_fee": report_fee, "paytrack_amount": paytrack_amount,
        "paytrack_fee": paytrack_fee, "fee_posted": 0, "payment_id": payment_id,
        "refund_id": refund_id, "occurred_at": occurred_at, "description": description,
        "exception_status": str(ExceptionStatus.OPEN) if match in EXCEPTION_CLASSES else None,
        "resolved_at": None, "resolved_by": None, "resolution_note": None,
        "created_at": now}


def _report(uow: UnitOfWork, row: ReconciliationImport) -> ImportReport:
    counts = {str(c): 0 for c in MatchClass}
    counts.update(uow.reconciliation.class_counts(row["id"]))
    return {**row, "counts": counts,
            "exceptions": sum(counts[str(c)] for c in EXCEPTION_CLASSES),
            "totals": uow.reconciliation.totals(row["id"])}


def get_import(uow: UnitOfWork, import_id: str, actor: Actor) -> ImportReport:
    permissions.check(actor, Action.READ_RECONCILIATION)
    row = uow.reconciliation.get_import(import_id)
    if row is None:
        raise NotFound(f"reconciliation import {import_id} not found")
    return _report(uow, row)


def list_imports(uow: UnitOfWork, actor: Actor, *, gateway: str | None = None,
                 limit: int = 20, cursor: str | None = None) -> list[ImportReport]:
    """Newest first, each with its counts and totals."""
    permissions.check(actor, Action.READ_RECONCILIATION)
    if gateway is not None:
        gateway = str(gateway_of(gateway))
    return [_report(uow, row) for row in uow.reconciliation.list_imports(
        gateway=gateway, limit=limit, before_id=cursor)]


def list_exceptions(uow: UnitOfWork, actor: Actor, *, status: str | None = None,
                    gateway: str | None = None, kind: str | None = None,
                    import_id: str | None = None, limit: int = 20,
                    cursor: str | None = None) -> list[ReconciliationLine]:
    """Every line that is not matched (nor ignored), newest first."""
    permissions.check(actor, Action.READ_RECONCILIATION)
    if status is not None and status not in set(ExceptionStatus):
        raise ValidationFailed(f"status {status!r} is not one of: "
                               f"{', '.join(ExceptionStatus)}", field="status")
    if kind is not None and kind not in {str(c) for c in EXCEPTION_CLASSES}:
        raise ValidationFailed(f"kind {kind!r} is not one of: "
                               f"{', '.join(sorted(EXCEPTION_CLASSES))}", field="kind")
    if gateway is not None:
        gateway = str(gateway_of(gateway))
    return uow.reconciliation.exceptions(status=status, gateway=gateway, kind=kind,
                                         import_id=import_id, limit=limit, before_id=cursor)


def resolve_exception(uow: UnitOfWork, line_id: str, note: str,
                      actor: Actor) -> ReconciliationLine:
    """Close an open exception with a note; who and when are recorded, and audited."""
    permissions.check(actor, Action.RESOLVE_RECONCILIATION)
    note = require_text(note, "note")
    now = uow.now()
    resolved = uow.reconciliation.resolve(line_id, note, str(actor), now)
    if resolved is None:
        line = uow.reconciliation.get_line(line_id)
        if line is None or line["exception_status"] is None:
            raise NotFound(f"reconciliation exception {line_id} not found")
        raise InvalidTransition(f"exception {line_id} is resolved already",
                                current=line["exception_status"],
                                target=str(ExceptionStatus.RESOLVED))
    uow.records.audit(str(actor), "reconciliation.exception_resolved",
                      "settlement_line", line_id,
                      {"exception_status": str(ExceptionStatus.OPEN)},
                      {"exception_status": str(ExceptionStatus.RESOLVED), "note": note}, now)
    return resolved


def mark_reconciled(uow: UnitOfWork, payment_ids: list[str], actor: Actor, *,
                    note: str | None = None) -> MarkResult:
    """Mark payments reconciled by hand (the multi-vendor seed's ``reconciliation/mark``).
    One already marked keeps its first who and when; an unknown id is reported."""
    permissions.check(actor, Action.MARK_RECONCILED)
    wanted = list(dict.fromkeys(payment_ids))
    if not wanted or len(wanted) > MARK_MAX:
        raise ValidationFailed(f"send 1 to {MARK_MAX} payment ids", field="payment_ids")
    if note is not None:
        note = require_text(note, "note")
    now = uow.now()
    existing = uow.reconciliation.existing_payments(wanted)
    marked = uow.reconciliation.mark_reconciled([p for p in wanted if p in existing],
                                                str(actor), now)
    for payment_id in marked:
        uow.records.audit(str(actor), "payment.reconciled", "payment", payment_id,
                          {"reconciled": False}, {"reconciled": True, "note": note}, now)
    done = set(marked)
    return {"marked": marked,
            "already_reconciled": sorted(p for p in wanted if p in existing and p not in done),
            "not_found": sorted(p for p in wanted if p not in existing)}
