"""Who is acting: recorded on every status change and audit record."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from paytrack.domain.errors import Forbidden


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

    def require_admin(self, action: str) -> None:
        if self.role not in (Role.ADMIN, Role.SYSTEM):
            raise Forbidden(f"only an admin may {action}")


SYSTEM = Actor(Role.SYSTEM)
