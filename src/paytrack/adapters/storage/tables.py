"""The schema. The database guards the invariants itself: CHECK constraints on amounts and
statuses, unique keys for dedupe and idempotency, and (on PostgreSQL) a deferred trigger
that refuses an unbalanced journal entry (see the first migration).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from paytrack.domain.analytics import MEASURES
from paytrack.domain.coupons import CouponKind, FundedBy, RedemptionStatus
from paytrack.domain.disputes import DisputeReason
from paytrack.domain.events import DeliveryStatus
from paytrack.domain.orders import OrderStatus
from paytrack.domain.payouts import PayoutMethod
from paytrack.domain.reconciliation import ExceptionStatus, LineKind, MatchClass
from paytrack.domain.states import (
    CAPTURED_STATES,
    DisputeStatus,
    PaymentStatus,
    PayoutStatus,
    RefundStatus,
)
from paytrack.domain.subscriptions import MAX_PERIOD_MONTHS, SubscriptionStatus

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None:
            assert value.tzinfo is not None, "store aware datetimes"
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


Json = JSON().with_variant(JSONB(), "postgresql")
# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit keys.
SerialKey = BigInteger().with_variant(Integer(), "sqlite")
Money = BigInteger  # integer minor units, never a float or a DECIMAL column
Id = String(40)  # our prefixed ids
ExternalId = String(100)  # the platform's own ids for parties and items


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


def _submission() -> list[Column]:
    """What a refund or payout carried out at a gateway keeps of its sending."""
    return [
        Column("next_submit_at", UTCDateTime),
        Column("submitted_at", UTCDateTime),
        Column("submit_attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", String(500)),
    ]


def _timestamps() -> list[Column]:
    return [
        Column("created_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
    ]


customers = Table(
    "customers",
    metadata,
    Column("id", ExternalId, primary_key=True),
    Column("name", String(200)),
    Column("email", String(320)),
    Column("metadata", Json, nullable=False, default=dict),
    *_timestamps(),
)

sellers = Table(
    "sellers",
    metadata,
    Column("id", ExternalId, primary_key=True),
    Column("name", String(200)),
    Column("email", String(320)),
    # Decimal string fraction ("0.15"); NULL means the platform default applies.
    Column("commission_rate", String(10)),
    Column("metadata", Json, nullable=False, default=dict),
    *_timestamps(),
    # Days a capture's earnings stay pending before they become available; NULL means the
    # platform's default (``Policy.hold_days``).
    Column("hold_days", Integer),
    CheckConstraint("hold_days >= 0 AND hold_days <= 3650", name="hold_days_range"),
)

items = Table(
    "items",
    metadata,
    Column("item_type", String(40), primary_key=True),
    Column("id", ExternalId, primary_key=True),
    Column("seller_id", ExternalId, ForeignKey("sellers.id"), nullable=False),
    Column("title", String(300)),
    Column("metadata", Json, nullable=False, default=dict),
    *_timestamps(),
    UniqueConstraint("item_type", "id", "seller_id"),  # what a payment's foreign key names
)

orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True),
    Column("customer_id", ExternalId, ForeignKey("customers.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("stream", String(100)),
    Column("referral_code", String(64)),
    Column("coupon_code", String(64)),
    Column("discount_percent", String(8)),
    Column("subtotal", Money, nullable=False),
    Column("discount", Money, nullable=False),
    Column("tax", Money, nullable=False),
    Column("shipping", Money, nullable=False),
    Column("total", Money, nullable=False),
    Column("refunded_amount", Money, nullable=False, server_default="0"),
    Column("status", String(20), nullable=False),
    Column("previous_status", String(20)),
    Column("description", String(500)),
    Column("metadata", Json, nullable=False, default=dict),
    *_timestamps(),
    Column("confirmed_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    Column("refunded_at", UTCDateTime),
    # Set when a lost payment cancelled the order: its other payments are still to be
    # cancelled or refunded (``services.orders.settle_cancelled``); a lease while claimed.
    Column("settle_due_at", UTCDateTime),
    CheckConstraint("subtotal > 0", name="subtotal_positive"),
    CheckConstraint("discount >= 0 AND tax >= 0 AND shipping >= 0", name="parts_non_negative"),
    CheckConstraint("discount <= subtotal", name="discount_within_subtotal"),
    CheckConstraint("total = subtotal - discount + tax + shipping", name="total_is_breakdown"),
    CheckConstraint("refunded_amount >= 0 AND refunded_amount <= total",
                    name="refunded_within_total"),
    CheckConstraint(_in("status", OrderStatus), name="status_known"),
    Index(None, "customer_id", "id"),
    Index(None, "status", "id"),
    Index(None, "stream", "id"),
    Index(None, "created_at"),
    Index(None, "settle_due_at"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", SerialKey, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("item_type", String(40), nullable=False),
    Column("item_id", ExternalId, nullable=False),
    Column("seller_id", ExternalId, ForeignKey("sellers.id"), nullable=False),
    Column("stream", String(100)),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Money, nullable=False),
    Column("amount", Money, nullable=False),
    Column("discount", Money, nullable=False),
    Column("tax", Money, nullable=False),
    Column("shipping", Money, nullable=False),
    Column("payment_id", Id, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("order_id", "line_no"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("unit_price >= 0", name="unit_price_non_negative"),
    CheckConstraint("amount = quantity * unit_price", name="amount_is_quantity_times_price"),
    CheckConstraint("discount >= 0 AND discount <= amount", name="discount_within_amount"),
    CheckConstraint("tax >= 0 AND shipping >= 0", name="parts_non_negative"),
    # The per-stream statistics group by these (item first: a filter by item alone uses
    # it too), a seller's by its own lines.
    Index(None, "item_id", "item_type", "stream"),
    Index(None, "seller_id", "order_id"),
    Index(None, "payment_id"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("customer_id", ExternalId, ForeignKey("customers.id"), nullable=False),
    Column("seller_id", ExternalId, ForeignKey("sellers.id"), nullable=False),
    Column("item_type", String(40), nullable=False),
    Column("item_id", ExternalId, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("fee", Money, nullable=False),
    Column("period_months", Integer, nullable=False),
    Column("gateway", String(20), nullable=False),
    Column("method", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("previous_status", String(20)),
    Column("current_period_start", UTCDateTime),
    Column("current_period_end", UTCDateTime),
    Column("cancel_at_period_end", Boolean, nullable=False, default=False),
    Column("open_payment_id", Id),
    Column("upgrade_item_id", ExternalId),
    Column("upgrade_fee", Money),
    Column("renewals", Integer, nullable=False, server_default="0"),
    Column("description", String(500)),
    Column("metadata", Json, nullable=False, default=dict),
    *_timestamps(),
    Column("activated_at", UTCDateTime),
    Column("canceled_at", UTCDateTime),
    Column("cancel_reason", String(500)),
    Column("ended_at", UTCDateTime),
    CheckConstraint("fee > 0", name="fee_positive"),
    CheckConstraint(f"period_months >= 1 AND period_months <= {MAX_PERIOD_MONTHS}",
                    name="period_months_range"),
    CheckConstraint("upgrade_fee IS NULL OR upgrade_fee > fee", name="upgrade_costs_more"),
    CheckConstraint("(upgrade_item_id IS NULL) = (upgrade_fee IS NULL)",
                    name="upgrade_complete"),
    CheckConstraint("renewals >= 0", name="renewals_non_negative"),
    CheckConstraint(_in("status", SubscriptionStatus), name="status_known"),
    # A subscription that ever ran has its period.
    CheckConstraint("status NOT IN ('active', 'past_due') OR (current_period_start IS NOT "
                    "NULL AND current_period_end > current_period_start)",
                    name="running_has_period"),
    Index(None, "customer_id", "id"),
    Index(None, "seller_id", "id"),
    Index(None, "status", "current_period_end"),
)

OPEN_CHECKOUT = ("status IN ('pending', 'processing') "
                 "AND payment_url_expires_at IS NOT NULL")
TO_SUBMIT = "next_submit_at IS NOT NULL"

payments = Table(
    "payments",
    metadata,
    Column("id", Id, primary_key=True),
    Column("customer_id", ExternalId, ForeignKey("customers.id"), nullable=False),
    Column("seller_id", ExternalId, ForeignKey("sellers.id"), nullable=False),
    Column("item_type", String(40), nullable=False),
    Column("item_id", ExternalId, nullable=False),
    Column("order_id", ExternalId),
    Column("currency", String(3), nullable=False),
    Column("subtotal", Money, nullable=False),
    Column("discount", Money, nullable=False),
    Column("tax", Money, nullable=False),
    Column("shipping", Money, nullable=False),
    Column("total", Money, nullable=False),
    Column("method", String(20), nullable=False),
    Column("gateway", String(20), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("previous_status", String(20)),  # set by every move: history and dispute returns
    Column("coupon_code", String(64)),
    # The coupon that gave the discount, and who bears it (a FundedBy value).
    Column("coupon_id", Id, ForeignKey("coupons.id")),
    Column("discount_funded_by", String(10)),
    Column("commission_rate", String(10), nullable=False),
    Column("commission_base", String(8), nullable=False),
    Column("platform_fee", Money, nullable=False),
    Column("seller_amount", Money, nullable=False),
    Column("tax_collected", Money, nullable=False),
    Column("shipping_collected", Money, nullable=False),
    Column("gateway_fee", Money, nullable=False, default=0),
    Column("gateway_fee_bearer", String(10), nullable=False),
    Column("refunded_amount", Money, nullable=False, default=0),
    # What open refund requests (requested or approved) hold of the total until they are
    # settled: refunded_amount + refund_reserved_amount never exceeds it.
    Column("refund_reserved_amount", Money, nullable=False, server_default="0"),
    # What open and lost disputes hold of the total: refunds and disputes never exceed it.
    Column("disputed_amount", Money, nullable=False, server_default="0"),
    # The part of ``discount`` the platform funds: the split is computed as if the payment
    # were that much larger, and ``platform:discounts`` pays the difference.
    Column("platform_discount", Money, nullable=False, server_default="0"),
    Column("gateway_payment_id", String(200)),
    # The provider's checkout (a Razorpay or PayPal order, a Stripe Checkout Session), and
    # where the customer pays until when.
    Column("gateway_order_id", String(200)),
    Column("payment_url", String(2048)),
    Column("payment_url_expires_at", UTCDateTime),
    Column("gateway_mode", String(4)),  # test or live: the configuration it was taken with
    # What it pays for, when paytrack made it: an order (one payment per seller) or a
    # subscription's period, renewal or upgrade.
    Column("order_ref", Id),
    Column("subscription_id", Id),
    Column("description", String(500)),
    Column("metadata", Json, nullable=False, default=dict),
    Column("billing_details", Json),
    Column("ip_address", String(45)),
    Column("provider_response", Json),
    Column("failure_reason", String(500)),
    Column("reconciled", Boolean, nullable=False, default=False),
    # Who marked it reconciled (by hand, or an import whose line matched it), and when.
    Column("reconciled_at", UTCDateTime),
    Column("reconciled_by", String(120)),
    *_timestamps(),
    Column("processing_at", UTCDateTime),
    Column("succeeded_at", UTCDateTime),
    Column("failed_at", UTCDateTime),
    Column("canceled_at", UTCDateTime),
    Column("refunded_at", UTCDateTime),
    # A payment is its item's seller's: no race can credit another, and an item with
    # payments cannot move to another seller (the update is refused).
    ForeignKeyConstraint(["item_type", "item_id", "seller_id"],
                         ["items.item_type", "items.id", "items.seller_id"]),
    CheckConstraint("subtotal > 0", name="subtotal_positive"),
    CheckConstraint("discount >= 0 AND tax >= 0 AND shipping >= 0", name="parts_non_negative"),
    CheckConstraint("discount <= subtotal", name="discount_within_subtotal"),
    CheckConstraint("total = subtotal - discount + tax + shipping", name="total_is_breakdown"),
    CheckConstraint("total > 0", name="total_positive"),
    CheckConstraint(
        "platform_fee >= 0 AND seller_amount >= 0 AND tax_collected >= 0 "
        "AND shipping_collected >= 0",
        name="split_non_negative",
    ),
    CheckConstraint(
        "seller_amount + platform_fee + tax_collected + shipping_collected "
        "= total + platform_discount",
        name="split_is_total",
    ),
    CheckConstraint("platform_discount >= 0 AND platform_discount <= discount",
                    name="platform_discount_within_discount"),
    CheckConstraint("gateway_fee >= 0", name="gateway_fee_non_negative"),
    CheckConstraint(
        "refunded_amount >= 0 AND refunded_amount <= total", name="refunded_within_total"
    ),
    CheckConstraint(
        "refund_reserved_amount >= 0 AND refunded_amount + refund_reserved_amount <= total",
        name="refund_reserved_within_total",
    ),
    CheckConstraint(
        "disputed_amount >= 0 AND "
        "refunded_amount + refund_reserved_amount + disputed_amount <= total",
        name="disputed_within_total",
    ),
    CheckConstraint(_in("status", PaymentStatus), name="status_known"),
    CheckConstraint(
        "(coupon_id IS NULL AND discount_funded_by IS NULL) OR "
        "(coupon_id IS NOT NULL AND discount_funded_by IN ('platform', 'seller'))",
        name="coupon_funded",
    ),
    UniqueConstraint("gateway", "gateway_payment_id"),
    Index("uq_payments_gateway_gateway_order_id", "gateway", "gateway_order_id", unique=True),
    Index(None, "gateway_payment_id"),
    Index(None, "gateway_order_id"),
    # Open checkouts by expiry: the background job cancels what was not paid in time.
    Index("ix_payments_open_checkout_expiry", "payment_url_expires_at",
          postgresql_where=text(OPEN_CHECKOUT), sqlite_where=text(OPEN_CHECKOUT)),
    Index(None, "seller_id", "id"),
    Index(None, "customer_id", "id"),
    Index(None, "status", "id"),
    Index(None, "item_type", "item_id"),
    Index(None, "created_at"),
    Index(None, "order_ref"),
    Index(None, "subscription_id", "id"),
    Index(None, "reconciled", "id"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", Id, primary_key=True),
    Column("payment_id", Id, ForeignKey("payments.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", Money, nullable=False),
    Column("status", String(20), nullable=False),
    Column("previous_status", String(20)),
    Column("reason", String(500), nullable=False),
    Column("requested_by", String(120), nullable=False),
    Column("decided_by", String(120)),
    Column("rejection_reason", String(500)),
    Column("failure_reason", String(500)),
    Column("cancellation_reason", String(500)),
    # Filled when the refund succeeds: how much came back from each leg of the split.
    Column("seller_part", Money),
    Column("platform_part", Money),
    Column("tax_part", Money),
    Column("shipping_part", Money),
    # What ``platform:discounts`` gets back: a platform-funded discount returns with the
    # refund in proportion (0 otherwise), so the parts sum to amount + discount_part.
    Column("discount_part", Money),
    Column("gateway_refund_id", String(200)),
    Column("metadata", Json, nullable=False, default=dict),
    *_timestamps(),
    Column("approved_at", UTCDateTime),
    Column("rejected_at", UTCDateTime),
    Column("succeeded_at", UTCDateTime),
    Column("failed_at", UTCDateTime),
    Column("canceled_at", UTCDateTime),
    # The refund rule that made its latest decision (domain/refund_rules.py Rule), and why.
    Column("decision_rule", String(40), nullable=False),
    Column("decision_detail", String(500)),
    # Carried out at a gateway: due to be sent (next_submit_at), sent (submitted_at; the
    # provider's answer or webhook settles it), with the attempts and the last error.
    *_submission(),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint(_in("status", RefundStatus), name="status_known"),
    CheckConstraint(
        "status <> 'succeeded' OR "
        "(seller_part + platform_part + tax_part + shipping_part = amount + discount_part)",
        name="parts_are_amount",
    ),
    CheckConstraint(  # a refund takes every leg back, never forward (NULL until succeeded)
        "seller_part >= 0 AND platform_part >= 0 AND tax_part >= 0 AND shipping_part >= 0 "
        "AND discount_part >= 0",
        name="parts_non_negative",
    ),
    UniqueConstraint("payment_id", "gateway_refund_id"),
    Index(None, "gateway_refund_id"),
    Index("ix_refunds_to_submit", "next_submit_at",
          postgresql_where=text(TO_SUBMIT), sqlite_where=text(TO_SUBMIT)),
    Index(None, "payment_id", "id"),
    Index(None, "status", "id"),
)

status_events = Table(
    "status_events",
    metadata,
    Column("id", SerialKey, primary_key=True, autoincrement=True),
    Column("object_type", String(20), nullable=False),
    Column("object_id", Id, nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("reason", String(500)),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "object_type", "object_id", "id"),
    implicit_returning=False,
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", SerialKey, primary_key=True, autoincrement=True),
    Column("code", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("normal", String(6), nullable=False),
    Column("non_negative", Boolean, nullable=False),
    # The running balance in the normal direction. Bounded accounts keep it exact under a
    # row lock; for the others, pending rows in balance_deltas are added on read.
    Column("balance", Money, nullable=False, default=0),
    Column("seller_id", ExternalId),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("code", "currency"),
    UniqueConstraint("id", "currency"),
    CheckConstraint("normal IN ('debit', 'credit')", name="normal_known"),
    CheckConstraint("NOT non_negative OR balance >= 0", name="bounded_balance_non_negative"),
    Index(None, "seller_id"),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("description", String(500), nullable=False),
    Column("payment_id", Id),
    Column("refund_id", Id),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "payment_id"),
    Index(None, "created_at"),
    implicit_returning=False,
)

postings = Table(
    "postings",
    metadata,
    Column("id", SerialKey, primary_key=True, autoincrement=True),
    Column("entry_id", Id, ForeignKey("journal_entries.id"), nullable=False),
    Column("account_id", SerialKey, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", Money, nullable=False),  # debit > 0, credit < 0
    # A posting's currency must be its account's currency.
    ForeignKeyConstraint(["account_id", "currency"], ["accounts.id", "accounts.currency"]),
    CheckConstraint("amount <> 0", name="amount_non_zero"),
    Index(None, "account_id"),
    Index(None, "entry_id"),
    implicit_returning=False,
)

seller_earnings = Table(
    "seller_earnings",
    metadata,
    # One row per captured payment: what it earned its seller, and how much of that is
    # still held (``pending``) until its hold ends: ``captured_s`` plus the seller's hold
    # days (its own, or the platform's), decided at release time, so a seller's new hold
    # applies to all it still has held. Written once at capture (nothing read for it); a
    # release (seller_funds.release_due) moves every due row in batches.
    Column("payment_id", Id, ForeignKey("payments.id"), primary_key=True),
    Column("seller_id", ExternalId, ForeignKey("sellers.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("gross", Money, nullable=False),  # the payment's total
    Column("commission", Money, nullable=False),  # its platform fee
    Column("net", Money, nullable=False),  # credited to seller pending at capture
    Column("pending", Money, nullable=False),  # of it, still pending (0 once released)
    Column("released", Money, nullable=False, server_default="0"),  # moved to available
    Column("refunded", Money, nullable=False, server_default="0"),  # seller part refunded
    Column("captured_at", UTCDateTime, nullable=False),
    Column("captured_s", BigInteger, nullable=False),  # captured_at in Unix seconds
    Column("released_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("net >= 0 AND pending >= 0 AND released >= 0 AND refunded >= 0",
                    name="amounts_non_negative"),
    CheckConstraint("released_at IS NULL OR pending = 0", name="released_holds_nothing"),
    Index(None, "seller_id", "payment_id"),
    Index("ix_seller_earnings_held", "captured_s",
          sqlite_where=text("released_at IS NULL"),
          postgresql_where=text("released_at IS NULL")),
    implicit_returning=False,
)

balance_deltas = Table(
    "balance_deltas",
    metadata,
    Column("id", SerialKey, primary_key=True, autoincrement=True),
    Column("account_id", SerialKey, ForeignKey("accounts.id"), nullable=False),
    Column("amount", Money, nullable=False),  # in the account's normal direction
    # By account, and within it by amount: the balance-limit trigger (migration 0003) reads
    # an account's largest and smallest pending delta from it.
    Index(None, "account_id", "amount"),
    implicit_returning=False,
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", SerialKey, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("action", String(60), nullable=False),
    Column("object_type", String(20), nullable=False),
    Column("object_id", String(100), nullable=False),
    Column("before", Json),
    Column("after", Json),
    Index(None, "object_type", "object_id"),
    Index(None, "created_at"),
    implicit_returning=False,
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", SerialKey, primary_key=True, autoincrement=True),
    Column("scope", String(100), nullable=False),  # the API key the request came with
    Column("key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("response_status", Integer),  # NULL while the first request is in flight
    Column("response_body", Text),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("scope", "key"),
    Index(None, "created_at"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True),
    # Shown in clear to tell keys apart; 24 hex digits (96 random bits), 8 in older keys.
    Column("prefix", String(32), nullable=False),
    Column("secret_hash", String(64), nullable=False),  # SHA-256 of the whole key
    Column("role", String(10), nullable=False),
    Column("seller_id", ExternalId),
    Column("customer_id", ExternalId),
    Column("name", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    UniqueConstraint("prefix"),
    CheckConstraint("role IN ('admin', 'seller', 'customer')", name="role_known"),
    CheckConstraint(
        "(role = 'seller') = (seller_id IS NOT NULL) "
        "AND (role = 'customer') = (customer_id IS NOT NULL)",
        name="binding_matches_role",
    ),
)


# The dashboard's people and signed-in browsers (see ``domain.actors``).
dashboard_users = Table(
    "dashboard_users",
    metadata,
    Column("id", Id, primary_key=True),
    Column("username", String(100), nullable=False),
    Column("username_key", String(100), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(10), nullable=False),
    Column("seller_id", ExternalId),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
    UniqueConstraint("username_key"),
    CheckConstraint("role IN ('admin', 'seller')", name="role_known"),
    CheckConstraint("(role = 'seller') = (seller_id IS NOT NULL)", name="binding_matches_role"),
)

dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Id, ForeignKey("dashboard_users.id")),
    Column("api_key_id", Id, ForeignKey("api_keys.id")),
    Column("role", String(10), nullable=False),
    Column("seller_id", ExternalId),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    CheckConstraint("(user_id IS NULL) <> (api_key_id IS NULL)", name="one_holder"),
)


# -- refund rules (domain/refund_rules.py) ---------------------------------------------

# The refund policy an admin set through the API, in place of the configured one: one row,
# replaced whole; ``version`` counts the changes.
refund_policy = Table(
    "refund_policy",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("policy", Json, nullable=False),  # RefundPolicy.to_json()
    Column("version", Integer, nullable=False),
    Column("updated_by", String(120), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("id = 1", name="one_row"),
    CheckConstraint("version > 0", name="version_positive"),
)


# -- payouts ---------------------------------------------------------------------------

payout_accounts = Table(
    "payout_accounts",
    metadata,
    # One per seller and method. The details (bank, PayPal, Stripe Connect) are one Fernet
    # token (adapters/secrets.py); only their last four characters are kept in clear.
    Column("seller_id", ExternalId, ForeignKey("sellers.id"), primary_key=True),
    Column("method", String(20), primary_key=True),
    Column("details_encrypted", Text, nullable=False),
    Column("last4", String(4), nullable=False),
    *_timestamps(),
    CheckConstraint(_in("method", PayoutMethod), name="method_known"),
)

payouts = Table(
    "payouts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("seller_id", ExternalId, ForeignKey("sellers.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", Money, nullable=False),
    Column("method", String(20), nullable=False),
    Column("destination", String(20), nullable=False),  # the masked account: ****3000
    Column("status", String(20), nullable=False),
    Column("previous_status", String(20)),
    Column("requested_by", String(120), nullable=False),
    Column("decided_by", String(120)),
    Column("reference", String(200)),  # the provider's, when paid
    Column("failure_reason", String(500)),
    Column("cancellation_reason", String(500)),
    # Paid through a gateway (stripe_connect through Stripe): which, and its transfer id.
    Column("gateway", String(20)),
    Column("gateway_payout_id", String(200)),
    *_submission(),
    *_timestamps(),
    Column("approved_at", UTCDateTime),
    Column("paid_at", UTCDateTime),
    Column("failed_at", UTCDateTime),
    Column("canceled_at", UTCDateTime),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint(_in("method", PayoutMethod), name="method_known"),
    CheckConstraint(_in("status", PayoutStatus), name="status_known"),
    CheckConstraint("status <> 'paid' OR (reference IS NOT NULL AND paid_at IS NOT NULL)",
                    name="paid_has_reference"),
    CheckConstraint("status <> 'failed' OR failure_reason IS NOT NULL",
                    name="failed_has_reason"),
    Index("uq_payouts_gateway_gateway_payout_id", "gateway", "gateway_payout_id",
          unique=True),
    Index("ix_payouts_to_submit", "next_submit_at",
          postgresql_where=text(TO_SUBMIT), sqlite_where=text(TO_SUBMIT)),
    Index(None, "seller_id", "id"),
    Index(None, "status", "id"),
)


# -- disputes ------------------------------------------------------------------------------

disputes = Table(
    "disputes",
    metadata,
    # A chargeback against a captured payment: its amount is held from the payment
    # (``payments.disputed_amount``) while open, given back when won, kept when lost.
    Column("id", Id, primary_key=True),
    Column("payment_id", Id, ForeignKey("payments.id"), nullable=False),
    Column("seller_id", ExternalId, ForeignKey("sellers.id"), nullable=False),
    Column("customer_id", ExternalId, ForeignKey("customers.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("gateway", String(20), nullable=False),
    Column("gateway_dispute_id", String(200)),  # the gateway's own id; NULL when opened by hand
    Column("amount", Money, nullable=False),
    Column("fee", Money, nullable=False, server_default="0"),  # the gateway's, the platform's
    Column("reason", String(500), nullable=False),
    Column("reason_code", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("previous_status", String(20)),
    Column("due_by", UTCDateTime),  # the gateway's deadline for evidence
    Column("evidence", Json, nullable=False, default=list),  # submissions, oldest first
    # The legs the dispute takes back, fixed at opening (``splits.taken_back``): they sum to
    # amount + discount_part (a platform-funded discount returns with them).
    Column("seller_part", Money, nullable=False),
    Column("platform_part", Money, nullable=False),
    Column("tax_part", Money, nullable=False),
    Column("shipping_part", Money, nullable=False),
    Column("discount_part", Money, nullable=False),
    Column("payment_status_before", String(20), nullable=False),  # where a win returns it
    Column("decision_reason", String(500)),
    *_timestamps(),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("under_review_at", UTCDateTime),
    Column("won_at", UTCDateTime),
    Column("lost_at", UTCDateTime),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("fee >= 0", name="fee_non_negative"),
    CheckConstraint(_in("status", DisputeStatus), name="status_known"),
    CheckConstraint(_in("reason_code", DisputeReason), name="reason_code_known"),
    CheckConstraint(_in("payment_status_before", sorted(CAPTURED_STATES)),
                    name="payment_status_before_captured"),
    CheckConstraint(
        "seller_part >= 0 AND platform_part >= 0 AND tax_part >= 0 AND shipping_part >= 0 "
        "AND discount_part >= 0",
        name="parts_non_negative",
    ),
    CheckConstraint(
        "seller_part + platform_part + tax_part + shipping_part = amount + discount_part",
        name="parts_are_amount",
    ),
    UniqueConstraint("gateway", "gateway_dispute_id"),
    Index(None, "payment_id", "id"),
    Index(None, "seller_id", "id"),
    Index(None, "status", "id"),
)


# -- coupons -------------------------------------------------------------------------------
# A coupon's terms never change after it is created (it can only be deactivated), so the
# limits copied into its counters stay true.

coupons = Table(
    "coupons",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(64), nullable=False),
    Column("code_key", String(64), nullable=False),  # the code in capitals: one per coupon
    Column("kind", String(10), nullable=False),
    Column("percent_off", String(10)),  # a decimal fraction ("0.15")
    Column("amount_off", Money),
    Column("currency", String(3)),
    Column("max_discount", Money),
    Column("min_order_amount", Money),
    Column("max_redemptions", BigInteger),
    Column("max_redemptions_per_customer", BigInteger),
    # Redemptions holding a place against max_redemptions (reserved or redeemed); kept only
    # when there is a limit, so a coupon without one is never a hot row.
    Column("redemptions_held", BigInteger, nullable=False, server_default="0"),
    Column("starts_at", UTCDateTime),
    Column("expires_at", UTCDateTime),
    Column("funded_by", String(10), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("description", String(500)),
    Column("deactivated_at", UTCDateTime),
    Column("deactivation_reason", String(500)),
    *_timestamps(),
    UniqueConstraint("code_key"),
    CheckConstraint("code_key = UPPER(code)", name="code_key_is_code"),
    CheckConstraint(_in("kind", CouponKind), name="kind_known"),
    CheckConstraint(_in("funded_by", FundedBy), name="funded_by_known"),
    CheckConstraint(
        "(kind = 'percent' AND percent_off IS NOT NULL AND amount_off IS NULL) OR "
        "(kind = 'fixed' AND amount_off IS NOT NULL AND currency IS NOT NULL "
        "AND percent_off IS NULL AND max_discount IS NULL)",
        name="terms_of_kind",
    ),
    CheckConstraint(
        "(min_order_amount IS NULL AND max_discount IS NULL) OR currency IS NOT NULL",
        name="amounts_have_currency",
    ),
    CheckConstraint("amount_off > 0 AND max_discount > 0 AND min_order_amount > 0",
                    name="amounts_positive"),  # NULL passes: a CHECK fails only on false
    CheckConstraint("max_redemptions > 0 AND max_redemptions_per_customer > 0",
                    name="limits_positive"),
    CheckConstraint(
        "redemptions_held >= 0 AND "
        "(max_redemptions IS NULL OR redemptions_held <= max_redemptions)",
        name="held_within_limit",
    ),
    CheckConstraint("starts_at < expires_at", name="window_ordered"),
    CheckConstraint("active OR deactivated_at IS NOT NULL", name="deactivation_dated"),
)

# The items and sellers a coupon is limited to (none of a kind: any).
coupon_targets = Table(
    "coupon_targets",
    metadata,
    Column("coupon_id", Id, ForeignKey("coupons.id"), primary_key=True),
    Column("target_type", String(10), primary_key=True),
    Column("target_id", ExternalId, primary_key=True),
    CheckConstraint("target_type IN ('item', 'seller')", name="target_type_known"),
    Index(None, "target_type", "target_id"),
)

# One payment's use of its coupon.
coupon_redemptions = Table(
    "coupon_redemptions",
    metadata,
    Column("payment_id", Id, ForeignKey("payments.id"), primary_key=True),
    Column("coupon_id", Id, ForeignKey("coupons.id"), nullable=False),
    Column("customer_id", ExternalId, nullable=False),
    Column("status", String(10), nullable=False),
    # Whether it holds a place in the coupon's limits: always while reserved, never once
    # released; a payment confirmed after a cancel when the limits were full is redeemed
    # without one (the money was taken: the capture is never refused).
    Column("counted", Boolean, nullable=False),
    *_timestamps(),
    Column("redeemed_at", UTCDateTime),
    Column("released_at", UTCDateTime),
    CheckConstraint(_in("status", RedemptionStatus), name="status_known"),
    CheckConstraint("status <> 'reserved' OR counted", name="reserved_is_counted"),
    CheckConstraint("status <> 'released' OR NOT counted", name="released_is_not_counted"),
    Index(None, "coupon_id", "status"),
)

# Each customer's places held against a coupon's max_redemptions_per_customer (only for a
# coupon that has one), with the limit copied in so the database checks it row by row.
coupon_customers = Table(
    "coupon_customers",
    metadata,
    Column("coupon_id", Id, ForeignKey("coupons.id"), primary_key=True),
    Column("customer_id", ExternalId, primary_key=True),
    Column("redemptions_held", BigInteger, nullable=False),
    Column("max_redemptions", BigInteger, nullable=False),
    CheckConstraint("redemptions_held >= 0 AND redemptions_held <= max_redemptions",
                    name="held_within_limit"),
)


# -- gateways and their webhooks ---------------------------------------------------------

gateway_configs = Table(
    "gateway_configs",
    metadata,
    # One per gateway and mode; the active one takes new checkouts. The credentials and the
    # webhook secret are one Fernet token (the payout keys); ``hints`` keeps masked tails.
    Column("gateway", String(20), primary_key=True),
    Column("mode", String(4), primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("credentials_encrypted", Text, nullable=False),
    Column("hints", Json, nullable=False),
    Column("updated_by", String(120), nullable=False),
    *_timestamps(),
    CheckConstraint("mode IN ('test', 'live')", name="mode_known"),
    Index("uq_gateway_configs_active", "gateway", unique=True,
          postgresql_where=text("active"), sqlite_where=text("active")),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    # Every delivery a gateway made: the raw body, its headers without secrets, the
    # signature's verdict and what processing did. One row per (gateway, event id): a
    # duplicate only counts itself in ``times_received``.
    Column("id", Id, primary_key=True),
    Column("gateway", String(20), nullable=False),
    Column("mode", String(4)),
    Column("event_id", String(255)),  # None when the signature was not valid
    Column("event_type", String(100)),
    Column("status", String(20), nullable=False),
    Column("signature_valid", Boolean, nullable=False),
    Column("body", Text, nullable=False),
    Column("headers", Json, nullable=False),
    Column("events", Json, nullable=False),  # the normalized events, for a replay
    Column("result", Json, nullable=False),  # what each event did
    Column("error", String(1000)),
    Column("needs_review", Boolean, nullable=False),
    Column("payment_id", Id),
    Column("times_received", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("last_received_at", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime),
    CheckConstraint("status IN ('processed', 'ignored', 'failed', 'rejected')",
                    name="status_known"),
    CheckConstraint("signature_valid OR (status = 'rejected' AND event_id IS NULL)",
                    name="rejected_is_unsigned"),
    UniqueConstraint("gateway", "event_id"),
    Index(None, "status", "id"),
    Index(None, "payment_id"),
    Index(None, "received_at"),
)


# -- the simulator gateway's own side ----------------------------------------------------
# What the built-in simulator (adapters/gateways/simulator.py) knows as "the provider": the
# outcome the customer chose on its hosted page, the refunds and payouts it was asked for,
# and the webhooks it has queued for paytrack. Written only outside paytrack's own
# transactions (the hosted page, refunds, payouts, the delivery job).

SIMULATOR_OUTCOMES = ("succeeded", "card_declined", "insufficient_funds", "delayed",
                      "disputed", "refund_fails", "expired")
SIMULATOR_ORDERS = ("in_order", "reversed", "shuffled")

# One per payment: a second submit of the hosted page finds the row and pays nothing.
simulator_checkouts = Table(
    "simulator_checkouts",
    metadata,
    Column("payment_id", Id, primary_key=True),
    Column("gateway_payment_id", String(60), nullable=False),
    Column("gateway_order_id", String(60), nullable=False),
    Column("amount", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("outcome", String(20), nullable=False),  # the test card's, never its number
    Column("status", String(20), nullable=False),  # from settles_at on; processing before
    Column("reason", String(100)),
    Column("fee", Money),
    Column("duplicates", Integer, nullable=False),
    Column("delay_s", Integer, nullable=False),
    Column("delivery_order", String(10), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("settles_at", UTCDateTime, nullable=False),
    UniqueConstraint("gateway_payment_id"),
    UniqueConstraint("gateway_order_id"),
    CheckConstraint("amount >= 0", name="amount_non_negative"),
    CheckConstraint(_in("outcome", SIMULATOR_OUTCOMES), name="outcome_known"),
    CheckConstraint("status IN ('succeeded', 'failed', 'canceled')", name="status_known"),
    CheckConstraint("duplicates >= 1 AND duplicates <= 5", name="duplicates_range"),
    CheckConstraint("delay_s >= 0 AND delay_s <= 3600", name="delay_range"),
    CheckConstraint(_in("delivery_order", SIMULATOR_ORDERS), name="delivery_order_known"),
)

# Refunds and payouts the simulator was asked for, by paytrack's id (its idempotency key).
simulator_requests = Table(
    "simulator_requests",
    metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("gateway_id", String(60), nullable=False),
    Column("payment_id", Id),
    Column("amount", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("reason", String(100)),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("gateway_id"),
    CheckConstraint("kind IN ('refund', 'payout')", name="kind_known"),
    CheckConstraint("outcome IN ('succeeded', 'failed')", name="outcome_known"),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index(None, "payment_id"),
)

# Webhooks queued for delivery; a duplicate is another row with the same event id. A claim
# moves due_at past the send (a lease), so a crashed sender's rows are sent again later.
simulator_webhooks = Table(
    "simulator_webhooks",
    metadata,
    Column("id", SerialKey, primary_key=True, autoincrement=True),
    Column("event_id", String(60), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("payment_id", Id),
    Column("body", Text, nullable=False),  # the exact JSON text that is signed and sent
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Column("last_error", String(500)),
    CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status_known"),
    CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    Index(None, "status", "due_at"),
    Index(None, "event_id"),
    Index(None, "payment_id"),
)


# -- events to the platform (domain/events.py) -------------------------------------------

# The outbox: one row per change the platform hears about, written in the change's own
# transaction (appended with the rest of its rows); ``data`` is the object as it was.
events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("type", String(40), nullable=False),
    Column("object_type", String(20), nullable=False),
    Column("object_id", Id, nullable=False),
    Column("data", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("dispatched_at", UTCDateTime),  # NULL until its deliveries are made
    Index(None, "object_id", "id"),
    # What dispatch reads: only the few not yet fanned out.
    Index("ix_events_undispatched", "id",
          sqlite_where=text("dispatched_at IS NULL"),
          postgresql_where=text("dispatched_at IS NULL")),
    implicit_returning=False,
)

event_endpoints = Table(
    "event_endpoints",
    metadata,
    Column("id", Id, primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("description", String(500)),
    Column("event_types", Json, nullable=False),  # a list of types; empty: every type
    Column("secret_encrypted", Text, nullable=False),  # a Fernet token (payout keys)
    Column("active", Boolean, nullable=False),
    *_timestamps(),
    Column("disabled_reason", String(500)),
    CheckConstraint("active OR disabled_reason IS NOT NULL", name="disabled_has_reason"),
)

event_deliveries = Table(
    "event_deliveries",
    metadata,
    Column("id", Id, primary_key=True),
    Column("event_id", Id, ForeignKey("events.id"), nullable=False),
    Column("endpoint_id", Id, ForeignKey("event_endpoints.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    # Every claim counts here and never starts over (a redelivery resets attempts): a
    # worker records its result only while the claim is still its own.
    Column("claims", Integer, nullable=False, server_default="0"),
    # When it is due (pending, failed), or when the lease of its worker ends (delivering).
    Column("next_attempt_at", UTCDateTime),
    Column("last_attempt_at", UTCDateTime),
    Column("response_status", Integer),
    Column("last_error", String(500)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    UniqueConstraint("event_id", "endpoint_id"),
    CheckConstraint(_in("status", DeliveryStatus), name="status_known"),
    CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    CheckConstraint("status NOT IN ('pending', 'failed', 'delivering') "
                    "OR next_attempt_at IS NOT NULL", name="due_is_dated"),
    Index(None, "status", "next_attempt_at"),
)

# Settlement reports imported from the gateways, and each line as it was classified.
reconciliation_imports = Table(
    "reconciliation_imports",
    metadata,
    Column("id", Id, primary_key=True),
    Column("gateway", String(20), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("filename", String(255)),
    Column("line_count", Integer, nullable=False),
    Column("period_start", UTCDateTime),
    Column("period_end", UTCDateTime),
    Column("imported_by", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("gateway", "sha256"),  # the same file is imported once
    Index(None, "gateway", "id"),
)

reconciliation_lines = Table(
    "reconciliation_lines",
    metadata,
    Column("id", Id, primary_key=True),
    Column("import_id", Id, ForeignKey("reconciliation_imports.id"), nullable=False),
    Column("gateway", String(20), nullable=False),
    Column("line_number", Integer),  # NULL: a payment the report is missing
    Column("kind", String(10), nullable=False),
    Column("match_class", String(20), nullable=False),
    Column("gateway_ref", String(200)),
    Column("currency", String(3), nullable=False),
    Column("report_amount", Money),
    Column("report_fee", Money),
    Column("paytrack_amount", Money),
    Column("paytrack_fee", Money),
    Column("fee_posted", Money, nullable=False),
    Column("payment_id", Id, ForeignKey("payments.id")),
    Column("refund_id", Id, ForeignKey("refunds.id")),
    Column("occurred_at", UTCDateTime),
    Column("description", String(500)),
    Column("exception_status", String(10)),
    Column("resolved_at", UTCDateTime),
    Column("resolved_by", String(120)),
    Column("resolution_note", String(500)),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("kind", LineKind), name="kind_known"),
    CheckConstraint(_in("match_class", MatchClass), name="match_class_known"),
    CheckConstraint(f"exception_status IS NULL OR {_in('exception_status', ExceptionStatus)}",
                    name="exception_status_known"),
    CheckConstraint("(exception_status = 'resolved') = (resolved_at IS NOT NULL)",
                    name="resolved_is_dated"),
    Index(None, "import_id", "id"),
    Index(None, "exception_status", "id"),
    Index(None, "payment_id"),
)


# -- revenue analytics (domain/analytics.py, adapters/storage/analytics.py) -------------
#
# Every journal entry about a payment appends a revenue delta (a payment that ends unpaid
# too); the background job folds them into the rollups in batches; reads add the rollups
# and the deltas not yet folded. Rollups are kept per day, month and year (a long range
# reads whole years from the year grain, whole months from the month grain and its edge
# days from the day grain). A rollup cell holds at most MAX_BALANCE_MINOR either way, like
# an account: a fold that would take one
# past it adds to the key's next ``part`` row instead, so every stored number fits 64 bits
# and reads add the parts exactly.


def _measures() -> list[Column]:
    return [Column(name, Money, nullable=False) for name in MEASURES]


revenue_deltas = Table(
    "revenue_deltas",
    metadata,
    Column("id", SerialKey, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False),  # the entry's local day (PAYTRACK_ANALYTICS_TZ)
    Column("currency", String(3), nullable=False),
    Column("seller_id", ExternalId, nullable=False),
    Column("customer_id", ExternalId, nullable=False),
    Column("item_type", String(40), nullable=False),
    Column("item_id", ExternalId, nullable=False),
    Column("method", String(20), nullable=False),
    Column("gateway", String(20), nullable=False),
    Column("coupon_id", Id),
    Column("discount_funded_by", String(10)),
    *_measures(),
    implicit_returning=False,
)

# The rollups: name -> the dimensions each is grouped by (besides currency and period).
# ``coupons`` holds only payments with a coupon, ``cohorts`` only customers whose first
# capture is known (customer_firsts), keyed by that day; the others hold every delta.
ROLLUP_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "totals": (),
    "sellers": ("seller_id",),
    "items": ("seller_id", "item_type", "item_id"),
    "methods": ("method", "gateway"),
    "coupons": ("coupon_id", "discount_funded_by"),
    "cohorts": ("cohort_day",),  # the local day of the customer's first capture
}
GRAINS = ("day", "month", "year")  # a month's (year's) row is keyed by its first day
_DIMENSION_TYPES: dict[str, Any] = {
    "seller_id": ExternalId, "item_type": String(40), "item_id": ExternalId,
    "method": String(20), "gateway": String(20), "coupon_id": Id,
    "discount_funded_by": String(10), "cohort_day": Date}


def _rollup(name: str, grain: str) -> Table:
    dimensions = ROLLUP_DIMENSIONS[name]
    indexes = []
    if "seller_id" in dimensions:  # one seller's figures (its summary, its top items)
        indexes.append(Index(None, "seller_id", "currency", grain))
    return Table(
        f"revenue_{name}_{grain}",
        metadata,
        Column("currency", String(3), primary_key=True),
        Column(grain, Date, primary_key=True),
        *(Column(d, _DIMENSION_TYPES[d], primary_key=True) for d in dimensions),
        Column("part", SmallInteger, primary_key=True),
        *_measures(),
        *indexes,
    )


rollups: dict[tuple[str, str], Table] = {
    (name, grain): _rollup(name, grain) for name in ROLLUP_DIMENSIONS for grain in GRAINS}

# Each customer's first capture per currency: new (that day) or returning customers, and
# the cohort its figures are counted in.
customer_firsts = Table(
    "customer_firsts",
    metadata,
    Column("customer_id", ExternalId, primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("first_day", Date, nullable=False),
    Index(None, "currency", "first_day"),
)

# One row: the time zone the rollups were built in (NULL: they hold nothing yet, and the
# first fold adopts the configured one), and whether history awaits a rebuild (an install
# upgraded with payments already made).
analytics_state = Table(
    "analytics_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tz", String(64)),
    Column("rebuild_required", Boolean, nullable=False),
    Column("built_at", UTCDateTime),
    CheckConstraint("id = 1", name="one_row"),
)
