"""Gateway configurations and webhook deliveries.

A delivery is claimed by its (gateway, event id) key: ``INSERT … ON CONFLICT DO NOTHING``
waits for a concurrent twin's transaction, so of two identical deliveries racing, one
inserts and processes, the other finds the row (``FOR UPDATE``) and counts itself."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.sql import insert_ignore, is_postgres, record_or_none, records
from paytrack.adapters.storage.tables import gateway_configs, webhook_deliveries
from paytrack.domain.gateways import StoredGatewayConfig, WebhookDelivery

G = gateway_configs.c
W = webhook_deliveries.c


class GatewayConfigRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, gateway: str, mode: str) -> StoredGatewayConfig | None:
        row = self.conn.execute(select(gateway_configs).where(
            G.gateway == gateway, G.mode == mode)).first()
        return record_or_none(row, StoredGatewayConfig)

    def of_gateway(self, gateway: str) -> list[StoredGatewayConfig]:
        """Its configurations, the active one first."""
        rows = self.conn.execute(select(gateway_configs).where(G.gateway == gateway)
                                 .order_by(G.active.desc(), G.mode))
        return records(rows, StoredGatewayConfig)

    def all(self) -> list[StoredGatewayConfig]:
        rows = self.conn.execute(select(gateway_configs).order_by(G.gateway, G.mode))
        return records(rows, StoredGatewayConfig)

    def save(self, config: StoredGatewayConfig) -> None:
        """Insert or replace; an active one first deactivates the gateway's other mode."""
        if config["active"]:
            self.conn.execute(update(gateway_configs).where(
                G.gateway == config["gateway"], G.mode != config["mode"]).values(active=False))
        values = cast(dict[str, Any], config)
        changed = {k: v for k, v in values.items() if k not in ("gateway", "mode", "created_at")}
        updated = self.conn.execute(update(gateway_configs).where(
            G.gateway == config["gateway"], G.mode == config["mode"]).values(**changed)
            .returning(G.gateway)).first()
        if updated is None:
            self.conn.execute(gateway_configs.insert().values(**values))

    def insert_if_absent(self, config: StoredGatewayConfig) -> None:
        self.conn.execute(insert_ignore(self.conn, gateway_configs).values(
            **cast(dict[str, Any], config)))

    def delete(self, gateway: str, mode: str) -> bool:
        return self.conn.execute(delete(gateway_configs).where(
            G.gateway == gateway, G.mode == mode).returning(G.gateway)).first() is not None


class WebhookDeliveryRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, delivery: WebhookDelivery) -> None:
        self.conn.execute(webhook_deliveries.insert().values(
            **cast(dict[str, Any], delivery)))

    def claim(self, delivery: WebhookDelivery) -> tuple[WebhookDelivery, bool]:
        """Insert ``delivery`` unless its (gateway, event id) is there; return the row,
        locked, and whether it is new. Waits for a twin still in flight."""
        inserted = self.conn.execute(insert_ignore(self.conn, webhook_deliveries).values(
            **cast(dict[str, Any], delivery)).returning(W.id)).first()
        if inserted is not None:
            return delivery, True
        existing = self.lock_event(delivery["gateway"], delivery["event_id"])
        assert existing is not None, "the conflicting row is committed"
        return existing, False

    def lock_event(self, gateway: str, event_id: str | None) -> WebhookDelivery | None:
        query = select(webhook_deliveries).where(W.gateway == gateway, W.event_id == event_id)
        if is_postgres(self.conn):
            query = query.with_for_update()
        return record_or_none(self.conn.execute(query).first(), WebhookDelivery)

    def lock(self, delivery_id: str) -> WebhookDelivery | None:
        query = select(webhook_deliveries).where(W.id == delivery_id)
        if is_postgres(self.conn):
            query = query.with_for_update()
        return record_or_none(self.conn.execute(query).first(), WebhookDelivery)

    def get(self, delivery_id: str) -> WebhookDelivery | None:
        row = self.conn.execute(select(webhook_deliveries).where(W.id == delivery_id)).first()
        return record_or_none(row, WebhookDelivery)

    def update(self, delivery_id: str, values: dict[str, Any]) -> None:
        self.conn.execute(update(webhook_deliveries).where(W.id == delivery_id)
                          .values(**values))

    def count_duplicate(self, delivery_id: str, now: datetime) -> None:
        self.conn.execute(update(webhook_deliveries).where(W.id == delivery_id).values(
            times_received=W.times_received + 1, last_received_at=now))

    def list(self, *, filters: dict[str, Any], limit: int, before_id: str | None = None,
             received_gte: datetime | None = None,
             received_lt: datetime | None = None,
             needs_review: bool | None = None) -> builtins.list[WebhookDelivery]:
        """Newest first; ``before_id`` is the cursor."""
        query = select(webhook_deliveries)
        for name, value in filters.items():
            if value is not None:
                query = query.where(W[name] == value)
        if needs_review is not None:
            query = query.where(W.needs_review == needs_review)
        if before_id:
            query = query.where(W.id < before_id)
        if received_gte:
            query = query.where(W.received_at >= received_gte)
        if received_lt:
            query = query.where(W.received_at < received_lt)
        rows = self.conn.execute(query.order_by(W.id.desc()).limit(limit))
        return records(rows, WebhookDelivery)

    def flagged(self, payment_id: str, error: str) -> bool:
        """Whether a delivery about the payment was flagged with this ``error``."""
        return self.conn.execute(select(W.id).where(
            W.payment_id == payment_id, W.needs_review.is_(True), W.error == error
        ).limit(1)).first() is not None

    def purge_rejected(self, before: datetime, limit: int) -> int:
        """Delete unsigned deliveries older than ``before`` (anyone can send those)."""
        ids = select(W.id).where(W.status == "rejected", W.received_at < before).limit(limit)
        return len(self.conn.execute(delete(webhook_deliveries).where(
            W.id.in_(ids.scalar_subquery())).returning(W.id)).all())
