"""What the simulator's tests share: a settable clock, a gateway on the test database, a
checkout, and a fake receiver that verifies each delivery as paytrack's intake would."""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine

from paytrack.adapters.gateways.base import CheckoutRequest, GatewaySettings
from paytrack.adapters.gateways.simulator import SimulatorGateway
from paytrack.adapters.gateways.simulator_rules import card_for
from paytrack.domain.gateways import Checkout, Mode, Notification
from paytrack.domain.ids import new_id

SECRET = "whsec_" + base64.b64encode(b"paytrack simulator test secret!!").decode()
PUBLIC_URL = "http://paytrack.test"
RETURN_URL = "https://shop.test/orders/1001/paid?lang=en"
URL = f"{PUBLIC_URL}/v1/webhooks/simulator"
START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

SUCCEEDS = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"
INSUFFICIENT = "4000 0000 0000 9995"
DELAYED = "4000 0000 0000 3220"
DISPUTED = "4000 0000 0000 0259"
REFUND_FAILS = "4000 0000 0000 5126"


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def settings(secret: str = SECRET) -> GatewaySettings:
    return GatewaySettings(gateway="simulator", mode=Mode.TEST, webhook_secret=secret,
                           public_url=PUBLIC_URL)


def gateway(engine: Engine, clock: Clock, secret: str = SECRET) -> SimulatorGateway:
    return SimulatorGateway(settings(secret), clock=clock, engine=engine)


def checkout_request(clock: Clock, *, amount: int = 1250, currency: str = "USD",
                     expires_in_s: int = 1800, description: str = "Course: Python 101",
                     return_url: str = RETURN_URL) -> CheckoutRequest:
    return CheckoutRequest(payment_id=new_id("pay"), amount=amount, currency=currency,
                           description=description, customer_id="cust_1",
                           seller_id="seller_1",
                           expires_at=clock() + timedelta(seconds=expires_in_s),
                           return_url=return_url, metadata={"order": "1001"})


def token_of(checkout: Checkout) -> str:
    return checkout.payment_url.rsplit("/", 1)[1]


def paid(gw: SimulatorGateway, clock: Clock, card: str = SUCCEEDS, **options):
    """A new checkout paid on the page with ``card``: (request, payment)."""
    request = checkout_request(clock)
    opened = gw.open_checkout(token_of(gw.create_checkout(request)))
    test_card = card_for(card)
    assert test_card is not None
    return request, gw.pay(opened, test_card, **options)


@dataclass
class Receiver:
    """Answers ``statuses`` in turn (then the last one again), after verifying each
    delivery with the gateway's own ``parse_webhook``."""

    gateway: SimulatorGateway
    statuses: list[int | Exception] = field(default_factory=lambda: [200])
    received: list[Notification] = field(default_factory=list)
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            answer = self.statuses[min(self.calls, len(self.statuses) - 1)]
            self.calls += 1
            if isinstance(answer, Exception):
                raise answer
            notification = self.gateway.parse_webhook(request.content, request.headers)
            if 200 <= answer < 300:
                self.received.append(notification)
        return httpx.Response(answer, json={})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    @property
    def types(self) -> list[str]:
        return [n.event_type for n in self.received]
