from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import Body, Query, Response

from paytrack.domain.actors import Actor
from paytrack.domain.payments import Gateway, PaymentKind, PaymentMethod
from paytrack.domain.states import PaymentStatus
from paytrack.entrypoints.api.deps import ActorDep, StorageDep, may
from paytrack.entrypoints.api.parameters import id_cursor
from paytrack.entrypoints.api.routes._shared import Limit, object_id, router
from paytrack.entrypoints.api.schemas import (
    ID_EXPECTED,
    ID_PATTERN,
    CaptureIn,
    CreatePaymentIn,
    Currency,
    GatewayName,
    IsoDateTime,
    Kind,
    Method,
    PaymentStatusName,
    RazorpayVerifyIn,
    ReasonIn,
    StatusEventOut,
)
from paytrack.entrypoints.api.views import PaymentPage, PaymentView, present, present_page
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import checkouts
from paytrack.services import payments as svc
from paytrack.services.permissions import Action

api = router("/v1/payments", "payments")


def _party(example: str) -> object:
    return Query(pattern=ID_PATTERN, examples=[example],
                 description=ID_EXPECTED)


def _one_of(what: str, values: Iterable[str], example: str) -> object:
    return Query(description=f"{what}: {', '.join(values)}", examples=[example])


PaymentId = Annotated[str, object_id("pay_01JD8X3M9QH7V2K4T6W8Y0Z1AB")]
NeedsReview = Annotated[bool | None, Query(
    examples=[True], description="true for only the payments confirmed after a cancel or a "
                                 "failure (to review), false for only the others")]


@api.post("", status_code=201, response_model=PaymentView)
def create_payment(body: CreatePaymentIn, write: WriteDep,
                   actor: Annotated[Actor, may(Action.CREATE_PAYMENT)]) -> Response:
    """Record a payment with its breakdown; the split is fixed now, posted at capture."""
    cmd = svc.CreatePayment(**body.model_dump())
    return write.run(lambda uow: present(actor, "payment", svc.create_payment(uow, cmd, actor)))


@api.get("", response_model=PaymentPage)
def list_payments(storage: StorageDep, actor: ActorDep,
                  cursor: Annotated[str | None, id_cursor("pay")], limit: Limit = 20,
                  status: Annotated[PaymentStatusName | None, _one_of(
                      "a payment status", PaymentStatus, "succeeded")] = None,
                  seller_id: Annotated[str | None, _party("seller_42")] = None,
                  customer_id: Annotated[str | None, _party("cust_1042")] = None,
                  item_id: Annotated[str | None, _party("course_python_101")] = None,
                  currency: Currency | None = None,
                  method: Annotated[Method | None, _one_of(
                      "a payment method", PaymentMethod, "card")] = None,
                  gateway: Annotated[GatewayName | None, _one_of(
                      "a gateway", Gateway, "stripe")] = None,
                  kind: Annotated[Kind | None, _one_of("a kind of payment", PaymentKind,
                                                       "renewal")] = None,
                  created_gte: IsoDateTime | None = None,
                  created_lt: IsoDateTime | None = None,
                  needs_review: NeedsReview = None,
                  reconciled: Annotated[bool | None, Query(
                      examples=[False], description="true for only the payments marked "
                                                    "reconciled, false for only the others")
                  ] = None,
                  gateway_payment_id: Annotated[str | None, Query(
                      min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
                      description="the gateway's id of the payment or of its checkout "
                                  "(order, session)", examples=["pi_3P9xYz2eZvKYlo2C"])
                  ] = None) -> dict:
    """Newest first; sellers and customers see only their own."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_payments(uow, actor, limit=limit + 1, cursor=cursor, status=status,
                                 seller_id=seller_id, customer_id=customer_id,
                                 item_id=item_id, currency=currency, method=method,
                                 gateway=gateway, kind=kind, created_gte=created_gte,
                                 created_lt=created_lt, needs_review=needs_review,
                                 gateway_payment_id=gateway_payment_id,
                                 reconciled=reconciled)
    return present_page(actor, "payment", rows, limit)


@api.get("/{payment_id}", response_model=PaymentView)
def get_payment(payment_id: PaymentId, storage: StorageDep, actor: ActorDep) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        return present(actor, "payment", svc.get_payment(uow, payment_id, actor))


@api.get("/{payment_id}/events", response_model=list[StatusEventOut])
def payment_events(payment_id: PaymentId, storage: StorageDep, actor: ActorDep) -> list[dict]:
    """The status history: every move with its time, actor and reason."""
    with storage.unit_of_work(readonly=True) as uow:
        events = svc.payment_history(uow, payment_id, actor)
    return [present(actor, "status_event", e) for e in events]


@api.post("/{payment_id}/processing", response_model=PaymentView)
def mark_processing(payment_id: PaymentId, write: WriteDep,
                    actor: Annotated[Actor, may(Action.MARK_PROCESSING)]) -> Response:
    return write.run(lambda uow: present(actor, "payment",
                                         svc.mark_processing(uow, payment_id, actor)))


@api.post("/{payment_id}/capture", response_model=PaymentView)
def capture_payment(payment_id: PaymentId, write: WriteDep,
                    actor: Annotated[Actor, may(Action.CAPTURE_PAYMENT)],
                    body: Annotated[CaptureIn | None, Body()] = None) -> Response:
    """The gateway confirmed the payment: → succeeded, and the split is posted to the
    ledger. A confirmation after a cancel or a failure is recorded all the same and marked
    `needs_review` in the status history."""
    body = body or CaptureIn()
    return write.run(lambda uow: present(actor, "payment", svc.capture_payment(
        uow, payment_id, actor, gateway_fee=body.gateway_fee,
        gateway_payment_id=body.gateway_payment_id, reason=body.reason)))


@api.post("/{payment_id}/fail", response_model=PaymentView)
def fail_payment(payment_id: PaymentId, write: WriteDep,
                 actor: Annotated[Actor, may(Action.FAIL_PAYMENT)],
                 body: Annotated[ReasonIn | None, Body()] = None) -> Response:
    reason = (body or ReasonIn()).reason
    return write.run(lambda uow: present(actor, "payment",
                                         svc.fail_payment(uow, payment_id, actor, reason=reason)))


@api.post("/{payment_id}/cancel", response_model=PaymentView)
def cancel_payment(payment_id: PaymentId, write: WriteDep,
                   actor: Annotated[Actor, may(Action.CANCEL_PAYMENT)],
                   body: Annotated[ReasonIn | None, Body()] = None) -> Response:
    """An admin may cancel a pending or processing payment; its seller or its customer
    only a pending one."""
    reason = (body or ReasonIn()).reason
    return write.run(lambda uow: present(actor, "payment", svc.cancel_payment(
        uow, payment_id, actor, reason=reason)))


@api.post("/{payment_id}/verify", response_model=PaymentView)
def verify_checkout(payment_id: PaymentId, body: RazorpayVerifyIn, write: WriteDep,
                    actor: ActorDep) -> Response:
    """Confirm a Razorpay Checkout payment by its signature (the multi-vendor seed's
    verify): checked in constant time against the order paytrack stored for this payment,
    it captures the payment; a wrong one is a 400 (`invalid_signature`) and nothing is
    written. An admin, or the payment's customer, may send it."""
    return write.run(lambda uow: present(actor, "payment", checkouts.verify_razorpay_checkout(
        uow, payment_id, actor, order_id=body.razorpay_order_id,
        gateway_payment_id=body.razorpay_payment_id, signature=body.razorpay_signature)))
