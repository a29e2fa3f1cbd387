"""Subscriptions: a customer's service paid per period (``domain/subscriptions.py``).

    create     pending_payment, with its first payment (kind subscription) at the gateway
    renew      a renewal payment for the current fee (one open payment at a time)
    upgrade    to a dearer item of the same seller: a payment for the prorated difference,
               or at once when nothing of the period is left (downgrades: not supported)
    cancel     now (its open payment canceled first), or at the end of the period
    confirm    an admin captures the open payment (as a gateway's webhook would)

What a payment's success or loss does to its subscription is ``subscription_periods``'s,
called from the payment's own move. ``advance_subscriptions`` is the background job: an
ended period makes an active subscription past_due (or canceled, when asked), and past_due
beyond the grace period expires.

Lock order: payment rows first, then the subscription row. A flow that ends a subscription
cancels its open payment first (which, through the hook, locks and ends the subscription),
and moves the subscription itself only when it waits for no payment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from paytrack.adapters.storage.uow import Storage, UnitOfWork
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import (
    Conflict,
    InvalidAmount,
    InvalidTransition,
    ItemSellerMismatch,
    NotFound,
    ValidationFailed,
)
from paytrack.domain.events import EventType
from paytrack.domain.ids import new_id
from paytrack.domain.limits import check_amount
from paytrack.domain.money import validate_currency
from paytrack.domain.payments import Payment
from paytrack.domain.states import OPEN_STATES
from paytrack.domain.subscriptions import (
    MAX_PERIOD_MONTHS,
    SUBSCRIPTION_TRANSITIONS,
    Subscription,
    SubscriptionPaymentKind,
    SubscriptionStatus,
    upgrade_cost,
)
from paytrack.services import payments, permissions
from paytrack.services import subscription_periods as periods
from paytrack.services._common import fetch, require_text
from paytrack.services.events import emit
from paytrack.services.permissions import Action

S = SubscriptionStatus
K = SubscriptionPaymentKind
RUNNING = frozenset({str(S.ACTIVE), str(S.PAST_DUE)})
CANCELABLE = frozenset({str(S.PENDING_PAYMENT), str(S.ACTIVE), str(S.PAST_DUE)})
OPEN_PAYMENT = frozenset(map(str, OPEN_STATES))
JOB = Actor(Role.SYSTEM, "subscriptions")
BATCH = 100
MAX_ATTEMPTS = 3  # an ending flow re-reads this often when its open payment moved meanwhile


@dataclass(frozen=True, slots=True)
class CreateSubscription:
    customer_id: str
    seller_id: str
    item_id: str
    period_months: int
    fee: int
    currency: str
    method: str = "card"
    gateway: str = "manual"
    item_type: str = "service"
    return_url: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def create_subscription(uow: UnitOfWork, cmd: CreateSubscription,
                        actor: Actor) -> tuple[Subscription, Payment]:
    """The subscription, pending_payment, and its first payment (at a configured gateway
    with its checkout: ``payment_url`` until ``payment_url_expires_at``)."""
    permissions.check(actor, Action.CREATE_SUBSCRIPTION)
    _check_period(cmd.period_months)
    _check_fee(cmd.fee, "fee")
    currency = validate_currency(cmd.currency)
    now = uow.now()
    sub_id = new_id("sub")
    payment = payments.create_payment(uow, payments.CreatePayment(
        customer_id=cmd.customer_id, seller_id=cmd.seller_id, item_type=cmd.item_type,
        item_id=cmd.item_id, currency=currency, subtotal=cmd.fee, method=cmd.method,
        gateway=cmd.gateway, kind=str(K.SUBSCRIPTION),
        description=cmd.description or _describe(cmd.item_id, cmd.period_months),
        return_url=cmd.return_url, subscription_id=sub_id), actor)
    sub: Subscription = {
        "id": sub_id, "customer_id": payment["customer_id"],
        "seller_id": payment["seller_id"], "item_type": payment["item_type"],
        "item_id": payment["item_id"], "currency": currency, "fee": cmd.fee,
        "period_months": cmd.period_months, "gateway": payment["gateway"],
        "method": payment["method"], "status": str(S.PENDING_PAYMENT),
        "previous_status": None, "current_period_start": None, "current_period_end": None,
        "cancel_at_period_end": False, "open_payment_id": payment["id"],
        "upgrade_item_id": None, "upgrade_fee": None, "renewals": 0,
        "description": cmd.description, "metadata": cmd.metadata or {},
        "created_at": now, "updated_at": now, "activated_at": None, "canceled_at": None,
        "cancel_reason": None, "ended_at": None,
    }
    uow.subscriptions.insert(sub)
    uow.records.status_event("subscription", sub_id, None, sub["status"], str(actor), None,
                             now)
    uow.records.audit(str(actor), "subscription.created", "subscription", sub_id, None,
                      periods.audit_view(sub), now)
    return sub, payment


def get_subscription(uow: UnitOfWork, subscription_id: str, actor: Actor) -> Subscription:
    sub = fetch(uow.subscriptions, "subscription", subscription_id)
    permissions.check_object(actor, Action.READ_SUBSCRIPTION, sub,
                             f"subscription {subscription_id}")
    return sub


def list_subscriptions(uow: UnitOfWork, actor: Actor, *, limit: int = 20,
                       cursor: str | None = None, status: str | None = None,
                       customer_id: str | None = None, seller_id: str | None = None,
                       item_id: str | None = None) -> list[Subscription]:
    """Newest first; a customer sees its own, a seller those to its items."""
    filters = {"status": status, "customer_id": customer_id, "seller_id": seller_id,
               "item_id": item_id}
    for name, value in permissions.list_scope(actor, Action.READ_SUBSCRIPTION).items():
        if filters[name] not in (None, value):
            return []
        filters[name] = value
    if status is not None and status not in set(S):
        raise ValidationFailed(f"status {status!r} is not one of: {', '.join(S)}",
                               field="status")
    return uow.subscriptions.list(filters=filters, limit=limit, before_id=cursor)


def subscription_payments(uow: UnitOfWork, subscription_id: str, actor: Actor, *,
                          limit: int = 20, cursor: str | None = None) -> list[Payment]:
    """Its payments (first, renewals, upgrades), newest first."""
    get_subscription(uow, subscription_id, actor)
    filters = {"subscription_id": subscription_id,
               **permissions.list_scope(actor, Action.READ_PAYMENT)}
    return uow.payments.list(filters=filters, limit=limit, before_id=cursor)


def customer_payments(uow: UnitOfWork, customer_id: str, actor: Actor, *, limit: int = 20,
                      cursor: str | None = None) -> list[Payment]:
    """A customer's payment history, newest first: to the customer itself all of it, to a
    seller only its own sales, to an admin everything; another customer's is a 404."""
    scope = permissions.list_scope(actor, Action.READ_PAYMENT)
    if scope.get("customer_id", customer_id) != customer_id:
        raise NotFound(f"customer {customer_id} not found")
    return uow.payments.list(filters={**scope, "customer_id": customer_id}, limit=limit,
                             before_id=cursor)


