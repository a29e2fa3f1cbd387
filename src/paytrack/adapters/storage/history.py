"""Status history and the audit log: append-only records written in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.appender import Appender
from paytrack.adapters.storage.sql import records
from paytrack.adapters.storage.tables import audit_log, status_events
from paytrack.domain.actors import AuditRecord
from paytrack.domain.states import StatusEvent


class RecordRepository:
    def __init__(self, conn: Connection, appender: Appender) -> None:
        self.conn = conn
        self.appender = appender

    def status_event(self, object_type: str, object_id: str, from_status: str | None,
                     to_status: str, actor: str, reason: str | None, now: datetime) -> None:
        self.appender.add(status_events, {
            "object_type": object_type, "object_id": object_id, "from_status": from_status,
            "to_status": to_status, "actor": actor, "reason": reason, "created_at": now,
        })

    def status_history(self, object_type: str, object_id: str) -> list[StatusEvent]:
        rows = self.conn.execute(
            select(status_events)
            .where(status_events.c.object_type == object_type,
                   status_events.c.object_id == object_id)
            .order_by(status_events.c.id)
        )
        return records(rows, StatusEvent)

    def audit(self, actor: str, action: str, object_type: str, object_id: str,
              before: dict[str, Any] | None, after: dict[str, Any] | None,
              now: datetime) -> None:
        self.appender.add(audit_log, {
            "created_at": now, "actor": actor, "action": action, "object_type": object_type,
            "object_id": object_id, "before": before, "after": after,
        })

    def audit_trail(self, object_type: str, object_id: str) -> list[AuditRecord]:
        rows = self.conn.execute(
            select(audit_log)
            .where(audit_log.c.object_type == object_type, audit_log.c.object_id == object_id)
            .order_by(audit_log.c.id)
        )
        return records(rows, AuditRecord)
