"""Gateway configuration (admins): credentials per gateway and mode, never shown back."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Response

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.entrypoints.api.deps import StorageDep, may
from paytrack.entrypoints.api.routes._shared import router
from paytrack.entrypoints.api.schemas import GatewayConfigIn, GatewayConfigOut
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import gateways as svc
from paytrack.services.permissions import Action

api = router("/v1/gateways", "gateways")
Manager = Annotated[Actor, may(Action.MANAGE_GATEWAYS)]
GatewayName = Annotated[Literal["simulator", "stripe", "razorpay", "paypal"], Path(
    description="simulator, stripe, razorpay or paypal", examples=["stripe"])]
ModeName = Annotated[Literal["test", "live"], Path(description="test or live",
                                                   examples=["test"])]


@api.get("", response_model=list[GatewayConfigOut])
def list_gateways(storage: StorageDep, actor: Manager) -> list[svc.ShownGatewayConfig]:
    """Every configured gateway and mode (the simulator is always there)."""
    with storage.unit_of_work() as uow:
        shown = svc.list_gateways(uow, actor)
        uow.commit()
    return shown


@api.get("/{gateway}", response_model=list[GatewayConfigOut])
def get_gateway(gateway: GatewayName, storage: StorageDep,
                actor: Manager) -> list[svc.ShownGatewayConfig]:
    """The gateway's configurations, the active one first."""
    with storage.unit_of_work() as uow:
        shown = svc.get_gateway(uow, actor, gateway)
        uow.commit()
    return shown


@api.put("/{gateway}/{mode}", response_model=GatewayConfigOut)
def put_gateway(gateway: GatewayName, mode: ModeName, body: GatewayConfigIn, write: WriteDep,
                actor: Manager) -> Response:
    """Set the gateway's credentials for a mode: stored encrypted, shown back only as which
    fields are set and their last four characters."""
    return write.run(lambda uow: svc.configure_gateway(
        uow, actor, gateway, mode, credentials=dict(body.credentials), activate=body.active))


@api.delete("/{gateway}/{mode}", status_code=204)
def delete_gateway(gateway: GatewayName, mode: ModeName, write: WriteDep,
                   actor: Manager) -> Response:
    """Forget the gateway's credentials for a mode."""
    def work(uow: UnitOfWork) -> Response:
        svc.remove_gateway(uow, actor, gateway, mode)
        return Response(status_code=204)
    return write.run(work)
