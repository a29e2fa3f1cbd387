"""Revenue figures recomputed from where the money is: journal entries and their postings,
payments and disputes. A rebuild refills the rollups from ``delta_rows``; ``ledger verify``
compares the rollups with ``expected``, the same rules (``domain/analytics.py``) written
again in SQL."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Select, String, and_, case, literal, select, text
from sqlalchemy.engine import Connection, Row

from paytrack.adapters.storage.analytics import DeltaRow, delta_row
from paytrack.adapters.storage.sql import is_postgres
from paytrack.adapters.storage.tables import accounts, disputes, journal_entries, payments, postings
from paytrack.domain.analytics import (
    CAPTURED,
    DISPUTE_LOST,
    DISPUTE_OPENED,
    DISPUTE_WON,
    MEASURES,
    REFUNDED,
    Measures,
    RevenueTags,
    ended_unpaid,
    fact_measures,
    posting_measures,
)
from paytrack.domain.periods import local_day

JE, P = journal_entries.c, payments.c
# What a delta needs of its payment, labelled as RevenueTags.of reads them.
TAGS = [P.id, P.currency, P.seller_id, P.customer_id, P.item_type, P.item_id, P.method,
        P.gateway, P.coupon_id, P.discount_funded_by, P.discount]
UNPAID = ("failed", "canceled")


class RevenueHistory:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def hold_still(self) -> None:
        """PostgreSQL: no posting or delta is added until the transaction ends (a rebuild
        reads the history while nothing moves, as ``ledger.rebuild`` does)."""
        if is_postgres(self.conn):
            self.conn.execute(
                text("LOCK TABLE postings, revenue_deltas IN SHARE ROW EXCLUSIVE MODE"))

    def delta_rows(self, tz: ZoneInfo, batch: int) -> Iterator[list[DeltaRow]]:
        """Every delta the history made, as the live path appended them (the facts of
        disputes and of unpaid payments from their own rows), ``batch`` sources at a time."""
        yield from self._entries(tz, batch)
        yield from self._disputes(tz, batch)
        yield from self._unpaid(tz, batch)

    def _entries(self, tz: ZoneInfo, batch: int) -> Iterator[list[DeltaRow]]:
        after = ""
        while True:
            ids = self.conn.execute(
                select(JE.id).where(JE.payment_id.is_not(None), JE.id > after)
                .order_by(JE.id).limit(batch)).scalars().all()
            if not ids:
                return
            rows = self.conn.execute(
                select(JE.id.label("entry_id"), JE.kind, JE.created_at, *TAGS,
                       accounts.c.code, postings.c.amount)
                .select_from(journal_entries
                             .join(payments, P.id == JE.payment_id)
                             .join(postings, postings.c.entry_id == JE.id)
                             .join(accounts, accounts.c.id == postings.c.account_id))
                .where(JE.id.in_(ids)).order_by(JE.id, postings.c.id)).all()
            found: list[DeltaRow] = []
            start = 0
            for end in range(1, len(rows) + 1):
                if end < len(rows) and rows[end].entry_id == rows[start].entry_id:
                    continue
                first = rows[start]
                tags = _tags(first)
                measures = (posting_measures(first.kind, ((r.code, int(r.amount))
                                                          for r in rows[start:end]))
                            + fact_measures(first.kind, tags))
                found.append(delta_row(tags, local_day(first.created_at, tz), measures))
                start = end
            yield found
            after = ids[-1]

    def _disputes(self, tz: ZoneInfo, batch: int) -> Iterator[list[DeltaRow]]:
        after = ""
        while True:
            rows = self.conn.execute(
                select(disputes.c.id.label("dispute_id"), disputes.c.amount,
                       disputes.c.opened_at, disputes.c.won_at, disputes.c.lost_at, *TAGS)
                .join(payments, P.id == disputes.c.payment_id)
                .where(disputes.c.id > after).order_by(disputes.c.id).limit(batch)).all()
            if not rows:
                return
            found: list[DeltaRow] = []
            for r in rows:
                tags = _tags(r, dispute_amount=int(r.amount))
                for kind, at in ((DISPUTE_OPENED, r.opened_at), (DISPUTE_WON, r.won_at),
                                 (DISPUTE_LOST, r.lost_at)):
                    if at is not None:
                        found.append(delta_row(tags, local_day(at, tz), fact_measures(kind, tags)))
            yield found
            after = rows[-1].dispute_id

    def _unpaid(self, tz: ZoneInfo, batch: int) -> Iterator[list[DeltaRow]]:
        after = ""
        while True:
            rows = self.conn.execute(
                select(*TAGS, P.status, P.failed_at, P.canceled_at, P.updated_at)
                .where(P.status.in_(UNPAID), P.id > after).order_by(P.id).limit(batch)).all()
            if not rows:
                return
            found = []
            for r in rows:
                ended = (r.canceled_at if r.status == "canceled" else r.failed_at) \
                    or r.updated_at
                found.append(delta_row(_tags(r), local_day(ended, tz),
                                  ended_unpaid()))
            yield found
            after = rows[-1].id

    def expected_by_day(self, tz: ZoneInfo, batch: int) -> dict[tuple[str, date], Measures]:
        """Per currency and local day, every measure the history makes: what a rebuild
        in ``tz`` would fold on each day."""
        days: dict[tuple[str, date], list[int]] = {}
        for rows in self.delta_rows(tz, batch):
            for row in rows:
                cell = days.setdefault((row["currency"], row["day"]), [0] * len(MEASURES))
                for i, name in enumerate(MEASURES):
                    cell[i] += row[name]
        return {key: Measures(*cell) for key, cell in days.items()}

    def expected(self, source: str, group: Sequence[str] = ()) -> list[Select[Any]]:
        """What postings, entries and payments say, one row each, labelled ``source``:
        (source, currency, the payment's ``group`` columns, every measure). ``ledger
        verify`` sums them in the statement that sums the rollups
        (``AnalyticsRepository.compare``), so both sides see one snapshot."""
        code, amount, kind = accounts.c.code, postings.c.amount, JE.kind
        groups = [P[name] for name in group]
        joined = (postings.join(journal_entries, JE.id == postings.c.entry_id)
                  .join(accounts, accounts.c.id == postings.c.account_id))
        if group:  # the payment's columns
            joined = joined.join(payments, P.id == JE.payment_id)
        capture, clearing = kind == CAPTURED, code.startswith("gateway:")
        per_posting = _measures(source, postings.c.currency, groups, {
            "platform_revenue": case((code == "platform:revenue", -amount), else_=0),
            "tax": case((code == "platform:tax_payable", -amount), else_=0),
            "shipping": case((code == "platform:shipping", -amount), else_=0),
            "platform_discount": case((code == "platform:discounts", amount), else_=0),
            "seller_earnings": case((code.startswith("seller:"), -amount), else_=0),
            "gross": case((and_(capture, clearing, amount > 0), amount), else_=0),
            "fees": case((and_(capture, clearing, amount < 0), -amount),
                         (and_(kind != CAPTURED, code == "platform:fees"), amount), else_=0),
            "refunded": case((and_(kind == REFUNDED, clearing), -amount), else_=0),
        }).select_from(joined).where(JE.payment_id.is_not(None))
        per_entry = _measures(source, P.currency, groups, {
            "captured": case((kind == CAPTURED, 1), else_=0),
            "discount": case((kind == CAPTURED, P.discount), else_=0),
            "refunds": case((kind == REFUNDED, 1), else_=0),
            "disputes": case((kind == DISPUTE_OPENED, 1), else_=0),
        }).select_from(journal_entries.join(payments, P.id == JE.payment_id))
        per_payment = _measures(source, P.currency, groups, {
            "failed": case((P.status.in_(UNPAID), 1), else_=0),
            "disputed": P.disputed_amount,
            "dispute_losses": case((P.status == "charged_back", P.disputed_amount), else_=0),
        }).select_from(payments)
        return [per_posting, per_entry, per_payment]


def _measures(source: str, currency: ColumnElement[str], groups: Sequence[ColumnElement[Any]],
              values: dict[str, ColumnElement[Any]]) -> Select[Any]:
    return select(literal(source, String).label("source"), currency.label("currency"),
                  *groups, *(values.get(m, literal(0, BigInteger)).label(m) for m in MEASURES))


def _tags(row: Row[Any, *tuple[Any, ...]], *, dispute_amount: int = 0) -> RevenueTags:
    """The tags of the payment a row carries (``TAGS``, labelled as the payment's)."""
    return RevenueTags.of(cast(Mapping[str, Any], row._mapping), dispute_amount=dispute_amount)
