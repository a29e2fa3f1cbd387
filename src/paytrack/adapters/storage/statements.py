"""What a seller statement reads: its accounts' postings before a date, and entry by entry
within a period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.sql import labeled_sum, read_sum
from paytrack.adapters.storage.tables import accounts, journal_entries, postings


class StatementRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def seller_accounts(self, seller_id: str, currency: str) -> dict[int, str]:
        """The seller's accounts in ``currency``: id -> code."""
        rows = self.conn.execute(
            select(accounts.c.id, accounts.c.code)
            .where(accounts.c.seller_id == seller_id, accounts.c.currency == currency))
        return {r.id: r.code for r in rows}

    def sums_before(self, account_ids: list[int], before: datetime) -> dict[int, int]:
        """Per account, the signed sum of its postings in entries made before ``before``."""
        if not account_ids:
            return {}
        rows = self.conn.execute(
            select(postings.c.account_id, *labeled_sum(self.conn, postings.c.amount, "s"))
            .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
            .where(postings.c.account_id.in_(account_ids),
                   journal_entries.c.created_at < before)
            .group_by(postings.c.account_id))
        return {r.account_id: read_sum(r._mapping, "s") for r in rows}

    def movements(self, account_ids: list[int], start: datetime,
                  end: datetime) -> Iterator[dict[str, Any]]:
        """The postings on these accounts in entries made in [start, end), in entry order,
        each with its entry's fields."""
        if not account_ids:
            return iter(())
        rows = self.conn.execute(
            select(journal_entries.c.id.label("entry_id"), journal_entries.c.kind,
                   journal_entries.c.description, journal_entries.c.payment_id,
                   journal_entries.c.refund_id, journal_entries.c.created_at,
                   postings.c.account_id, postings.c.amount)
            .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
            .where(postings.c.account_id.in_(account_ids),
                   journal_entries.c.created_at >= start, journal_entries.c.created_at < end)
            .order_by(journal_entries.c.created_at, journal_entries.c.id, postings.c.id))
        return (dict(r._mapping) for r in rows)