def renew_subscription(uow: UnitOfWork, subscription_id: str,
                       actor: Actor) -> tuple[Subscription, Payment]:
    """A renewal payment for the current fee; the period is extended when it succeeds. One
    open payment at a time: another is a 409 naming it (two racing renewals make one)."""
    permissions.check(actor, Action.RENEW_SUBSCRIPTION)
    sub = fetch(uow.subscriptions, "subscription", subscription_id)
    permissions.check_object(actor, Action.RENEW_SUBSCRIPTION, sub,
                             f"subscription {subscription_id}")
    _check_can_pay(sub, "renew")
    if sub["cancel_at_period_end"]:
        raise InvalidTransition(f"subscription {subscription_id} is to be canceled at the "
                                "end of its period: it is not renewed", current=sub["status"])
    payment = _new_payment(uow, sub, actor, K.RENEWAL, sub["fee"], sub["item_id"],
                           f"Renewal: {_describe(sub['item_id'], sub['period_months'])}")
    now = uow.now()
    attached = _attach(uow, sub, payment, {"updated_at": now})
    periods.note(uow, attached, actor, f"renewal {payment['id']} opened", now)
    return attached, payment


def upgrade_subscription(uow: UnitOfWork, subscription_id: str, actor: Actor, *,
                         item_id: str, fee: int) -> tuple[Subscription, Payment | None]:
    """Switch an active subscription to ``item_id`` (the same seller's) at ``fee`` (more
    than the current fee: downgrades are not supported). It costs ``prorate`` of the
    difference for the rest of the period: a payment that switches the item when it
    succeeds, or, with nothing of the period left, a switch at once (no payment)."""
    permissions.check(actor, Action.UPGRADE_SUBSCRIPTION)
    sub = fetch(uow.subscriptions, "subscription", subscription_id)
    permissions.check_object(actor, Action.UPGRADE_SUBSCRIPTION, sub,
                             f"subscription {subscription_id}")
    item_id = require_text(item_id, "item_id", max_length=100)
    _check_fee(fee, "fee")
    if sub["status"] != S.ACTIVE:
        raise InvalidTransition(f"subscription {subscription_id} is {sub['status']}; only an "
                                "active subscription is upgraded", current=sub["status"])
    _check_no_open_payment(sub)
    if item_id == sub["item_id"]:
        raise ValidationFailed(f"subscription {subscription_id} is already to {item_id}",
                               field="item_id")
    if fee <= sub["fee"]:
        raise InvalidAmount(f"fee {fee} is not above the current fee {sub['fee']}: an "
                            "upgrade costs more (downgrades are not supported)", field="fee")
    _check_item(uow, sub, item_id)
    now = uow.now()
    amount = upgrade_cost(sub, fee, now)
    if amount == 0:  # nothing of the period is left: the new fee applies from the next
        moved = uow.subscriptions.transition(
            sub["id"], {str(S.ACTIVE)}, str(S.ACTIVE),
            {"item_id": item_id, "fee": fee, "updated_at": now}, no_open_payment=True)
        if moved is None:
            raise _refusal(uow, subscription_id, "upgrade")
        periods.record(uow, moved, actor, f"upgraded to {item_id} at {fee}: nothing of the "
                                          "period was left to pay", now)
        emit(uow, EventType.SUBSCRIPTION_UPGRADED, "subscription", moved)
        return moved, None
    payment = _new_payment(uow, sub, actor, K.UPGRADE, amount, item_id,
                           f"Upgrade to {item_id} for the rest of the period")
    attached = _attach(uow, sub, payment, {"upgrade_item_id": item_id, "upgrade_fee": fee,
                                           "updated_at": now}, sources=frozenset({str(S.ACTIVE)}))
    periods.note(uow, attached, actor, f"upgrade {payment['id']} opened: to {item_id} at "
                                       f"{fee}, {amount} now", now)
    return attached, payment


