from __future__ import annotations

from typing import Annotated

from fastapi import BackgroundTasks, Body, Query, Response

from paytrack.domain.actors import Actor
from paytrack.domain.states import RefundStatus
from paytrack.entrypoints.api.deps import ActorDep, StorageDep, may
from paytrack.entrypoints.api.parameters import id_cursor
from paytrack.entrypoints.api.routes._shared import Limit, object_id, router
from paytrack.entrypoints.api.schemas import (
    OBJECT_ID_PATTERN,
    CreateRefundIn,
    ReasonIn,
    RefundStatusName,
    RejectRefundIn,
)
from paytrack.entrypoints.api.views import RefundPage, RefundView, present, present_page
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import gateway_jobs
from paytrack.services import refunds as svc
from paytrack.services.permissions import Action

api = router("/v1/refunds", "refunds")
RefundId = Annotated[str, object_id("re_01JD8X5R2C4E6G8J0K2M4N6P8Q")]


@api.post("", status_code=201, response_model=RefundView)
def create_refund(body: CreateRefundIn, write: WriteDep, storage: StorageDep,
                  background: BackgroundTasks,
                  actor: Annotated[Actor, may(Action.REQUEST_REFUND)]) -> Response:
    """Request a full (no `amount`: all that is still refundable) or partial refund. The
    request reserves its amount on the payment and waits for an admin to approve or reject
    it; nothing is refunded until then. With `approve`, an admin refunds in one step."""
    act = svc.refund_payment if body.approve else svc.request_refund
    background.add_task(gateway_jobs.send_now, storage)  # an approved one, to its gateway
    return write.run(lambda uow: present(actor, "refund", act(
        uow, body.payment_id, actor, reason=body.reason, amount=body.amount)))


@api.get("", response_model=RefundPage)
def list_refunds(storage: StorageDep, actor: ActorDep,
                 cursor: Annotated[str | None, id_cursor("re")], limit: Limit = 20,
                 status: Annotated[RefundStatusName | None, Query(
                     examples=["requested"],
                     description=f"a refund status: {', '.join(RefundStatus)}")] = None,
                 payment_id: Annotated[str | None, Query(
                     pattern=OBJECT_ID_PATTERN, examples=["pay_01JD8X3M9QH7V2K4T6W8Y0Z1AB"],
                     description="a paytrack payment id: only its refunds")] = None
                 ) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_refunds(uow, actor, limit=limit + 1, cursor=cursor, status=status,
                                payment_id=payment_id)
    return present_page(actor, "refund", rows, limit)


@api.get("/{refund_id}", response_model=RefundView)
def get_refund(refund_id: RefundId, storage: StorageDep, actor: ActorDep) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        return present(actor, "refund", svc.get_refund(uow, refund_id, actor))


@api.post("/{refund_id}/approve", response_model=RefundView)
def approve_refund(refund_id: RefundId, write: WriteDep, storage: StorageDep,
                   background: BackgroundTasks,
                   actor: Annotated[Actor, may(Action.DECIDE_REFUND)]) -> Response:
    """Approve and carry out: the payment and the ledger move now; a payment taken through
    a configured gateway is refunded there, and the refund stays approved until the
    gateway's answer (or webhook) makes it succeeded or failed."""
    background.add_task(gateway_jobs.send_now, storage)
    return write.run(lambda uow: present(actor, "refund",
                                         svc.approve_refund(uow, refund_id, actor)))


@api.post("/{refund_id}/reject", response_model=RefundView)
def reject_refund(refund_id: RefundId, body: RejectRefundIn, write: WriteDep,
                  actor: Annotated[Actor, may(Action.DECIDE_REFUND)]) -> Response:
    return write.run(lambda uow: present(actor, "refund", svc.reject_refund(
        uow, refund_id, actor, reason=body.reason)))


@api.post("/{refund_id}/cancel", response_model=RefundView)
def cancel_refund(refund_id: RefundId, write: WriteDep,
                  actor: Annotated[Actor, may(Action.CANCEL_REFUND)],
                  body: Annotated[ReasonIn | None, Body()] = None) -> Response:
    """Withdraw a request nobody has decided yet: the seller or customer that made it, or
    an admin. What it reserved on the payment is released."""
    reason = (body or ReasonIn()).reason
    return write.run(lambda uow: present(actor, "refund", svc.cancel_refund(
        uow, refund_id, actor, reason=reason)))
