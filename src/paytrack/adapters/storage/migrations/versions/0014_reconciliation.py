"""reconciliation: imported settlement reports and their classified lines; who marked a
payment reconciled, and when

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import paytrack.adapters.storage.tables

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Written out: a migration keeps meaning what it meant when it was written.
KINDS = ("charge", "refund", "other")
CLASSES = ("matched", "amount_mismatch", "fee_mismatch", "missing_in_paytrack", "duplicate",
           "missing_in_report", "ignored")
EXCEPTION_STATUSES = ("open", "resolved")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    utc = paytrack.adapters.storage.tables.UTCDateTime(timezone=True)

    op.add_column("payments", sa.Column("reconciled_at", utc, nullable=True))
    op.add_column("payments", sa.Column("reconciled_by", sa.String(length=120), nullable=True))
    op.create_index(op.f("ix_payments_reconciled_id"), "payments", ["reconciled", "id"])

    op.create_table(
        "reconciliation_imports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("period_start", utc, nullable=True),
        sa.Column("period_end", utc, nullable=True),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_imports")),
        sa.UniqueConstraint("gateway", "sha256",
                            name=op.f("uq_reconciliation_imports_gateway_sha256")),
    )
    op.create_index(op.f("ix_reconciliation_imports_gateway_id"), "reconciliation_imports",
                    ["gateway", "id"])

    op.create_table(
        "reconciliation_lines",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("import_id", sa.String(length=40), nullable=False),
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("match_class", sa.String(length=20), nullable=False),
        sa.Column("gateway_ref", sa.String(length=200), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("report_amount", sa.BigInteger(), nullable=True),
        sa.Column("report_fee", sa.BigInteger(), nullable=True),
        sa.Column("paytrack_amount", sa.BigInteger(), nullable=True),
        sa.Column("paytrack_fee", sa.BigInteger(), nullable=True),
        sa.Column("fee_posted", sa.BigInteger(), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.Column("occurred_at", utc, nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("exception_status", sa.String(length=10), nullable=True),
        sa.Column("resolved_at", utc, nullable=True),
        sa.Column("resolved_by", sa.String(length=120), nullable=True),
        sa.Column("resolution_note", sa.String(length=500), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_reconciliation_lines_kind_known")),
        sa.CheckConstraint(_in("match_class", CLASSES),
                           name=op.f("ck_reconciliation_lines_match_class_known")),
        sa.CheckConstraint(
            f"exception_status IS NULL OR {_in('exception_status', EXCEPTION_STATUSES)}",
            name=op.f("ck_reconciliation_lines_exception_status_known")),
        sa.CheckConstraint("(exception_status = 'resolved') = (resolved_at IS NOT NULL)",
                           name=op.f("ck_reconciliation_lines_resolved_is_dated")),
        sa.ForeignKeyConstraint(["import_id"], ["reconciliation_imports.id"],
                                name=op.f("fk_reconciliation_lines_import_id_reconciliation_imports")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"],
                                name=op.f("fk_reconciliation_lines_payment_id_payments")),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"],
                                name=op.f("fk_reconciliation_lines_refund_id_refunds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_lines")),
    )
    op.create_index(op.f("ix_reconciliation_lines_import_id_id"), "reconciliation_lines",
                    ["import_id", "id"])
    op.create_index(op.f("ix_reconciliation_lines_exception_status_id"), "reconciliation_lines",
                    ["exception_status", "id"])
    op.create_index(op.f("ix_reconciliation_lines_payment_id"), "reconciliation_lines",
                    ["payment_id"])


def downgrade() -> None:
    raise NotImplementedError("paytrack migrations go forward only")
