"""A subscription following its payments: activation, renewal, upgrade, and what a lost
first payment leaves (``incomplete_expired``). Called by every payment move
(``fulfilment.payment_moved``), with the payment row already locked: the subscription row is
locked second, always in that order.

    the payment it waits for (``open_payment_id``) ...
    succeeded, kind subscription, pending_payment  -> active, first period from now
    succeeded, kind renewal, active or past_due    -> active, period extended by one
    succeeded, kind upgrade, active or past_due    -> item and fee switched
    failed or canceled, kind subscription          -> incomplete_expired
    failed or canceled, renewal or upgrade         -> waits for nothing (an upgrade dropped)

A payment that succeeds when the subscription no longer waits for it (it ended, or the
payment was replaced) changes nothing: the payment is flagged for review by its own history,
and the subscription's history notes it. Refunds and disputes move money only: as at
Stripe, a refund does not cancel a subscription (cancelling is a separate call).

This module is below payments, refunds and disputes (they call it): it imports none of
them. ``ending`` lets a flow that ends a subscription (cancel, expiry) cancel its open
payment first and have this hook end the subscription in the same step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.events import EventType
from paytrack.domain.payments import Payment
from paytrack.domain.states import CAPTURABLE_STATES, PaymentStatus
from paytrack.domain.subscriptions import (
    ENDED,
    SERVICE_ON,
    Subscription,
    SubscriptionPaymentKind,
    SubscriptionStatus,
    add_months,
    period_end,
)
from paytrack.services.events import emit

S = SubscriptionStatus
K = SubscriptionPaymentKind
CAPTURED_FROM = frozenset(map(str, CAPTURABLE_STATES))
LOST = frozenset({str(PaymentStatus.FAILED), str(PaymentStatus.CANCELED)})
RUNNING = frozenset(map(str, SERVICE_ON))
NOT_ENDED = frozenset(str(s) for s in S if s not in ENDED)
END_EVENTS = {S.CANCELED: EventType.SUBSCRIPTION_CANCELED,
              S.EXPIRED: EventType.SUBSCRIPTION_EXPIRED,
              S.INCOMPLETE_EXPIRED: EventType.SUBSCRIPTION_EXPIRED}


@dataclass
class Ending:
    """A subscription being ended (``target``) by the flow that cancels its open payment."""

    subscription_id: str
    target: SubscriptionStatus
    reason: str | None
    done: Subscription | None = None  # set when this hook ended it


_ending: ContextVar[Ending | None] = ContextVar("subscription_ending", default=None)


@contextmanager
def ending(subscription_id: str, target: SubscriptionStatus,
           reason: str | None) -> Iterator[Ending]:
    """While the open payment of ``subscription_id`` is canceled in this block, losing it
    ends the subscription as ``target`` (not as a lost first payment would)."""
    state = Ending(subscription_id, target, reason)
    token = _ending.set(state)
    try:
        yield state
    finally:
        _ending.reset(token)


def follow_payment(uow: UnitOfWork, payment: Payment, actor: Actor, now: datetime) -> None:
    """Lock the subscription ``payment`` pays for and apply the payment's move to it."""
    subscription_id = payment["subscription_id"]
    assert subscription_id is not None
    sub = uow.subscriptions.lock(subscription_id)
    if sub is None:
        return
    status, previous = payment["status"], payment["previous_status"]
    captured = status == PaymentStatus.SUCCEEDED and previous in CAPTURED_FROM
    if captured:
        _paid(uow, sub, payment, actor, now)
    elif status in LOST and sub["open_payment_id"] == payment["id"]:
        _lost(uow, sub, payment, actor, now)
    # Processing, refunds, disputes: money only.


def _paid(uow: UnitOfWork, sub: Subscription, payment: Payment, actor: Actor,
          now: datetime) -> None:
    kind, status = payment["kind"], sub["status"]
    if sub["open_payment_id"] != payment["id"] or status not in RUNNING | {S.PENDING_PAYMENT}:
        note(uow, sub, actor, f"payment {payment['id']} succeeded when the subscription no "
                              "longer waited for it: review", now)
        return
    clear: dict[str, Any] = {"open_payment_id": None, "updated_at": now}
    if kind == K.SUBSCRIPTION and status == S.PENDING_PAYMENT:
        start = payment["succeeded_at"] or now
        moved = _move(uow, sub, S.ACTIVE, {
            **clear, "current_period_start": start, "activated_at": start,
            "current_period_end": add_months(start, sub["period_months"])})
        record(uow, moved, actor, f"payment {payment['id']} succeeded", now)
        emit(uow, EventType.SUBSCRIPTION_ACTIVATED, "subscription", moved)
    elif kind == K.RENEWAL and status in RUNNING:
        end = sub["current_period_end"]
        assert end is not None, "a running subscription has its period"
        moved = _move(uow, sub, S.ACTIVE, {
            **clear, "current_period_start": end,
            "current_period_end": period_end(sub, sub["renewals"] + 1),
            "renewals": sub["renewals"] + 1})
        record(uow, moved, actor, f"renewal {payment['id']} succeeded", now)
        emit(uow, EventType.SUBSCRIPTION_RENEWED, "subscription", moved)
    elif kind == K.UPGRADE and status in RUNNING and sub["upgrade_item_id"] is not None:
        moved = _move(uow, sub, S(status), {
            **clear, "item_id": sub["upgrade_item_id"], "fee": sub["upgrade_fee"],
            "upgrade_item_id": None, "upgrade_fee": None})
        record(uow, moved, actor, f"upgrade {payment['id']} succeeded: now "
                                  f"{moved['item_id']} at {moved['fee']}", now)
        emit(uow, EventType.SUBSCRIPTION_UPGRADED, "subscription", moved)
    else:  # a kind this subscription did not ask for in this state
        uow.subscriptions.update(sub["id"], clear)
        note(uow, sub, actor, f"payment {payment['id']} ({kind}) succeeded but does not "
                              f"apply to a {status} subscription: review", now)


