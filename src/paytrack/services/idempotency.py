"""Idempotency keys for POST requests, scoped to the API key that sent them.

The same key with the same request replays the first response; with another request it is
refused; while the first is still running, a twin gets a conflict. Keys are kept for
``KEEP_HOURS``; a claim left by a request that died is taken over after ``STALE_AFTER``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.errors import (
    IdempotencyKeyReused,
    IdempotentRequestInFlight,
    ValidationFailed,
)

KEEP_HOURS = 24
STALE_AFTER = timedelta(minutes=5)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    body: str


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()


def begin(storage: Storage, scope: str, key: str, fingerprint: str) -> Replay | None:
    """Claim ``key`` for this request (None: go ahead) or return the response to replay."""
    if not key or len(key) > MAX_KEY_LENGTH or "\0" in key:
        raise ValidationFailed(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
                               field="Idempotency-Key")
    with storage.unit_of_work() as uow:
        now = uow.now()
        if uow.idempotency.claim(scope, key, fingerprint, now):
            uow.commit()
            return None
        held = uow.idempotency.get(scope, key)
        if held is None:  # released between our insert and read: try once more
            claimed = uow.idempotency.claim(scope, key, fingerprint, now)
            uow.commit()
            if claimed:
                return None
            raise IdempotentRequestInFlight("retry this request in a moment")
        expired = held["created_at"] < now - timedelta(hours=KEEP_HOURS)
        stale = held["response_status"] is None and held["created_at"] < now - STALE_AFTER
        if expired or stale:
            uow.idempotency.release(scope, key)
            uow.idempotency.claim(scope, key, fingerprint, now)
            uow.commit()
            return None
    if held["request_hash"] != fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used with a different request; use a new key")
    if held["response_status"] is None:
        raise IdempotentRequestInFlight(
            "a request with this Idempotency-Key is still in flight; retry it later")
    return Replay(held["response_status"], held["response_body"])


def finish(storage: Storage, scope: str, key: str, status: int, body: str) -> None:
    """Store the response to replay; a server error releases the key so a retry runs again."""
    with storage.unit_of_work() as uow:
        if status >= 500:
            uow.idempotency.release(scope, key)
        else:
            uow.idempotency.complete(scope, key, status, body)
        uow.commit()


def purge_expired(storage: Storage) -> int:
    with storage.unit_of_work() as uow:
        count = uow.idempotency.purge_older_than(uow.now() - timedelta(hours=KEEP_HOURS))
        uow.commit()
        return count
