"""What follows a payment's move: the status of the order it pays, the period of the
subscription it pays for. Called by every service that moves a payment (payments, refunds,
disputes), in the same transaction, after the payment row moved (payment rows are locked
before order and subscription rows, always in that order)."""

from __future__ import annotations

from datetime import datetime

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.payments import Payment
from paytrack.services import order_status, subscription_periods


def payment_moved(uow: UnitOfWork, payment: Payment, actor: Actor, now: datetime) -> None:
    """A plain payment (neither an order's nor a subscription's) costs nothing here."""
    if payment["order_ref"] is not None:
        order_status.follow_payment(uow, payment, actor, now)
    if payment["subscription_id"] is not None:
        subscription_periods.follow_payment(uow, payment, actor, now)
