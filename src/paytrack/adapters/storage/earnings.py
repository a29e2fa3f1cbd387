"""Seller earnings: one row per captured payment, held in pending until its date.

A capture appends its row; nothing else is written per capture. A refund or a dispute
takes the seller's part from the row while it is held (locking it), and a release moves
every due row at once, claiming them with ``FOR UPDATE SKIP LOCKED`` so several workers
can release side by side without waiting on each other or moving a row twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.appender import Appender
from paytrack.adapters.storage.sql import labeled_sum, read_sum, record_or_none, records
from paytrack.adapters.storage.tables import seller_earnings, sellers
from paytrack.domain.earnings import Earning

E = seller_earnings.c
DAY_S = 86_400


def _hold_seconds(default_hold_days: int) -> ColumnElement[int]:
    return func.coalesce(sellers.c.hold_days, default_hold_days) * DAY_S


class EarningsRepository:
    def __init__(self, conn: Connection, appender: Appender) -> None:
        self.conn = conn
        self.appender = appender

    def insert(self, earning: Earning) -> None:
        self.appender.add(seller_earnings, dict(earning))

    def lock(self, payment_id: str) -> Earning | None:
        """The payment's earning, locked until the transaction ends (PostgreSQL; SQLite
        serializes writers anyway)."""
        row = self.conn.execute(
            select(seller_earnings).where(E.payment_id == payment_id).with_for_update()
        ).first()
        return record_or_none(row, Earning)

    def change(self, payment_id: str, *, pending: int = 0, refunded: int = 0) -> None:
        """Add to a locked row's pending and refunded amounts (signed)."""
        values: dict[str, Any] = {}
        if pending:
            values["pending"] = E.pending + pending
        if refunded:
            values["refunded"] = E.refunded + refunded
        if values:
            self.conn.execute(update(seller_earnings)
                              .where(E.payment_id == payment_id).values(**values))

    def claim_due(self, now: datetime, default_hold_days: int, limit: int) -> list[Earning]:
        """Up to ``limit`` held rows whose hold has ended by ``now`` (their capture plus
        their seller's hold days, else ``default_hold_days``), locked; rows another release
        holds are skipped, not waited for. Integer arithmetic on Unix seconds, the same on
        every database."""
        rows = self.conn.execute(
            select(seller_earnings)
            .join(sellers, sellers.c.id == E.seller_id)
            .where(E.released_at.is_(None),
                   E.captured_s <= int(now.timestamp()) - _hold_seconds(default_hold_days))
            .order_by(E.captured_s, E.payment_id).limit(limit)
            .with_for_update(of=seller_earnings, skip_locked=True)
        )
        return records(rows, Earning)

    def mark_released(self, payment_ids: list[str], now: datetime) -> None:
        """Claimed rows: what they held is now released (the caller posts it)."""
        self.conn.execute(
            update(seller_earnings)
            .where(E.payment_id.in_(payment_ids), E.released_at.is_(None))
            .values(released=E.released + E.pending, pending=0, released_at=now))

    def held_totals(self) -> dict[tuple[str, str], int]:
        """Per (seller, currency), what its earnings still hold: exact sums."""
        rows = self.conn.execute(
            select(E.seller_id, E.currency, *labeled_sum(self.conn, E.pending, "held"))
            .group_by(E.seller_id, E.currency))
        return {(r.seller_id, r.currency): read_sum(r._mapping, "held") for r in rows}

    def hold_days(self, seller_id: str) -> int | None:
        """The seller's own hold period, if it has one."""
        return self.conn.execute(
            select(sellers.c.hold_days).where(sellers.c.id == seller_id)).scalar()

    def list(self, seller_id: str, *, limit: int, before_id: str | None = None,
             currency: str | None = None, released: bool | None = None) -> list[Earning]:
        """Newest first by payment id (the cursor)."""
        query = select(seller_earnings).where(E.seller_id == seller_id)
        if before_id:
            query = query.where(E.payment_id < before_id)
        if currency:
            query = query.where(E.currency == currency)
        if released is not None:
            query = query.where(E.released_at.is_not(None) if released
                                else E.released_at.is_(None))
        return records(self.conn.execute(query.order_by(E.payment_id.desc()).limit(limit)),
                       Earning)
