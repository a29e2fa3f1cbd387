from __future__ import annotations

from typing import Annotated

from fastapi import Body, Query, Response

from paytrack.domain.actors import Actor
from paytrack.domain.states import DisputeStatus
from paytrack.entrypoints.api.deps import ActorDep, StorageDep, may
from paytrack.entrypoints.api.parameters import id_cursor
from paytrack.entrypoints.api.routes._shared import Limit, object_id, router
from paytrack.entrypoints.api.schemas import (
    ID_PATTERN,
    OBJECT_ID_PATTERN,
    DisputeDecisionIn,
    DisputeStatusName,
    EvidenceIn,
    OpenDisputeIn,
)
from paytrack.entrypoints.api.views import DisputePage, DisputeView, present, present_page
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import disputes as svc
from paytrack.services.permissions import Action

api = router("/v1/disputes", "disputes")
DisputeId = Annotated[str, object_id("dp_01JD8X5R2C4E6G8J0K2M4N6P8Q")]
Decision = Annotated[DisputeDecisionIn | None, Body()]


@api.post("", status_code=201, response_model=DisputeView)
def open_dispute(body: OpenDisputeIn, write: WriteDep,
                 actor: Annotated[Actor, may(Action.OPEN_DISPUTE)]) -> Response:
    """Record a chargeback against a succeeded or partially refunded payment. Its amount is
    held at once (the seller's and the platform's parts in the payment's split), the
    payment becomes `disputed`, and open refund requests on it are canceled. Disputes and
    refunds together never exceed the total (409 `dispute_exceeds_captured`)."""
    return write.run(lambda uow: present(actor, "dispute", svc.open_dispute(
        uow, body.payment_id, actor, amount=body.amount, reason=body.reason,
        reason_code=body.reason_code, due_by=body.due_by,
        gateway_dispute_id=body.gateway_dispute_id, fee=body.fee)))


@api.get("", response_model=DisputePage)
def list_disputes(storage: StorageDep, actor: ActorDep,
                  cursor: Annotated[str | None, id_cursor("dp")], limit: Limit = 20,
                  status: Annotated[DisputeStatusName | None, Query(
                      examples=["open"],
                      description=f"a dispute status: {', '.join(DisputeStatus)}")] = None,
                  payment_id: Annotated[str | None, Query(
                      pattern=OBJECT_ID_PATTERN, examples=["pay_01JD8X3M9QH7V2K4T6W8Y0Z1AB"],
                      description="a paytrack payment id: only its disputes")] = None,
                  seller_id: Annotated[str | None, Query(
                      pattern=ID_PATTERN, examples=["seller_42"],
                      description="a seller id: only disputes on its payments")] = None,
                  ) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_disputes(uow, actor, limit=limit + 1, cursor=cursor, status=status,
                                 payment_id=payment_id, seller_id=seller_id)
    return present_page(actor, "dispute", rows, limit)


@api.get("/{dispute_id}", response_model=DisputeView)
def get_dispute(dispute_id: DisputeId, storage: StorageDep, actor: ActorDep) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        return present(actor, "dispute", svc.get_dispute(uow, dispute_id, actor))


@api.post("/{dispute_id}/evidence", response_model=DisputeView)
def submit_evidence(dispute_id: DisputeId, body: EvidenceIn, write: WriteDep,
                    actor: Annotated[Actor, may(Action.DISPUTE_EVIDENCE)]) -> Response:
    """Add evidence (an admin, or the payment's seller): an open dispute goes
    `under_review`; more evidence may follow while it is there."""
    return write.run(lambda uow: present(actor, "dispute", svc.submit_evidence(
        uow, dispute_id, actor, text=body.text, references=body.references)))


@api.post("/{dispute_id}/win", response_model=DisputeView)
def win_dispute(dispute_id: DisputeId, write: WriteDep,
                actor: Annotated[Actor, may(Action.DECIDE_DISPUTE)],
                body: Decision = None) -> Response:
    """The dispute was decided for the platform: the hold is released back to the seller
    and the platform (the gateway keeps its fee), and the payment returns to its status
    before the dispute."""
    reason = (body or DisputeDecisionIn()).reason
    return write.run(lambda uow: present(actor, "dispute", svc.win_dispute(
        uow, dispute_id, actor, reason=reason)))


@api.post("/{dispute_id}/lose", response_model=DisputeView)
def lose_dispute(dispute_id: DisputeId, write: WriteDep,
                 actor: Annotated[Actor, may(Action.DECIDE_DISPUTE)],
                 body: Decision = None) -> Response:
    """The dispute was lost: the held money leaves for good (the seller's part through
    its debt if its balance could not cover it) and the payment is `charged_back`."""
    reason = (body or DisputeDecisionIn()).reason
    return write.run(lambda uow: present(actor, "dispute", svc.lose_dispute(
        uow, dispute_id, actor, reason=reason)))
