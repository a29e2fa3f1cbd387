from datetime import UTC, datetime, timedelta

import pytest

from paytrack.services import idempotency


def _clock(storage, when):
    storage.clock = lambda: when


def test_a_completed_key_replays_for_a_day_and_is_purged_after(storage):
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    _clock(storage, start)
    assert idempotency.begin(storage, "key_a", "k", "hash1") is None
    idempotency.finish(storage, "key_a", "k", 201, '{"id": "pay_1"}')

    _clock(storage, start + timedelta(hours=23, minutes=59))
    replay = idempotency.begin(storage, "key_a", "k", "hash1")
    assert replay == idempotency.Replay(201, '{"id": "pay_1"}')
    assert idempotency.purge_expired(storage) == 0

    _clock(storage, start + timedelta(hours=24, minutes=1))
    assert idempotency.purge_expired(storage) == 1
    assert idempotency.begin(storage, "key_a", "k", "hash2") is None  # a fresh request


def test_a_server_error_releases_the_key_for_a_retry(storage):
    assert idempotency.begin(storage, "key_a", "k", "h") is None
    idempotency.finish(storage, "key_a", "k", 500, "")
    assert idempotency.begin(storage, "key_a", "k", "h") is None


def test_an_abandoned_claim_is_taken_over_after_a_while(storage):
    start = datetime(2026, 3, 1, tzinfo=UTC)
    _clock(storage, start)
    assert idempotency.begin(storage, "key_a", "k", "h") is None
    with pytest.raises(idempotency.IdempotentRequestInFlight):
        idempotency.begin(storage, "key_a", "k", "h")
    _clock(storage, start + idempotency.STALE_AFTER + timedelta(seconds=1))
    assert idempotency.begin(storage, "key_a", "k", "h") is None


def test_another_request_with_the_same_key_is_refused(storage):
    assert idempotency.begin(storage, "key_a", "k", "h1") is None
    with pytest.raises(idempotency.IdempotencyKeyReused):
        idempotency.begin(storage, "key_a", "k", "h2")
