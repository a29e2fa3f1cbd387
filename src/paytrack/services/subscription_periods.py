"""A subscription following its payments: activation, renewal, upgrade, and what a lost
first payment leaves (``incomplete_expired``)."""

from __future__ import annotations

from datetime import datetime

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.payments import Payment


def follow_payment(uow: UnitOfWork, payment: Payment, actor: Actor, now: datetime) -> None:
    """Lock the subscription ``payment`` pays for and apply the payment's move to it."""
    raise NotImplementedError("subscriptions: to be written")
