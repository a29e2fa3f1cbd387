"""Events to the platform: what happened (the outbox), where to send it (endpoints), and
each send (deliveries), with the rules deliveries follow.

An event is written in the transaction of the change it reports, with a JSON snapshot of
the object as it then was; a worker later fans it out to every active endpoint subscribed
to its type (one delivery each) and sends it, signed per the Standard Webhooks
specification. A delivery is retried with exponential backoff and full jitter until it
succeeds or runs out of attempts (``dead``):

    pending -> delivering -> succeeded
                          -> failed -> delivering -> … -> dead
    (a delivering row whose lease ran out, its worker gone, is claimed again)
"""

from __future__ import annotations

import base64
import os
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, TypedDict
from urllib.parse import urlsplit

from paytrack.domain.errors import ValidationFailed


class EventType(StrEnum):
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_CANCELED = "payment.canceled"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    PAYOUT_PAID = "payout.paid"
    PAYOUT_FAILED = "payout.failed"
    DISPUTE_OPENED = "dispute.opened"
    DISPUTE_CLOSED = "dispute.closed"  # won or lost: the dispute's status says which
    ORDER_CONFIRMED = "order.confirmed"
    ORDER_CANCELLED = "order.cancelled"
    SUBSCRIPTION_ACTIVATED = "subscription.activated"
    SUBSCRIPTION_RENEWED = "subscription.renewed"
    SUBSCRIPTION_UPGRADED = "subscription.upgraded"
    SUBSCRIPTION_CANCELED = "subscription.canceled"
    SUBSCRIPTION_EXPIRED = "subscription.expired"  # past_due too long, or never paid


def object_type_of(event_type: str) -> str:
    """The kind of object an event reports: ``payment`` for ``payment.succeeded``."""
    return event_type.partition(".")[0]


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERING = "delivering"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # will be tried again at next_attempt_at
    DEAD = "dead"  # out of attempts: only a redelivery sends it again


# What a worker claims: due now, or in flight with an expired lease.
CLAIMABLE = frozenset({DeliveryStatus.PENDING, DeliveryStatus.FAILED,
                       DeliveryStatus.DELIVERING})
# What a redelivery sends again (one in flight is left to finish).
REDELIVERABLE = frozenset({DeliveryStatus.PENDING, DeliveryStatus.FAILED,
                           DeliveryStatus.DEAD, DeliveryStatus.SUCCEEDED})


class Event(TypedDict):
    """One row of ``events``: ``data`` is the object as it was when the event happened,
    JSON-safe (``json_safe``)."""

    id: str  # evt_…: the webhook-id of every delivery, the platform's deduplication key
    type: str  # an EventType value
    object_type: str  # payment, refund, payout, dispute
    object_id: str
    data: dict[str, Any]
    created_at: datetime
    dispatched_at: datetime | None  # when its deliveries were made


class EventEndpoint(TypedDict):
    """One row of ``event_endpoints``: where the platform wants events. The signing
    secret is stored only as a Fernet token (the payout keys) and shown once."""

    id: str  # we_…
    url: str
    description: str | None
    event_types: list[str]  # empty: every type
    secret_encrypted: str
    active: bool
    created_at: datetime
    updated_at: datetime
    disabled_reason: str | None


class EventDelivery(TypedDict):
    """One row of ``event_deliveries``: an event sent (or to be sent) to one endpoint."""

    id: str  # evd_…
    event_id: str
    endpoint_id: str
    status: str  # a DeliveryStatus value
    attempts: int  # sends started, counted when claimed
    claims: int  # every claim, never reset: whose result counts
    next_attempt_at: datetime | None  # due (pending, failed) or lease end (delivering)
    last_attempt_at: datetime | None
    response_status: int | None  # the endpoint's last HTTP status, if it answered
    last_error: str | None  # short, never a secret or the URL
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryRules:
    """How hard paytrack tries: ``max_attempts`` sends, the n-th failure waiting a random
    time in [0, min(cap, base × 2^(n-1))] (exponential backoff with full jitter); a send
    gives up after ``timeout_s`` per network step; a claimed delivery is another worker's
    to retry after ``lease_s``."""

    max_attempts: int = 8
    backoff_base_s: float = 10.0
    backoff_cap_s: float = 6 * 3600.0
    timeout_s: float = 10.0
    lease_s: float = 60.0
    retention_days: int = 30  # then an event whose deliveries are over is deleted

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("event deliveries need at least one attempt")
        if not 0 < self.timeout_s <= 10:
            raise ValueError("an event delivery's timeout is above 0 and at most 10 seconds")
        if self.lease_s <= self.deadline_s:
            raise ValueError("an event delivery's lease must outlast its deadline (three "
                             "times its timeout)")
        if self.retention_days < 1:
            raise ValueError("events are kept at least one day")
        if not 0 < self.backoff_base_s <= self.backoff_cap_s:
            raise ValueError("event backoff: 0 < base <= cap")

    @property
    def deadline_s(self) -> float:
        """The most one send may take, whatever the endpoint does: connect, send, answer."""
        return 3 * self.timeout_s

    def backoff_ceiling_s(self, failures: int) -> float:
        """The longest wait after the ``failures``-th failure in a row (1, 2, …)."""
        exponent = min(max(failures, 1) - 1, 62)  # 2**62 × base is past any cap
        return float(min(self.backoff_cap_s, self.backoff_base_s * 2**exponent))

    def backoff_s(self, failures: int, rng: random.Random | None = None) -> float:
        """A wait drawn uniformly from [0, ``backoff_ceiling_s(failures)``]."""
        return (rng or random).uniform(0, self.backoff_ceiling_s(failures))


def json_safe(value: Any) -> Any:
    """``value`` with only JSON types: datetimes as ISO 8601 in UTC (``…Z``), dates as ISO,
    decimals and enums as strings. (On every capture's path: plain values go first.)"""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict | Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})


def new_secret() -> str:
    """A signing secret as the Standard Webhooks libraries take it: ``whsec_`` and the
    base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode("ascii")


URL_MAX = 2048
URL_EXPECTED = "an http or https URL of up to 2048 characters, without credentials"


def check_url(url: object) -> str:
    """An endpoint URL: http or https, a host, no user:password (the signature is what
    authenticates paytrack; a URL is shown in listings), at most ``URL_MAX`` characters."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed(f"url is required: {URL_EXPECTED}", field="url")
    if len(url) > URL_MAX:
        raise ValidationFailed(f"url is longer than {URL_MAX} characters", field="url")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise ValidationFailed("url contains a space or a control character", field="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise ValidationFailed(f"url is not a URL; expected {URL_EXPECTED}",
                               field="url") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(f"url must be {URL_EXPECTED}, e.g. "
                               "https://platform.example/paytrack/events", field="url")
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed("url must not carry a user or password: deliveries are "
                               "signed with the endpoint's secret instead", field="url")
    return url


def check_event_types(types: Iterable[object] | None) -> list[str]:
    """Known event types, each once, in the order given; none means every type."""
    chosen: list[str] = []
    for value in types or ():
        try:
            name = str(EventType(str(value)))
        except ValueError:
            allowed = ", ".join(EventType)
            raise ValidationFailed(f"event type {value!r} is not one of: {allowed}",
                                   field="event_types") from None
        if name not in chosen:
            chosen.append(name)
    return chosen


def subscribed(endpoint: EventEndpoint, event_type: str) -> bool:
    return not endpoint["event_types"] or event_type in endpoint["event_types"]
