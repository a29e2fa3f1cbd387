"""API keys: random tokens shown once, stored as a SHA-256 hash with a clear prefix.

A key looks like ``ptk_<prefix>_<secret>``. The prefix finds the row (it is unique); the
hash of the whole key is compared in constant time. Keys carry 32 random bytes, so a fast
hash is enough (there is nothing to brute-force as there would be with a password).

The prefix is 96 random bits (24 hex digits): two keys share one with a chance of about
n² / 2^97, one in 10^17 after a million keys. Should it happen all the same, the unique
constraint refuses the second and another prefix is drawn. Keys made before had 32-bit
prefixes (8 hex digits, which collide somewhere in the tens of thousands of keys); they
keep working, as the prefix is read from the key itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import cast

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor, ApiKey, Role, StoredApiKey
from paytrack.domain.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from paytrack.domain.ids import new_id
from paytrack.services import permissions
from paytrack.services._common import require_text
from paytrack.services.permissions import Action

PREFIX_BYTES = 12
PREFIX_ATTEMPTS = 3  # drawing a taken 96-bit prefix even once is already astronomically rare


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(uow: UnitOfWork, role: str, actor: Actor, *, seller_id: str | None = None,
               customer_id: str | None = None, name: str | None = None) -> tuple[ApiKey, str]:
    """Returns the stored key (without secret) and the token, which is shown only now."""
    permissions.check(actor, Action.MANAGE_KEYS)
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
    now = uow.now()
    for _ in range(PREFIX_ATTEMPTS):
        prefix = secrets.token_hex(PREFIX_BYTES)
        token = f"ptk_{prefix}_{secrets.token_urlsafe(32)}"
        row: StoredApiKey = {"id": new_id("key"), "prefix": prefix, "secret_hash": _hash(token),
               "role": str(role), "seller_id": seller_id, "customer_id": customer_id,
               "name": name, "created_at": now, "revoked_at": None}
        if uow.api_keys.insert(row):
            break
    else:
        raise RuntimeError(f"{PREFIX_ATTEMPTS} random key prefixes in a row were taken: "
                           "is the random source broken?")
    uow.records.audit(str(actor), "api_key.created", "api_key", row["id"], None,
                      {"role": str(role), "prefix": prefix, "seller_id": seller_id,
                       "customer_id": customer_id}, now)
    return _public(row), token


def authenticate(uow: UnitOfWork, token: str | None) -> tuple[Actor, ApiKey]:
    """The actor a bearer token stands for; ``Unauthenticated`` if none, unknown or revoked."""
    if (not token or not token.startswith("ptk_") or token.count("_") < 2
            or not (token.isascii() and token.isprintable())):  # a NUL cannot be looked up
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


def list_keys(uow: UnitOfWork, actor: Actor) -> list[ApiKey]:
    permissions.check(actor, Action.MANAGE_KEYS)
    return [_public(r) for r in uow.api_keys.list()]


def revoke_key(uow: UnitOfWork, key_id: str, actor: Actor) -> ApiKey:
    permissions.check(actor, Action.MANAGE_KEYS)
    row = uow.api_keys.get(key_id)
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    now = uow.now()
    uow.api_keys.revoke(row["id"], now)
    uow.records.audit(str(actor), "api_key.revoked", "api_key", row["id"], None,
                      {"prefix": row["prefix"]}, now)
    revoked = uow.api_keys.get(row["id"])
    assert revoked is not None, "read above"
    return _public(revoked)


def revoke_key_by_reference(uow: UnitOfWork, reference: str, actor: Actor) -> ApiKey:
    """Revoke the key named by the key itself, its prefix or its id. A key that was revoked
    already is a ``Conflict``: nothing changes, and whoever asked should know."""
    permissions.check(actor, Action.MANAGE_KEYS)
    row: StoredApiKey | None = None
    if reference.startswith("ptk_") and reference.count("_") >= 2:
        # The whole key: found by its prefix, proven by its hash, never echoed.
        found = uow.api_keys.by_prefix(reference.split("_", 2)[1])
        if found is not None and hmac.compare_digest(found["secret_hash"], _hash(reference)):
            row = found
        named = "this key"
    else:
        named = f"API key {reference}"
        row = uow.api_keys.get(reference)
    if row is None:
        raise NotFound(f"{named} does not exist (give the key, its prefix or its id)")
    if row["revoked_at"] is not None:
        raise Conflict(f"API key {row['id']} (prefix {row['prefix']}) was already revoked "
                       f"on {row['revoked_at']:%Y-%m-%d %H:%M} UTC")
    return revoke_key(uow, row["id"], actor)


def _public(row: StoredApiKey) -> ApiKey:
    """The key without its secret's hash (a copy: the stored record keeps it)."""
    return cast(ApiKey, {k: v for k, v in row.items() if k != "secret_hash"})
