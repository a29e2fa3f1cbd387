"""An order's status, following its payments (``domain.orders.follow``)."""

from __future__ import annotations

from datetime import datetime

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.payments import Payment


def follow_payment(uow: UnitOfWork, payment: Payment, actor: Actor, now: datetime) -> None:
    """Lock the order ``payment`` pays, re-read its payments and move it where they call
    for (recorded, announced); nothing when they call for no move."""
    raise NotImplementedError("orders: to be written")
