"""Payments and refunds. Every status move is a conditional UPDATE guarded by the states it
may come from, so two racing writers can never both move the same row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Select, Table, Update, bindparam, case, exists, select, update
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.appender import Appender
from paytrack.adapters.storage.sql import record_or_none, records
from paytrack.adapters.storage.tables import payments, refunds, status_events
from paytrack.domain.payments import Payment
from paytrack.domain.refunds import Refund
from paytrack.domain.states import CAPTURED_STATES, LATE_CAPTURE_STATES, PaymentStatus

R = TypeVar("R", Payment, Refund)


@cache
def _transition(table: Table, sources: frozenset[str], target: str,
                keys: tuple[str, ...]) -> Update:
    """The guarded status move, built once per shape."""
    return (
        update(table)
        .where(table.c.id == bindparam("object_id"), table.c.status.in_(sorted(sources)))
        .values(previous_status=table.c.status, status=target,
                **{k: bindparam(f"new_{k}") for k in keys})
        .returning(*table.c)
    )


class _Rows(Generic[R]):
    """The rows of ``table``, each read as a ``row_type`` record."""

    table: Table
    row_type: type[R]

    def __init__(self, conn: Connection, appender: Appender) -> None:
        self.conn = conn
        self.appender = appender

    def insert(self, row: R) -> None:
        self.appender.add(self.table, cast(dict[str, Any], row))

    def get(self, object_id: str) -> R | None:
        row = self.conn.execute(select(self.table).where(self.table.c.id == object_id)).first()
        return record_or_none(row, self.row_type)

    def transition(self, object_id: str, sources: Iterable[str], target: str,
                   values: dict[str, Any]) -> R | None:
        """Move to ``target`` only from one of ``sources``; None if the row was not there."""
        statement = _transition(self.table, frozenset(sources), target, tuple(sorted(values)))
        row = self.conn.execute(
            statement, {"object_id": object_id, **{f"new_{k}": v for k, v in values.items()}}
        ).first()
        return record_or_none(row, self.row_type)

    def list(self, *, filters: dict[str, Any], limit: int, before_id: str | None = None,
             created_gte: datetime | None = None, created_lt: datetime | None = None,
             query: Select | None = None) -> list[R]:
        """Newest first; ``before_id`` is the cursor (ids sort by creation time)."""
        query = select(self.table) if query is None else query
        for name, value in filters.items():
            if value is not None:
                query = query.where(self.table.c[name] == value)
        if before_id:
            query = query.where(self.table.c.id < before_id)
        if created_gte:
            query = query.where(self.table.c.created_at >= created_gte)
        if created_lt:
            query = query.where(self.table.c.created_at < created_lt)
        rows = self.conn.execute(query.order_by(self.table.c.id.desc()).limit(limit))
        return records(rows, self.row_type)


class PaymentRepository(_Rows[Payment]):
    table = payments
    row_type = Payment

    def list(self, *, needs_review: bool | None = None, **kwargs: Any) -> list[Payment]:
        """``needs_review``: only payments whose history has a confirmation after a cancel
        or a failure (True), or only the others (False)."""
        query = None
        if needs_review is not None:
            late = exists().where(
                status_events.c.object_type == "payment",
                status_events.c.object_id == payments.c.id,
                status_events.c.to_status == str(PaymentStatus.SUCCEEDED),
                status_events.c.from_status.in_(sorted(map(str, LATE_CAPTURE_STATES))),
            )
            query = select(payments).where(late if needs_review else ~late)
        return super().list(query=query, **kwargs)

    def holding_gateway_id(self, gateway_payment_id: str, *, gateway: str | None = None,
                           like: str | None = None) -> str | None:
        """The id of the payment that already has ``gateway_payment_id`` at ``gateway`` (or
        at payment ``like``'s gateway, ``like`` itself aside), if there is one."""
        query = select(payments.c.id).where(payments.c.gateway_payment_id == gateway_payment_id)
        if like is not None:
            gateway_of_like = select(payments.c.gateway).where(payments.c.id == like)
            query = query.where(payments.c.gateway == gateway_of_like.scalar_subquery(),
                                payments.c.id != like)
        else:
            query = query.where(payments.c.gateway == gateway)
        return self.conn.execute(query.limit(1)).scalar()

    def reserve_refund(self, payment_id: str, amount: int, now: datetime) -> Payment | None:
        """Reserve ``amount`` for a refund request, only if the payment is refundable and
        what was refunded plus every reservation, this one included, stays within the total.

        One statement, so concurrent requests serialize on the row and the guard is
        re-checked against the latest committed values (and backed by a CHECK)."""
        held = (payments.c.refunded_amount + payments.c.refund_reserved_amount
                + payments.c.disputed_amount + amount)
        return self._update_one(
            update(payments)
            .where(payments.c.id == payment_id,
                   payments.c.status.in_([str(s) for s in CAPTURED_STATES]),
                   held <= payments.c.total)
            .values(refund_reserved_amount=payments.c.refund_reserved_amount + amount,
                    updated_at=now))

    def release_refund(self, payment_id: str, amount: int, now: datetime) -> Payment:
        """Give back what a refund that will not be paid (rejected, canceled, failed) held."""
        row = self._update_one(
            update(payments)
            .where(payments.c.id == payment_id, payments.c.refund_reserved_amount >= amount)
            .values(refund_reserved_amount=payments.c.refund_reserved_amount - amount,
                    updated_at=now))
        assert row is not None, f"payment {payment_id} holds no reservation of {amount}"
        return row

    def add_refund(self, payment_id: str, amount: int, now: datetime) -> Payment | None:
        """Turn ``amount`` of the payment's reservation into refunded money, only while the
        payment is refundable; the status follows (partially) refunded."""
        after = payments.c.refunded_amount + amount
        return self._update_one(
            update(payments)
            .where(
                payments.c.id == payment_id,
                payments.c.status.in_([str(s) for s in CAPTURED_STATES]),
                payments.c.refund_reserved_amount >= amount,
            )
            .values(
                previous_status=payments.c.status,
                refunded_amount=after,
                refund_reserved_amount=payments.c.refund_reserved_amount - amount,
                status=case(
                    (after == payments.c.total, str(PaymentStatus.REFUNDED)),
                    else_=str(PaymentStatus.PARTIALLY_REFUNDED),
                ),
                refunded_at=now,
                updated_at=now,
            ))

    def _update_one(self, statement: Update) -> Payment | None:
        row = self.conn.execute(statement.returning(*payments.c)).first()
        return record_or_none(row, Payment)

    def any_for_item(self, item_type: str, item_id: str) -> bool:
        return self.conn.execute(
            select(payments.c.id)
            .where(payments.c.item_type == item_type, payments.c.item_id == item_id).limit(1)
        ).first() is not None


class RefundRepository(_Rows[Refund]):
    table = refunds
    row_type = Refund

    def list(self, *, seller_id: str | None = None, customer_id: str | None = None,
             **kwargs: Any) -> list[Refund]:
        """Refunds, optionally only those on one seller's or one customer's payments."""
        query = select(refunds)
        if seller_id is not None or customer_id is not None:
            query = query.join(payments, payments.c.id == refunds.c.payment_id)
            if seller_id is not None:
                query = query.where(payments.c.seller_id == seller_id)
            if customer_id is not None:
                query = query.where(payments.c.customer_id == customer_id)
        return super().list(query=query, **kwargs)
