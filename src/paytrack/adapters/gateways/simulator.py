"""The built-in, offline simulator gateway: the default for the demo and the tests.

It plays the provider. ``create_checkout`` writes nothing (it runs inside paytrack's own
transaction): the checkout travels, signed, in the hosted page's URL
(``{public_url}/simulator/checkout/{token}``, see ``simulator_rules``). On that page the
customer picks a test card and, on request, duplicates, a delay and an out-of-order
delivery; the outcome is stored in the simulator's own tables and its webhooks queued
(``simulator_events``) for ``deliver_due`` to sign per Standard Webhooks with the
configured ``whsec_…`` secret and POST to ``/v1/webhooks/simulator``. Refunds and
payouts are answered "pending" and told by a webhook. Everything that writes here runs
in its own short transaction on ``engine``.

Webhook body: ``{"id": "evt_sim_…", "type": <EventKind value>, "created_at": ISO 8601,
"livemode": false, "data": {payment_id, gateway_payment_id, gateway_order_id, amount,
currency, fee, reason, refund_id, gateway_refund_id, gateway_dispute_id, payout_id,
gateway_payout_id, metadata}}``; ids ``sim_cs_`` / ``sim_pi_`` + the payment id's ULID.

Payouts fail to these destinations (any other succeeds): bank ``account_number``
``000111111116``, PayPal ``email`` ``fail@example.com``, Stripe Connect ``account_id``
``acct_simulatorfail``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from standardwebhooks import Webhook

from paytrack.adapters.gateways import simulator_store as store
from paytrack.adapters.gateways.base import (
    CheckoutRequest,
    GatewayAdapter,
    GatewaySettings,
    PayoutRequest,
    RefundRequest,
)
from paytrack.adapters.gateways.simulator_events import (
    DECLINES,
    ORDERS,
    checkout_webhooks,
    dispute_data,
    event_body,
    payment_data,
    ulid_of,
)
from paytrack.adapters.gateways.simulator_rules import (
    DEFAULT_DELAY_S,
    TOKEN_MAX_CHARS,
    CardOutcome,
    CheckoutToken,
    TestCard,
    decode_token,
    encode_token,
    simulated_fee,
    token_key,
)
from paytrack.adapters.gateways.simulator_store import QueuedWebhook, SimulatorCheckout
from paytrack.adapters.gateways.simulator_webhooks import DATA_FIELDS, notification_from
from paytrack.domain.errors import GatewayError, GatewayNotConfigured, WebhookSignatureInvalid
from paytrack.domain.gateways import (
    Checkout,
    EventKind,
    Notification,
    Outcome,
    PaymentState,
    PayoutResult,
    RefundResult,
    RemoteStatus,
)

K = EventKind
FAILING_DESTINATIONS = frozenset({"000111111116", "fail@example.com", "acct_simulatorfail"})


def status_at(checkout: SimulatorCheckout, now: datetime) -> RemoteStatus:
    """The payment as the simulated provider sees it at ``now``."""
    if now < checkout["settles_at"]:
        return RemoteStatus.PROCESSING
    return RemoteStatus(checkout["status"])


@dataclass(frozen=True, slots=True)
class Payment:
    """What the hosted page did: the status to send the customer back with, and whether
    the payment had been paid before (nothing new was queued then)."""

    status: RemoteStatus
    already_paid: bool


class SimulatorGateway:
    name = "simulator"

    def __init__(self, settings: GatewaySettings, *, http: httpx.Client | None = None,
                 clock: Callable[[], datetime], engine: Engine) -> None:
        secret = settings.webhook_secret
        try:
            self._signer = Webhook(secret or "")
        except Exception:
            raise GatewayNotConfigured("the simulator needs a Standard Webhooks secret "
                                       "(whsec_ followed by base64)") from None
        assert secret is not None
        self.settings, self.http, self.clock, self.engine = settings, http, clock, engine
        self._token_key = token_key(secret)
        self._secret = secret
        self._rng = secrets.SystemRandom()

    # -- the gateway interface ----------------------------------------------------------------

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        token = encode_token(CheckoutToken(
            request.payment_id, request.amount, request.currency, request.description[:500],
            request.expires_at, request.return_url, dict(request.metadata)), self._token_key)
        if len(token) > TOKEN_MAX_CHARS:
            raise GatewayError("the checkout is too large for the simulator's page address: "
                               "shorten its description, return URL or metadata",
                               retryable=False)
        ulid = ulid_of(request.payment_id)
        return Checkout(payment_url=f"{self.settings.public_url.rstrip('/')}"
                                    f"/simulator/checkout/{token}",
                        expires_at=request.expires_at, gateway_payment_id=f"sim_pi_{ulid}",
                        gateway_order_id=f"sim_cs_{ulid}")

    def fetch_status(self, gateway_payment_id: str | None,
                     gateway_order_id: str | None) -> PaymentState:
        """From the hosted page's record: none yet is pending (the caller knows when its
        checkout expires); a checkout opened after its expiry is canceled."""
        checkout = self.checkout(gateway_payment_id=gateway_payment_id,
                                 gateway_order_id=gateway_order_id)
        if checkout is None:
            return PaymentState(RemoteStatus.PENDING, gateway_payment_id=gateway_payment_id)
        status = status_at(checkout, self.clock())
        return PaymentState(status, gateway_payment_id=checkout["gateway_payment_id"],
                            amount=checkout["amount"], currency=checkout["currency"],
                            fee=checkout["fee"] if status is RemoteStatus.SUCCEEDED else None,
                            reason=checkout["reason"])

    def capture(self, gateway_payment_id: str | None, gateway_order_id: str | None,
                amount: int, currency: str) -> PaymentState:
        """Simulated cards are captured when paid: the current state."""
        return self.fetch_status(gateway_payment_id, gateway_order_id)

    def refund(self, request: RefundRequest) -> RefundResult:
        """Pending, told by ``refund.succeeded`` (``refund.failed`` for a payment paid with
        the refund-fails card). Refused at once (failed, nothing queued) for a payment the
        simulator has not captured or beyond what is left of it. The same refund id twice
        is answered the same and queues nothing more."""
        now = self.clock()
        gateway_refund_id = f"sim_re_{ulid_of(request.refund_id)}"
        with self.engine.begin() as conn:
            seen = store.get_request(conn, request.refund_id)
            if seen is not None:
                return RefundResult(Outcome.PENDING, gateway_refund_id=seen["gateway_id"])
            checkout = (store.lock_checkout(conn, request.payment_id)
                        or store.record_hand_capture(conn, request.payment_id, now))
            refusal = self._refund_refusal(conn, checkout, request, now)
            if refusal is not None:
                return RefundResult(Outcome.FAILED, reason=refusal)
            assert checkout is not None
            fails = checkout["outcome"] == CardOutcome.REFUND_FAILS
            reason = "expired_or_canceled_card" if fails else None
            event_id, body = event_body(
                K.REFUND_FAILED if fails else K.REFUND_SUCCEEDED, now,
                {**payment_data(checkout), "amount": request.amount, "reason": reason,
                 "refund_id": request.refund_id, "gateway_refund_id": gateway_refund_id})
            store.record_request(conn, store.SimulatorRequest(
                id=request.refund_id, kind="refund", gateway_id=gateway_refund_id,
                payment_id=checkout["payment_id"], amount=request.amount,
                currency=request.currency, outcome="failed" if fails else "succeeded",
                reason=reason, created_at=now), [QueuedWebhook(
                    event_id, (K.REFUND_FAILED if fails else K.REFUND_SUCCEEDED).value,
                    checkout["payment_id"], body, now)])
        return RefundResult(Outcome.PENDING, gateway_refund_id=gateway_refund_id)

    def _refund_refusal(self, conn: Connection, checkout: SimulatorCheckout | None,
                        request: RefundRequest, now: datetime) -> str | None:
        if checkout is None or status_at(checkout, now) is not RemoteStatus.SUCCEEDED:
            return "payment_not_captured"
        if request.currency != checkout["currency"]:
            return "currency_mismatch"
        left = checkout["amount"] - store.refunded_amount(conn, checkout["payment_id"])
        if not 0 < request.amount <= left:
            return "amount_exceeds_payment"
        return None

    def payout(self, request: PayoutRequest) -> PayoutResult:
        """Pending, told by ``payout.paid`` (``payout.failed``, ``no_account``, for a
        destination in ``FAILING_DESTINATIONS``); idempotent by payout id."""
        if request.amount <= 0:
            return PayoutResult(Outcome.FAILED, reason="amount_not_positive")
        now = self.clock()
        gateway_payout_id = f"sim_po_{ulid_of(request.payout_id)}"
        fails = any(str(v) in FAILING_DESTINATIONS for v in request.destination.values())
        kind = K.PAYOUT_FAILED if fails else K.PAYOUT_PAID
        event_id, body = event_body(kind, now, {
            "amount": request.amount, "currency": request.currency,
            "reason": "no_account" if fails else None, "payout_id": request.payout_id,
            "gateway_payout_id": gateway_payout_id})
        with self.engine.begin() as conn:
            seen = store.record_request(conn, store.SimulatorRequest(
                id=request.payout_id, kind="payout", gateway_id=gateway_payout_id,
                payment_id=None, amount=request.amount, currency=request.currency,
                outcome="failed" if fails else "succeeded",
                reason="no_account" if fails else None, created_at=now),
                [QueuedWebhook(event_id, kind.value, None, body, now)])
        return PayoutResult(Outcome.PENDING, gateway_payout_id=seen["gateway_id"])

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            payload = self._signer.verify(body, lowered)
        except Exception as exc:  # the library's own error, or what a hostile header raises
            raise WebhookSignatureInvalid(
                "the simulator webhook's signature is missing, wrong or more than 5 minutes "
                f"old ({type(exc).__name__})") from None
        notification = notification_from(payload)
        if notification.event_id != lowered.get("webhook-id"):
            raise WebhookSignatureInvalid("webhook-id does not name the signed event")
        return notification

    # -- the hosted page ------------------------------------------------------------------------

    def open_checkout(self, token: str) -> CheckoutToken:
        """The checkout a page address carries: ``TokenInvalid`` or ``TokenExpired``."""
        return decode_token(token, self._token_key, self.clock())

    def checkout(self, *, payment_id: str | None = None, gateway_payment_id: str | None = None,
                 gateway_order_id: str | None = None) -> SimulatorCheckout | None:
        return store.get_checkout(self.engine, payment_id=payment_id,
                                  gateway_payment_id=gateway_payment_id,
                                  gateway_order_id=gateway_order_id)

    def pay(self, checkout: CheckoutToken, card: TestCard, *, duplicates: int = 1,
            delay_s: int | None = None, order: str = "in_order") -> Payment:
        """Record the card's outcome and queue its webhooks: each event ``duplicates``
        times with the same event id; the payment's outcome (the delayed card's success,
        the disputed card's dispute) ``delay_s`` after now; ``reversed`` or ``shuffled``
        hands the same due times to the events in another order."""
        assert 1 <= duplicates <= 5 and order in ORDERS
        delay_s = DEFAULT_DELAY_S.get(card.outcome, 0) if delay_s is None else delay_s
        now = self.clock()
        later = now + timedelta(seconds=delay_s)
        ulid = ulid_of(checkout.payment_id)
        outcome = card.outcome
        declined = outcome in DECLINES
        row = SimulatorCheckout(
            payment_id=checkout.payment_id, gateway_payment_id=f"sim_pi_{ulid}",
            gateway_order_id=f"sim_cs_{ulid}", amount=checkout.amount,
            currency=checkout.currency, outcome=outcome.value,
            status="failed" if declined else "succeeded",
            reason=outcome.value if declined else None,
            fee=None if declined else simulated_fee(checkout.amount), duplicates=duplicates,
            delay_s=delay_s, delivery_order=order, created_at=now,
            settles_at=later if outcome is CardOutcome.DELAYED else now)
        with self.engine.begin() as conn:  # captured by hand in paytrack meanwhile: paid
            by_hand = store.record_hand_capture(conn, checkout.payment_id, now)
        if by_hand is not None:
            return self._already_paid(checkout.payment_id, now)
        hooks = checkout_webhooks(row, dict(checkout.metadata), self._rng)
        if store.record_checkout(self.engine, row, hooks):
            return Payment(status_at(row, now), already_paid=False)
        return self._already_paid(checkout.payment_id, now)

    def expire(self, checkout: CheckoutToken) -> Payment:
        """A checkout opened after its expiry: canceled from now on (unless it was paid in
        time), nothing queued."""
        now = self.clock()
        ulid = ulid_of(checkout.payment_id)
        row = SimulatorCheckout(
            payment_id=checkout.payment_id, gateway_payment_id=f"sim_pi_{ulid}",
            gateway_order_id=f"sim_cs_{ulid}", amount=checkout.amount,
            currency=checkout.currency, outcome="expired", status="canceled",
            reason="expired", fee=None, duplicates=1, delay_s=0, delivery_order="in_order",
            created_at=now, settles_at=now)
        if store.record_checkout(self.engine, row, []):
            return Payment(RemoteStatus.CANCELED, already_paid=False)
        return self._already_paid(checkout.payment_id, now)

    def _already_paid(self, payment_id: str, now: datetime) -> Payment:
        existing = self.checkout(payment_id=payment_id)
        assert existing is not None
        return Payment(status_at(existing, now), already_paid=True)

    # -- for tests and the demo -------------------------------------------------------------------

    def simulate(self, kind: EventKind, *, payment_id: str | None = None, delay_s: int = 0,
                 duplicates: int = 1, **data: Any) -> str:
        """Queue any event (``data``: fields of the webhook's ``data``); with a paid
        ``payment_id`` its ids, amount and currency are filled in. Returns the event id."""
        unknown = set(data) - set(DATA_FIELDS)
        assert not unknown, f"not webhook data fields: {sorted(unknown)}"
        checkout = self.checkout(payment_id=payment_id) if payment_id else None
        base = payment_data(checkout) if checkout else {"payment_id": payment_id}
        at = self.clock() + timedelta(seconds=delay_s)
        event_id, body = event_body(kind, at, {**base, **data})
        store.queue(self.engine, [QueuedWebhook(event_id, kind.value, payment_id, body, at)]
                    * duplicates, self.clock())
        return event_id

    def simulate_dispute(self, payment_id: str, *, outcome: EventKind = K.DISPUTE_OPENED,
                         amount: int | None = None, reason: str = "fraudulent",
                         delay_s: int = 0) -> str:
        """Open (or with ``outcome`` win or lose) the payment's one dispute, ``sim_dp_`` +
        the payment's ULID. Returns the event id."""
        checkout = self.checkout(payment_id=payment_id)
        if checkout is None or checkout["status"] != "succeeded":
            raise GatewayError(f"the simulator has no paid checkout for {payment_id}",
                               retryable=False)
        data = dispute_data(payment_id)
        if outcome is not K.DISPUTE_OPENED:
            data["fee"] = None
        return self.simulate(outcome, payment_id=payment_id, delay_s=delay_s,
                             **{**data, "amount": amount or checkout["amount"],
                                "reason": reason})

    def deliver_due(self, http: httpx.Client, url: str, now: datetime,
                    limit: int = 50) -> int:
        """``simulator_store.deliver_due`` with this gateway's secret."""
        return store.deliver_due(self.engine, http, url, now, limit,
                                 webhook_secret=self._secret)


if TYPE_CHECKING:  # mypy checks that the simulator implements the gateway interface
    _implements: type[GatewayAdapter] = SimulatorGateway
