"""Fan-out and delivery to a real HTTP receiver on 127.0.0.1 that verifies every delivery
with the ``standardwebhooks`` library: signatures, retries with backoff, the dead letter,
redelivery, leases, and the outbox's promise that a committed change is delivered even if
the process dies before it sends anything. On SQLite and PostgreSQL; races on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.splits import Policy
from paytrack.entrypoints.deliverer import Deliverer
from paytrack.entrypoints.upkeep import run_once
from paytrack.services import event_delivery, event_endpoints, events, payments
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, committed, new_payment, race
from tests.integration.event_fixtures import (
    RULES,
    Clock,
    clocked_storage,
    deliveries,
    endpoint,
    stored_events,
)
from tests.receiver import Receiver, receiving


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(engine, clock) -> Storage:
    return clocked_storage(engine, clock)


def deliver(storage: Storage) -> tuple[int, int, int]:
    deliverer = Deliverer(RULES)
    try:
        return deliverer.run(storage)
    finally:
        deliverer.close()


@pytest.fixture
def receiver():
    with receiving() as r:
        yield r


def registered(storage, receiver: Receiver, types=None) -> str:
    endpoint_id, receiver.secret = endpoint(storage, receiver.url, types)
    return endpoint_id


def test_a_captured_payment_reaches_the_platform_signed_and_verifiable(storage, receiver):
    registered(storage, receiver)
    paid = new_payment(storage)
    assert deliver(storage) == (1, 1, 0)
    (event,) = stored_events(storage)
    (got,) = receiver.accepted
    assert got["headers"]["webhook-id"] == event["id"]
    assert got["headers"]["content-type"] == "application/json"
    assert got["headers"]["user-agent"].startswith("paytrack/")
    assert set(got["payload"]) == {"id", "type", "created_at", "data"}
    assert (got["payload"]["id"], got["payload"]["type"]) == (event["id"], "payment.succeeded")
    shown = got["payload"]["data"]["object"]
    assert (shown["id"], shown["status"], shown["total"], shown["refundable_amount"]) == (
        paid["id"], "succeeded", paid["total"], paid["total"])
    (delivery,) = deliveries(storage)
    assert (delivery["status"], delivery["attempts"], delivery["response_status"]) == (
        "succeeded", 1, 200)
    assert deliver(storage) == (0, 0, 0)  # nothing twice
    assert len(receiver.accepted) == 1


def test_fan_out_makes_one_delivery_per_active_subscribed_endpoint(storage):
    everything, _ = endpoint(storage, "https://a.example/hook")
    payments_only, _ = endpoint(storage, "https://b.example/hook", ["payment.succeeded"])
    refunds_only, _ = endpoint(storage, "https://c.example/hook", ["refund.succeeded"])
    off, _ = endpoint(storage, "https://d.example/hook")
    committed(storage, event_endpoints.deactivate_endpoint, off, ADMIN)
    paid = new_payment(storage)
    committed(storage, payments.fail_payment, new_payment(storage, capture=False)["id"],
              ADMIN)
    assert committed(storage, event_delivery.dispatch) == 2
    assert committed(storage, event_delivery.dispatch) == 0
    made = {(d["event_id"], d["endpoint_id"]) for d in deliveries(storage)}
    by_type = {e["type"]: e["id"] for e in stored_events(storage)}
    assert made == {(by_type["payment.succeeded"], everything),
                    (by_type["payment.succeeded"], payments_only),
                    (by_type["payment.failed"], everything)}
    assert all(e["dispatched_at"] is not None for e in stored_events(storage))
    assert paid["id"] in {e["object_id"] for e in stored_events(storage)}


def test_a_failing_endpoint_is_retried_with_backoff_until_it_takes_the_event(storage, clock):
    with receiving(lambda n: 500 if n < 2 else 204) as receiver:
        registered(storage, receiver)
        new_payment(storage)
        assert deliver(storage) == (1, 0, 1)
        (first,) = deliveries(storage)
        assert (first["status"], first["response_status"], first["last_error"]) == (
            "failed", 500, "HTTP 500")
        wait = (first["next_attempt_at"] - clock.now).total_seconds()
        assert 0 <= wait <= RULES.backoff_ceiling_s(1)
        clock.advance(RULES.backoff_ceiling_s(1) + 1)
        assert deliver(storage)[1:] == (0, 1)
        clock.advance(RULES.backoff_ceiling_s(2) + 1)
        assert deliver(storage)[1:] == (1, 0)
    (done,) = deliveries(storage)
    assert (done["status"], done["attempts"], done["response_status"]) == ("succeeded", 3, 204)
    assert len(set(receiver.ids)) == 1 and len(receiver.ids) == 3  # one id on every retry


def test_after_the_last_attempt_a_delivery_is_dead_until_redelivered(storage, clock):
    healthy = threading.Event()
    with receiving(lambda n: 200 if healthy.is_set() else 503) as receiver:
        endpoint_id = registered(storage, receiver)
        new_payment(storage)
        for _ in range(RULES.max_attempts):
            deliver(storage)
            clock.advance(RULES.backoff_cap_s + 1)
        (dead,) = deliveries(storage)
        assert (dead["status"], dead["attempts"], dead["next_attempt_at"]) == (
            "dead", RULES.max_attempts, None)
        assert deliver(storage) == (0, 0, 0)
        assert len(receiver.accepted) == RULES.max_attempts

        healthy.set()
        (event,) = stored_events(storage)
        (again,) = committed(storage, events.redeliver, event["id"], ADMIN)
        assert (again["status"], again["attempts"]) == ("pending", 0)
        assert deliver(storage) == (0, 1, 0)
        # A delivered event is sent again on request, to the endpoint named.
        committed(storage, events.redeliver, event["id"], ADMIN, endpoint_id=endpoint_id)
        assert deliver(storage) == (0, 1, 0)
    assert receiver.ids[-2:] == [event["id"], event["id"]]
    assert deliveries(storage)[0]["status"] == "succeeded"


def test_redelivery_reaches_an_endpoint_registered_after_the_event(storage, receiver):
    new_payment(storage)
    deliver(storage)  # dispatched to no one
    endpoint_id = registered(storage, receiver)
    (event,) = stored_events(storage)
    committed(storage, events.redeliver, event["id"], ADMIN, endpoint_id=endpoint_id)
    deliver(storage)
    assert receiver.ids == [event["id"]]


def test_a_receiver_with_another_secret_refuses_the_delivery(storage, receiver):
    registered(storage, receiver)
    receiver.secret = event_endpoints.new_secret()  # tampered: not the endpoint's
    new_payment(storage)
    assert deliver(storage) == (1, 0, 1)
    assert (receiver.refused, receiver.accepted) == (1, [])
    assert deliveries(storage)[0]["response_status"] == 400


def test_an_endpoint_that_is_gone_is_disabled(storage, clock):
    with receiving(lambda n: 410) as receiver:
        endpoint_id = registered(storage, receiver)
        new_payment(storage)
        new_payment(storage)
        deliver(storage)
    with storage.unit_of_work(readonly=True) as uow:
        gone = event_endpoints.get_endpoint(uow, endpoint_id, ADMIN)
    assert (gone["active"], gone["disabled_reason"]) == (False, "the endpoint answered 410 "
                                                                "Gone")
    clock.advance(RULES.backoff_cap_s + 1)
    assert deliver(storage) == (0, 0, 0)  # nothing more is sent to it


def test_an_unreachable_endpoint_is_a_failed_attempt_without_its_url(storage):
    endpoint_id, _ = endpoint(storage, "http://127.0.0.1:9/hook?token=s3cret")
    new_payment(storage)
    assert deliver(storage) == (1, 0, 1)
    (failed,) = deliveries(storage)
    assert (failed["status"], failed["response_status"]) == ("failed", None)
    assert "s3cret" not in failed["last_error"] and "127.0.0.1" not in failed["last_error"]
    assert failed["endpoint_id"] == endpoint_id


def test_a_change_committed_before_the_process_died_is_delivered_by_a_later_worker(
        engine, storage, receiver):
    """The outbox: the payment commits and the process "dies" before any delivery (no
    worker ran); a worker started later, with a storage of its own, sends the event."""
    registered(storage, receiver)
    paid = new_payment(storage)
    assert receiver.accepted == []
    later = Storage(engine, Policy(hold_days=0), payout_keys=storage.payout_keys)
    with receiving() as other:
        done = run_once(later, rules=RULES)
    assert (done.dispatched, done.delivered, done.delivery_failures) == (1, 1, 0)
    assert other.accepted == []
    assert [p["data"]["object"]["id"] for p in receiver.payloads("payment.succeeded")] == [
        paid["id"]]


def test_a_delivery_claimed_by_a_worker_that_died_is_sent_after_its_lease(storage, clock,
                                                                           receiver):
    registered(storage, receiver)
    new_payment(storage)
    committed(storage, event_delivery.dispatch)
    (claimed,) = committed(storage, event_delivery.claim_due, RULES, limit=10)  # and died
    assert deliver(storage) == (0, 0, 0)  # within its lease: nobody else sends it
    clock.advance(RULES.lease_s + 1)
    assert deliver(storage) == (0, 1, 0)
    (delivery,) = deliveries(storage)
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 2)
    assert receiver.ids == [claimed.event["id"]]
    # The worker that died cannot overwrite the result when it comes back.
    assert committed(storage, event_delivery.record_result, claimed.delivery, RULES,
                     response_status=500, error=None) is None
    assert deliveries(storage)[0]["status"] == "succeeded"


def test_a_lease_that_runs_out_on_the_last_attempt_leaves_the_delivery_dead(storage, clock,
                                                                            receiver):
    registered(storage, receiver)
    new_payment(storage)
    committed(storage, event_delivery.dispatch)
    for _ in range(RULES.max_attempts):
        assert committed(storage, event_delivery.claim_due, RULES, limit=10)
        clock.advance(RULES.lease_s + 1)
    assert deliver(storage) == (0, 0, 0)
    (dead,) = deliveries(storage)
    assert dead["status"] == "dead" and "stopped during the last attempt" in dead["last_error"]
    assert receiver.accepted == []


def test_the_upkeep_round_reports_what_it_sent(storage, receiver):
    registered(storage, receiver, ["payment.succeeded"])
    for _ in range(3):
        new_payment(storage)
    done = run_once(storage, rules=RULES)
    assert (done.dispatched, done.delivered, done.delivery_failures) == (3, 3, 0)
    assert done.folded > 0  # the fields it had keep working


@postgres_only
def test_two_workers_at_once_never_send_a_delivery_twice_within_its_lease(storage,
                                                                          receiver):
    registered(storage, receiver)
    for _ in range(40):
        new_payment(storage)
    committed(storage, event_delivery.dispatch)
    start = threading.Barrier(4)

    def work(_: int) -> int:
        start.wait()
        return deliver(storage)[1]

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sum(pool.map(work, range(4))) == 40
    assert sorted(receiver.ids) == sorted(e["id"] for e in stored_events(storage))


@postgres_only
def test_dispatchers_racing_make_each_delivery_once(storage):
    for url in ("https://a.example/h", "https://b.example/h"):
        endpoint(storage, url)
    for _ in range(30):
        new_payment(storage)
    outcomes = race(storage, 6, lambda uow, i: event_delivery.dispatch(uow, limit=7))
    assert outcomes == {"ok": 6}
    while committed(storage, event_delivery.dispatch):
        pass
    made = deliveries(storage)
    assert len(made) == 60
    assert len({(d["event_id"], d["endpoint_id"]) for d in made}) == 60