def cancel_subscription(uow: UnitOfWork, subscription_id: str, actor: Actor, *,
                        at_period_end: bool = False,
                        reason: str | None = None) -> Subscription:
    """Now: -> canceled, its open payment canceled first. At the period's end: flagged;
    it stays active until the job ends it then."""
    permissions.check(actor, Action.CANCEL_SUBSCRIPTION)
    sub = fetch(uow.subscriptions, "subscription", subscription_id)
    permissions.check_object(actor, Action.CANCEL_SUBSCRIPTION, sub,
                             f"subscription {subscription_id}")
    now = uow.now()
    if at_period_end:
        return _cancel_at_period_end(uow, sub, actor, reason, now)
    ended = end_subscription(uow, subscription_id, CANCELABLE, S.CANCELED, actor, reason,
                             now, payer=actor)
    if ended is None:
        raise _refusal(uow, subscription_id, "cancel")
    return ended


def confirm_subscription(uow: UnitOfWork, subscription_id: str, actor: Actor, *,
                         gateway_fee: int = 0, gateway_payment_id: str | None = None
                         ) -> tuple[Subscription, Payment]:
    """Capture the payment the subscription waits for (as the gateway's confirmation
    would): activated, renewed or upgraded in the same transaction."""
    permissions.check(actor, Action.CAPTURE_PAYMENT)
    sub = fetch(uow.subscriptions, "subscription", subscription_id)
    if sub["open_payment_id"] is None:
        raise InvalidTransition(f"subscription {subscription_id} is {sub['status']} and "
                                "waits for no payment", current=sub["status"])
    payment = payments.capture_payment(uow, sub["open_payment_id"], actor,
                                       gateway_fee=gateway_fee,
                                       gateway_payment_id=gateway_payment_id)
    if payment["previous_status"] not in OPEN_PAYMENT:
        # Canceled or lost since it was read: no late capture of money nobody took (the
        # whole transaction is rolled back).
        current = fetch(uow.subscriptions, "subscription", subscription_id)
        raise InvalidTransition(f"subscription {subscription_id} is {current['status']} and "
                                f"no longer waits for payment {payment['id']} "
                                f"({payment['previous_status']})", current=current["status"])
    return fetch(uow.subscriptions, "subscription", subscription_id), payment


