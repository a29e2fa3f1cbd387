"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 19:24:04.224994
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import paytrack.adapters.storage.tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


# On PostgreSQL the database itself refuses a journal entry whose postings do not sum to
# zero per currency: a constraint trigger on the entry, deferred to commit when all its
# postings are in (once per entry, not once per posting). So that an entry cannot be
# unbalanced later, postings may only be added in the transaction that created their
# entry (a statement-level check on postings).
BALANCED_ENTRY_FUNCTION = """
CREATE FUNCTION paytrack_check_entry_balanced() RETURNS trigger AS $$
DECLARE
    bad RECORD;
BEGIN
    SELECT currency, SUM(amount) AS total INTO bad
      FROM postings WHERE entry_id = NEW.id
     GROUP BY currency HAVING SUM(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance in %: off by %',
            NEW.id, bad.currency, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM postings WHERE entry_id = NEW.id) THEN
        RAISE EXCEPTION 'journal entry % has no postings', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
BALANCED_ENTRY_TRIGGER = """
CREATE CONSTRAINT TRIGGER journal_entries_balanced
    AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION paytrack_check_entry_balanced()
"""
POSTINGS_WITH_ENTRY_FUNCTION = """
CREATE FUNCTION paytrack_postings_with_their_entry() RETURNS trigger AS $$
DECLARE
    late RECORD;
BEGIN
    SELECT p.entry_id INTO late
      FROM new_postings p JOIN journal_entries e ON e.id = p.entry_id
     WHERE e.xmin <> pg_current_xact_id()::xid LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % is closed: post a new entry instead', late.entry_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
