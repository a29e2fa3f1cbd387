"""Who is acting: recorded on every status change and audit record; the API keys actors
act with, and the audit records of what they did. What an actor may do is
``paytrack.services.permissions``' question."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict


class Role(StrEnum):
    ADMIN = "admin"
    SELLER = "seller"
    CUSTOMER = "customer"
    SYSTEM = "system"  # webhooks, workers, the demo loader


@dataclass(frozen=True, slots=True)
class Actor:
    role: Role
    id: str | None = None  # the seller or customer id a key is bound to; the key id for admins

    def __str__(self) -> str:
        return f"{self.role}:{self.id}" if self.id else str(self.role)


SYSTEM = Actor(Role.SYSTEM)


class ApiKey(TypedDict):
    """An API key as shown: never its secret. ``role`` is a ``Role`` value; a seller key is
    bound to ``seller_id``, a customer key to ``customer_id``."""

    id: str
    prefix: str  # shown in clear to tell keys apart
    role: str
    seller_id: str | None
    customer_id: str | None
    name: str | None
    created_at: datetime
    revoked_at: datetime | None


class StoredApiKey(ApiKey):
    """An API key as stored: with the SHA-256 of the whole key."""

    secret_hash: str


class AuditRecord(TypedDict):
    """Who did what to which object, with what it looked like before and after (the parts
    that matter, as JSON)."""

    id: int
    created_at: datetime
    actor: str  # the recorded actor ("admin:key_01…", "system")
    action: str  # "payment.succeeded", "refund.requested", "api_key.revoked" …
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
