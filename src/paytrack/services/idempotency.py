"""Idempotency keys for POST requests, scoped to the API key that sent them.

The key's record is claimed, and the response stored, in the same transaction as the work
(the "atomic phases" pattern): after a crash at any instant either all three exist, and a
retry replays the response, or none does, and a retry runs for the first time. No key is
ever left locked by a request that died: its transaction died with it.

While a twin's transaction is still open, a claim waits on the key's unique index (for up
to ``TWIN_WAIT``) and then replays the twin's response; a twin still running after that is
answered ``idempotent_request_in_flight``. Keys are kept for ``KEEP``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.errors import IdempotencyKeyReused, ValidationFailed

KEEP = timedelta(hours=24)
TWIN_WAIT = timedelta(seconds=5)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    body: str


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters, "
            "e.g. a UUID", field="Idempotency-Key")
    return key


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests the same: method, path, query parameters and the body as
    parsed JSON (key order and spacing do not matter; no body, ``null`` and ``{}`` are
    the same: an optional body left out)."""
    try:
        parsed = json.loads(body) if body.strip() else None
        canonical = json.dumps({} if parsed is None else parsed, sort_keys=True,
                               separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        canonical = body  # not JSON: compared as bytes (the request is refused anyway)
    params = json.dumps(sorted(parse_qsl(query, keep_blank_values=True))).encode()
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), params, canonical])
                          ).hexdigest()


def claim(uow: UnitOfWork, scope: str, key: str, fingerprint: str) -> Replay | None:
    """Take ``key`` in this unit of work (None: go ahead) or return the response to replay.

    The claim is part of the work's transaction: it commits with the work and its response
    (``record``) or not at all."""
    check_key(key)
    now = uow.now()
    with uow.idempotency.waiting_at_most(TWIN_WAIT):
        if uow.idempotency.claim(scope, key, fingerprint, now):
            return None
        held = uow.idempotency.get(scope, key)
        if held is None or held["created_at"] < now - KEEP:
            # Purged or expired since: take it over (a racing twin waits on our row, then
            # sees it fresh and replays what we stored).
            if uow.idempotency.take_over(scope, key, fingerprint, now,
                                         expired_before=now - KEEP):
                return None
            held = uow.idempotency.get(scope, key)
            assert held is not None, "a key that could not be taken over exists"
    if held["request_hash"] != fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used with a different request; use a new key")
    status, body = held["response_status"], held["response_body"]
    assert status is not None and body is not None, "claims commit with their response"
    return Replay(status, body)


def record(uow: UnitOfWork, scope: str, key: str, status: int, body: str) -> None:
    """Store the response to replay, in the transaction that claimed the key."""
    uow.idempotency.complete(scope, key, status, body)


def purge_expired(uow: UnitOfWork) -> int:
    return uow.idempotency.purge_older_than(uow.now() - KEEP)
