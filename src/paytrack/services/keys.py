"""API keys: random tokens shown once, stored as a SHA-256 hash with a short clear prefix.

A key looks like ``ptk_<prefix>_<secret>``. The prefix finds the row; the hash of the whole
key is compared in constant time. Keys carry 32 random bytes, so a fast hash is enough
(there is nothing to brute-force as there would be with a password).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from paytrack.domain.ids import new_id
from paytrack.services._common import require_text


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(uow: UnitOfWork, role: str, actor: Actor, *, seller_id: str | None = None,
               customer_id: str | None = None, name: str | None = None) -> tuple[dict, str]:
    """Returns the stored key (without secret) and the token, which is shown only now."""
    try:
        role = Role(role)
    except ValueError:
        raise ValidationFailed("role must be admin, seller or customer", field="role") from None
    if role is Role.SYSTEM:
        raise ValidationFailed("role must be admin, seller or customer", field="role")
    if (role is Role.SELLER) != (seller_id is not None):
        raise ValidationFailed("a seller key needs --seller-id, and only a seller key has one",
                               field="seller_id")
    if (role is Role.CUSTOMER) != (customer_id is not None):
        raise ValidationFailed("a customer key needs --customer-id, and only a customer key "
                               "has one", field="customer_id")
    for value, field in ((seller_id, "seller_id"), (customer_id, "customer_id")):
        if value is not None:
            require_text(value, field, max_length=100)
    prefix = secrets.token_hex(4)
    token = f"ptk_{prefix}_{secrets.token_urlsafe(32)}"
    now = uow.now()
    row = {"id": new_id("key"), "prefix": prefix, "secret_hash": _hash(token),
           "role": str(role), "seller_id": seller_id, "customer_id": customer_id,
           "name": name, "created_at": now, "revoked_at": None}
    uow.api_keys.insert(row)
    uow.records.audit(str(actor), "api_key.created", "api_key", row["id"], None,
                      {"role": str(role), "prefix": prefix, "seller_id": seller_id,
                       "customer_id": customer_id}, now)
    return _public(row), token


def authenticate(uow: UnitOfWork, token: str | None) -> tuple[Actor, dict]:
    """The actor a bearer token stands for; ``Unauthenticated`` if none, unknown or revoked."""
    if not token or not token.startswith("ptk_") or token.count("_") < 2:
        raise Unauthenticated("send 'Authorization: Bearer <key>' with a paytrack API key")
    prefix = token.split("_", 2)[1]
    row = uow.api_keys.by_prefix(prefix)
    if row is None or not hmac.compare_digest(row["secret_hash"], _hash(token)):
        raise Unauthenticated("this API key is not valid")
    if row["revoked_at"] is not None:
        raise Unauthenticated("this API key has been revoked")
    role = Role(row["role"])
    bound = {Role.SELLER: row["seller_id"], Role.CUSTOMER: row["customer_id"]}.get(role)
    return Actor(role, bound or row["id"]), _public(row)


def list_keys(uow: UnitOfWork) -> list[dict]:
    return [_public(r) for r in uow.api_keys.list()]


def revoke_key(uow: UnitOfWork, key_id: str, actor: Actor) -> dict:
    row = uow.api_keys.get(key_id)
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    now = uow.now()
    uow.api_keys.revoke(row["id"], now)
    uow.records.audit(str(actor), "api_key.revoked", "api_key", row["id"], None,
                      {"prefix": row["prefix"]}, now)
    return _public(uow.api_keys.get(row["id"]))


def revoke_key_by_reference(uow: UnitOfWork, reference: str, actor: Actor) -> dict:
    """Revoke the key named by the key itself, its prefix or its id. A key that was revoked
    already is a ``Conflict``: nothing changes, and whoever asked should know."""
    row = None
    if reference.startswith("ptk_"):  # the whole key: found by its hash, never echoed
        digest = _hash(reference)
        row = next((r for r in uow.api_keys.list()
                    if hmac.compare_digest(r["secret_hash"], digest)), None)
        named = "this key"
    else:
        named = f"API key {reference}"
    row = row or uow.api_keys.get(reference)
    if row is None:
        raise NotFound(f"{named} does not exist (give the key, its prefix or its id)")
    if row["revoked_at"] is not None:
        raise Conflict(f"API key {row['id']} (prefix {row['prefix']}) was already revoked "
                       f"on {row['revoked_at']:%Y-%m-%d %H:%M} UTC")
    return revoke_key(uow, row["id"], actor)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "secret_hash"}
