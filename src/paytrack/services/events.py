"""Events to the platform: the outbox write, and what an admin reads and redelivers.

``emit`` adds the event to the unit of work's appended rows, so it commits with the change
it reports, or not at all, and costs the change no extra statement or round trip. What
happens to it afterwards (fan-out, delivery, retries) is ``event_delivery``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import InvalidTransition, NotFound
from paytrack.domain.events import (
    Event,
    EventDelivery,
    EventType,
    check_event_types,
    json_safe,
    object_type_of,
    subscribed,
)
from paytrack.domain.ids import new_id
from paytrack.domain.refunds import Refund
from paytrack.services import permissions
from paytrack.services._common import fetch
from paytrack.services.permissions import Action


def emit(uow: UnitOfWork, event_type: EventType, object_type: str,
         record: Mapping[str, Any]) -> str:
    """Record that ``record`` (a payment, refund, payout or dispute, as it is now) went
    through ``event_type``, in the caller's transaction; returns the event's id. The
    snapshot keeps what an admin may see of the object (never a secret), JSON-safe."""
    assert object_type == object_type_of(event_type), (event_type, object_type)
    shown = permissions.visible_fields(Role.ADMIN, object_type)
    event: Event = {
        "id": new_id("evt"), "type": str(event_type), "object_type": object_type,
        "object_id": record["id"],
        "data": json_safe({k: v for k, v in record.items() if k in shown}),
        "created_at": uow.now(), "dispatched_at": None,
    }
    uow.events.add(event)
    return event["id"]


def emit_refund_failed(uow: UnitOfWork, refund: Refund) -> str:
    """``refund.failed``: for the path where a gateway refuses a refund."""
    return emit(uow, EventType.REFUND_FAILED, "refund", refund)


def list_events(uow: UnitOfWork, actor: Actor, *, limit: int = 20, cursor: str | None = None,
                type: str | None = None, object_id: str | None = None,
                created_gte: datetime | None = None,
                created_lt: datetime | None = None) -> list[Event]:
    """Newest first."""
    permissions.check(actor, Action.READ_EVENTS)
    if type is not None:
        check_event_types([type])
    return uow.events.list(limit=limit, before_id=cursor, type=type, object_id=object_id,
                           created_gte=created_gte, created_lt=created_lt)


def get_event(uow: UnitOfWork, event_id: str, actor: Actor) -> Event:
    permissions.check(actor, Action.READ_EVENTS)
    return fetch(uow.events, "event", event_id)


def event_deliveries(uow: UnitOfWork, event_id: str, actor: Actor) -> list[EventDelivery]:
    """The event's deliveries, one per endpoint it was sent to, oldest first."""
    get_event(uow, event_id, actor)
    return uow.event_deliveries.of_event(event_id)


def redeliver(uow: UnitOfWork, event_id: str, actor: Actor, *,
              endpoint_id: str | None = None) -> list[EventDelivery]:
    """Send the event again, now: to ``endpoint_id`` (active, subscribed or not), else to
    every active endpoint subscribed to its type. A delivery that was dead, failed or even
    succeeded starts a fresh set of attempts; one in flight is left to finish; an endpoint
    without one (registered later, or not dispatched yet) gets one."""
    permissions.check(actor, Action.REDELIVER_EVENTS)
    event = get_event(uow, event_id, actor)
    if endpoint_id is not None:
        endpoint = uow.event_endpoints.get(endpoint_id)
        if endpoint is None:
            raise NotFound(f"event endpoint {endpoint_id} not found")
        if not endpoint["active"]:
            raise InvalidTransition(
                f"event endpoint {endpoint_id} is inactive; activate it (PATCH with "
                '"active": true) before sending events to it', current="inactive")
        targets = [endpoint_id]
    else:
        targets = [e["id"] for e in uow.event_endpoints.active()
                   if subscribed(e, event["type"])]
    now = uow.now()
    uow.event_deliveries.create([new_delivery(event_id, target, now) for target in targets])
    uow.event_deliveries.send_again(event_id, targets, now)
    uow.records.audit(str(actor), "event.redelivered", "event", event_id, None,
                      {"endpoints": targets}, now)
    return uow.event_deliveries.of_event(event_id)


def new_delivery(event_id: str, endpoint_id: str, now: datetime) -> EventDelivery:
    return {"id": new_id("evd"), "event_id": event_id, "endpoint_id": endpoint_id,
            "status": "pending", "attempts": 0, "claims": 0, "next_attempt_at": now,
            "last_attempt_at": None, "response_status": None, "last_error": None,
            "created_at": now, "delivered_at": None}