def end_subscription(uow: UnitOfWork, subscription_id: str, sources: frozenset[str],
                     target: SubscriptionStatus, actor: Actor, reason: str | None,
                     now: datetime, *, payer: Actor = JOB,
                     due_by: datetime | None = None) -> Subscription | None:
    """Cancel its open payment (as ``payer``), which ends it through the payment's hook;
    or, waiting for none, end it in one guarded move. None if it is not in ``sources`` (or
    its period ended after ``due_by``): another writer moved it first."""
    for _ in range(MAX_ATTEMPTS):
        sub = fetch(uow.subscriptions, "subscription", subscription_id)
        if sub["status"] not in sources:
            return None
        if due_by is not None and (sub["current_period_end"] is None
                                   or sub["current_period_end"] > due_by):
            return None
        open_id = sub["open_payment_id"]
        if open_id is None:
            moved = periods.end_unpaid(uow, subscription_id, sources, target, actor, reason,
                                       now, due_by=due_by)
            if moved is not None:
                return moved
            continue  # it got a payment, or moved: read it again
        with periods.ending(subscription_id, target, reason) as state:
            try:
                payments.cancel_payment(uow, open_id, payer,
                                        reason=reason or f"subscription {target}")
            except InvalidTransition:
                # Paid or lost meanwhile (the hook moved the subscription): read it again,
                # unless it still waits for this very payment (not this actor's to cancel).
                if fetch(uow.subscriptions, "subscription",
                         subscription_id)["open_payment_id"] == open_id:
                    raise
                continue
        if state.done is not None:
            return state.done
    raise Conflict(f"subscription {subscription_id} kept changing; try again")


def advance_subscriptions(storage: Storage, now: datetime | None = None,
                          limit: int = BATCH) -> int:
    """The background job, in short transactions: active subscriptions whose period ended
    -> past_due (or canceled, when so asked); past_due beyond the grace period -> expired,
    their open renewal canceled first. Every move is guarded, so a second worker's attempt
    is a no-op. Returns how many moved."""
    moved = 0
    with storage.unit_of_work() as uow:
        now = now or uow.now()
        grace = timedelta(days=uow.policy.subscription_grace_days)
        ending = uow.subscriptions.due(str(S.ACTIVE), now, limit, cancel_at_period_end=True)
        expiring = uow.subscriptions.due(str(S.PAST_DUE), now - grace, limit)
        lapsed = uow.subscriptions.due(str(S.ACTIVE), now, limit, cancel_at_period_end=False)
        past_due = uow.subscriptions.mark_past_due([s["id"] for s in lapsed], now)
        for sub in past_due:
            periods.record(uow, sub, JOB, "the period ended unpaid", now)
        uow.commit()
    moved += len(past_due)
    for sub in past_due:  # an upgrade still unpaid was priced for the period that ended
        if sub["upgrade_item_id"] is not None and sub["open_payment_id"] is not None:
            _drop_upgrade(storage, sub["open_payment_id"])
    for sub in ending:
        moved += _end_one(storage, sub["id"], {str(S.ACTIVE)}, S.CANCELED,
                          "canceled at the end of its period", now, now)
    for sub in expiring:
        moved += _end_one(storage, sub["id"], {str(S.PAST_DUE)}, S.EXPIRED,
                          f"unpaid {grace.days} days after its period ended", now, now - grace)
    return moved


def _drop_upgrade(storage: Storage, payment_id: str) -> None:
    """Cancel an upgrade's payment (the hook then drops the upgrade); one paid or canceled
    meanwhile is left as it is."""
    try:
        with storage.unit_of_work() as uow:
            payments.cancel_payment(uow, payment_id, JOB,
                                    reason="the period the upgrade was priced for ended")
            uow.commit()
    except InvalidTransition:
        pass


def _end_one(storage: Storage, subscription_id: str, sources: set[str],
             target: SubscriptionStatus, reason: str, now: datetime, due_by: datetime) -> int:
    with storage.unit_of_work() as uow:
        ended = end_subscription(uow, subscription_id, frozenset(sources), target, JOB,
                                 reason, now, due_by=due_by)
        uow.commit()
    return 0 if ended is None else 1


