"""Who is acting: recorded on every status change and audit record. What an actor may do
is ``paytrack.services.permissions``' question."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
