"""Events to the platform: the endpoints they are sent to, the events and their
deliveries, and redelivery. Admins only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Query, Response

from paytrack.domain.actors import Actor
from paytrack.domain.events import EventType
from paytrack.entrypoints.api.deps import StorageDep, may
from paytrack.entrypoints.api.event_schemas import (
    CreateEventEndpointIn,
    EventDeliveryPage,
    EventEndpointOut,
    EventEndpointPage,
    EventPage,
    EventTypeName,
    EventWithDeliveriesOut,
    RedeliverIn,
    UpdateEventEndpointIn,
)
from paytrack.entrypoints.api.event_schemas import (
    EventEndpointWithSecretOut as WithSecretOut,
)
from paytrack.entrypoints.api.parameters import id_cursor
from paytrack.entrypoints.api.routes._shared import Limit, object_id, router
from paytrack.entrypoints.api.schemas import OBJECT_ID_PATTERN, IsoDateTime
from paytrack.entrypoints.api.views import present, present_page
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import event_endpoints as endpoints_svc
from paytrack.services import events as svc
from paytrack.services.event_endpoints import WithSecret
from paytrack.services.permissions import Action

api = router("/v1", "events")
EndpointId = Annotated[str, object_id("we_01JD8X5R2C4E6G8J0K2M4N6P8Q")]
EventId = Annotated[str, object_id("evt_01JD8X5R2C4E6G8J0K2M4N6P8Q")]
Manager = Annotated[Actor, may(Action.MANAGE_EVENT_ENDPOINTS)]
Reader = Annotated[Actor, may(Action.READ_EVENTS)]
SECRET = ("secret",)  # stored encrypted with an Idempotency-Key's response


def _with_secret(actor: Actor, made: WithSecret) -> dict[str, Any]:
    return {**present(actor, "event_endpoint", made.endpoint), "secret": made.secret}


@api.post("/event-endpoints", status_code=201, response_model=WithSecretOut)
def create_event_endpoint(body: CreateEventEndpointIn, write: WriteDep,
                          actor: Manager) -> Response:
    """Register a URL of the platform's to receive events (all types, or those listed).
    The answer holds the endpoint's signing `secret`: it is shown this once (and when
    rotated), so keep it where your receiver reads it."""
    return write.run(lambda uow: _with_secret(actor, endpoints_svc.create_endpoint(
        uow, actor, url=body.url, event_types=body.event_types,
        description=body.description)), sealed=SECRET)


@api.get("/event-endpoints", response_model=EventEndpointPage)
def list_event_endpoints(storage: StorageDep, actor: Manager,
                         cursor: Annotated[str | None, id_cursor("we")], limit: Limit = 20,
                         active: Annotated[bool | None, Query(
                             examples=[True], description="true for active endpoints only, "
                                                          "false for inactive ones")] = None,
                         ) -> dict:
    """Newest first; never with their secrets."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = endpoints_svc.list_endpoints(uow, actor, limit=limit + 1, cursor=cursor,
                                            active=active)
    return present_page(actor, "event_endpoint", rows, limit)


@api.get("/event-endpoints/{endpoint_id}", response_model=EventEndpointOut)
def get_event_endpoint(endpoint_id: EndpointId, storage: StorageDep, actor: Manager) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        return present(actor, "event_endpoint",
                       endpoints_svc.get_endpoint(uow, endpoint_id, actor))


@api.patch("/event-endpoints/{endpoint_id}", response_model=EventEndpointOut)
def update_event_endpoint(endpoint_id: EndpointId, body: UpdateEventEndpointIn,
                          write: WriteDep, actor: Manager) -> Response:
    """Change the URL, the event types, the description, or whether it is `active` (an
    endpoint deactivated by a 410 Gone answer is activated again here)."""
    changes = body.model_dump(exclude_unset=True)
    return write.run(lambda uow: present(actor, "event_endpoint", endpoints_svc.update_endpoint(
        uow, endpoint_id, actor, changes)))


@api.delete("/event-endpoints/{endpoint_id}", response_model=EventEndpointOut)
def delete_event_endpoint(endpoint_id: EndpointId, write: WriteDep,
                          actor: Manager) -> Response:
    """Deactivate the endpoint: nothing more is sent to it. It stays listed with its
    deliveries, and PATCH `{"active": true}` brings it back."""
    return write.run(lambda uow: present(actor, "event_endpoint",
                                         endpoints_svc.deactivate_endpoint(uow, endpoint_id,
                                                                           actor)))


@api.post("/event-endpoints/{endpoint_id}/rotate-secret", response_model=WithSecretOut)
def rotate_event_endpoint_secret(endpoint_id: EndpointId, write: WriteDep,
                                 actor: Manager) -> Response:
    """A new signing secret, shown this once; the next delivery is signed with it."""
    return write.run(lambda uow: _with_secret(actor, endpoints_svc.rotate_secret(
        uow, endpoint_id, actor)), sealed=SECRET)


@api.get("/events", response_model=EventPage)
def list_events(storage: StorageDep, actor: Reader,
                cursor: Annotated[str | None, id_cursor("evt")], limit: Limit = 20,
                type: Annotated[EventTypeName | None, Query(
                    examples=["payment.succeeded"],
                    description=f"an event type: {', '.join(EventType)}")] = None,
                object_id: Annotated[str | None, Query(
                    pattern=OBJECT_ID_PATTERN, examples=["pay_01JD8X3M9QH7V2K4T6W8Y0Z1AB"],
                    description="only events about this payment, refund, payout or "
                                "dispute")] = None,
                created_gte: IsoDateTime | None = None,
                created_lt: IsoDateTime | None = None) -> dict:
    """Newest first, each with the object as it was when it happened."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_events(uow, actor, limit=limit + 1, cursor=cursor, type=type,
                               object_id=object_id, created_gte=created_gte,
                               created_lt=created_lt)
    return present_page(actor, "event", rows, limit)


@api.get("/events/{event_id}", response_model=EventWithDeliveriesOut)
def get_event(event_id: EventId, storage: StorageDep, actor: Reader) -> dict:
    """The event and its deliveries, one per endpoint it was sent to."""
    with storage.unit_of_work(readonly=True) as uow:
        event = svc.get_event(uow, event_id, actor)
        deliveries = svc.event_deliveries(uow, event_id, actor)
    return {**present(actor, "event", event),
            "deliveries": [present(actor, "event_delivery", d) for d in deliveries]}


@api.get("/events/{event_id}/deliveries", response_model=EventDeliveryPage)
def list_event_deliveries(event_id: EventId, storage: StorageDep, actor: Reader) -> dict:
    """The event's deliveries, oldest first: one per endpoint, with its attempts."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.event_deliveries(uow, event_id, actor)
    return {"data": [present(actor, "event_delivery", d) for d in rows], "has_more": False,
            "next_cursor": None}


@api.post("/events/{event_id}/redeliver", response_model=EventDeliveryPage)
def redeliver_event(event_id: EventId, write: WriteDep,
                    actor: Annotated[Actor, may(Action.REDELIVER_EVENTS)],
                    body: Annotated[RedeliverIn | None, Body()] = None) -> Response:
    """Send the event again, now, to one endpoint or to every active endpoint subscribed
    to its type: a dead, failed or succeeded delivery starts a fresh set of attempts.
    Answers with the event's deliveries."""
    endpoint_id = (body or RedeliverIn()).endpoint_id
    return write.run(lambda uow: {"data": [
        present(actor, "event_delivery", d)
        for d in svc.redeliver(uow, event_id, actor, endpoint_id=endpoint_id)],
        "has_more": False, "next_cursor": None})
