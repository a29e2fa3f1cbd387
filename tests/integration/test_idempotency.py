"""Idempotency keys are claimed, and their response stored, in the work's own transaction."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from paytrack.adapters.storage.keys import IdempotencyRepository
from paytrack.domain.errors import IdempotencyKeyReused, IdempotentRequestInFlight
from paytrack.services import idempotency
from tests.conftest import postgres_only


def _clock(storage, when):
    storage.clock = lambda: when


def _complete(storage, scope, key, fingerprint, status=201, body='{"id": "pay_1"}'):
    """A request that claims the key and commits its response with its work."""
    with storage.unit_of_work() as uow:
        assert idempotency.claim(uow, scope, key, fingerprint) is None
        idempotency.record(uow, scope, key, status, body)
        uow.commit()


def _claim(storage, scope, key, fingerprint):
    with storage.unit_of_work() as uow:
        result = idempotency.claim(uow, scope, key, fingerprint)
        uow.commit()
        return result


def test_a_completed_key_replays_for_a_day_and_is_purged_after(storage):
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    _clock(storage, start)
    _complete(storage, "key_a", "k", "hash1")

    _clock(storage, start + timedelta(hours=23, minutes=59))
    assert _claim(storage, "key_a", "k", "hash1") == idempotency.Replay(201, '{"id": "pay_1"}')
    with storage.unit_of_work() as uow:
        assert idempotency.purge_expired(uow) == 0

    _clock(storage, start + timedelta(hours=24, minutes=1))
    with storage.unit_of_work() as uow:
        assert idempotency.purge_expired(uow) == 1
        uow.commit()
    assert _claim(storage, "key_a", "k", "hash2") is None  # a fresh request


def test_an_expired_key_not_yet_purged_is_taken_over(storage):
    start = datetime(2026, 3, 1, tzinfo=UTC)
    _clock(storage, start)
    _complete(storage, "key_a", "k", "hash1")
    _clock(storage, start + idempotency.KEEP + timedelta(seconds=1))
    with storage.unit_of_work() as uow:
        assert idempotency.claim(uow, "key_a", "k", "hash2") is None
        idempotency.record(uow, "key_a", "k", 200, "{}")
        uow.commit()
    assert _claim(storage, "key_a", "k", "hash2") == idempotency.Replay(200, "{}")


def test_work_that_never_commits_leaves_the_key_free(storage):
    """A crash (or a rollback) before commit takes the claim with it: no locked key."""
    with storage.unit_of_work() as uow:
        assert idempotency.claim(uow, "key_a", "k", "h") is None
        uow.rollback()
    assert _claim(storage, "key_a", "k", "h") is None


def test_another_request_with_the_same_key_is_refused(storage):
    _complete(storage, "key_a", "k", "h1")
    with pytest.raises(IdempotencyKeyReused):
        _claim(storage, "key_a", "k", "h2")


def test_the_same_json_in_another_order_or_spacing_is_the_same_request():
    one = idempotency.request_fingerprint("POST", "/v1/refunds", "",
                                          b'{"payment_id": "pay_1", "amount": 5}')
    two = idempotency.request_fingerprint("POST", "/v1/refunds", "",
                                          b'{"amount":5,\n "payment_id":"pay_1"}')
    other = idempotency.request_fingerprint("POST", "/v1/refunds", "",
                                            b'{"amount": 6, "payment_id": "pay_1"}')
    assert one == two != other


@postgres_only
def test_a_twin_waits_for_the_first_and_replays_its_response(storage):
    first = storage.unit_of_work().__enter__()
    assert idempotency.claim(first, "key_a", "k", "h") is None
    outcome = {}

    def twin():
        outcome["replay"] = _claim(storage, "key_a", "k", "h")

    thread = threading.Thread(target=twin)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive(), "the twin waits on the key's unique index"
    idempotency.record(first, "key_a", "k", 201, '{"id": "pay_1"}')
    first.commit()
    first.__exit__(None, None, None)
    thread.join(5)
    assert outcome["replay"] == idempotency.Replay(201, '{"id": "pay_1"}')


@postgres_only
def test_a_twin_of_a_request_still_running_gets_in_flight(storage, monkeypatch):
    monkeypatch.setattr(idempotency, "TWIN_WAIT", timedelta(milliseconds=200))
    first = storage.unit_of_work().__enter__()
    try:
        assert idempotency.claim(first, "key_a", "k", "h") is None
        with pytest.raises(IdempotentRequestInFlight):
            _claim(storage, "key_a", "k", "h")
    finally:
        first.__exit__(None, None, None)
    assert _claim(storage, "key_a", "k", "h") is None  # the first died: the key is free


@postgres_only
def test_two_retries_of_an_expired_key_cannot_both_take_it_over(storage):
    start = datetime(2026, 3, 1, tzinfo=UTC)
    _clock(storage, start)
    _complete(storage, "key_a", "k", "h")
    _clock(storage, start + idempotency.KEEP + timedelta(minutes=1))
    barrier = threading.Barrier(2)
    results = []

    def retry(n):
        with storage.unit_of_work() as uow:
            barrier.wait()
            replay = idempotency.claim(uow, "key_a", "k", "h")
            if replay is None:
                time.sleep(0.3)  # the work, while the other retry waits
                idempotency.record(uow, "key_a", "k", 201, f'{{"run": {n}}}')
                uow.commit()
            results.append(replay)

    threads = [threading.Thread(target=retry, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    ran = [r for r in results if r is None]
    replayed = [r for r in results if r is not None]
    assert len(ran) == 1 and len(replayed) == 1
    assert replayed[0].status == 201


@postgres_only
def test_a_twin_of_a_takeover_waits_no_longer_than_twin_wait(storage, monkeypatch):
    monkeypatch.setattr(idempotency, "TWIN_WAIT", timedelta(milliseconds=500))
    start = datetime(2026, 3, 1, tzinfo=UTC)
    storage.clock = lambda: start
    with storage.unit_of_work() as uow:
        assert idempotency.claim(uow, "s", "k", "h") is None
        idempotency.record(uow, "s", "k", 201, "{}")
        uow.commit()
    storage.clock = lambda: start + idempotency.KEEP + timedelta(minutes=1)

    b_saw_expired = threading.Event()
    a_took_over = threading.Event()
    real_get = IdempotencyRepository.get

    def get(self, scope, key):
        row = real_get(self, scope, key)
        if threading.current_thread().name == "B":
            b_saw_expired.set()
            a_took_over.wait(5)
        return row

    monkeypatch.setattr(IdempotencyRepository, "get", get)
    outcome = {}

    def first():  # A: takes the expired key over and works for 4 s
        b_saw_expired.wait(5)
        with storage.unit_of_work() as uow:
            assert idempotency.claim(uow, "s", "k", "h") is None
            a_took_over.set()
            time.sleep(4)
            idempotency.record(uow, "s", "k", 201, '{"a": 1}')
            uow.commit()

    def twin():  # B: same request
        t0 = time.monotonic()
        try:
            with storage.unit_of_work() as uow:
                outcome["result"] = idempotency.claim(uow, "s", "k", "h")
                uow.commit()
        except IdempotentRequestInFlight as exc:
            outcome["result"] = exc
        outcome["waited"] = time.monotonic() - t0

    a = threading.Thread(target=first, name="A")
    b = threading.Thread(target=twin, name="B")
    b.start()
    a.start()
    a.join(15)
    b.join(15)
    assert isinstance(outcome["result"], IdempotentRequestInFlight)
    assert outcome["waited"] < 2, f"twin waited {outcome['waited']:.1f}s (TWIN_WAIT 0.5s)"
