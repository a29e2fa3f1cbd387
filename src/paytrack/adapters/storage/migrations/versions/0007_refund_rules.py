"""refund rules: automatic decisions recorded on the refund

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import paytrack.adapters.storage.tables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _refunds_record_their_decision_rule()
    _refund_policy_table()


def _refunds_record_their_decision_rule() -> None:
    """Every refund names the rule that made its latest decision. Before rules, only an
    admin decided: an undecided (or withdrawn) request was waiting for manual review."""
    with op.batch_alter_table("refunds") as batch_op:
        batch_op.add_column(sa.Column("decision_rule", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("decision_detail", sa.String(length=500),
                                      nullable=True))
    op.execute("UPDATE refunds SET decision_rule = CASE WHEN status IN ('requested', "
               "'canceled') THEN 'manual_review' ELSE 'admin' END")
    with op.batch_alter_table("refunds") as batch_op:
        batch_op.alter_column("decision_rule", existing_type=sa.String(length=40),
                              nullable=False)


def _refund_policy_table() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "refund_policy",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("policy", json, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
                  nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_refund_policy_one_row")),
        sa.CheckConstraint("version > 0", name=op.f("ck_refund_policy_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_policy")),
    )


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
