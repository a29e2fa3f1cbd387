"""refund requests reserve what they ask, and can be canceled

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import paytrack.adapters.storage.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Refunds that hold a reservation on their payment (domain/states.py OPEN_REFUND_STATES),
# written out: a migration keeps meaning what it meant when it was written.
OPEN = ("requested", "approved")
REFUND_STATUSES = ("requested", "approved", "rejected", "succeeded", "failed", "canceled")
SHOWN = 10


def upgrade() -> None:
    _refuse_over_reserved_payments()
    _payments_reserve_open_refunds()
    _refunds_can_be_canceled()


# -- open requests reserve their amount ------------------------------------------------


def _refuse_over_reserved_payments() -> None:
    """Stop, changing nothing, if any payment's open requests plus its refunded money
    exceed its total: which of them to grant is a person's decision, not a migration's.

    Before this revision a customer could open any number of full-refund requests on one
    payment, and only approval checked the total. Counting every open request would break
    the new CHECK; keeping some and closing the others here would turn down customers'
    requests without anyone deciding it. So the upgrade lists the requests that do not fit
    (oldest requests first, approved ones before them all, are the ones that fit) and an
    admin rejects or approves them with the version still running, then migrates again."""
    rows = op.get_bind().execute(sa.text(
        "SELECT r.id, r.payment_id, r.amount, p.total, p.refunded_amount, p.currency "
        "FROM refunds r JOIN payments p ON p.id = r.payment_id "
        f"WHERE r.status IN {OPEN} "
        "ORDER BY r.payment_id, CASE WHEN r.status = 'approved' THEN 0 ELSE 1 END, r.id"
    )).all()
    held: dict[str, int] = {}
    over = []
    for row in rows:
        before = held.get(row.payment_id, row.refunded_amount)
        held[row.payment_id] = before + row.amount
        if before + row.amount > row.total:
            over.append(row)
    if over:
        listed = "; ".join(
            f"{r.id} asks {r.amount} of {r.payment_id} ({r.currency} total {r.total}, "
            f"refunded {r.refunded_amount})" for r in over[:SHOWN])
        more = f" and {len(over) - SHOWN} more" if len(over) > SHOWN else ""
        raise RuntimeError(
            f"{len(over)} open refund requests ask for more than their payment has left once "
            "the requests before them are counted (amounts in minor units): "
            f"{listed}{more}. From now on each open request reserves its amount and the "
            "database refuses more than a payment's total. Reject them (POST "
            "/v1/refunds/{id}/reject) or decide the requests before them, then migrate "
            "again.")


def _payments_reserve_open_refunds() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("refund_reserved_amount", sa.BigInteger(),
                                      server_default="0", nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_payments_refund_reserved_within_total"),
            "refund_reserved_amount >= 0 AND refunded_amount + refund_reserved_amount <= total")
    op.execute(
        "UPDATE payments SET refund_reserved_amount = (SELECT sum(r.amount) FROM refunds r "
        f"WHERE r.payment_id = payments.id AND r.status IN {OPEN}) "
        f"WHERE id IN (SELECT payment_id FROM refunds WHERE status IN {OPEN})")


# -- a request can be withdrawn --------------------------------------------------------


def _refunds_can_be_canceled() -> None:
    with op.batch_alter_table("refunds") as batch_op:
        batch_op.add_column(sa.Column("cancellation_reason", sa.String(length=500),
                                      nullable=True))
        batch_op.add_column(sa.Column(
            "canceled_at", paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=True))
        batch_op.drop_constraint(op.f("ck_refunds_status_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_refunds_status_known"),
            f"status IN ({', '.join(repr(s) for s in REFUND_STATUSES)})")


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
