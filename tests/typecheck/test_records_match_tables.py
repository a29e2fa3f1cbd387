"""Each typed record names exactly its table's columns, and every field a role's view shows
is a key of its record: a column added without its field (or a field without its column)
fails here, not in a reader's head."""

from __future__ import annotations

import pytest
from sqlalchemy import Table

from paytrack.adapters.storage import tables
from paytrack.adapters.storage.keys import IdempotencyRecord
from paytrack.adapters.storage.refund_rules import StoredRefundPolicy
from paytrack.domain.actors import (
    AuditRecord,
    DashboardSession,
    Role,
    StoredApiKey,
    StoredDashboardUser,
)
from paytrack.domain.analytics import DIMENSIONS, MEASURES, AnalyticsState
from paytrack.domain.disputes import Dispute
from paytrack.domain.events import Event, EventDelivery, EventEndpoint
from paytrack.domain.gateways import StoredGatewayConfig, WebhookDelivery
from paytrack.domain.ledger import JournalEntryRow
from paytrack.domain.orders import Order, OrderLine
from paytrack.domain.parties import Customer, Item, Seller
from paytrack.domain.payments import Payment
from paytrack.domain.payouts import Payout, PayoutAccount
from paytrack.domain.reconciliation import ReconciliationImport, ReconciliationLine
from paytrack.domain.refunds import Refund
from paytrack.domain.states import PaymentEvent, StatusEvent
from paytrack.domain.subscriptions import Subscription
from paytrack.services.permissions import visible_fields


def keys(record: type) -> set[str]:
    return set(record.__required_keys__ | record.__optional_keys__)


@pytest.mark.parametrize(("table", "record", "added"), [
    (tables.payments, Payment, set()),
    (tables.refunds, Refund, set()),
    (tables.disputes, Dispute, set()),
    (tables.status_events, StatusEvent, set()),
    (tables.audit_log, AuditRecord, set()),
    (tables.api_keys, StoredApiKey, set()),
    (tables.dashboard_users, StoredDashboardUser, set()),
    (tables.dashboard_sessions, DashboardSession, set()),
    (tables.idempotency_keys, IdempotencyRecord, set()),
    (tables.customers, Customer, set()),
    (tables.sellers, Seller, set()),
    (tables.items, Item, set()),
    (tables.journal_entries, JournalEntryRow, {"postings"}),
    (tables.refund_policy, StoredRefundPolicy, set()),
    (tables.payouts, Payout, set()),
    (tables.payout_accounts, PayoutAccount, set()),
    (tables.gateway_configs, StoredGatewayConfig, set()),
    (tables.webhook_deliveries, WebhookDelivery, set()),
    (tables.events, Event, set()),
    (tables.event_endpoints, EventEndpoint, set()),
    (tables.event_deliveries, EventDelivery, set()),
    (tables.subscriptions, Subscription, set()),
    (tables.orders, Order, set()),
    (tables.order_lines, OrderLine, set()),
    (tables.reconciliation_imports, ReconciliationImport, set()),
    (tables.reconciliation_lines, ReconciliationLine, set()),
    (tables.analytics_state, AnalyticsState, set()),
], ids=lambda v: getattr(v, "name", None) or getattr(v, "__name__", None))
def test_record_has_a_field_for_each_column_of_its_table(table: Table, record: type,
                                                         added: set[str]) -> None:
    assert keys(record) - added == set(table.c.keys())


def test_a_revenue_delta_row_is_a_day_the_dimensions_and_the_measures():
    assert set(tables.revenue_deltas.c.keys()) == {"id", "day", *DIMENSIONS, *MEASURES}
    for (name, grain), table in tables.rollups.items():
        assert set(table.c.keys()) == {"currency", grain, *tables.ROLLUP_DIMENSIONS[name],
                                       "part", *MEASURES}, table.name


@pytest.mark.parametrize(("kind", "record", "derived"), [
    ("payment", Payment, {"refundable_amount"}),  # computed by views.present
    ("refund", Refund, set()),
    ("dispute", Dispute, set()),
    ("status_event", PaymentEvent, set()),
    ("payout", Payout, set()),
    ("event", Event, set()),
    ("event_endpoint", EventEndpoint, set()),
    ("event_delivery", EventDelivery, set()),
    # computed by views.present: the subscription seed's names
    ("subscription", Subscription, {"active", "subscription_duration",
                                    "subscription_expires_at", "subscription_fee"}),
    ("order", Order, {"confirmed_code", "lines", "payments"}),  # services.order_status
])
def test_every_field_a_view_shows_is_a_key_of_its_record(kind: str, record: type,
                                                         derived: set[str]) -> None:
    assert visible_fields(Role.ADMIN, kind) - derived <= keys(record)
