"""Orders and their lines. A status move is a conditional UPDATE guarded by the states it may
come from; the statistics are one aggregate query over the lines."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import case, exists, func, select, update
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.appender import Appender
from paytrack.adapters.storage.payments import _transition
from paytrack.adapters.storage.sql import (
    labeled_sum,
    read_sum,
    record_or_none,
    records,
)
from paytrack.adapters.storage.tables import order_lines, orders, payments
from paytrack.domain.orders import CONFIRMED_CODES, Order, OrderLine, PaymentState
from paytrack.domain.payments import Payment


def _statuses_of(code: int) -> list[str]:
    return sorted(str(s) for s, c in CONFIRMED_CODES.items() if c == code)


class OrderRepository:
    def __init__(self, conn: Connection, appender: Appender) -> None:
        self.conn = conn
        self.appender = appender

    def insert(self, order: Order) -> None:
        self.appender.add(orders, dict(order))

    def insert_lines(self, lines: Iterable[dict[str, Any]]) -> None:
        for line in lines:
            self.appender.add(order_lines, line)

    def get(self, order_id: str) -> Order | None:
        row = self.conn.execute(select(orders).where(orders.c.id == order_id)).first()
        return record_or_none(row, Order)

    def lock(self, order_id: str) -> Order | None:
        """The order, locked until the transaction ends (PostgreSQL; SQLite serializes
        writers). Taken after its payment row, never before."""
        query = select(orders).where(orders.c.id == order_id)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return record_or_none(self.conn.execute(query).first(), Order)

    def transition(self, order_id: str, sources: Iterable[str], target: str,
                   values: dict[str, Any]) -> Order | None:
        statement = _transition(orders, frozenset(sources), target, tuple(sorted(values)))
        row = self.conn.execute(
            statement, {"object_id": order_id, **{f"new_{k}": v for k, v in values.items()}}
        ).first()
        return record_or_none(row, Order)

    def update(self, order_id: str, values: dict[str, Any]) -> Order | None:
        row = self.conn.execute(update(orders).where(orders.c.id == order_id)
                                .values(**values).returning(*orders.c)).first()
        return record_or_none(row, Order)

    def payment_states(self, order_id: str) -> builtins.list[PaymentState]:
        rows = self.conn.execute(
            select(payments.c.status, payments.c.total, payments.c.refunded_amount)
            .where(payments.c.order_ref == order_id).order_by(payments.c.id))
        return [PaymentState(r.status, r.total, r.refunded_amount) for r in rows]

    def payments_of(self, order_ids: builtins.list[str]) -> builtins.list[Payment]:
        """The payments of these orders, oldest first."""
        if not order_ids:
            return []
        rows = self.conn.execute(select(payments).where(payments.c.order_ref.in_(order_ids))
                                 .order_by(payments.c.id))
        return records(rows, Payment)

    def lines_of(self, order_ids: builtins.list[str]) -> builtins.list[OrderLine]:
        if not order_ids:
            return []
        rows = self.conn.execute(select(order_lines)
                                 .where(order_lines.c.order_id.in_(order_ids))
                                 .order_by(order_lines.c.order_id, order_lines.c.line_no))
        return records(rows, OrderLine)

    def list(self, *, limit: int, before_id: str | None = None, status: str | None = None,
             confirmed_code: int | None = None, customer_id: str | None = None,
             seller_id: str | None = None, item_id: str | None = None,
             stream: str | None = None, created_gte: datetime | None = None,
             created_lt: datetime | None = None) -> builtins.list[Order]:
        """Newest first; ``before_id`` is the cursor. ``seller_id``/``item_id``: orders
        with a line of that seller / for that item (both: one line of that seller for that
        item, so a seller finds no order by another seller's item)."""
        query = select(orders)
        if status is not None:
            query = query.where(orders.c.status == status)
        if confirmed_code is not None:
            query = query.where(orders.c.status.in_(_statuses_of(confirmed_code)))
        if customer_id is not None:
            query = query.where(orders.c.customer_id == customer_id)
        if stream is not None:
            query = query.where(orders.c.stream == stream)
        line = [column == value for column, value in ((order_lines.c.seller_id, seller_id),
                                                       (order_lines.c.item_id, item_id))
                if value is not None]
        if line:
            query = query.where(exists().where(order_lines.c.order_id == orders.c.id, *line))
        if before_id:
            query = query.where(orders.c.id < before_id)
        if created_gte:
            query = query.where(orders.c.created_at >= created_gte)
        if created_lt:
            query = query.where(orders.c.created_at < created_lt)
        rows = self.conn.execute(query.order_by(orders.c.id.desc()).limit(limit))
        return records(rows, Order)

    def claim_to_settle(self, now: datetime, lease_until: datetime,
                        limit: int) -> builtins.list[str]:
        """Orders whose other payments are due to be settled, each claimed until
        ``lease_until`` (SKIP LOCKED: one worker each; a crash only delays it)."""
        due = (select(orders.c.id)
               .where(orders.c.settle_due_at.is_not(None), orders.c.settle_due_at <= now)
               .order_by(orders.c.settle_due_at).limit(limit))
        if self.conn.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = [row[0] for row in self.conn.execute(due)]
        if ids:
            self.conn.execute(update(orders).where(orders.c.id.in_(ids))
                              .values(settle_due_at=lease_until))
        return sorted(ids)

    def stream_stats(self, *, seller_id: str | None, item_id: str | None,
                     item_type: str | None, stream: str | None, currency: str | None,
                     created_gte: datetime | None, created_lt: datetime | None
                     ) -> builtins.list[dict[str, Any]]:
        """Per (item_type, item_id, stream, currency): bookings (lines) by the order's
        code, and the confirmed ones' revenue net of discounts. One aggregate query."""
        line, order = order_lines, orders

        def count(code: int) -> Any:
            return func.sum(case((order.c.status.in_(_statuses_of(code)), 1), else_=0))

        confirmed = order.c.status.in_(_statuses_of(2))
        revenue = case((confirmed, line.c.amount - line.c.discount), else_=0)
        query = (
            select(line.c.item_type, line.c.item_id, line.c.stream, order.c.currency,
                   func.count().label("bookings"), count(2).label("confirmed"),
                   count(1).label("pending"), count(-1).label("cancelled"),
                   *labeled_sum(self.conn, revenue, "confirmed_revenue"),
                   *labeled_sum(self.conn, line.c.amount - line.c.discount, "booked_amount"))
            .select_from(line.join(order, order.c.id == line.c.order_id))
            .group_by(line.c.item_type, line.c.item_id, line.c.stream, order.c.currency)
            .order_by(line.c.item_type, line.c.item_id, line.c.stream, order.c.currency))
        for column, value in ((line.c.seller_id, seller_id), (line.c.item_id, item_id),
                              (line.c.item_type, item_type), (line.c.stream, stream),
                              (order.c.currency, currency)):
            if value is not None:
                query = query.where(column == value)
        if created_gte is not None:
            query = query.where(order.c.created_at >= created_gte)
        if created_lt is not None:
            query = query.where(order.c.created_at < created_lt)
        out = []
        for row in self.conn.execute(query).mappings():
            out.append({
                "item_type": row["item_type"], "item_id": row["item_id"],
                "stream": row["stream"], "currency": row["currency"],
                "bookings": int(row["bookings"]), "confirmed": int(row["confirmed"] or 0),
                "pending": int(row["pending"] or 0), "cancelled": int(row["cancelled"] or 0),
                "booked_amount": read_sum(row, "booked_amount"),
                "confirmed_revenue": read_sum(row, "confirmed_revenue"),
            })
        return out
