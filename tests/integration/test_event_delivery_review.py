"""What a hostile review of event delivery found, each as the test that failed before its
fix: a trickling endpoint, a late result after a redelivery, events while an endpoint was
paused, and a part of the upkeep that fails."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.events import DeliveryRules
from paytrack.entrypoints import upkeep
from paytrack.entrypoints.deliverer import Deliverer
from paytrack.services import event_delivery, event_endpoints, events
from tests.integration.conftest import ADMIN, committed, new_payment
from tests.integration.event_fixtures import (
    RULES,
    Clock,
    clocked_storage,
    deliveries,
    endpoint,
    stored_events,
)
from tests.receiver import receiving


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(engine, clock) -> Storage:
    return clocked_storage(engine, clock)


def run(storage: Storage, rules: DeliveryRules = RULES):
    deliverer = Deliverer(rules)
    try:
        return deliverer.run(storage)
    finally:
        deliverer.close()


def trickling_server(seconds: float) -> tuple[str, threading.Event]:
    """An endpoint that answers 200 and then sends a header line every 0.3 s."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        ends = time.monotonic() + seconds
        while time.monotonic() < ends and not stop.is_set():
            conn.sendall(b"X-Slow: a\r\n")
            time.sleep(0.3)
        conn.close()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/hook", stop


def test_a_trickling_endpoint_is_cut_off_at_the_deadline(storage):
    url, stop = trickling_server(seconds=20)
    endpoint(storage, url)
    new_payment(storage)
    rules = DeliveryRules(max_attempts=3, timeout_s=1, lease_s=30)
    started = time.monotonic()
    try:
        assert run(storage, rules) == (1, 0, 1)
    finally:
        stop.set()
    assert time.monotonic() - started < rules.deadline_s + 2
    (delivery,) = deliveries(storage)
    assert delivery["status"] == "failed" and "no complete answer" in delivery["last_error"]


def test_a_success_counts_even_after_the_lease_ran_out(storage, clock):
    with receiving() as platform:
        endpoint_id, platform.secret = endpoint(storage, platform.url)
        new_payment(storage)
        committed(storage, event_delivery.dispatch)
        (first,) = committed(storage, event_delivery.claim_due, RULES, limit=5)
        clock.advance(RULES.lease_s + 1)
        (second,) = committed(storage, event_delivery.claim_due, RULES, limit=5)
        # the first worker's 200 arrives late: the endpoint has the event all the same
        assert committed(storage, event_delivery.record_result, first.delivery, RULES,
                         response_status=200, error=None) == "succeeded"
        assert committed(storage, event_delivery.record_result, second.delivery, RULES,
                         response_status=500, error=None) is None
    assert [d["status"] for d in deliveries(storage)] == ["succeeded"]


def test_a_late_result_after_a_redelivery_lands_on_nothing(storage, clock):
    endpoint(storage, "http://127.0.0.1:9/unused")
    payment = new_payment(storage)
    committed(storage, event_delivery.dispatch)
    (a,) = committed(storage, event_delivery.claim_due, RULES, limit=5)
    clock.advance(RULES.lease_s + 1)
    (b,) = committed(storage, event_delivery.claim_due, RULES, limit=5)
    committed(storage, event_delivery.record_result, b.delivery, RULES, response_status=500,
              error=None)
    (event,) = committed(storage, events.list_events, ADMIN, object_id=payment["id"])
    committed(storage, events.redeliver, event["id"], ADMIN)
    (c,) = committed(storage, event_delivery.claim_due, RULES, limit=5)
    assert c.delivery["attempts"] == a.delivery["attempts"] == 1  # a fresh set of attempts
    assert committed(storage, event_delivery.record_result, a.delivery, RULES,
                     response_status=500, error=None) is None  # not a's claim any more
    clock.advance(11)
    assert committed(storage, event_delivery.claim_due, RULES, limit=5) == []  # c's lease


def test_events_while_a_gone_endpoint_was_paused_are_sent_once_it_is_back(storage, clock):
    with receiving(lambda n: 410 if n == 0 else 200) as platform:
        endpoint_id, platform.secret = endpoint(storage, platform.url)
        new_payment(storage)
        run(storage)  # 410: the endpoint is paused
        new_payment(storage)
        run(storage)
        committed(storage, event_endpoints.update_endpoint, endpoint_id, ADMIN,
                  {"active": True})
        clock.advance(3600)
        run(storage)
        got = platform.payloads("payment.succeeded")
        # the first once refused with 410 and sent again, the second sent for the first time
        assert len({p["id"] for p in got}) == 2 and len(got) == 3


def test_a_part_of_the_upkeep_that_fails_does_not_stop_the_events(storage, monkeypatch):
    def broken(uow):
        raise RuntimeError("one earning cannot be released")

    monkeypatch.setattr(upkeep, "release_due", broken)
    with receiving() as platform:
        _, platform.secret = endpoint(storage, platform.url)
        new_payment(storage)
        done = upkeep.run_once(storage, rules=RULES)
        assert done.released == 0 and done.delivered == 1
        assert len(platform.payloads("payment.succeeded")) == 1


def test_events_are_forgotten_after_their_retention_once_every_delivery_is_over(storage,
                                                                               clock):
    rules = DeliveryRules(max_attempts=3, timeout_s=2, lease_s=30, retention_days=30)
    with receiving(lambda n: 200 if n == 0 else 500) as platform:
        _, platform.secret = endpoint(storage, platform.url)
        delivered = new_payment(storage)
        run(storage, rules)  # delivered
        retrying = new_payment(storage)
        run(storage, rules)  # refused: it waits for a retry
        clock.advance(31 * 86400)
        recent = new_payment(storage)
        committed(storage, event_delivery.purge_old, rules)
    kept = {e["object_id"] for e in stored_events(storage)}
    assert kept == {retrying["id"], recent["id"]}, (delivered["id"], kept)
    assert all(d["event_id"] for d in deliveries(storage))
