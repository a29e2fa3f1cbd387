from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from paytrack.entrypoints.api.deps import ActorDep, AdminDep, StorageDep
from paytrack.entrypoints.api.routes._shared import Cursor, Limit, router
from paytrack.entrypoints.api.schemas import CreateRefundIn, Page, RefundOut, RejectRefundIn, page
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import refunds as svc

api = router("/v1/refunds", "refunds")


@api.post("", status_code=201, response_model=RefundOut)
def create_refund(body: CreateRefundIn, write: WriteDep, actor: ActorDep) -> Response:
    """Request a full (no ``amount``) or partial refund. With ``approve``, an admin refunds
    in one step."""
    act = svc.refund_payment if body.approve else svc.request_refund
    return write.run(lambda uow: act(uow, body.payment_id, actor, reason=body.reason,
                                     amount=body.amount))


@api.get("", response_model=Page[RefundOut])
def list_refunds(storage: StorageDep, actor: ActorDep, limit: Limit = 20,
                 cursor: Cursor = None,
                 status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,20}$")] = None,
                 payment_id: Annotated[str | None, Query(max_length=40,
                                                         pattern=r"^[^\x00]*$")] = None) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_refunds(uow, actor, limit=limit + 1, cursor=cursor, status=status,
                                payment_id=payment_id)
    return page(rows, limit, RefundOut)


@api.get("/{refund_id}", response_model=RefundOut)
def get_refund(refund_id: str, storage: StorageDep, actor: ActorDep) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        return svc.get_refund(uow, refund_id, actor)


@api.post("/{refund_id}/approve", response_model=RefundOut)
def approve_refund(refund_id: str, write: WriteDep, actor: AdminDep) -> Response:
    """Approve and carry out: the payment and the ledger move now."""
    return write.run(lambda uow: svc.approve_refund(uow, refund_id, actor))


@api.post("/{refund_id}/reject", response_model=RefundOut)
def reject_refund(refund_id: str, body: RejectRefundIn, write: WriteDep,
                  actor: AdminDep) -> Response:
    return write.run(lambda uow: svc.reject_refund(uow, refund_id, actor, reason=body.reason))