def _cancel_at_period_end(uow: UnitOfWork, sub: Subscription, actor: Actor,
                          reason: str | None, now: datetime) -> Subscription:
    if sub["status"] != S.ACTIVE:
        raise InvalidTransition(
            f"subscription {sub['id']} is {sub['status']}; only an active subscription is "
            "canceled at the end of its period (cancel now instead)", current=sub["status"])
    if sub["cancel_at_period_end"]:
        return sub
    flagged = uow.subscriptions.transition(
        sub["id"], {str(S.ACTIVE)}, str(S.ACTIVE),
        {"cancel_at_period_end": True, "cancel_reason": reason, "updated_at": now})
    if flagged is None:
        raise _refusal(uow, sub["id"], "cancel")
    periods.note(uow, flagged, actor, reason or "to be canceled at the end of its period", now)
    uow.records.audit(str(actor), "subscription.cancel_at_period_end", "subscription",
                      sub["id"], {"cancel_at_period_end": False},
                      periods.audit_view(flagged), now)
    return flagged


def _new_payment(uow: UnitOfWork, sub: Subscription, actor: Actor,
                 kind: SubscriptionPaymentKind, amount: int, item_id: str,
                 description: str) -> Payment:
    return payments.create_payment(uow, payments.CreatePayment(
        customer_id=sub["customer_id"], seller_id=sub["seller_id"],
        item_type=sub["item_type"], item_id=item_id, currency=sub["currency"],
        subtotal=amount, method=sub["method"], gateway=sub["gateway"], kind=str(kind),
        description=description, subscription_id=sub["id"]), _creator(actor))


def _attach(uow: UnitOfWork, sub: Subscription, payment: Payment, values: dict[str, Any],
            sources: frozenset[str] = RUNNING) -> Subscription:
    """Make ``payment`` the one ``sub`` waits for; refused (and everything rolled back) if
    it waits for another, or moved, since it was read."""
    attached = uow.subscriptions.attach_payment(sub["id"], payment["id"], sources, values)
    if attached is None:
        current = fetch(uow.subscriptions, "subscription", sub["id"])
        _check_no_open_payment(current)
        raise _refusal(uow, sub["id"], "pay")
    return attached


def _check_can_pay(sub: Subscription, what: str) -> None:
    if sub["status"] not in RUNNING:
        raise InvalidTransition(f"subscription {sub['id']} is {sub['status']}; only an active "
                                f"or past_due subscription may {what}", current=sub["status"])
    _check_no_open_payment(sub)


def _check_no_open_payment(sub: Subscription) -> None:
    if sub["open_payment_id"] is not None:
        raise Conflict(f"subscription {sub['id']} already waits for payment "
                       f"{sub['open_payment_id']}: pay or cancel it first",
                       payment_id=sub["open_payment_id"])


def _refusal(uow: UnitOfWork, subscription_id: str, what: str) -> InvalidTransition:
    current = fetch(uow.subscriptions, "subscription", subscription_id)["status"]
    allowed = SUBSCRIPTION_TRANSITIONS[S(current)]
    return InvalidTransition(f"subscription {subscription_id} is {current}; it cannot {what}"
                             f"{'' if allowed else ' (it has ended)'}", current=current)


def _check_item(uow: UnitOfWork, sub: Subscription, item_id: str) -> None:
    found = uow.parties.lookup(sub["customer_id"], sub["seller_id"], sub["item_type"], item_id)
    owner = found["item_seller"]
    if owner is None:
        owner = uow.parties.ensure_item(sub["item_type"], item_id, sub["seller_id"], uow.now())
    if owner not in (None, sub["seller_id"]):
        raise ItemSellerMismatch(f"{sub['item_type']} {item_id} belongs to seller {owner}, "
                                 f"not {sub['seller_id']}: an upgrade stays with the seller",
                                 field="item_id")


def _check_period(months: object) -> None:
    if isinstance(months, bool) or not isinstance(months, int) \
            or not 1 <= months <= MAX_PERIOD_MONTHS:
        raise ValidationFailed(f"period_months must be a whole number of months from 1 to "
                               f"{MAX_PERIOD_MONTHS}", field="period_months")


def _check_fee(fee: object, name: str) -> None:
    if isinstance(fee, bool) or not isinstance(fee, int) or fee <= 0:
        raise InvalidAmount(f"{name} must be a positive integer of minor units", field=name)
    check_amount(fee, name)


def _creator(actor: Actor) -> Actor:
    """Who creates a subscription's payment: an admin as itself; for a customer renewing
    its own, the subscription service (a customer may not create payments)."""
    return actor if actor.role in (Role.ADMIN, Role.SYSTEM) else JOB


def _describe(item_id: str, months: int) -> str:
    return f"{item_id}, {months} month{'s' if months != 1 else ''}"