POSTINGS_WITH_ENTRY_TRIGGER = """
CREATE TRIGGER postings_with_their_entry
    AFTER INSERT ON postings REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION paytrack_postings_with_their_entry()
"""
APPEND_ONLY = ("postings", "journal_entries", "audit_log", "status_events")
APPEND_ONLY_FUNCTION = """
CREATE FUNCTION paytrack_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: post a correcting entry instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("normal", sa.String(length=6), nullable=False),
        sa.Column("non_negative", sa.Boolean(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("seller_id", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.CheckConstraint("normal IN ('debit', 'credit')", name=op.f("ck_accounts_normal_known")),
        sa.CheckConstraint(
            "NOT non_negative OR balance >= 0",
            name=op.f("ck_accounts_bounded_balance_non_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("code", "currency", name=op.f("uq_accounts_code_currency")),
        sa.UniqueConstraint("id", "currency", name=op.f("uq_accounts_id_currency")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_seller_id"), ["seller_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "created_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.String(length=100), nullable=False),
        sa.Column(
            "before",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "after",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_log_object_type_object_id"),
            ["object_type", "object_id"],
            unique=False,
        )

    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_keys_scope_key")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_keys_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "journal_entries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.Column(
            "created_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journal_entries_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_journal_entries_payment_id"), ["payment_id"], unique=False
        )

    op.create_table(
        "sellers",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("commission_rate", sa.String(length=10), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sellers")),
    )
    op.create_table(
        "status_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_events")),
    )
    with op.batch_alter_table("status_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_events_object_type_object_id_id"),
            ["object_type", "object_id", "id"],
            unique=False,
        )

    op.create_table(
        "balance_deltas",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_balance_deltas_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_deltas")),
    )
    with op.batch_alter_table("balance_deltas", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_balance_deltas_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "items",
        sa.Column("item_type", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("seller_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_items_seller_id_sellers")
        ),
        sa.PrimaryKeyConstraint("item_type", "id", name=op.f("pk_items")),
    )
    op.create_table(
        "postings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entry_id", sa.String(length=40), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_postings_amount_non_zero")),
        sa.ForeignKeyConstraint(
            ["account_id", "currency"],
            ["accounts.id", "accounts.currency"],
            name=op.f("fk_postings_account_id_currency_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_postings_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postings_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_postings_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("seller_id", sa.String(length=100), nullable=False),
        sa.Column("item_type", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("shipping", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("previous_status", sa.String(length=20), nullable=True),
        sa.Column("coupon_code", sa.String(length=64), nullable=True),
        sa.Column("commission_rate", sa.String(length=10), nullable=False),
        sa.Column("commission_base", sa.String(length=8), nullable=False),
        sa.Column("platform_fee", sa.BigInteger(), nullable=False),
        sa.Column("seller_amount", sa.BigInteger(), nullable=False),
        sa.Column("tax_collected", sa.BigInteger(), nullable=False),
        sa.Column("shipping_collected", sa.BigInteger(), nullable=False),
        sa.Column("gateway_fee", sa.BigInteger(), nullable=False),
        sa.Column("gateway_fee_bearer", sa.String(length=10), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("gateway_payment_id", sa.String(length=200), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "billing_details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column(
            "provider_response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("reconciled", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "processing_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "succeeded_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "failed_at", paytrack.adapters.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "canceled_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "refunded_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'succeeded', 'failed', 'canceled', 'partially_refunded', 'refunded', 'disputed', 'charged_back')",
            name=op.f("ck_payments_status_known"),
        ),
        sa.CheckConstraint(
            "discount <= subtotal", name=op.f("ck_payments_discount_within_subtotal")
        ),
        sa.CheckConstraint(
            "discount >= 0 AND tax >= 0 AND shipping >= 0",
            name=op.f("ck_payments_parts_non_negative"),
        ),
        sa.CheckConstraint("gateway_fee >= 0", name=op.f("ck_payments_gateway_fee_non_negative")),
        sa.CheckConstraint(
            "platform_fee >= 0 AND seller_amount >= 0 AND tax_collected >= 0 AND shipping_collected >= 0",
            name=op.f("ck_payments_split_non_negative"),
        ),
        sa.CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= total",
            name=op.f("ck_payments_refunded_within_total"),
        ),
        sa.CheckConstraint(
            "seller_amount + platform_fee + tax_collected + shipping_collected = total",
            name=op.f("ck_payments_split_is_total"),
        ),
        sa.CheckConstraint("subtotal > 0", name=op.f("ck_payments_subtotal_positive")),
        sa.CheckConstraint(
            "total = subtotal - discount + tax + shipping",
            name=op.f("ck_payments_total_is_breakdown"),
        ),
        sa.CheckConstraint("total > 0", name=op.f("ck_payments_total_positive")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_payments_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["item_type", "item_id"],
            ["items.item_type", "items.id"],
            name=op.f("fk_payments_item_type_item_id_items"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_payments_seller_id_sellers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "gateway", "gateway_payment_id", name=op.f("uq_payments_gateway_gateway_payment_id")
        ),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payments_customer_id_id"), ["customer_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payments_item_type_item_id"), ["item_type", "item_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payments_seller_id_id"), ["seller_id", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payments_status_id"), ["status", "id"], unique=False)

    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("previous_status", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("seller_part", sa.BigInteger(), nullable=True),
        sa.Column("platform_part", sa.BigInteger(), nullable=True),
        sa.Column("tax_part", sa.BigInteger(), nullable=True),
        sa.Column("shipping_part", sa.BigInteger(), nullable=True),
        sa.Column("gateway_refund_id", sa.String(length=200), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "approved_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "rejected_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "succeeded_at",
            paytrack.adapters.storage.tables.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "failed_at", paytrack.adapters.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.CheckConstraint(
            "status <> 'succeeded' OR (seller_part + platform_part + tax_part + shipping_part = amount)",
            name=op.f("ck_refunds_parts_are_amount"),
        ),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'rejected', 'succeeded', 'failed')",
            name=op.f("ck_refunds_status_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint(
            "payment_id", "gateway_refund_id", name=op.f("uq_refunds_payment_id_gateway_refund_id")
        ),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refunds_payment_id_id"), ["payment_id", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_refunds_status_id"), ["status", "id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for statement in (BALANCED_ENTRY_FUNCTION, BALANCED_ENTRY_TRIGGER,
                          POSTINGS_WITH_ENTRY_FUNCTION, POSTINGS_WITH_ENTRY_TRIGGER):
            op.execute(statement)
        op.execute(APPEND_ONLY_FUNCTION)
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION paytrack_refuse_change()"
            )
    else:
        for table in APPEND_ONLY:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP TRIGGER postings_with_their_entry ON postings")
        op.execute("DROP TRIGGER journal_entries_balanced ON journal_entries")
        op.execute("DROP FUNCTION paytrack_postings_with_their_entry()")
        op.execute("DROP FUNCTION paytrack_check_entry_balanced()")
        op.execute("DROP FUNCTION paytrack_refuse_change()")
    else:
        for table in APPEND_ONLY:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_no_{event}")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_status_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_payment_id_id"))

    op.drop_table("refunds")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_status_id"))
        batch_op.drop_index(batch_op.f("ix_payments_seller_id_id"))
        batch_op.drop_index(batch_op.f("ix_payments_item_type_item_id"))
        batch_op.drop_index(batch_op.f("ix_payments_customer_id_id"))
        batch_op.drop_index(batch_op.f("ix_payments_created_at"))

    op.drop_table("payments")
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postings_entry_id"))
        batch_op.drop_index(batch_op.f("ix_postings_account_id"))

    op.drop_table("postings")
    op.drop_table("items")
    with op.batch_alter_table("balance_deltas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_balance_deltas_account_id"))

    op.drop_table("balance_deltas")
    with op.batch_alter_table("status_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_events_object_type_object_id_id"))

    op.drop_table("status_events")
    op.drop_table("sellers")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entries_payment_id"))
        batch_op.drop_index(batch_op.f("ix_journal_entries_created_at"))

    op.drop_table("journal_entries")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_created_at"))

    op.drop_table("idempotency_keys")
    op.drop_table("customers")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_object_type_object_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_created_at"))

    op.drop_table("audit_log")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_seller_id"))

    op.drop_table("accounts")
