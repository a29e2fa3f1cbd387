"""Payments, refunds and disputes. Every status move is a conditional UPDATE guarded by the
states it may come from, so two racing writers can never both move the same row."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Select, Table, Update, bindparam, case, exists, func, or_, select, update
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.appender import Appender
from paytrack.adapters.storage.sql import record_or_none, records
from paytrack.adapters.storage.tables import disputes, payments, refunds, status_events
from paytrack.domain.disputes import Dispute
from paytrack.domain.payments import Payment
from paytrack.domain.payouts import Payout
from paytrack.domain.refunds import Refund
from paytrack.domain.states import (
    CAPTURED_STATES,
    LATE_CAPTURE_STATES,
    OPEN_REFUND_STATES,
    PaymentStatus,
)

R = TypeVar("R", Payment, Refund, Dispute)
C = TypeVar("C", Refund, Payout)


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

    def count(self, filters: dict[str, Any]) -> int:
        """How many payments match ``filters`` (column: value; None: any)."""
        query = select(func.count()).select_from(payments)
        for name, value in filters.items():
            if value is not None:
                query = query.where(payments.c[name] == value)
        return int(self.conn.execute(query).scalar_one())

    def list(self, *, needs_review: bool | None = None, gateway_ref: str | None = None,
             **kwargs: Any) -> list[Payment]:
        """``needs_review``: only payments whose history has a confirmation after a cancel
        or a failure (True), or only the others (False). ``gateway_ref``: the provider's id
        of the payment or of its checkout."""
        query = None
        if gateway_ref is not None:
            query = select(payments).where(or_(payments.c.gateway_payment_id == gateway_ref,
                                               payments.c.gateway_order_id == gateway_ref))
        if needs_review is not None:
            late = exists().where(
                status_events.c.object_type == "payment",
                status_events.c.object_id == payments.c.id,
                status_events.c.to_status == str(PaymentStatus.SUCCEEDED),
                status_events.c.from_status.in_(sorted(map(str, LATE_CAPTURE_STATES))),
            )
            query = (select(payments) if query is None else query).where(
                late if needs_review else ~late)
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
        payment is refundable (or disputed: a refund its gateway was already carrying out
        when the dispute opened); the status follows (partially) refunded, a disputed
        payment stays disputed."""
        after = payments.c.refunded_amount + amount
        return self._update_one(
            update(payments)
            .where(
                payments.c.id == payment_id,
                payments.c.status.in_([str(s) for s in (*CAPTURED_STATES,
                                                        PaymentStatus.DISPUTED)]),
                payments.c.refund_reserved_amount >= amount,
            )
            .values(
                previous_status=payments.c.status,
                refunded_amount=after,
                refund_reserved_amount=payments.c.refund_reserved_amount - amount,
                status=case(
                    (after == payments.c.total, str(PaymentStatus.REFUNDED)),
                    (payments.c.status == str(PaymentStatus.DISPUTED),
                     str(PaymentStatus.DISPUTED)),
                    else_=str(PaymentStatus.PARTIALLY_REFUNDED),
                ),
                refunded_at=now,
                updated_at=now,
            ))

    def hold_dispute(self, payment_id: str, amount: int, now: datetime) -> Payment | None:
        """Hold ``amount`` for a dispute and mark the payment disputed, only if it is
        succeeded or partially refunded (so one dispute at a time) and refunded, reserved
        and disputed money, this dispute included, stays within the total. One statement:
        it serializes with refunds on the row (and the CHECK backs it)."""
        held = (payments.c.refunded_amount + payments.c.refund_reserved_amount
                + payments.c.disputed_amount + amount)
        return self._update_one(
            update(payments)
            .where(payments.c.id == payment_id,
                   payments.c.status.in_([str(s) for s in CAPTURED_STATES]),
                   held <= payments.c.total)
            .values(disputed_amount=payments.c.disputed_amount + amount,
                    previous_status=payments.c.status, status=str(PaymentStatus.DISPUTED),
                    updated_at=now))

    def release_dispute(self, payment_id: str, amount: int, status: str,
                        now: datetime) -> Payment | None:
        """A won dispute: give back what it held and return the payment to ``status``
        (where it was before), only while it is disputed."""
        return self._update_one(
            update(payments)
            .where(payments.c.id == payment_id,
                   payments.c.status == str(PaymentStatus.DISPUTED),
                   payments.c.disputed_amount >= amount)
            .values(disputed_amount=payments.c.disputed_amount - amount,
                    previous_status=payments.c.status, updated_at=now,
                    # a refund settled during the dispute leaves it partially refunded
                    status=case((payments.c.refunded_amount > 0,
                                 str(PaymentStatus.PARTIALLY_REFUNDED)), else_=status)))

    def _update_one(self, statement: Update) -> Payment | None:
        row = self.conn.execute(statement.returning(*payments.c)).first()
        return record_or_none(row, Payment)

    def by_gateway_ref(self, gateway: str, *, payment_id: str | None = None,
                       gateway_payment_id: str | None = None,
                       gateway_order_id: str | None = None) -> Payment | None:
        """The payment at ``gateway`` a provider's event names: by paytrack's own id (echoed
        from the metadata it sent), else by the provider's payment id, else its order."""
        for column, value in ((payments.c.id, payment_id),
                              (payments.c.gateway_payment_id, gateway_payment_id),
                              (payments.c.gateway_order_id, gateway_order_id)):
            if value is None:
                continue
            row = self.conn.execute(select(payments).where(
                column == value, payments.c.gateway == gateway).limit(1)).first()
            if row is not None:
                return record_or_none(row, Payment)
        return None

    def lock(self, payment_id: str) -> Payment | None:
        """The payment, locked until the transaction ends (PostgreSQL; SQLite serializes
        writers): gateway events about one payment apply one after the other."""
        query = select(payments).where(payments.c.id == payment_id)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return record_or_none(self.conn.execute(query).first(), Payment)

    def expired_checkouts(self, now: datetime, limit: int) -> builtins.list[Payment]:
        """Open payments whose checkout expired before ``now``, oldest expiry first."""
        rows = self.conn.execute(
            select(payments)
            .where(payments.c.status.in_(["pending", "processing"]),
                   payments.c.payment_url_expires_at.is_not(None),
                   payments.c.payment_url_expires_at < now)
            .order_by(payments.c.payment_url_expires_at).limit(limit))
        return records(rows, Payment)

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

    def by_gateway_id(self, payment_id: str, gateway_refund_id: str) -> Refund | None:
        row = self.conn.execute(select(refunds).where(
            refunds.c.payment_id == payment_id,
            refunds.c.gateway_refund_id == gateway_refund_id)).first()
        return record_or_none(row, Refund)

    def claim_to_submit(self, now: datetime, lease_until: datetime, limit: int,
                        refund_id: str | None = None) -> builtins.list[Refund]:
        """Approved refunds due to be sent to their gateway (or just ``refund_id``, if
        due): each claimed until ``lease_until`` with one more attempt counted, so another
        worker leaves it alone while it is sent, and a crash only delays it."""
        return _claim(self.conn, refunds, Refund, now, lease_until, limit, refund_id,
                      [refunds.c.status == "approved"])

    def update(self, refund_id: str, values: dict[str, Any]) -> None:
        self.conn.execute(update(refunds).where(refunds.c.id == refund_id).values(**values))

    def open_on_payment(self, payment_id: str) -> builtins.list[Refund]:
        """The payment's refunds that still hold a reservation (requested or approved),
        oldest first."""
        rows = self.conn.execute(
            select(refunds)
            .where(refunds.c.payment_id == payment_id,
                   refunds.c.status.in_(sorted(map(str, OPEN_REFUND_STATES))))
            .order_by(refunds.c.id))
        return records(rows, Refund)


