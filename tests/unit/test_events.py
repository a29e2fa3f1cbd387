"""The rules events follow, without a database: the backoff schedule and its jitter,
snapshots as plain JSON, endpoint URLs and types, secrets the libraries take, and the
signed headers of a delivery."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from standardwebhooks import Webhook

from paytrack.adapters.event_sender import signed_headers
from paytrack.domain.errors import ValidationFailed
from paytrack.domain.events import (
    DeliveryRules,
    EventType,
    check_event_types,
    check_url,
    json_safe,
    new_secret,
)


def test_the_backoff_ceiling_doubles_from_the_base_up_to_the_cap():
    rules = DeliveryRules(backoff_base_s=10, backoff_cap_s=6 * 3600)
    assert [rules.backoff_ceiling_s(n) for n in range(1, 8)] == [10, 20, 40, 80, 160, 320, 640]
    assert rules.backoff_ceiling_s(12) == 20480  # 10 × 2^11, under the cap …
    assert rules.backoff_ceiling_s(13) == 6 * 3600  # … 10 × 2^12 = 40960 is capped
    assert rules.backoff_ceiling_s(10_000) == 6 * 3600  # no overflow however many


def test_full_jitter_draws_every_wait_between_zero_and_the_ceiling():
    rules = DeliveryRules()
    rng = random.Random(42)
    for failures in range(1, 15):
        waits = [rules.backoff_s(failures, rng) for _ in range(300)]
        ceiling = rules.backoff_ceiling_s(failures)
        assert all(0 <= w <= ceiling for w in waits)
        # Spread over the whole range, not bunched at the ceiling (what plain exponential
        # backoff does, so that failed senders retry in lockstep).
        assert min(waits) < ceiling * 0.1 and max(waits) > ceiling * 0.9


@pytest.mark.parametrize("bad", [{"max_attempts": 0}, {"timeout_s": 11}, {"timeout_s": 0},
                                 {"lease_s": 5, "timeout_s": 10},
                                 {"backoff_base_s": 100, "backoff_cap_s": 10}])
def test_delivery_rules_refuse_what_cannot_work(bad):
    with pytest.raises(ValueError):
        DeliveryRules(**bad)


def test_a_snapshot_is_plain_json_with_times_in_utc():
    eastern = timezone(timedelta(hours=-5))
    value = {"at": datetime(2026, 3, 2, 7, 0, tzinfo=eastern), "rate": Decimal("0.15"),
             "kind": EventType.PAYMENT_SUCCEEDED, "nested": [{"n": 1, "t": (1, 2)}]}
    safe = json_safe(value)
    assert json.loads(json.dumps(safe)) == {
        "at": "2026-03-02T12:00:00Z", "rate": "0.15", "kind": "payment.succeeded",
        "nested": [{"n": 1, "t": [1, 2]}]}


@pytest.mark.parametrize("url", ["https://platform.example/hook", "http://127.0.0.1:8080/h",
                                 "HTTPS://Platform.Example/h?token=1"])
def test_an_http_or_https_url_is_an_endpoint(url):
    assert check_url(url) == url


@pytest.mark.parametrize("url", ["", "ftp://x.example/h", "mailto:a@b.example", "https://",
                                 "https://u:p@x.example/", "https://x.example:70000/",
                                 "https://x.example/\x00", "https://x.example/a b",
                                 "https://[::1/h", "https://x.example/" + "a" * 2048, 7])
def test_anything_else_is_refused_naming_the_url(url):
    with pytest.raises(ValidationFailed) as refused:
        check_url(url)
    assert refused.value.extra["field"] == "url"


def test_event_types_are_known_each_once_and_none_means_all():
    assert check_event_types(None) == [] == check_event_types([])
    assert check_event_types(["refund.succeeded", "payment.failed", "refund.succeeded"]) == [
        "refund.succeeded", "payment.failed"]
    with pytest.raises(ValidationFailed, match="'payment.done' is not one of"):
        check_event_types(["payment.done"])


def test_a_secret_is_whsec_and_32_random_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_") and secret != new_secret()
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_signed_headers_verify_with_the_standard_webhooks_library():
    secret, body = new_secret(), b'{"id":"evt_1","type":"payment.succeeded"}'
    headers = signed_headers(secret, "evt_1", body, datetime.now(UTC))
    assert Webhook(secret).verify(body, headers) == json.loads(body)
    assert headers["webhook-id"] == "evt_1" and headers["content-type"] == "application/json"
    with pytest.raises(Exception, match="signature"):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(body.replace(b"succeeded", b"failed"), headers)
