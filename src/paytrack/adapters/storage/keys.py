"""API keys and idempotency keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from paytrack.adapters.storage.sql import insert_ignore, is_postgres, record_or_none, records
from paytrack.adapters.storage.tables import api_keys, idempotency_keys
from paytrack.domain.actors import StoredApiKey
from paytrack.domain.errors import IdempotentRequestInFlight

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout expired


class IdempotencyRecord(TypedDict):
    """A claimed ``Idempotency-Key`` and, once its request's work committed, the response
    to replay (both set in that same transaction)."""

    id: int
    scope: str  # the API key the request came with
    key: str
    request_hash: str
    response_status: int | None
    response_body: str | None
    created_at: datetime


class ApiKeyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, row: StoredApiKey) -> bool:
        """Store a new key; False (and nothing stored) if its prefix is taken."""
        inserted = self.conn.execute(
            insert_ignore(self.conn, api_keys).values(**row).returning(api_keys.c.id)
        ).first()
        return inserted is not None

    def by_prefix(self, prefix: str) -> StoredApiKey | None:
        row = self.conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).first()
        return record_or_none(row, StoredApiKey)

    def get(self, key_id: str) -> StoredApiKey | None:
        row = self.conn.execute(
            select(api_keys).where((api_keys.c.id == key_id) | (api_keys.c.prefix == key_id))
        ).first()
        return record_or_none(row, StoredApiKey)

    def list(self) -> list[StoredApiKey]:
        rows = self.conn.execute(select(api_keys).order_by(api_keys.c.created_at))
        return records(rows, StoredApiKey)

    def revoke(self, key_id: str, now: datetime) -> None:
        self.conn.execute(update(api_keys).where(api_keys.c.id == key_id,
                                                 api_keys.c.revoked_at.is_(None))
                          .values(revoked_at=now))


class IdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @contextmanager
    def waiting_at_most(self, wait: timedelta) -> Iterator[None]:
        """Statements inside wait at most ``wait`` for a twin's uncommitted key (PostgreSQL:
        a local ``lock_timeout``), then raise IdempotentRequestInFlight. (SQLite writers
        are serialized already: the whole unit of work holds the write lock.)"""
        if not is_postgres(self.conn):
            yield
            return
        ms = max(1, int(wait.total_seconds() * 1000))  # 0 would mean "wait forever"
        self.conn.execute(text(f"SET LOCAL lock_timeout = {ms}"))  # opens the transaction
        try:
            yield
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            raise IdempotentRequestInFlight(
                "a request with this Idempotency-Key is still in flight; retry it in a "
                "moment") from exc
        self.conn.execute(text("SET LOCAL lock_timeout = DEFAULT"))

    def claim(self, scope: str, key: str, request_hash: str, now: datetime) -> bool:
        """Take the key in this transaction; False if a committed request holds it (on
        PostgreSQL a twin whose transaction is still open makes this wait on the unique
        index: see ``waiting_at_most``)."""
        inserted = self.conn.execute(
            insert_ignore(self.conn, idempotency_keys)
            .values(scope=scope, key=key, request_hash=request_hash, created_at=now)
            .returning(idempotency_keys.c.id)
        ).first()
        return inserted is not None

    def take_over(self, scope: str, key: str, request_hash: str, now: datetime, *,
                  expired_before: datetime) -> bool:
        """Claim a key whose record expired (or vanished); False if a request holds it."""
        row = self.conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key,
                   idempotency_keys.c.created_at < expired_before)
            .values(request_hash=request_hash, created_at=now, response_status=None,
                    response_body=None)
            .returning(idempotency_keys.c.id)
        ).first()
        return row is not None or self.claim(scope, key, request_hash, now)

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        row = self.conn.execute(
            select(idempotency_keys).where(idempotency_keys.c.scope == scope,
                                           idempotency_keys.c.key == key)
        ).first()
        return record_or_none(row, IdempotencyRecord)

    def complete(self, scope: str, key: str, status: int, body: str) -> None:
        self.conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
            .values(response_status=status, response_body=body)
        )

    def purge_older_than(self, cutoff: datetime, batch: int = 10_000) -> int:
        """Delete up to ``batch`` expired keys, skipping any a request is taking over."""
        expired = (select(idempotency_keys.c.id)
                   .where(idempotency_keys.c.created_at < cutoff)
                   .limit(batch).with_for_update(skip_locked=True))
        return self.conn.execute(
            delete(idempotency_keys).where(idempotency_keys.c.id.in_(expired.scalar_subquery()))
        ).rowcount
