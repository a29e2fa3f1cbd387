"""The ledger in the database: accounts, journal entries, postings and running balances.

House accounts and other unbounded accounts are never locked: a posting to them appends a
row to ``balance_deltas``, which readers add to the account's stored balance and ``fold``
later folds in. Only bounded accounts (a seller's available balance) are updated in place,
with a conditional UPDATE that refuses to go below zero, in id order to avoid deadlocks.

No account may pass ``MAX_BALANCE_MINOR`` either way (see ``domain/limits.py``): the
conditional UPDATE refuses it for bounded accounts, and a trigger on ``balance_deltas``
(migration 0003) for the others, so every stored balance fits 64 bits. Sums over many rows
are not bounded by any write, so every read computes them exactly (``sql.exact_sum_parts``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, case, delete, func, select, text, tuple_, update
from sqlalchemy.engine import Connection, Row

from paytrack.adapters.storage.analytics import AnalyticsRepository
from paytrack.adapters.storage.appender import Appender
from paytrack.adapters.storage.errors import balance_limit_exceeded
from paytrack.adapters.storage.sql import (
    exact_sum_parts,
    insert_ignore,
    is_postgres,
    labeled_sum,
    read_sum,
)
from paytrack.adapters.storage.tables import accounts, balance_deltas, journal_entries, postings
from paytrack.domain.errors import InsufficientFunds
from paytrack.domain.ids import new_id
from paytrack.domain.ledger import (
    Account,
    AccountSpec,
    BalanceDifference,
    CurrencyTotals,
    JournalEntry,
    JournalEntryRow,
    PostingLine,
    UnbalancedEntry,
    spec_for,
)
from paytrack.domain.limits import MAX_BALANCE_MINOR

AccountKey = tuple[str, str]  # (code, currency)


def _current_balance(conn: Connection) -> list[ColumnElement]:
    """Columns for an account's current balance: the stored one and the exact sum of its
    pending deltas; ``_current`` adds them up."""
    pending = [
        select(part).where(balance_deltas.c.account_id == accounts.c.id)
        .scalar_subquery().label(f"pending_{i}")
        for i, part in enumerate(exact_sum_parts(conn, balance_deltas.c.amount))
    ]
    return [accounts.c.balance.label("stored_balance"), *pending]


def _current(row: Row) -> int:
    mapping = row._mapping
    return int(mapping["stored_balance"]) + read_sum(mapping, "pending")


class LedgerRepository:
    def __init__(self, conn: Connection, appender: Appender, known_ids: dict[AccountKey, int],
                 new_ids: dict[AccountKey, int], revenue: AnalyticsRepository) -> None:
        self.conn = conn
        self.appender = appender
        self.revenue = revenue  # an entry about a payment appends its revenue delta
        self._known = known_ids  # shared by the process, only ever holds committed ids
        self._new = new_ids  # ids seen in this transaction, published on commit

    # -- accounts --------------------------------------------------------------------

    def account_ids(self, wanted: dict[AccountKey, AccountSpec],
                    now: datetime) -> dict[AccountKey, int]:
        found = {k: self._known.get(k) or self._new.get(k) for k in wanted}
        missing = [k for k, v in found.items() if v is None]
        if missing:
            found.update(self._select_ids(missing))
            absent = [k for k in missing if found.get(k) is None]
            if absent:
                self.conn.execute(
                    insert_ignore(self.conn, accounts),
                    [_account_row(wanted[k], k[1], now) for k in absent],
                )
                found.update(self._select_ids(absent))
            # Every key has its id by now (found, or inserted and read back): no None left.
            self._new.update({k: found[k] for k in missing})  # type: ignore[misc]
        return found  # type: ignore[return-value]

    def all_account_ids(self, limit: int) -> dict[AccountKey, int]:
        rows = self.conn.execute(
            select(accounts.c.code, accounts.c.currency, accounts.c.id).limit(limit))
        return {(r.code, r.currency): r.id for r in rows}

    def _select_ids(self, keys: list[AccountKey]) -> dict[AccountKey, int]:
        rows = self.conn.execute(
            select(accounts.c.code, accounts.c.currency, accounts.c.id)
            .where(tuple_(accounts.c.code, accounts.c.currency).in_(keys))
        )
        return {(r.code, r.currency): r.id for r in rows}

    def accounts(self, *, code: str | None = None, code_prefix: str | None = None,
                 code_suffix: str | None = None, currency: str | None = None,
                 seller_id: str | None = None, limit: int | None = None,
                 before_id: int | None = None) -> list[Account]:
        query = select(accounts.c.id, accounts.c.code, accounts.c.currency, accounts.c.normal,
                       accounts.c.seller_id, *_current_balance(self.conn))
        if code is not None:
            query = query.where(accounts.c.code == code)
        if code_prefix is not None:
            query = query.where(accounts.c.code.startswith(code_prefix, autoescape=True))
        if code_suffix is not None:
            query = query.where(accounts.c.code.endswith(code_suffix, autoescape=True))
        if currency is not None:
            query = query.where(accounts.c.currency == currency)
        if seller_id is not None:
            query = query.where(accounts.c.seller_id == seller_id)
        if limit is None:
            query = query.order_by(accounts.c.code, accounts.c.currency)
        else:
            if before_id is not None:
                query = query.where(accounts.c.id < before_id)
            query = query.order_by(accounts.c.id.desc()).limit(limit)
        return [{"id": r.id, "code": r.code, "currency": r.currency, "normal": r.normal,
                 "seller_id": r.seller_id, "current_balance": _current(r)}
                for r in self.conn.execute(query)]

    def lock_balances(self, specs: list[AccountSpec], currency: str,
                      now: datetime) -> dict[str, int]:
        """The balances of bounded accounts (kept in place, never in deltas), each locked
        until the transaction ends, in id order as ``post`` updates them: a read that a
        posting in the same transaction may rely on. By account code."""
        assert all(s.non_negative for s in specs), "only bounded balances are exact in place"
        ids = self.account_ids({(s.code, currency): s for s in specs}, now)
        rows = self.conn.execute(
            select(accounts.c.code, accounts.c.balance)
            .where(accounts.c.id.in_(sorted(ids.values())))
            .order_by(accounts.c.id).with_for_update())
        return {r.code: int(r.balance) for r in rows}

    # -- posting ---------------------------------------------------------------------

    def post(self, entry: JournalEntry, now: datetime) -> str:
        """Store a balanced entry; one about a payment must carry the payment's revenue
        tags, and appends its revenue delta with its postings (``domain/analytics.py``)."""
        entry.check_balanced()
        entry.check_about()
        wanted = {(p.account.code, p.currency): p.account for p in entry.postings}
        ids = self.account_ids(wanted, now)
        bounded: dict[int, int] = defaultdict(int)
        unbounded: dict[int, int] = defaultdict(int)
        for p in entry.postings:
            account_id = ids[(p.account.code, p.currency)]
            target = bounded if p.account.non_negative else unbounded
            target[account_id] += p.amount_minor * p.account.sign
        for account_id in sorted(bounded):
            self._change_bounded(account_id, bounded[account_id])

        entry_id = new_id("je")
        self.appender.add(journal_entries, {
            "id": entry_id, "kind": entry.kind, "description": entry.description,
            "payment_id": entry.payment_id, "refund_id": entry.refund_id, "created_at": now,
        })
        for p in entry.postings:
            self.appender.add(postings, {
                "entry_id": entry_id, "account_id": ids[(p.account.code, p.currency)],
                "currency": p.currency, "amount": p.amount_minor,
            })
        for account_id, delta in unbounded.items():
            if delta:
                self.appender.add(balance_deltas, {"account_id": account_id, "amount": delta})
        if entry.about is not None:
            self.revenue.append_entry(entry, now)
        return entry_id

    def _change_bounded(self, account_id: int, delta: int) -> None:
        if delta == 0:
            return
        after = accounts.c.balance + delta
        result = self.conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id, after >= 0, after <= MAX_BALANCE_MINOR)
            .values(balance=after)
        )
        if result.rowcount == 0:
            row = self.conn.execute(select(accounts.c.code, accounts.c.balance)
                                    .where(accounts.c.id == account_id)).one()
            if row.balance + delta > MAX_BALANCE_MINOR:
                raise balance_limit_exceeded()
            raise InsufficientFunds(f"{row.code} cannot go below zero", account=row.code)

    # -- reading and checking --------------------------------------------------------

    def trial_balance(self) -> list[CurrencyTotals]:
        """Per currency, every debit and every credit ever posted: sums that grow without
        bound (past 2^63 too), computed exactly."""
        debit = case((postings.c.amount > 0, postings.c.amount), else_=0)
        credit = case((postings.c.amount < 0, -postings.c.amount), else_=0)
        rows = self.conn.execute(
            select(postings.c.currency, *labeled_sum(self.conn, debit, "debits"),
                   *labeled_sum(self.conn, credit, "credits"))
            .group_by(postings.c.currency).order_by(postings.c.currency)
        )
        return [{"currency": r.currency, "debits": read_sum(r._mapping, "debits"),
                 "credits": read_sum(r._mapping, "credits")} for r in rows]

    def unbalanced_entries(self) -> list[UnbalancedEntry]:
        # One entry's postings are few, each within the limits, so their plain SUM fits.
        rows = self.conn.execute(
            select(postings.c.entry_id, postings.c.currency,
                   func.sum(postings.c.amount).label("sum"))
            .group_by(postings.c.entry_id, postings.c.currency)
            .having(func.sum(postings.c.amount) != 0)
        )
        return [{"entry_id": r.entry_id, "currency": r.currency, "sum": int(r.sum)} for r in rows]

    def balance_differences(self) -> list[BalanceDifference]:
        """Every account whose running balance differs from the sum of its postings."""
        posted = (
            select(postings.c.account_id, *labeled_sum(self.conn, postings.c.amount, "posted"))
            .group_by(postings.c.account_id).subquery()
        )
        posted_parts = [c for c in posted.c if c.name.startswith("posted_")]
        rows = self.conn.execute(
            select(accounts.c.id, accounts.c.code, accounts.c.currency, accounts.c.normal,
                   *_current_balance(self.conn), *posted_parts)
            .outerjoin(posted, posted.c.account_id == accounts.c.id)
            .order_by(accounts.c.code, accounts.c.currency)
        )
        differences: list[BalanceDifference] = []
        for r in rows:
            expected = read_sum(r._mapping, "posted") * spec_for(r.code).sign
            current = _current(r)
            if current != expected:
                differences.append({"account_id": r.id, "code": r.code, "currency": r.currency,
                                    "stored": current, "expected": expected})
        return differences

    def fold(self) -> int:
        """Fold appended deltas into the stored balances; returns how many were folded."""
        rows = self.conn.execute(
            delete(balance_deltas).returning(balance_deltas.c.account_id, balance_deltas.c.amount)
        ).all()
        sums: dict[int, int] = defaultdict(int)
        for r in rows:
            sums[r.account_id] += r.amount
        for account_id in sorted(sums):  # fits: no balance gets near 2^63 (see above)
            self.conn.execute(update(accounts).where(accounts.c.id == account_id)
                              .values(balance=accounts.c.balance + sums[account_id]))
        return len(rows)

    def rebuild(self) -> list[BalanceDifference]:
        """Recompute every stored balance from postings; returns what was corrected."""
        if is_postgres(self.conn):
            # Hold off new postings while balances are rewritten.
            self.conn.execute(
                text("LOCK TABLE postings, balance_deltas IN SHARE ROW EXCLUSIVE MODE")
            )
        self.fold()
        corrections = self.balance_differences()
        for c in corrections:
            self.conn.execute(update(accounts).where(accounts.c.id == c["account_id"])
                              .values(balance=c["expected"]))
        return corrections

    def paid_out(self, in_transit_code: str) -> dict[str, int]:
        """Per currency, what left a seller's in-transit account in paid payouts."""
        rows = self.conn.execute(
            select(postings.c.currency, *labeled_sum(self.conn, postings.c.amount, "paid"))
            .join(accounts, accounts.c.id == postings.c.account_id)
            .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
            .where(accounts.c.code == in_transit_code, journal_entries.c.kind == "payout.paid")
            .group_by(postings.c.currency)
        )
        return {r.currency: read_sum(r._mapping, "paid") for r in rows}

    def entries(self, *, limit: int, before_id: str | None = None,
                payment_id: str | None = None) -> list[JournalEntryRow]:
        query = select(journal_entries)
        if before_id:
            query = query.where(journal_entries.c.id < before_id)
        if payment_id:
            query = query.where(journal_entries.c.payment_id == payment_id)
        # Each row gets its "postings" below.
        found = [cast(JournalEntryRow, dict(r._mapping)) for r in
                 self.conn.execute(query.order_by(journal_entries.c.id.desc()).limit(limit))]
        if not found:
            return found
        by_entry: dict[str, list[PostingLine]] = defaultdict(list)
        rows = self.conn.execute(
            select(postings.c.entry_id, accounts.c.code, postings.c.currency, postings.c.amount)
            .join(accounts, accounts.c.id == postings.c.account_id)
            .where(postings.c.entry_id.in_([e["id"] for e in found]))
            .order_by(postings.c.id)
        )
        for r in rows:
            by_entry[r.entry_id].append({"account": r.code, "currency": r.currency,
                                         "amount": int(r.amount)})
        for e in found:
            e["postings"] = by_entry[e["id"]]
        return found


def _account_row(spec: AccountSpec, currency: str, now: datetime) -> dict:
    return {"code": spec.code, "currency": currency, "normal": str(spec.normal),
            "non_negative": spec.non_negative, "balance": 0, "seller_id": spec.seller_id,
            "created_at": now}
