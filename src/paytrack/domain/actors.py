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


class DashboardUser(TypedDict):
    """Someone who signs in to the dashboard with a username and password (``paytrack users
    create``): an admin, or bound to one seller."""

    id: str
    username: str  # as typed at creation; compared case-insensitively
    role: str  # "admin" or "seller"
    seller_id: str | None
    created_at: datetime
    disabled_at: datetime | None


class StoredDashboardUser(DashboardUser):
    username_key: str  # the username folded to compare, unique
    password_hash: str  # argon2id, with its salt and parameters


class DashboardSession(TypedDict):
    """A signed-in browser: the cookie carries a random token (signed); only its SHA-256 is
    stored. It stands for a dashboard user or an API key, and ends at ``expires_at`` or at
    sign-out, or when that user is disabled or that key revoked."""

    token_hash: str
    user_id: str | None
    api_key_id: str | None
    role: str
    seller_id: str | None
    csrf_token: str  # every form posts it back
    created_at: datetime
    expires_at: datetime