def _lost(uow: UnitOfWork, sub: Subscription, payment: Payment, actor: Actor,
          now: datetime) -> None:
    why = f"payment {payment['id']} {payment['status']}"
    state = _ending.get()
    if state is not None and state.subscription_id == sub["id"]:
        state.done = end_now(uow, sub, state.target, actor, state.reason or why, now)
    elif payment["kind"] == K.SUBSCRIPTION and sub["status"] == S.PENDING_PAYMENT:
        end_now(uow, sub, S.INCOMPLETE_EXPIRED, actor, why, now)
    else:  # a renewal or an upgrade not paid: the subscription goes on as it was
        uow.subscriptions.update(sub["id"], {"open_payment_id": None, "upgrade_item_id": None,
                                             "upgrade_fee": None, "updated_at": now})
        note(uow, sub, actor, f"{payment['kind']} {why}", now)


def end_now(uow: UnitOfWork, sub: Subscription, target: SubscriptionStatus, actor: Actor,
            reason: str | None, now: datetime) -> Subscription:
    """End a subscription the caller has locked (or just moved from waiting for a
    payment): recorded and announced."""
    moved = _move(uow, sub, target, _ended_values(target, reason, now))
    record(uow, moved, actor, reason, now)
    emit(uow, END_EVENTS[target], "subscription", moved)
    return moved


def end_unpaid(uow: UnitOfWork, subscription_id: str, sources: frozenset[str],
               target: SubscriptionStatus, actor: Actor, reason: str | None, now: datetime,
               *, due_by: datetime | None = None) -> Subscription | None:
    """End a subscription that waits for no payment, in one guarded UPDATE (None if it is
    not in ``sources``, waits for a payment, or, with ``due_by``, its period ended after
    that)."""
    moved = uow.subscriptions.transition(subscription_id, sources, str(target),
                                         _ended_values(target, reason, now),
                                         no_open_payment=True, due_by=due_by)
    if moved is None:
        return None
    record(uow, moved, actor, reason, now)
    emit(uow, END_EVENTS[target], "subscription", moved)
    return moved


def _ended_values(target: SubscriptionStatus, reason: str | None,
                  now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"ended_at": now, "updated_at": now, "open_payment_id": None,
                              "upgrade_item_id": None, "upgrade_fee": None}
    if target == S.CANCELED:
        values.update(canceled_at=now, cancel_reason=reason)
    return values


def _move(uow: UnitOfWork, sub: Subscription, target: SubscriptionStatus,
          values: dict[str, Any]) -> Subscription:
    moved = uow.subscriptions.transition(sub["id"], {sub["status"]}, str(target), values)
    assert moved is not None, "the row is locked: it is where it was read"
    return moved


def record(uow: UnitOfWork, sub: Subscription, actor: Actor, reason: str | None,
           now: datetime) -> None:
    """The status history and the audit record of a move ``sub`` just made."""
    previous, target = sub["previous_status"], sub["status"]
    uow.records.status_event("subscription", sub["id"], previous, target, str(actor), reason,
                             now)
    uow.records.audit(str(actor), f"subscription.{target}", "subscription", sub["id"],
                      {"status": previous}, audit_view(sub), now)


def note(uow: UnitOfWork, sub: Subscription, actor: Actor, text: str, now: datetime) -> None:
    """A line in the subscription's history that is no move (from and to its status)."""
    uow.records.status_event("subscription", sub["id"], sub["status"], sub["status"],
                             str(actor), text[:500], now)


def audit_view(sub: Subscription) -> dict[str, Any]:
    end = sub["current_period_end"]
    return {"status": sub["status"], "item_id": sub["item_id"], "fee": sub["fee"],
            "currency": sub["currency"], "renewals": sub["renewals"],
            "open_payment_id": sub["open_payment_id"],
            "current_period_end": None if end is None else end.isoformat(),
            "cancel_at_period_end": sub["cancel_at_period_end"]}
