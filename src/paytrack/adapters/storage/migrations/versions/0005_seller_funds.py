"""seller funds: holds, releases, debt, platform-funded discounts, disputed amounts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 04:30:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import paytrack.adapters.storage.tables
from paytrack.domain.ids import new_id

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sellers") as batch_op:
        batch_op.add_column(sa.Column("hold_days", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f("ck_sellers_hold_days_range"),
                                         "hold_days >= 0 AND hold_days <= 3650")
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("disputed_amount", sa.BigInteger(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("platform_discount", sa.BigInteger(),
                                      server_default="0", nullable=False))
        batch_op.drop_constraint(op.f("ck_payments_split_is_total"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_payments_split_is_total"),
            "seller_amount + platform_fee + tax_collected + shipping_collected "
            "= total + platform_discount")
        batch_op.create_check_constraint(
            op.f("ck_payments_platform_discount_within_discount"),
            "platform_discount >= 0 AND platform_discount <= discount")
        batch_op.create_check_constraint(
            op.f("ck_payments_disputed_within_total"),
            "disputed_amount >= 0 AND "
            "refunded_amount + refund_reserved_amount + disputed_amount <= total")
    with op.batch_alter_table("refunds") as batch_op:
        batch_op.add_column(sa.Column("discount_part", sa.BigInteger(), nullable=True))
        batch_op.drop_constraint(op.f("ck_refunds_parts_are_amount"), type_="check")
        batch_op.drop_constraint(op.f("ck_refunds_parts_non_negative"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_refunds_parts_are_amount"),
            "status <> 'succeeded' OR "
            "(seller_part + platform_part + tax_part + shipping_part = amount + discount_part)")
        batch_op.create_check_constraint(
            op.f("ck_refunds_parts_non_negative"),
            "seller_part >= 0 AND platform_part >= 0 AND tax_part >= 0 AND shipping_part >= 0 "
            "AND discount_part >= 0")
    op.execute("UPDATE refunds SET discount_part = 0 WHERE status = 'succeeded'")
    _seller_earnings()
    _pending_held_by_earnings()


def _seller_earnings() -> None:
    utc = paytrack.adapters.storage.tables.UTCDateTime(timezone=True)
    op.create_table(
        "seller_earnings",
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gross", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("pending", sa.BigInteger(), nullable=False),
        sa.Column("released", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("refunded", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("captured_at", utc, nullable=False),
        sa.Column("captured_s", sa.BigInteger(), nullable=False),
        sa.Column("released_at", utc, nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.CheckConstraint("net >= 0 AND pending >= 0 AND released >= 0 AND refunded >= 0",
                           name=op.f("ck_seller_earnings_amounts_non_negative")),
        sa.CheckConstraint("released_at IS NULL OR pending = 0",
                           name=op.f("ck_seller_earnings_released_holds_nothing")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"],
                                name=op.f("fk_seller_earnings_payment_id_payments")),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.id"],
                                name=op.f("fk_seller_earnings_seller_id_sellers")),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_seller_earnings")),
    )
    op.create_index(op.f("ix_seller_earnings_seller_id_payment_id"), "seller_earnings",
                    ["seller_id", "payment_id"])
    op.create_index("ix_seller_earnings_held", "seller_earnings", ["captured_s"],
                    sqlite_where=sa.text("released_at IS NULL"),
                    postgresql_where=sa.text("released_at IS NULL"))
    # Earnings captured before this revision: each payment's seller_amount less refunds and
    # any seller-borne gateway fee is what its capture left in pending; its hold runs from
    # its capture, so the next release makes the older ones available.
    fee = "CASE WHEN p.gateway_fee_bearer = 'seller' THEN p.gateway_fee ELSE 0 END"
    refunded = ("COALESCE((SELECT sum(r.seller_part) FROM refunds r "
                "WHERE r.payment_id = p.id AND r.status = 'succeeded'), 0)")
    net = f"(p.seller_amount - {fee})"
    epoch = ("CAST(EXTRACT(EPOCH FROM p.succeeded_at) AS BIGINT)"
             if op.get_bind().dialect.name == "postgresql"
             else "CAST(strftime('%s', p.succeeded_at) AS INTEGER)")
    op.execute(
        "INSERT INTO seller_earnings (payment_id, seller_id, currency, gross, commission, net, "
        "pending, released, refunded, captured_at, captured_s, released_at, created_at) "
        f"SELECT p.id, p.seller_id, p.currency, p.total, p.platform_fee, {net}, "
        f"CASE WHEN {net} > {refunded} THEN {net} - {refunded} ELSE 0 END, 0, {refunded}, "
        f"p.succeeded_at, {epoch}, NULL, p.succeeded_at "
        "FROM payments p WHERE p.succeeded_at IS NOT NULL "
        "AND p.status IN ('succeeded', 'partially_refunded', 'refunded') "
        f"AND {net} >= 0")


_accounts = sa.table("accounts", sa.column("id"), sa.column("code"), sa.column("currency"),
                     sa.column("normal"), sa.column("non_negative"), sa.column("balance"),
                     sa.column("seller_id"),
                     sa.column("created_at", paytrack.adapters.storage.tables.UTCDateTime()))
_entries = sa.table("journal_entries", sa.column("id"), sa.column("kind"),
                    sa.column("description"), sa.column("payment_id"), sa.column("refund_id"),
                    sa.column("created_at", paytrack.adapters.storage.tables.UTCDateTime()))
_postings = sa.table("postings", sa.column("entry_id"), sa.column("account_id"),
                     sa.column("currency"), sa.column("amount"))


def _pending_held_by_earnings() -> None:
    """From now on a seller's pending balance is what its held earnings add up to (``ledger
    verify`` checks it). Before, a gateway fee the seller bore, or refunds after it, could
    take pending below what the payments left: such a shortfall becomes the seller's debt,
    recovered from its next releases as any other (an excess, which nothing made, would be
    made available). One balanced entry per seller and currency."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT a.id, a.seller_id, a.currency, a.balance + COALESCE((SELECT sum(d.amount) "
        "FROM balance_deltas d WHERE d.account_id = a.id), 0) AS current, "
        "COALESCE((SELECT sum(e.pending) FROM seller_earnings e WHERE e.seller_id = a.seller_id "
        "AND e.currency = a.currency), 0) AS held "
        "FROM accounts a WHERE a.seller_id IS NOT NULL "
        "AND a.code = 'seller:' || a.seller_id || :suffix"), {"suffix": ":pending"}).all()
    now = datetime.now(UTC)
    for row in rows:
        change = int(row.held) - int(row.current)  # to credit to pending
        if change == 0:
            continue
        other_code, normal = ((f"seller:{row.seller_id}:debt", "debit") if change > 0
                              else (f"seller:{row.seller_id}:available", "credit"))
        other = _account_id(bind, other_code, row.currency, normal, row.seller_id, now)
        entry_id = new_id("je")
        bind.execute(sa.insert(_entries).values(
            id=entry_id, kind="seller.migrated", created_at=now,
            description=f"pending of seller {row.seller_id} set to its held earnings"))
        # pending is credit-normal: crediting it is a negative posting; the other side
        # (debt, debit-normal; or available, credit-normal) balances it.
        bind.execute(sa.insert(_postings), [
            {"entry_id": entry_id, "account_id": row.id, "currency": row.currency,
             "amount": -change},
            {"entry_id": entry_id, "account_id": other, "currency": row.currency,
             "amount": change}])
        bind.execute(sa.update(_accounts).where(_accounts.c.id == row.id)
                     .values(balance=_accounts.c.balance + change))
        bind.execute(sa.update(_accounts).where(_accounts.c.id == other)
                     .values(balance=_accounts.c.balance + abs(change)))


def _account_id(bind: sa.Connection, code: str, currency: str, normal: str, seller_id: str,
                now: datetime) -> int:
    found = bind.execute(sa.select(_accounts.c.id).where(
        _accounts.c.code == code, _accounts.c.currency == currency)).scalar()
    if found is None:
        bind.execute(sa.insert(_accounts).values(
            code=code, currency=currency, normal=normal, non_negative=True, balance=0,
            seller_id=seller_id, created_at=now))
        found = bind.execute(sa.select(_accounts.c.id).where(
            _accounts.c.code == code, _accounts.c.currency == currency)).scalar()
    assert found is not None, "inserted above"
    return int(found)

def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
