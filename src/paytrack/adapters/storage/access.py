"""API keys and idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.sql import insert_ignore
from paytrack.adapters.storage.tables import api_keys, idempotency_keys


class ApiKeyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, row: dict[str, Any]) -> bool:
        """Store a new key; False (and nothing stored) if its prefix is taken."""
        inserted = self.conn.execute(
            insert_ignore(self.conn, api_keys).values(**row).returning(api_keys.c.id)
        ).first()
        return inserted is not None

    def by_prefix(self, prefix: str) -> dict | None:
        row = self.conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).first()
        return dict(row._mapping) if row else None

    def get(self, key_id: str) -> dict | None:
        row = self.conn.execute(
            select(api_keys).where((api_keys.c.id == key_id) | (api_keys.c.prefix == key_id))
        ).first()
        return dict(row._mapping) if row else None

    def list(self) -> list[dict]:
        rows = self.conn.execute(select(api_keys).order_by(api_keys.c.created_at))
        return [dict(r._mapping) for r in rows]

    def revoke(self, key_id: str, now: datetime) -> None:
        self.conn.execute(update(api_keys).where(api_keys.c.id == key_id,
                                                 api_keys.c.revoked_at.is_(None))
                          .values(revoked_at=now))


class IdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, scope: str, key: str, request_hash: str, now: datetime) -> bool:
        """Take the key for this request; False if some request already holds it."""
        inserted = self.conn.execute(
            insert_ignore(self.conn, idempotency_keys)
            .values(scope=scope, key=key, request_hash=request_hash, created_at=now)
            .returning(idempotency_keys.c.id)
        ).first()
        return inserted is not None

    def get(self, scope: str, key: str) -> dict | None:
        row = self.conn.execute(
            select(idempotency_keys).where(idempotency_keys.c.scope == scope,
                                           idempotency_keys.c.key == key)
        ).first()
        return dict(row._mapping) if row else None

    def complete(self, scope: str, key: str, status: int, body: str) -> None:
        self.conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
            .values(response_status=status, response_body=body)
        )

    def release(self, scope: str, key: str) -> None:
        self.conn.execute(delete(idempotency_keys).where(idempotency_keys.c.scope == scope,
                                                         idempotency_keys.c.key == key))

    def purge_older_than(self, cutoff: datetime) -> int:
        return self.conn.execute(
            delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff)).rowcount
