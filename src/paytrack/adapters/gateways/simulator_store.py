"""The simulator's provider-side storage, and the job that delivers its webhooks.

Every function here runs its own short transaction on the engine it is given: none may
be called inside one of paytrack's own (SQLite allows one writer at a time).

``deliver_due`` sends queued webhooks: it claims due rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several workers never send one row twice) and moves each past a lease
before sending, signs each at send time (Standard Webhooks), POSTs with a timeout, and
marks it delivered on a 2xx answer. Anything else is tried again after 10 s, 1 min, 5 min
and 30 min; after the fifth failed attempt the row is dead. A sender that crashes
mid-batch leaves its rows to be sent again once the lease ends (at least once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypedDict

import httpx
from sqlalchemy import Engine, func, select, update
from sqlalchemy.engine import Connection
from standardwebhooks import Webhook

from paytrack.adapters.storage.sql import insert_ignore, record_or_none, records
from paytrack.adapters.storage.tables import (
    payments,
    simulator_checkouts,
    simulator_requests,
    simulator_webhooks,
)

C, R, W = simulator_checkouts.c, simulator_requests.c, simulator_webhooks.c

DELIVERY_TIMEOUT_S = 10.0
RETRY_BACKOFF_S = (10, 60, 300, 1800)  # after failed attempts 1..4
MAX_ATTEMPTS = len(RETRY_BACKOFF_S) + 1
LEASE_S = 30  # plus the timeout of each claimed row


class SimulatorCheckout(TypedDict):
    """A checkout paid (or found expired) on the hosted page."""

    payment_id: str
    gateway_payment_id: str
    gateway_order_id: str
    amount: int
    currency: str
    outcome: str  # a CardOutcome value, or "expired"
    status: str  # succeeded | failed | canceled, from settles_at on (processing before)
    reason: str | None
    fee: int | None
    duplicates: int
    delay_s: int
    delivery_order: str  # in_order | reversed | shuffled
    created_at: datetime
    settles_at: datetime


class SimulatorRequest(TypedDict):
    """A refund or payout the simulator was asked for, by paytrack's id."""

    id: str
    kind: str  # refund | payout
    gateway_id: str
    payment_id: str | None
    amount: int
    currency: str
    outcome: str  # succeeded | failed
    reason: str | None
    created_at: datetime


class SimulatorWebhook(TypedDict):
    id: int
    event_id: str
    event_type: str
    payment_id: str | None
    body: str
    status: str  # pending | delivered | dead
    attempts: int
    due_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class QueuedWebhook:
    event_id: str
    event_type: str
    payment_id: str | None
    body: str
    due_at: datetime


def _queue(conn: Connection, webhooks: Sequence[QueuedWebhook], now: datetime) -> None:
    """Insert in the order given: rows due at the same time are sent in insertion order."""
    for hook in webhooks:
        conn.execute(simulator_webhooks.insert().values(
            event_id=hook.event_id, event_type=hook.event_type, payment_id=hook.payment_id,
            body=hook.body, status="pending", attempts=0, due_at=hook.due_at,
            created_at=now))


def queue(engine: Engine, webhooks: Sequence[QueuedWebhook], now: datetime) -> None:
    with engine.begin() as conn:
        _queue(conn, webhooks, now)


def record_checkout(engine: Engine, checkout: SimulatorCheckout,
                    webhooks: Sequence[QueuedWebhook]) -> bool:
    """Store a paid checkout and queue its webhooks, both or neither; False (and nothing
    queued) when the payment already has a checkout row (a second submit)."""
    with engine.begin() as conn:
        inserted = conn.execute(insert_ignore(conn, simulator_checkouts).values(**checkout)
                                .returning(C.payment_id)).first()
        if inserted is None:
            return False
        _queue(conn, webhooks, checkout["created_at"])
        return True


def get_checkout(engine: Engine, *, payment_id: str | None = None,
                 gateway_payment_id: str | None = None,
                 gateway_order_id: str | None = None) -> SimulatorCheckout | None:
    query = select(simulator_checkouts)
    if payment_id is not None:
        query = query.where(C.payment_id == payment_id)
    elif gateway_payment_id is not None:
        query = query.where(C.gateway_payment_id == gateway_payment_id)
    elif gateway_order_id is not None:
        query = query.where(C.gateway_order_id == gateway_order_id)
    else:
        return None
    with engine.connect() as conn:
        return record_or_none(conn.execute(query).first(), SimulatorCheckout)


def refunded_amount(conn: Connection, payment_id: str) -> int:
    """What succeeded refunds of the payment have given back so far."""
    return int(conn.execute(
        select(func.coalesce(func.sum(R.amount), 0))
        .where(R.payment_id == payment_id, R.kind == "refund",
               R.outcome == "succeeded")).scalar_one())


def lock_checkout(conn: Connection, payment_id: str) -> SimulatorCheckout | None:
    """The payment's checkout row, locked until the transaction ends (PostgreSQL)."""
    row = conn.execute(select(simulator_checkouts).where(C.payment_id == payment_id)
                       .with_for_update()).first()
    return record_or_none(row, SimulatorCheckout)


# A payment paytrack holds as paid (the money was taken, whatever happened next).
PAID_STATES = ("succeeded", "partially_refunded", "refunded", "disputed", "charged_back")


