"""Subscriptions. Every status move is one conditional UPDATE guarded by the states it may
come from (and, where it matters, by the subscription having no open payment), so of two
racing writers only one moves the row."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.appender import Appender
from paytrack.adapters.storage.sql import is_postgres, record_or_none, records
from paytrack.adapters.storage.tables import subscriptions
from paytrack.domain.subscriptions import Subscription

S = subscriptions.c


class SubscriptionRepository:
    def __init__(self, conn: Connection, appender: Appender) -> None:
        self.conn = conn
        self.appender = appender

    def insert(self, subscription: Subscription) -> None:
        self.appender.add(subscriptions, cast(dict[str, Any], subscription))

    def get(self, subscription_id: str) -> Subscription | None:
        row = self.conn.execute(select(subscriptions).where(S.id == subscription_id)).first()
        return record_or_none(row, Subscription)

    def lock(self, subscription_id: str) -> Subscription | None:
        """The row, locked until the transaction ends (SQLite: its write lock is held)."""
        row = self.conn.execute(select(subscriptions).where(S.id == subscription_id)
                                .with_for_update()).first()
        return record_or_none(row, Subscription)

    def transition(self, subscription_id: str, sources: Iterable[str], target: str,
                   values: dict[str, Any], *, no_open_payment: bool = False,
                   due_by: datetime | None = None) -> Subscription | None:
        """Move to ``target`` only from one of ``sources`` (and with ``no_open_payment``
        only while it waits for no payment; with ``due_by`` only if its period ended by
        then); None if it was not so."""
        statement = update(subscriptions).where(S.id == subscription_id,
                                                S.status.in_(sorted(sources)))
        if no_open_payment:
            statement = statement.where(S.open_payment_id.is_(None))
        if due_by is not None:
            statement = statement.where(S.current_period_end <= due_by)
        row = self.conn.execute(statement.values(previous_status=S.status, status=target,
                                                 **values)
                                .returning(*subscriptions.c)).first()
        return record_or_none(row, Subscription)

    def attach_payment(self, subscription_id: str, payment_id: str, sources: Iterable[str],
                       values: dict[str, Any]) -> Subscription | None:
        """Make ``payment_id`` the payment it waits for, only if it waits for none and is in
        one of ``sources``: of two racing renewals, one is attached."""
        row = self.conn.execute(
            update(subscriptions)
            .where(S.id == subscription_id, S.open_payment_id.is_(None),
                   S.status.in_(sorted(sources)))
            .values(open_payment_id=payment_id, **values)
            .returning(*subscriptions.c)).first()
        return record_or_none(row, Subscription)

    def update(self, subscription_id: str, values: dict[str, Any]) -> Subscription:
        """Change fields of a row the caller has locked."""
        row = self.conn.execute(update(subscriptions).where(S.id == subscription_id)
                                .values(**values).returning(*subscriptions.c)).one()
        return cast(Subscription, dict(row._mapping))

    def list(self, *, filters: dict[str, Any], limit: int,
             before_id: str | None = None) -> builtins.list[Subscription]:
        """Newest first; ``before_id`` is the cursor (ids sort by creation time)."""
        query = select(subscriptions)
        for name, value in filters.items():
            if value is not None:
                query = query.where(S[name] == value)
        if before_id:
            query = query.where(S.id < before_id)
        return records(self.conn.execute(query.order_by(S.id.desc()).limit(limit)),
                       Subscription)

    def due(self, status: str, ended_by: datetime, limit: int, *,
            cancel_at_period_end: bool | None = None) -> builtins.list[Subscription]:
        """Subscriptions in ``status`` whose period ended by ``ended_by``, earliest first."""
        query = select(subscriptions).where(S.status == status,
                                            S.current_period_end <= ended_by)
        if cancel_at_period_end is not None:
            query = query.where(S.cancel_at_period_end.is_(cancel_at_period_end))
        return records(self.conn.execute(query.order_by(S.current_period_end, S.id)
                                         .limit(limit)), Subscription)

    def mark_past_due(self, subscription_ids: Iterable[str], now: datetime
                      ) -> builtins.list[Subscription]:
        """Active subscriptions among ``subscription_ids`` whose period ended by ``now``
        and that are not to be canceled then -> past_due, in one guarded UPDATE: another
        worker's same UPDATE moves none of them again (on PostgreSQL it skips the rows
        another holds)."""
        due = select(S.id).where(S.id.in_(sorted(subscription_ids)), S.status == "active",
                                 S.current_period_end <= now,
                                 S.cancel_at_period_end.is_(False))
        if is_postgres(self.conn):
            due = due.order_by(S.id).with_for_update(skip_locked=True)
        rows = self.conn.execute(
            update(subscriptions)
            .where(S.id.in_(due.scalar_subquery()), S.status == "active",
                   S.current_period_end <= now, S.cancel_at_period_end.is_(False))
            .values(previous_status=S.status, status="past_due", updated_at=now)
            .returning(*subscriptions.c))
        return sorted(records(rows, Subscription), key=lambda s: s["id"])
