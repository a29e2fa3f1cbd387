# mypy: disable-error-code="valid-type, misc"
"""Request and response models of events to the platform: endpoints, events, deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, Field, StrictBool, StringConstraints

from paytrack.domain.events import URL_EXPECTED, URL_MAX, DeliveryStatus, EventType
from paytrack.entrypoints.api import examples
from paytrack.entrypoints.api.schemas import FullView, Input, ObjectId, Page, Text, _about

if TYPE_CHECKING:
    EventTypeName: TypeAlias = str
    DeliveryStatusName: TypeAlias = str
else:
    EventTypeName = Literal[tuple(t.value for t in EventType)]
    DeliveryStatusName = Literal[tuple(s.value for s in DeliveryStatus)]

EndpointUrl = Annotated[str, StringConstraints(min_length=1, max_length=URL_MAX,
                                               pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$"),
                        Field(description=URL_EXPECTED,
                              examples=["https://platform.example/paytrack/events"])]
EventTypes = Annotated[list[EventTypeName], Field(
    max_length=len(EventType), examples=[["payment.succeeded", "refund.succeeded"]],
    description="the event types to send: " + ", ".join(EventType) + "; empty: every type")]


class CreateEventEndpointIn(Input, json_schema_extra=examples.CREATE_EVENT_ENDPOINT):
    url: EndpointUrl
    event_types: EventTypes = Field(default_factory=list)
    description: Text | None = _about(None, "enroll the student", default=None)


class UpdateEventEndpointIn(Input, json_schema_extra=examples.UPDATE_EVENT_ENDPOINT):
    """Only what is sent changes; `url`, `event_types` and `active` sent as null change
    nothing, `description` sent as null clears it."""

    url: EndpointUrl | None = None
    event_types: EventTypes | None = None
    description: Text | None = _about(None, "enroll the student", default=None)
    active: StrictBool | None = _about(
        "false: send it nothing more; true: send again, starting with what waited", True,
        default=None)


class RedeliverIn(Input, json_schema_extra=examples.REDELIVER_EVENT):
    endpoint_id: ObjectId | None = _about(
        "only to this endpoint (active, subscribed to the type or not); left out: every "
        "active endpoint subscribed to the event's type", "we_01JD8X5R2C4E6G8J0K2M4N6P8Q",
        default=None)


class EventEndpointOut(FullView):
    id: str
    url: str
    description: str | None
    event_types: list[str] = Field(description="The types it receives; empty: every type")
    active: bool
    disabled_reason: str | None = Field(description="Why it is inactive: an admin, or the "
                                                    "endpoint answered 410 Gone")
    created_at: datetime
    updated_at: datetime


class EventEndpointWithSecretOut(EventEndpointOut):
    secret: str = Field(description="The signing secret, `whsec_…`: shown only in this "
                                    "answer (and when rotated); give it to your Standard "
                                    "Webhooks library")


class EventData(BaseModel):
    object: dict[str, Any] = Field(description="The payment, refund, payout or dispute as "
                                               "it was when the event happened, as an admin "
                                               "sees it")


class EventPayloadOut(BaseModel):
    """What an endpoint receives, in the body of every delivery of the event."""

    id: str = Field(description="`evt_…`, also the `webhook-id` header: deduplicate by it")
    type: EventTypeName
    created_at: datetime
    data: EventData


class EventOut(EventPayloadOut):
    model_config = FullView.model_config
    object_type: str
    object_id: str
    dispatched_at: datetime | None = Field(description="When its deliveries were made; null "
                                                       "until a worker fans it out")


class EventDeliveryOut(FullView):
    id: str
    event_id: str
    endpoint_id: str
    status: DeliveryStatusName = Field(
        description="`pending`, `delivering`, `succeeded`, `failed` (tried again at "
                    "`next_attempt_at`) or `dead` (out of attempts: redeliver it)")
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    response_status: int | None = Field(description="The endpoint's HTTP status on the last "
                                                    "attempt, if it answered")
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class EventWithDeliveriesOut(EventOut):
    deliveries: list[EventDeliveryOut]


class EventPage(Page[EventOut]):
    pass


class EventEndpointPage(Page[EventEndpointOut]):
    pass


class EventDeliveryPage(Page[EventDeliveryOut]):
    pass
