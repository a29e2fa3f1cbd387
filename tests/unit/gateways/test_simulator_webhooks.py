"""The simulator's webhooks: accepted when signed with its secret, refused otherwise, and
read into normalized events (no database: the engine is never connected)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from standardwebhooks import Webhook

from paytrack.adapters.gateways.simulator import SimulatorGateway
from paytrack.adapters.gateways.simulator_store import signed_headers
from paytrack.domain.errors import GatewayNotConfigured, WebhookSignatureInvalid
from paytrack.domain.gateways import EventKind, GatewayEvent
from tests.integration.simulator_support import SECRET, Clock, settings

OTHER_SECRET = "whsec_" + base64.b64encode(b"somebody else's secret, 32 bytes").decode()


@pytest.fixture
def gateway():
    return SimulatorGateway(settings(), clock=Clock(), engine=create_engine("sqlite://"))


def body(**changes) -> bytes:
    event = {"id": "evt_sim_01JDQ5Z0000000000000000000", "type": "payment.succeeded",
             "created_at": "2026-11-28T12:00:00+00:00", "livemode": False,
             "data": {"payment_id": "pay_01JDQ5Z0000000000000000000",
                      "gateway_payment_id": "sim_pi_01JDQ5Z0000000000000000000",
                      "gateway_order_id": "sim_cs_01JDQ5Z0000000000000000000",
                      "amount": 1250, "currency": "USD", "fee": 66, "reason": None,
                      "metadata": {"order": "1001"}}}
    event.update(changes)
    return json.dumps(event).encode()


def signed(raw: bytes, secret: str = SECRET, at: datetime | None = None,
           event_id: str = "evt_sim_01JDQ5Z0000000000000000000") -> dict[str, str]:
    return signed_headers(Webhook(secret), event_id, raw.decode(), at)


def test_its_own_signature_is_accepted_and_read_into_a_normalized_event(gateway):
    raw = body()
    notification = gateway.parse_webhook(raw, signed(raw))
    assert notification.event_id == "evt_sim_01JDQ5Z0000000000000000000"
    assert notification.event_type == "payment.succeeded"
    assert notification.livemode is False
    assert notification.events == (GatewayEvent(
        kind=EventKind.PAYMENT_SUCCEEDED, payment_id="pay_01JDQ5Z0000000000000000000",
        gateway_payment_id="sim_pi_01JDQ5Z0000000000000000000",
        gateway_order_id="sim_cs_01JDQ5Z0000000000000000000", amount=1250, currency="USD",
        fee=66, occurred_at=datetime(2026, 11, 28, 12, tzinfo=UTC)),)


def test_headers_are_matched_whatever_their_case(gateway):
    raw = body()
    headers = {name.title(): value for name, value in signed(raw).items()}
    assert gateway.parse_webhook(raw, headers).event_id.startswith("evt_sim_")


def test_a_tampered_body_is_refused(gateway):
    headers = signed(body())
    with pytest.raises(WebhookSignatureInvalid):
        gateway.parse_webhook(body(data={"amount": 1}), headers)


def test_a_body_signed_with_another_secret_is_refused(gateway):
    raw = body()
    with pytest.raises(WebhookSignatureInvalid):
        gateway.parse_webhook(raw, signed(raw, secret=OTHER_SECRET))


@pytest.mark.parametrize("minutes", [-6, 6])
def test_a_signature_more_than_five_minutes_from_now_is_refused(gateway, minutes):
    raw = body()
    at = datetime.now(UTC) + timedelta(minutes=minutes)
    with pytest.raises(WebhookSignatureInvalid):
        gateway.parse_webhook(raw, signed(raw, at=at))


def test_a_signature_for_another_event_id_is_refused(gateway):
    raw = body()
    with pytest.raises(WebhookSignatureInvalid):
        gateway.parse_webhook(raw, signed(raw, event_id="evt_sim_other"))


@pytest.mark.parametrize("headers", [
    {},
    {"webhook-id": "evt", "webhook-timestamp": "nan", "webhook-signature": "v1,xx"},
    {"webhook-id": "evt", "webhook-timestamp": "1e400", "webhook-signature": "v1,xx"},
    {"webhook-id": "evt", "webhook-timestamp": "-99999999999999", "webhook-signature": "v1"},
    {"webhook-id": "evt", "webhook-timestamp": "now", "webhook-signature": "v1,a,b"},
])
def test_broken_signature_headers_are_refused_as_invalid_signatures(gateway, headers):
    with pytest.raises(WebhookSignatureInvalid):
        gateway.parse_webhook(body(), headers)


@pytest.mark.parametrize("raw", [
    b"", b"\xff\xfe", b"[]", b"null", b'"text"', b"[" * 100_000,
    body(id=None), body(type=7), body(livemode=True), body(data=[1]),
    body(data={"amount": "12.50"}), body(data={"amount": 12.5}), body(data={"amount": True}),
    body(data={"amount": -1}), body(data={"currency": "usd"}), body(data={"payment_id": 5}),
    body(data={"reason": "x" * 501}), body(created_at="yesterday"),
    body(created_at="2026-11-28T12:00:00"),
])
def test_a_signed_body_that_is_not_a_simulator_event_is_refused_as_invalid(gateway, raw):
    try:
        headers = signed(raw)
    except UnicodeDecodeError:
        headers = {"webhook-id": "evt_sim_01JDQ5Z0000000000000000000"}
    with pytest.raises(WebhookSignatureInvalid):
        gateway.parse_webhook(raw, headers)


def test_an_event_type_paytrack_does_not_act_on_is_read_with_no_events(gateway):
    raw = body(type="charge.updated")
    notification = gateway.parse_webhook(raw, signed(raw))
    assert (notification.event_type, notification.events) == ("charge.updated", ())


@pytest.mark.parametrize("secret", [None, "", "whsec_", "whsec_!!!not base64"])
def test_the_simulator_refuses_to_run_without_a_standard_webhooks_secret(secret):
    with pytest.raises(GatewayNotConfigured):
        SimulatorGateway(settings(secret), clock=Clock(), engine=create_engine("sqlite://"))
