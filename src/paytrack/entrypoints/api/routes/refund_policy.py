from __future__ import annotations

from typing import Annotated

from fastapi import Response

from paytrack.domain.actors import Actor
from paytrack.entrypoints.api.deps import StorageDep, may
from paytrack.entrypoints.api.routes._shared import router
from paytrack.entrypoints.api.schemas import RefundPolicyIn, RefundPolicyOut
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import refund_rules as svc
from paytrack.services.permissions import Action

api = router("/v1/refund-policy", "refund policy")
Manager = Annotated[Actor, may(Action.MANAGE_REFUND_POLICY)]


@api.get("", response_model=RefundPolicyOut)
def get_refund_policy(storage: StorageDep, actor: Manager) -> svc.RefundPolicyState:
    """The refund rules in force: the configured ones until an admin sets others here."""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.get_refund_policy(uow, actor)


@api.put("", response_model=RefundPolicyOut)
def put_refund_policy(body: RefundPolicyIn, write: WriteDep, actor: Manager) -> Response:
    """Replace the refund rules (a field left out is off). Each new request is decided by
    them at once, in its own transaction; requests already waiting stay as they are."""
    values = body.model_dump()
    return write.run(lambda uow: svc.set_refund_policy(uow, actor, values))
