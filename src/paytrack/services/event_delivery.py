"""Fan-out and delivery bookkeeping, for the background worker (``entrypoints/deliverer.py``
sends; these decide and record, each in the caller's short transaction).

    dispatch       undispatched events -> one delivery per active endpoint subscribed to
                   the type; the events marked dispatched (same transaction)
    claim_due      due deliveries -> delivering, leased until now + lease, attempt counted
    record_result  2xx -> succeeded; otherwise failed, due again after a backoff with full
                   jitter, or dead after the last attempt; 410 Gone also disables the
                   endpoint

A worker that dies mid-send leaves a ``delivering`` row; once its lease ends another worker
claims it again: every event reaches each endpoint at least once (receivers deduplicate by
the event id, sent as ``webhook-id``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from paytrack.adapters.secrets import KeyMissing
from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import SYSTEM
from paytrack.domain.events import (
    DeliveryRules,
    DeliveryStatus,
    Event,
    EventDelivery,
    subscribed,
)
from paytrack.services.event_endpoints import secret_of
from paytrack.services.events import new_delivery

S = DeliveryStatus
GONE = 410
GONE_REASON = "the endpoint answered 410 Gone"
ERROR_MAX = 500


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a worker now holds, with what it needs to send it. ``secret`` is None
    when no configured key decrypts the endpoint's (``error`` says so)."""

    delivery: EventDelivery
    event: Event
    url: str
    secret: str | None
    error: str | None = None


def purge_old(uow: UnitOfWork, rules: DeliveryRules, *, limit: int = 1000) -> int:
    """Forget events older than ``rules.retention_days`` whose deliveries are all over."""
    return uow.events.purge_finished(uow.now() - timedelta(days=rules.retention_days), limit)


def dispatch(uow: UnitOfWork, *, limit: int = 200) -> int:
    """Fan out up to ``limit`` undispatched events, oldest first; returns how many."""
    claimed = uow.events.claim_undispatched(limit)
    if not claimed:
        return 0
    now = uow.now()
    endpoints = uow.event_endpoints.receiving(GONE_REASON)
    uow.event_deliveries.create([new_delivery(event_id, endpoint["id"], now)
                                 for event_id, event_type in claimed
                                 for endpoint in endpoints if subscribed(endpoint, event_type)])
    uow.events.mark_dispatched([event_id for event_id, _ in claimed], now)
    return len(claimed)


def claim_due(uow: UnitOfWork, rules: DeliveryRules, *, limit: int) -> list[Claimed]:
    """Take up to ``limit`` due deliveries of active endpoints (soonest first), leased for
    ``rules.lease_s``; one out of attempts whose lease ran out is dead instead."""
    now = uow.now()
    uow.event_deliveries.bury(now, rules.max_attempts)
    deliveries = uow.event_deliveries.claim(now, now + timedelta(seconds=rules.lease_s),
                                            limit)
    if not deliveries:
        return []
    events = uow.events.of_ids(d["event_id"] for d in deliveries)
    endpoints = uow.event_endpoints.of_ids(d["endpoint_id"] for d in deliveries)
    claimed = []
    for delivery in deliveries:
        endpoint = endpoints[delivery["endpoint_id"]]
        try:
            secret, error = secret_of(uow, endpoint), None
        except KeyMissing:
            secret, error = None, ("no configured payout key decrypts the endpoint's secret: "
                                   "restore the key, or rotate the endpoint's secret")
        claimed.append(Claimed(delivery, events[delivery["event_id"]], endpoint["url"],
                               secret, error))
    return claimed


def record_result(uow: UnitOfWork, delivery: EventDelivery, rules: DeliveryRules, *,
                  response_status: int | None, error: str | None,
                  rng: random.Random | None = None) -> str | None:
    """Record how the send of a claimed ``delivery`` went: the endpoint's HTTP status, or
    ``error`` (short, no secret) when it gave none. Returns the delivery's new status, or
    None if it is no longer this worker's (its lease ran out and another claimed it)."""
    now = uow.now()
    attempts = delivery["attempts"]
    status: DeliveryStatus
    values: dict[str, Any]
    if response_status is not None and 200 <= response_status < 300:
        status = S.SUCCEEDED
        values = {"next_attempt_at": None, "delivered_at": now, "last_error": None}
    else:
        status = S.DEAD if attempts >= rules.max_attempts else S.FAILED
        wait = timedelta(seconds=rules.backoff_s(attempts, rng))
        values = {"next_attempt_at": None if status is S.DEAD else now + wait,
                  "last_error": (error or f"HTTP {response_status}")[:ERROR_MAX]}
    if not uow.event_deliveries.finish(delivery["id"], delivery["claims"], {
            **values, "status": str(status), "response_status": response_status},
            succeeded=status is S.SUCCEEDED):
        return None
    if response_status == GONE and uow.event_endpoints.disable(delivery["endpoint_id"],
                                                               GONE_REASON, now):
        uow.records.audit(str(SYSTEM), "event_endpoint.deactivated", "event_endpoint",
                          delivery["endpoint_id"], {"active": True},
                          {"active": False, "disabled_reason": GONE_REASON}, now)
    return str(status)
