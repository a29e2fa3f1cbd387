"""Payouts and payout accounts. A payout's every status move is one conditional UPDATE
guarded by the states it may come from, so of two racing moves only one happens."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Update, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.appender import Appender
from paytrack.adapters.storage.payments import _claim
from paytrack.adapters.storage.sql import record_or_none, records
from paytrack.adapters.storage.tables import payout_accounts, payouts
from paytrack.domain.payouts import Payout, PayoutAccount

P = payouts.c
A = payout_accounts.c


@cache
def _transition(sources: frozenset[str], target: str, keys: tuple[str, ...]) -> Update:
    return (
        update(payouts)
        .where(P.id == bindparam("object_id"), P.status.in_(sorted(sources)))
        .values(previous_status=P.status, status=target,
                **{k: bindparam(f"new_{k}") for k in keys})
        .returning(*payouts.c)
    )


class PayoutRepository:
    def __init__(self, conn: Connection, appender: Appender) -> None:
        self.conn = conn
        self.appender = appender

    def insert(self, payout: Payout) -> None:
        self.appender.add(payouts, cast(dict[str, Any], payout))

    def get(self, payout_id: str) -> Payout | None:
        return record_or_none(self.conn.execute(select(payouts).where(P.id == payout_id))
                              .first(), Payout)

    def transition(self, payout_id: str, sources: Iterable[str], target: str,
                   values: dict[str, Any]) -> Payout | None:
        """Move to ``target`` only from one of ``sources``; None if it was not there."""
        statement = _transition(frozenset(sources), target, tuple(sorted(values)))
        row = self.conn.execute(
            statement, {"object_id": payout_id, **{f"new_{k}": v for k, v in values.items()}}
        ).first()
        return record_or_none(row, Payout)

    def by_gateway_id(self, gateway: str, gateway_payout_id: str) -> Payout | None:
        return record_or_none(self.conn.execute(select(payouts).where(
            P.gateway == gateway, P.gateway_payout_id == gateway_payout_id)).first(), Payout)

    def claim_to_submit(self, now: datetime, lease_until: datetime, limit: int,
                        payout_id: str | None = None) -> builtins.list[Payout]:
        """Approved payouts due to be sent to their gateway: see ``_claim``."""
        return _claim(self.conn, payouts, Payout, now, lease_until, limit, payout_id,
                      [P.status == "approved"])

    def update(self, payout_id: str, values: dict[str, Any]) -> None:
        self.conn.execute(update(payouts).where(P.id == payout_id).values(**values))

    def list(self, *, filters: dict[str, Any], limit: int,
             before_id: str | None = None) -> list[Payout]:
        """Newest first; ``before_id`` is the cursor (ids sort by creation time)."""
        query = select(payouts)
        for name, value in filters.items():
            if value is not None:
                query = query.where(P[name] == value)
        if before_id:
            query = query.where(P.id < before_id)
        return records(self.conn.execute(query.order_by(P.id.desc()).limit(limit)), Payout)

    def open(self, statuses: Iterable[str], *, limit: int,
             after_id: str | None = None) -> builtins.list[Payout]:
        """Payouts in ``statuses``, oldest first (a queue); ``after_id`` is the cursor."""
        query = select(payouts).where(P.status.in_(sorted(statuses)))
        if after_id:
            query = query.where(P.id > after_id)
        return records(self.conn.execute(query.order_by(P.id).limit(limit)), Payout)


class PayoutAccountRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def upsert(self, account: PayoutAccount) -> PayoutAccount:
        """Insert or replace the seller's account for its method (created_at is kept)."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(payout_accounts).values(**account)
        statement = statement.on_conflict_do_update(
            index_elements=[A.seller_id, A.method],
            set_={"details_encrypted": statement.excluded.details_encrypted,
                  "last4": statement.excluded.last4,
                  "updated_at": statement.excluded.updated_at})
        row = self.conn.execute(statement.returning(*payout_accounts.c)).one()
        return cast(PayoutAccount, dict(row._mapping))

    def get(self, seller_id: str, method: str) -> PayoutAccount | None:
        row = self.conn.execute(select(payout_accounts).where(
            A.seller_id == seller_id, A.method == method)).first()
        return record_or_none(row, PayoutAccount)

    def of_seller(self, seller_id: str) -> list[PayoutAccount]:
        rows = self.conn.execute(select(payout_accounts).where(A.seller_id == seller_id)
                                 .order_by(A.method))
        return records(rows, PayoutAccount)

    def batch(self, *, after: tuple[str, str] | None, limit: int) -> list[PayoutAccount]:
        """Every account in key order, ``limit`` at a time, locked (re-encryption)."""
        query = select(payout_accounts)
        if after is not None:
            query = query.where((A.seller_id > after[0])
                                | ((A.seller_id == after[0]) & (A.method > after[1])))
        rows = self.conn.execute(query.order_by(A.seller_id, A.method).limit(limit)
                                 .with_for_update())
        return records(rows, PayoutAccount)

    def replace_token(self, seller_id: str, method: str, token: str) -> None:
        """The same details under a new key: not an edit, so ``updated_at`` stays."""
        self.conn.execute(update(payout_accounts)
                          .where(A.seller_id == seller_id, A.method == method)
                          .values(details_encrypted=token))