def _claim(conn: Connection, table: Table, row_type: type[C], now: datetime,
           lease_until: datetime, limit: int, object_id: str | None,
           conditions: builtins.list[Any]) -> builtins.list[C]:
    """Claim rows due to be sent (``next_submit_at <= now``) with SKIP LOCKED: one worker
    each; the lease and the attempt are written in the claiming transaction."""
    due = select(table.c.id).where(table.c.next_submit_at.is_not(None),
                                   table.c.next_submit_at <= now, *conditions)
    if object_id is not None:
        due = due.where(table.c.id == object_id)
    due = due.order_by(table.c.next_submit_at).limit(limit)
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = [row[0] for row in conn.execute(due)]
    if not ids:
        return []
    rows = conn.execute(
        update(table).where(table.c.id.in_(ids))
        .values(next_submit_at=lease_until, submit_attempts=table.c.submit_attempts + 1)
        .returning(*table.c))
    return sorted(records(rows, row_type), key=lambda r: r["id"])


class DisputeRepository(_Rows[Dispute]):
    table = disputes
    row_type = Dispute

    def lock(self, dispute_id: str) -> Dispute | None:
        """The dispute, locked until the transaction ends (to add evidence to it)."""
        row = self.conn.execute(
            select(disputes).where(disputes.c.id == dispute_id).with_for_update()).first()
        return record_or_none(row, Dispute)

    def by_gateway_id(self, gateway: str, gateway_dispute_id: str) -> Dispute | None:
        row = self.conn.execute(select(disputes).where(
            disputes.c.gateway == gateway,
            disputes.c.gateway_dispute_id == gateway_dispute_id)).first()
        return record_or_none(row, Dispute)

    def holding_gateway_id(self, gateway: str, gateway_dispute_id: str) -> str | None:
        """The id of the dispute that already has ``gateway_dispute_id`` at ``gateway``."""
        return self.conn.execute(
            select(disputes.c.id).where(disputes.c.gateway == gateway,
                                        disputes.c.gateway_dispute_id == gateway_dispute_id)
        ).scalar()
