"""Subscriptions: apply (a subscription and its first payment's checkout), confirm, renew,
upgrade, cancel; their payments. Answers to an application and a confirmation keep the
subscription seed's shapes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Query, Response

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.payments import Payment
from paytrack.domain.subscriptions import Subscription, SubscriptionStatus
from paytrack.entrypoints.api.deps import StorageDep, may
from paytrack.entrypoints.api.parameters import id_cursor
from paytrack.entrypoints.api.routes._shared import Limit, object_id, router
from paytrack.entrypoints.api.schemas import ID_EXPECTED, ID_PATTERN
from paytrack.entrypoints.api.subscription_schemas import (
    CancelSubscriptionIn,
    ConfirmSubscriptionIn,
    CreateSubscriptionIn,
    SubscriptionApplicationOut,
    SubscriptionConfirmationOut,
    SubscriptionPage,
    SubscriptionStatusName,
    SubscriptionView,
    UpgradeSubscriptionIn,
)
from paytrack.entrypoints.api.views import PaymentPage, present, present_page
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import subscriptions as svc
from paytrack.services.permissions import Action

api = router("/v1/subscriptions", "subscriptions")
SubscriptionId = Annotated[str, object_id("sub_01JD8X5R2C4E6G8J0K2M4N6P8Q")]
Reader = Annotated[Actor, may(Action.READ_SUBSCRIPTION)]
CONFIRMED = {"subscription": "activated", "renewal": "renewed", "upgrade": "upgraded"}


def _party(example: str) -> Any:
    return Query(pattern=ID_PATTERN, examples=[example], description=ID_EXPECTED)


def _application(actor: Actor, sub: Subscription, payment: Payment | None) -> dict[str, Any]:
    return {"status": sub["status"], "subscription": present(actor, "subscription", sub),
            "payment": None if payment is None else {
                "payment_id": payment["id"], "status": payment["status"],
                "payment_url": payment["payment_url"], "amount": payment["total"],
                "currency": payment["currency"],
                "expires_at": payment["payment_url_expires_at"]}}


@api.post("", status_code=201, response_model=SubscriptionApplicationOut)
def create_subscription(body: CreateSubscriptionIn, write: WriteDep,
                        actor: Annotated[Actor, may(Action.CREATE_SUBSCRIPTION)]) -> Response:
    """A customer's subscription to a service, `pending_payment` (inactive) until its first
    payment succeeds: the answer carries that payment, at a configured gateway with its
    `payment_url` and expiry (the seed's premium membership application)."""
    cmd = svc.CreateSubscription(**body.model_dump())
    return write.run(lambda uow: _application(actor, *svc.create_subscription(uow, cmd, actor)))


@api.get("", response_model=SubscriptionPage)
def list_subscriptions(storage: StorageDep, actor: Reader,
                       cursor: Annotated[str | None, id_cursor("sub")], limit: Limit = 20,
                       status: Annotated[SubscriptionStatusName | None, Query(
                           examples=["active"], description="a subscription status: "
                           + ", ".join(SubscriptionStatus))] = None,
                       customer_id: Annotated[str | None, _party("stu_42")] = None,
                       seller_id: Annotated[str | None, _party("inst_ada")] = None,
                       item_id: Annotated[str | None, _party("premium_membership")] = None
                       ) -> dict:
    """Newest first; a customer sees its own, a seller those to its services."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_subscriptions(uow, actor, limit=limit + 1, cursor=cursor,
                                      status=status, customer_id=customer_id,
                                      seller_id=seller_id, item_id=item_id)
    return present_page(actor, "subscription", rows, limit)


@api.get("/{subscription_id}", response_model=SubscriptionView)
def get_subscription(subscription_id: SubscriptionId, storage: StorageDep,
                     actor: Reader) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        return present(actor, "subscription", svc.get_subscription(uow, subscription_id, actor))


@api.get("/{subscription_id}/payments", response_model=PaymentPage)
def subscription_payments(subscription_id: SubscriptionId, storage: StorageDep, actor: Reader,
                          cursor: Annotated[str | None, id_cursor("pay")], limit: Limit = 20
                          ) -> dict:
    """Its payments (first, renewals, upgrades), newest first."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.subscription_payments(uow, subscription_id, actor, limit=limit + 1,
                                         cursor=cursor)
    return present_page(actor, "payment", rows, limit)


@api.post("/{subscription_id}/confirm", response_model=SubscriptionConfirmationOut)
def confirm_subscription(subscription_id: SubscriptionId, write: WriteDep,
                         actor: Annotated[Actor, may(Action.CAPTURE_PAYMENT)],
                         body: Annotated[ConfirmSubscriptionIn | None, Body()] = None
                         ) -> Response:
    """Capture the payment the subscription waits for, as the gateway's confirmation would:
    activated, renewed or upgraded at once (the seed's payment confirmation)."""
    body = body or ConfirmSubscriptionIn()

    def work(uow: UnitOfWork) -> dict[str, Any]:
        sub, payment = svc.confirm_subscription(
            uow, subscription_id, actor, gateway_fee=body.gateway_fee,
            gateway_payment_id=body.gateway_payment_id)
        return {"status": CONFIRMED[payment["kind"]],
                "subscription": present(actor, "subscription", sub),
                "payment_id": payment["id"],
                "payment_record": {"id": payment["id"], "status": payment["status"],
                                   "paid_at": payment["succeeded_at"],
                                   "amount": payment["total"],
                                   "payment_method": payment["method"]}}

    return write.run(work)


@api.post("/{subscription_id}/renew", response_model=SubscriptionApplicationOut)
def renew_subscription(subscription_id: SubscriptionId, write: WriteDep,
                       actor: Annotated[Actor, may(Action.RENEW_SUBSCRIPTION)]) -> Response:
    """A renewal payment for the current fee (its customer, or an admin); the period is
    extended by one when it succeeds. One open payment at a time: 409 naming it."""
    return write.run(lambda uow: _application(
        actor, *svc.renew_subscription(uow, subscription_id, actor)))


@api.post("/{subscription_id}/upgrade", response_model=SubscriptionApplicationOut)
def upgrade_subscription(subscription_id: SubscriptionId, body: UpgradeSubscriptionIn,
                         write: WriteDep,
                         actor: Annotated[Actor, may(Action.UPGRADE_SUBSCRIPTION)]
                         ) -> Response:
    """Switch to a dearer service of the same seller: a payment of
    `round_half_up((fee - current fee) × remaining / period)` (seconds of the current
    period; plus the whole difference for each period a renewal paid ahead) that switches
    it when it succeeds, or at once (`payment` null) when nothing of
    the period is left. A fee not above the current one is a 422: downgrades are not
    supported."""
    return write.run(lambda uow: _application(actor, *svc.upgrade_subscription(
        uow, subscription_id, actor, item_id=body.item_id, fee=body.fee)))


@api.post("/{subscription_id}/cancel", response_model=SubscriptionView)
def cancel_subscription(subscription_id: SubscriptionId, write: WriteDep,
                        actor: Annotated[Actor, may(Action.CANCEL_SUBSCRIPTION)],
                        body: Annotated[CancelSubscriptionIn | None, Body()] = None
                        ) -> Response:
    """Now (its open payment is canceled first), or `at_period_end`: it stays active until
    the background job ends it then. A refund does not cancel a subscription: this does."""
    body = body or CancelSubscriptionIn()
    return write.run(lambda uow: present(actor, "subscription", svc.cancel_subscription(
        uow, subscription_id, actor, at_period_end=body.at_period_end, reason=body.reason)))

