"""Gateways' webhooks in (``POST /v1/webhooks/{gateway}``, authenticated by the gateway's
signature, not an API key), and the stored deliveries for admins."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from paytrack.domain.actors import Actor
from paytrack.domain.gateways import WebhookDelivery
from paytrack.entrypoints.api.deps import StorageDep, may
from paytrack.entrypoints.api.parameters import id_cursor
from paytrack.entrypoints.api.problems import documented
from paytrack.entrypoints.api.routes._shared import Limit, object_id, router
from paytrack.entrypoints.api.schemas import (
    OBJECT_ID_PATTERN,
    IsoDateTime,
    WebhookDeliveryOut,
    WebhookDeliveryPage,
    WebhookReceipt,
    page,
)
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import webhooks as svc
from paytrack.services.permissions import Action

GATEWAYS = ("simulator", "stripe", "razorpay", "paypal")
INTAKE_PATHS = frozenset(f"/v1/webhooks/{g}" for g in GATEWAYS)  # answered without a key

intake = APIRouter(prefix="/v1/webhooks", tags=["webhooks"],
                   responses=documented(400, 401, 404, 413, 422, 503))
api = router("/v1/webhooks", "webhooks")
Reader = Annotated[Actor, may(Action.READ_WEBHOOKS)]
GatewayName = Literal["simulator", "stripe", "razorpay", "paypal"]
DeliveryId = Annotated[str, object_id("whd_01JD8X5R2C4E6G8J0K2M4N6P8Q")]


@api.get("/deliveries", response_model=WebhookDeliveryPage)
def list_deliveries(storage: StorageDep, actor: Reader,
                    cursor: Annotated[str | None, id_cursor("whd")], limit: Limit = 20,
                    gateway: Annotated[GatewayName | None, Query(
                        description="one gateway's: simulator, stripe, razorpay or paypal",
                        examples=["stripe"])] = None,
                    status: Annotated[Literal["processed", "ignored", "failed", "rejected"]
                                      | None, Query(description="processed, ignored, failed or "
                                                  "rejected", examples=["failed"])] = None,
                    event_type: Annotated[str | None, Query(
                        max_length=100, pattern=r"^[\x21-\x7e]+$",
                        description="the gateway's event type",
                        examples=["payment_intent.succeeded"])] = None,
                    event_id: Annotated[str | None, Query(
                        max_length=255, pattern=r"^[\x21-\x7e]+$",
                        description="the gateway's event id",
                        examples=["evt_1NG8Du2eZvKYlo2CUI79vXWy"])] = None,
                    payment_id: Annotated[str | None, Query(
                        pattern=OBJECT_ID_PATTERN, description="about this payment",
                        examples=["pay_01JD8X5R2C4E6G8J0K2M4N6P8Q"])] = None,
                    needs_review: Annotated[bool | None, Query(
                        description="only those flagged for review (true) or the others",
                        examples=[True])
                    ] = None,
                    received_gte: IsoDateTime | None = None,
                    received_lt: IsoDateTime | None = None) -> dict:
    """Every delivery the gateways made, newest first, with what it did."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_deliveries(uow, actor, limit=limit + 1, cursor=cursor, gateway=gateway,
                                   status=status, event_type=event_type, event_id=event_id,
                                   payment_id=payment_id, needs_review=needs_review,
                                   received_gte=received_gte, received_lt=received_lt)
    return page(rows, limit, lambda row: row)


@api.get("/deliveries/{delivery_id}", response_model=WebhookDeliveryOut)
def get_delivery(delivery_id: DeliveryId, storage: StorageDep,
                 actor: Reader) -> WebhookDelivery:
    with storage.unit_of_work(readonly=True) as uow:
        return svc.get_delivery(uow, actor, delivery_id)


@api.post("/deliveries/{delivery_id}/replay", response_model=WebhookDeliveryOut)
def replay_delivery(delivery_id: DeliveryId, storage: StorageDep, write: WriteDep,
                    actor: Annotated[Actor, may(Action.REPLAY_WEBHOOK)]) -> WebhookDelivery:
    """Apply a stored delivery's events again: a failed one gets another try; a processed
    one changes nothing already done (state never regresses)."""
    return svc.replay_delivery(storage, actor, delivery_id)


@intake.post("/{gateway}", response_model=WebhookReceipt)
async def receive(gateway: Annotated[str, Path(
                      pattern=r"^[a-z]{1,20}$", examples=["stripe"],
                      description="simulator, stripe, razorpay or paypal")],
                  request: Request, storage: StorageDep) -> dict:
    """A gateway's webhook: verified by its signature over the raw body (a bad, tampered,
    stale or wrong-secret signature is a 400 and changes nothing), stored, and applied
    once per event id however often it arrives. An event naming nothing paytrack knows yet
    is a 503: the gateway retries it."""
    body = await request.body()
    delivery = await run_in_threadpool(svc.receive_webhook, storage, gateway, body,
                                       dict(request.headers))
    return {"id": delivery["id"], "status": delivery["status"],
            "event_id": delivery["event_id"], "duplicate": delivery["times_received"] > 1}
