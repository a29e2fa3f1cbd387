"""``deliver_due``: queued simulator webhooks reach a receiver signed, when due, as often and
in the order asked; failures are retried with backoff and end dead; concurrent senders
never send one row twice (PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from paytrack.adapters.gateways.simulator_store import (
    DELIVERY_TIMEOUT_S,
    MAX_ATTEMPTS,
    list_webhooks,
)
from paytrack.domain.gateways import EventKind
from tests.conftest import postgres_only
from tests.integration.simulator_support import (
    DELAYED,
    DISPUTED,
    SUCCEEDS,
    URL,
    Clock,
    Receiver,
    gateway,
    paid,
)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def gw(engine, clock):
    return gateway(engine, clock)


def test_a_paid_checkout_reaches_the_receiver_signed_and_readable(gw, clock):
    request, _ = paid(gw, clock, SUCCEEDS)
    receiver = Receiver(gw)
    assert gw.deliver_due(receiver.client(), URL, clock()) == 1
    (notification,) = receiver.received
    (event,) = notification.events
    assert (event.kind, event.payment_id, event.amount, event.fee) == (
        EventKind.PAYMENT_SUCCEEDED, request.payment_id, 1250, 66)
    assert gw.deliver_due(receiver.client(), URL, clock.advance(3600)) == 0  # sent once


def test_the_request_carries_standard_webhooks_headers_and_the_exact_body(gw, clock, engine):
    paid(gw, clock, SUCCEEDS)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    gw.deliver_due(httpx.Client(transport=httpx.MockTransport(handler)), URL, clock())
    (request,) = seen
    (row,) = list_webhooks(engine)
    assert (request.method, str(request.url)) == ("POST", URL)
    assert request.content == row["body"].encode()
    assert request.headers["webhook-id"] == row["event_id"]
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.extensions["timeout"]["read"] == DELIVERY_TIMEOUT_S
    assert (row["status"], row["attempts"], row["delivered_at"]) == ("delivered", 1, clock())


def test_duplicates_arrive_as_many_times_with_one_event_id(gw, clock):
    paid(gw, clock, SUCCEEDS, duplicates=4)
    receiver = Receiver(gw)
    assert gw.deliver_due(receiver.client(), URL, clock()) == 4
    assert len({n.event_id for n in receiver.received}) == 1


def test_a_delay_is_respected_at_the_time_given(gw, clock):
    paid(gw, clock, DELAYED, delay_s=60)
    receiver = Receiver(gw)
    client = receiver.client()
    assert gw.deliver_due(client, URL, clock()) == 1
    assert gw.deliver_due(client, URL, clock.advance(59)) == 0
    assert gw.deliver_due(client, URL, clock.advance(1)) == 1
    assert receiver.types == ["payment.processing", "payment.succeeded"]


def test_reversed_delivery_sends_the_success_before_the_processing(gw, clock):
    paid(gw, clock, DELAYED, delay_s=5, order="reversed")
    receiver = Receiver(gw)
    gw.deliver_due(receiver.client(), URL, clock.advance(5))
    assert receiver.types == ["payment.succeeded", "payment.processing"]


def test_a_dispute_arrives_after_its_payment_unless_reversed(gw, clock):
    paid(gw, clock, DISPUTED, delay_s=5)
    paid(gw, clock, DISPUTED, delay_s=5, order="reversed")
    receiver = Receiver(gw)
    gw.deliver_due(receiver.client(), URL, clock.advance(5))
    payments = {}
    for notification in receiver.received:
        payments.setdefault(notification.events[0].payment_id, []).append(
            notification.event_type)
    assert sorted(payments.values()) == [["dispute.opened", "payment.succeeded"],
                                         ["payment.succeeded", "dispute.opened"]]


def test_a_limit_sends_the_earliest_due_first(gw, clock):
    for _ in range(3):
        paid(gw, clock, SUCCEEDS)
        clock.advance(1)
    receiver = Receiver(gw)
    assert gw.deliver_due(receiver.client(), URL, clock(), limit=2) == 2
    assert gw.deliver_due(receiver.client(), URL, clock(), limit=2) == 1
    assert [n.events[0].occurred_at for n in receiver.received] == sorted(
        n.events[0].occurred_at for n in receiver.received)


def test_a_refused_delivery_is_retried_with_backoff_until_taken(gw, clock, engine):
    paid(gw, clock, SUCCEEDS)
    receiver = Receiver(gw, statuses=[500, httpx.ConnectError("refused"), 200])
    client = receiver.client()
    assert gw.deliver_due(client, URL, clock()) == 0
    (row,) = list_webhooks(engine)
    assert (row["status"], row["attempts"], row["last_error"][:8]) == ("pending", 1, "HTTP 500")
    assert gw.deliver_due(client, URL, clock.advance(9)) == 0  # not due again yet
    assert gw.deliver_due(client, URL, clock.advance(1)) == 0  # 10 s later: refused again
    assert "ConnectError" in list_webhooks(engine)[0]["last_error"]
    assert gw.deliver_due(client, URL, clock.advance(59)) == 0
    assert gw.deliver_due(client, URL, clock.advance(1)) == 1  # 1 min later: taken
    assert [row["status"] for row in list_webhooks(engine)] == ["delivered"]
    assert receiver.calls == 3


def test_a_delivery_refused_at_every_attempt_ends_dead(gw, clock, engine):
    paid(gw, clock, SUCCEEDS)
    receiver = Receiver(gw, statuses=[503])
    client = receiver.client()
    for _ in range(MAX_ATTEMPTS + 2):
        gw.deliver_due(client, URL, clock.advance(3600))
    (row,) = list_webhooks(engine)
    assert (row["status"], row["attempts"], receiver.calls) == ("dead", MAX_ATTEMPTS,
                                                                MAX_ATTEMPTS)
    assert row["last_error"].startswith("HTTP 503")


def test_a_webhook_the_receiver_cannot_verify_is_not_marked_delivered(engine, clock):
    sender = gateway(engine, clock)
    receiver = Receiver(gateway(engine, clock, secret="whsec_" + "b3RoZXI" * 6))

    def handler(request: httpx.Request) -> httpx.Response:
        try:
            receiver.handle(request)
        except Exception:
            return httpx.Response(400)
        return httpx.Response(200)

    paid(sender, clock, SUCCEEDS)
    client = httpx.Client(transport=httpx.MockTransport(handler))
    assert sender.deliver_due(client, URL, clock()) == 0
    assert list_webhooks(engine)[0]["status"] == "pending"


@postgres_only
def test_two_senders_at_once_never_deliver_one_row_twice(gw, clock, engine):
    event_ids = [gw.simulate(EventKind.PAYOUT_PAID, payout_id=f"po_{i}") for i in range(40)]
    receiver = Receiver(gw)
    barrier = threading.Barrier(2)

    def sender(_: int) -> int:
        client, sent = receiver.client(), 0
        barrier.wait()
        while batch := gw.deliver_due(client, URL, clock(), limit=3):
            sent += batch
        return sent

    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = list(pool.map(sender, range(2)))
    assert sum(sent) == 40
    assert Counter(n.event_id for n in receiver.received) == Counter(event_ids)
    assert {row["status"] for row in list_webhooks(engine)} == {"delivered"}