def record_hand_capture(conn: Connection, payment_id: str,
                        now: datetime) -> SimulatorCheckout | None:
    """A payment an admin captured by hand, never paid on the page: the simulator takes it
    as paid from then on (a checkout row with no webhooks), so that its refunds go through
    and its page says it is paid. None if paytrack does not hold it as paid."""
    paid = conn.execute(select(payments.c.total, payments.c.currency).where(
        payments.c.id == payment_id, payments.c.gateway == "simulator",
        payments.c.status.in_(PAID_STATES))).first()
    if paid is None:
        return None
    ulid = payment_id.partition("_")[2] or payment_id
    row = SimulatorCheckout(
        payment_id=payment_id, gateway_payment_id=f"sim_pi_{ulid}",
        gateway_order_id=f"sim_cs_{ulid}", amount=paid.total, currency=paid.currency,
        outcome="succeeded", status="succeeded", reason="captured by hand in paytrack",
        fee=None, duplicates=1, delay_s=0, delivery_order="in_order", created_at=now,
        settles_at=now)
    conn.execute(insert_ignore(conn, simulator_checkouts).values(**row))
    return lock_checkout(conn, payment_id)


def get_request(conn: Connection, request_id: str) -> SimulatorRequest | None:
    row = conn.execute(select(simulator_requests).where(R.id == request_id)).first()
    return record_or_none(row, SimulatorRequest)


def record_request(conn: Connection, request: SimulatorRequest,
                   webhooks: Sequence[QueuedWebhook]) -> SimulatorRequest:
    """Store a refund or payout and queue its webhooks; when the id was seen before,
    the first one's record is returned and nothing is queued (idempotent)."""
    inserted = conn.execute(insert_ignore(conn, simulator_requests).values(**request)
                            .returning(R.id)).first()
    if inserted is None:
        existing = get_request(conn, request["id"])
        assert existing is not None
        return existing
    _queue(conn, webhooks, request["created_at"])
    return request


def list_webhooks(engine: Engine, *, payment_id: str | None = None,
                  status: str | None = None) -> list[SimulatorWebhook]:
    """Queued webhooks in the order they are due (tests, the demo)."""
    query = select(simulator_webhooks).order_by(W.due_at, W.id)
    if payment_id is not None:
        query = query.where(W.payment_id == payment_id)
    if status is not None:
        query = query.where(W.status == status)
    with engine.connect() as conn:
        return records(conn.execute(query), SimulatorWebhook)


# -- delivery ----------------------------------------------------------------------------------


def deliver_due(engine: Engine, http: httpx.Client, url: str, now: datetime,
                limit: int = 50, *, webhook_secret: str) -> int:
    """Send up to ``limit`` webhooks due by ``now`` to ``url``; how many were delivered.

    The signature's timestamp is the wall clock's at send time (the receiver checks its
    freshness against its own clock), whatever ``now`` says about which rows are due."""
    signer = Webhook(webhook_secret)
    delivered = 0
    for row in _claim(engine, now, limit):
        error = _send(http, url, row, signer)
        _settle(engine, row, now, error)
        delivered += error is None
    return delivered


def _claim(engine: Engine, now: datetime, limit: int) -> list[SimulatorWebhook]:
    with engine.begin() as conn:
        rows = records(conn.execute(
            select(simulator_webhooks)
            .where(W.status == "pending", W.due_at <= now)
            .order_by(W.due_at, W.id).limit(limit)
            .with_for_update(skip_locked=True)), SimulatorWebhook)
        if rows:
            lease = timedelta(seconds=LEASE_S + DELIVERY_TIMEOUT_S * len(rows))
            conn.execute(update(simulator_webhooks)
                         .where(W.id.in_([row["id"] for row in rows]))
                         .values(attempts=W.attempts + 1, due_at=now + lease))
    for row in rows:
        row["attempts"] += 1
    return rows


def signed_headers(signer: Webhook, event_id: str, body: str,
                   at: datetime | None = None) -> dict[str, str]:
    at = at or datetime.now(UTC)
    return {"content-type": "application/json", "user-agent": "paytrack-simulator",
            "webhook-id": event_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signer.sign(event_id, at, body)}


def _send(http: httpx.Client, url: str, row: SimulatorWebhook, signer: Webhook) -> str | None:
    """None when the receiver took it (2xx), else why not."""
    headers = signed_headers(signer, row["event_id"], row["body"])
    try:
        # Built, then sent: the timeout travels with the request (also through a TestClient).
        response = http.send(http.build_request("POST", url, content=row["body"].encode(),
                                                headers=headers, timeout=DELIVERY_TIMEOUT_S))
    except Exception as exc:  # a refused connection, a timeout, a receiver's own crash
        return f"{type(exc).__name__}: {exc}"[:500]
    if response.is_success:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"[:500]


def _settle(engine: Engine, row: SimulatorWebhook, now: datetime, error: str | None) -> None:
    if error is None:
        values: dict[str, object] = {"status": "delivered", "delivered_at": now,
                                     "last_error": None}
    elif row["attempts"] >= MAX_ATTEMPTS:
        values = {"status": "dead", "last_error": error}
    else:
        backoff = RETRY_BACKOFF_S[row["attempts"] - 1]
        values = {"due_at": now + timedelta(seconds=backoff), "last_error": error}
    with engine.begin() as conn:
        conn.execute(update(simulator_webhooks)
                     .where(W.id == row["id"], W.status == "pending").values(**values))
