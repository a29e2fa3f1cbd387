"""Imported settlement reports, their lines, and the payments and refunds they name."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypedDict, TypeVar, cast

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.appender import Appender
from paytrack.adapters.storage.sql import (
    insert_ignore,
    labeled_sum,
    read_sum,
    record_or_none,
    records,
)
from paytrack.adapters.storage.tables import (
    payments,
    reconciliation_imports,
    reconciliation_lines,
    refunds,
)
from paytrack.domain.payments import Payment
from paytrack.domain.reconciliation import (
    ExceptionStatus,
    ReconciliationImport,
    ReconciliationLine,
)
from paytrack.domain.refunds import Refund

CHUNK = 500  # ids per IN (…): well below SQLite's bound-parameter limit
T = TypeVar("T")


class CurrencyTotals(TypedDict):
    """One import's money in one currency: what the report says, what paytrack has for
    the same lines, and the fee difference posted."""

    currency: str
    report_amount: int
    paytrack_amount: int
    fee_posted: int


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


class ReconciliationRepository:
    def __init__(self, conn: Connection, appender: Appender) -> None:
        self.conn = conn
        self.appender = appender

    # -- imports ---------------------------------------------------------------------

    def insert_import(self, row: ReconciliationImport) -> bool:
        """Store a new import; False (nothing stored) if this file was imported at this
        gateway already. On PostgreSQL a concurrent import of the same file waits here
        for the other to end, then finds it."""
        inserted = self.conn.execute(
            insert_ignore(self.conn, reconciliation_imports).values(**row)
            .returning(reconciliation_imports.c.id)).first()
        return inserted is not None

    def import_by_file(self, gateway: str, sha256: str) -> ReconciliationImport | None:
        row = self.conn.execute(select(reconciliation_imports).where(
            reconciliation_imports.c.gateway == gateway,
            reconciliation_imports.c.sha256 == sha256)).first()
        return record_or_none(row, ReconciliationImport)

    def get_import(self, import_id: str) -> ReconciliationImport | None:
        row = self.conn.execute(select(reconciliation_imports).where(
            reconciliation_imports.c.id == import_id)).first()
        return record_or_none(row, ReconciliationImport)

    def list_imports(self, *, gateway: str | None, limit: int,
                     before_id: str | None) -> list[ReconciliationImport]:
        query = select(reconciliation_imports)
        if gateway is not None:
            query = query.where(reconciliation_imports.c.gateway == gateway)
        if before_id is not None:
            query = query.where(reconciliation_imports.c.id < before_id)
        rows = self.conn.execute(query.order_by(reconciliation_imports.c.id.desc())
                                 .limit(limit))
        return records(rows, ReconciliationImport)

    def class_counts(self, import_id: str) -> dict[str, int]:
        rows = self.conn.execute(
            select(reconciliation_lines.c.match_class, func.count())
            .where(reconciliation_lines.c.import_id == import_id)
            .group_by(reconciliation_lines.c.match_class))
        return {name: int(count) for name, count in rows}

    def totals(self, import_id: str) -> list[CurrencyTotals]:
        lines = reconciliation_lines
        sums = [*labeled_sum(self.conn, func.coalesce(lines.c.report_amount, 0), "report"),
                *labeled_sum(self.conn, func.coalesce(lines.c.paytrack_amount, 0), "paytrack"),
                *labeled_sum(self.conn, lines.c.fee_posted, "fee")]
        rows = self.conn.execute(
            select(lines.c.currency, *sums)
            .where(lines.c.import_id == import_id, lines.c.kind != "other")
            .group_by(lines.c.currency).order_by(lines.c.currency)).mappings()
        return [{"currency": row["currency"], "report_amount": read_sum(row, "report"),
                 "paytrack_amount": read_sum(row, "paytrack"),
                 "fee_posted": read_sum(row, "fee")} for row in rows]

    # -- lines -----------------------------------------------------------------------

    def add_lines(self, lines: Iterable[ReconciliationLine]) -> None:
        for line in lines:
            self.appender.add(reconciliation_lines, cast(dict[str, Any], line))

    def get_line(self, line_id: str) -> ReconciliationLine | None:
        row = self.conn.execute(select(reconciliation_lines).where(
            reconciliation_lines.c.id == line_id)).first()
        return record_or_none(row, ReconciliationLine)

    def exceptions(self, *, status: str | None, gateway: str | None, kind: str | None,
                   import_id: str | None, limit: int,
                   before_id: str | None) -> list[ReconciliationLine]:
        """Lines that are exceptions (open, resolved, or both), newest first."""
        lines = reconciliation_lines
        query = select(lines).where(lines.c.exception_status.is_not(None))
        for column, value in (("exception_status", status), ("gateway", gateway),
                              ("match_class", kind), ("import_id", import_id)):
            if value is not None:
                query = query.where(lines.c[column] == value)
        if before_id is not None:
            query = query.where(lines.c.id < before_id)
        rows = self.conn.execute(query.order_by(lines.c.id.desc()).limit(limit))
        return records(rows, ReconciliationLine)

    def resolve(self, line_id: str, note: str, actor: str,
                now: datetime) -> ReconciliationLine | None:
        """Resolve an open exception; None if it is not one (or not open any more)."""
        row = self.conn.execute(
            update(reconciliation_lines)
            .where(reconciliation_lines.c.id == line_id,
                   reconciliation_lines.c.exception_status == str(ExceptionStatus.OPEN))
            .values(exception_status=str(ExceptionStatus.RESOLVED), resolved_at=now,
                    resolved_by=actor, resolution_note=note)
            .returning(*reconciliation_lines.c)).first()
        return record_or_none(row, ReconciliationLine)

    # -- what the lines name ---------------------------------------------------------

    def payments_named(self, gateway: str, refs: Sequence[str]) -> list[Payment]:
        """Payments at ``gateway`` whose provider id, checkout id or own id is in ``refs``."""
        found: list[Payment] = []
        for part in _chunks(sorted(set(refs))):
            rows = self.conn.execute(select(payments).where(
                payments.c.gateway == gateway,
                or_(payments.c.gateway_payment_id.in_(part),
                    payments.c.gateway_order_id.in_(part), payments.c.id.in_(part))))
            found.extend(records(rows, Payment))
        return found

    def refunds_named(self, gateway: str, refs: Sequence[str]) -> list[Refund]:
        """Refunds of payments at ``gateway`` whose provider id or own id is in ``refs``."""
        found: list[Refund] = []
        for part in _chunks(sorted(set(refs))):
            rows = self.conn.execute(
                select(refunds).join(payments, payments.c.id == refunds.c.payment_id)
                .where(payments.c.gateway == gateway,
                       or_(refunds.c.gateway_refund_id.in_(part), refunds.c.id.in_(part))))
            found.extend(records(rows, Refund))
        return found

    def taken_between(self, gateway: str, start: datetime, end: datetime) -> list[Payment]:
        """Payments at ``gateway`` whose money was taken in [start, end] (when paytrack
        learnt it: a checkout opened before the period and paid in it belongs to it, one
        paid after its last line does not)."""
        rows = self.conn.execute(
            select(payments).where(payments.c.gateway == gateway,
                                   payments.c.succeeded_at >= start,
                                   payments.c.succeeded_at <= end,
                                   payments.c.created_at <= end)
            .order_by(payments.c.id))
        return records(rows, Payment)

    def lock_payments(self, payment_ids: Sequence[str]) -> dict[str, Payment]:
        """The payments, locked until the transaction ends (PostgreSQL), in id order."""
        found: dict[str, Payment] = {}
        for part in _chunks(sorted(set(payment_ids))):
            query = select(payments).where(payments.c.id.in_(part)).order_by(payments.c.id)
            if self.conn.dialect.name == "postgresql":
                query = query.with_for_update()
            found.update((p["id"], p) for p in records(self.conn.execute(query), Payment))
        return found

    def set_fee(self, payment_id: str, gateway_fee: int, now: datetime) -> None:
        self.conn.execute(update(payments).where(payments.c.id == payment_id)
                          .values(gateway_fee=gateway_fee, updated_at=now))

    # -- marking by hand -------------------------------------------------------------

    def existing_payments(self, payment_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for part in _chunks(payment_ids):
            found.update(self.conn.execute(
                select(payments.c.id).where(payments.c.id.in_(part))).scalars())
        return found

    def mark_reconciled(self, payment_ids: Sequence[str], actor: str,
                        now: datetime) -> list[str]:
        """Mark the payments not yet reconciled; the ids of those it marked."""
        marked: list[str] = []
        for part in _chunks(sorted(set(payment_ids))):
            marked.extend(self.conn.execute(
                update(payments)
                .where(payments.c.id.in_(part), payments.c.reconciled.is_(False))
                .values(reconciled=True, reconciled_at=now, reconciled_by=actor)
                .returning(payments.c.id)).scalars())
        return sorted(marked)
