"""PayPal: orders, captures and refunds through the official ``paypal-server-sdk``; webhooks
verified locally with PayPal's certificate or, as configured, by PayPal's verification
call (``paypal_signatures``), then translated (``paypal_events``).

The checkout is an Orders v2 order (intent CAPTURE) that the customer approves at PayPal;
paytrack then captures it (after ``CHECKOUT.ORDER.APPROVED``). PayPal keeps an order payable
for about 3 hours by default (an approval not captured by then is reversed), so a checkout
never promises longer. paytrack's payment id travels as the purchase unit's ``reference_id``,
``custom_id`` and ``invoice_id`` and is the order's ``PayPal-Request-Id``; the order id is
the capture's, the refund id the refund's, so a retried call is answered, not repeated.

Amounts are decimal strings in major units. PayPal takes every currency to ISO 4217's
decimals except HUF, JPY and TWD, which it takes in whole units only: an amount PayPal
cannot express is refused here (``InvalidAmount``), never rounded.

The SDK has no Payouts API, so ``payout`` is unsupported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
import requests
from apimatic_core.exceptions.auth_validation_exception import AuthValidationException
from paypalserversdk.configuration import Environment
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
from paypalserversdk.models.checkout_payment_intent import CheckoutPaymentIntent
from paypalserversdk.models.money import Money as PayPalMoney
from paypalserversdk.models.order_request import OrderRequest
from paypalserversdk.models.payment_source import PaymentSource
from paypalserversdk.models.paypal_wallet import PaypalWallet
from paypalserversdk.models.paypal_wallet_experience_context import (
    PaypalWalletExperienceContext,
)
from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest
from paypalserversdk.models.refund_request import RefundRequest as PayPalRefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from paytrack.adapters.gateways.base import (
    CheckoutRequest,
    GatewaySettings,
    PayoutRequest,
    RefundRequest,
)
from paytrack.adapters.gateways.paypal_events import money, translate
from paytrack.adapters.gateways.paypal_signatures import (
    HTTP_TIMEOUT_S,
    read_transmission,
    request_access_token,
    verify_locally,
    verify_online,
)
from paytrack.domain.errors import (
    GatewayError,
    GatewayNotConfigured,
    GatewayUnsupported,
    InvalidAmount,
    PaytrackError,
    WebhookSignatureInvalid,
)
from paytrack.domain.gateways import (
    Checkout,
    Mode,
    Notification,
    Outcome,
    PaymentState,
    PayoutResult,
    RefundResult,
    RemoteStatus,
)
from paytrack.domain.money import currency_exponent, format_amount

SDK_TIMEOUT_S = 20  # each SDK request (the SDK hands it to requests)
ORDER_APPROVAL_WINDOW = timedelta(hours=3)
WHOLE_UNIT_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})
API_BASE = {Mode.TEST: "https://api-m.sandbox.paypal.com", Mode.LIVE: "https://api-m.paypal.com"}
# A 4xx that may pass if sent again with the same PayPal-Request-Id.
RETRYABLE_STATUSES = frozenset({408, 409, 429})
# Capture refusals that end the payment (Orders v2 422 issues), not the request.
DECLINE_ISSUES = frozenset({
    "INSTRUMENT_DECLINED", "TRANSACTION_REFUSED", "PAYER_CANNOT_PAY", "PAYEE_BLOCKED_TRANSACTION",
    "COMPLIANCE_VIOLATION", "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED", "PAYER_ACCOUNT_RESTRICTED",
    "PAYER_ACCOUNT_LOCKED_OR_CLOSED", "TRANSACTION_BLOCKED_BY_PAYEE", "ORDER_EXPIRED",
})
ORDER_STATUS = {"CREATED": RemoteStatus.PENDING, "SAVED": RemoteStatus.PENDING,
                "PAYER_ACTION_REQUIRED": RemoteStatus.PENDING,
                "APPROVED": RemoteStatus.PROCESSING, "COMPLETED": RemoteStatus.SUCCEEDED,
                "VOIDED": RemoteStatus.CANCELED}
CAPTURE_STATUS = {"COMPLETED": RemoteStatus.SUCCEEDED, "PARTIALLY_REFUNDED": RemoteStatus.SUCCEEDED,
                  "REFUNDED": RemoteStatus.SUCCEEDED, "PENDING": RemoteStatus.PROCESSING,
                  "DECLINED": RemoteStatus.FAILED, "FAILED": RemoteStatus.FAILED}
REFUND_OUTCOME = {"COMPLETED": Outcome.SUCCEEDED, "PENDING": Outcome.PENDING,
                  "FAILED": Outcome.FAILED, "CANCELLED": Outcome.FAILED}


def to_paypal_value(amount_minor: int, currency: str) -> str:
    """ISO minor units -> PayPal's decimal string; refuses what PayPal cannot take."""
    if amount_minor <= 0:
        raise InvalidAmount(f"PayPal takes positive amounts, not {amount_minor} {currency}")
    text = format_amount(amount_minor, currency)
    if currency in WHOLE_UNIT_CURRENCIES:
        if amount_minor % 10 ** currency_exponent(currency):
            raise InvalidAmount(f"{text} {currency} cannot be sent to PayPal: PayPal takes "
                                f"{currency} in whole units only")
        return str(amount_minor // 10 ** currency_exponent(currency))
    return text


class _Refused(GatewayError):
    """PayPal answered with an error: its HTTP status and first issue, for the caller."""

    def __init__(self, detail: str, *, status: int, issue: str | None) -> None:
        super().__init__(detail, retryable=status >= 500 or status in RETRYABLE_STATUSES)
        self.http_status = status
        self.issue = issue


class PayPalGateway:
    name = "paypal"

    def __init__(self, settings: GatewaySettings, *, http: httpx.Client | None = None,
                 clock: Callable[[], datetime],
                 sdk_session: requests.Session | None = None) -> None:
        """``sdk_session``: the requests session the SDK sends through (its own by
        default); tests mount a fake transport on one."""
        credentials = settings.credentials
        missing = [key for key in ("client_id", "client_secret", "webhook_id")
                   if not credentials.get(key)]
        if missing:
            raise GatewayNotConfigured(f"PayPal ({settings.mode}) needs {', '.join(missing)}")
        self._verification = credentials.get("verification") or "local"
        if self._verification not in ("local", "online"):
            raise GatewayNotConfigured("PayPal verification is 'local' or 'online', not "
                                       f"{self._verification!r}")
        self._client_id = credentials["client_id"]
        self._client_secret = credentials["client_secret"]
        self._webhook_id = credentials["webhook_id"]
        self._base = API_BASE[settings.mode]
        self._http = http or httpx.Client(timeout=HTTP_TIMEOUT_S)  # each call sets its own
        self._clock = clock
        self._token: tuple[str, datetime] | None = None  # online verification's
        self._sdk = PaypalServersdkClient(
            http_client_instance=sdk_session, timeout=SDK_TIMEOUT_S,
            environment=Environment.PRODUCTION if settings.mode is Mode.LIVE
            else Environment.SANDBOX,
            client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
                self._client_id, self._client_secret,
                # fetched here rather than by the SDK's default, which hides why it failed
                o_auth_token_provider=lambda _last, auth: auth.fetch_token()))

    # -- payments ------------------------------------------------------------------------

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        unit: dict[str, Any] = {"reference_id": request.payment_id,
                                "custom_id": request.payment_id,
                                "invoice_id": request.payment_id}
        if request.description:
            unit["description"] = request.description[:127]
        body = OrderRequest(
            intent=CheckoutPaymentIntent.CAPTURE,
            purchase_units=[PurchaseUnitRequest(amount=AmountWithBreakdown(
                currency_code=request.currency,
                value=to_paypal_value(request.amount, request.currency)), **unit)],
            payment_source=PaymentSource(paypal=PaypalWallet(
                experience_context=PaypalWalletExperienceContext(
                    return_url=request.return_url, cancel_url=request.return_url,
                    user_action="PAY_NOW"))))
        order = self._call("create the PayPal order", lambda: self._sdk.orders.create_order({
            "body": body, "paypal_request_id": request.payment_id,
            "prefer": "return=representation"}))
        url = _link(order, "payer-action") or _link(order, "approve")
        order_id = order.get("id")
        if not url or not isinstance(order_id, str):
            raise GatewayError("PayPal's order has no id or approval link", retryable=False)
        return Checkout(payment_url=url, gateway_order_id=order_id,
                        expires_at=min(request.expires_at, self._clock() + ORDER_APPROVAL_WINDOW))

    def fetch_status(self, gateway_payment_id: str | None,
                     gateway_order_id: str | None) -> PaymentState:
        if gateway_order_id:
            return _order_state(self._call("read the PayPal order", lambda: (
                self._sdk.orders.get_order({"id": gateway_order_id}))))
        if gateway_payment_id:
            return _capture_state(self._call("read the PayPal capture", lambda: (
                self._sdk.payments.get_captured_payment({"capture_id": gateway_payment_id}))))
        raise GatewayError("a PayPal status needs an order or a capture id", retryable=False)

    def capture(self, gateway_payment_id: str | None, gateway_order_id: str | None,
                amount: int, currency: str) -> PaymentState:
        """Capture the approved order (its whole amount, reported back for the caller to
        compare). A capture already made is answered, not repeated."""
        if not gateway_order_id:
            return self.fetch_status(gateway_payment_id, None)
        try:
            order = self._call("capture the PayPal order", lambda: self._sdk.orders.capture_order({
                "id": gateway_order_id, "paypal_request_id": gateway_order_id,
                "prefer": "return=representation"}))
        except _Refused as refused:
            if refused.issue == "ORDER_ALREADY_CAPTURED":
                return self.fetch_status(None, gateway_order_id)
            if refused.issue in DECLINE_ISSUES:
                return PaymentState(RemoteStatus.FAILED, reason=refused.issue)
            raise
        return _order_state(order)

    def refund(self, request: RefundRequest) -> RefundResult:
        if not request.gateway_payment_id:
            raise GatewayError("a PayPal refund needs the capture id", retryable=False)
        capture_id = request.gateway_payment_id
        # The refund id, for the webhook to name it. The reason stays here: PayPal shows a
        # note_to_payer to the buyer, and a reason may be an internal remark.
        body = PayPalRefundRequest(
            amount=PayPalMoney(currency_code=request.currency,
                               value=to_paypal_value(request.amount, request.currency)),
            custom_id=request.refund_id, invoice_id=request.refund_id)
        refund = self._call("refund the PayPal capture", lambda: (
            self._sdk.payments.refund_captured_payment({
                "capture_id": capture_id, "body": body, "paypal_request_id": request.refund_id,
                "prefer": "return=representation"})))
        status = refund.get("status")
        outcome = REFUND_OUTCOME.get(status, Outcome.PENDING) if isinstance(status, str) \
            else Outcome.PENDING
        reason = _reason(refund) or (status if outcome is Outcome.FAILED else None)
        return RefundResult(outcome, gateway_refund_id=_text(refund.get("id")), reason=reason)

    def payout(self, request: PayoutRequest) -> PayoutResult:
        raise GatewayUnsupported("paypal-server-sdk has no Payouts API: pay PayPal payouts "
                                 "outside paytrack and mark them paid")

    def _call(self, what: str, send: Callable[[], Any]) -> dict[str, Any]:
        """One SDK call -> PayPal's JSON answer; every failure is a ``GatewayError``."""
        try:
            text = send().text
        except ApiException as exc:
            raise _refusal(what, exc) from exc
        except (requests.RequestException, AuthValidationException) as exc:
            raise GatewayError(f"could not {what}: PayPal did not answer "
                               f"({type(exc).__name__})", retryable=True) from exc
        try:
            answer = json.loads(text)
        except (TypeError, ValueError):
            answer = None
        if not isinstance(answer, dict):
            raise GatewayError(f"PayPal's answer to {what} is not a JSON object", retryable=True)
        return answer

    # -- webhooks ------------------------------------------------------------------------

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        try:
            return self._parse_webhook(body, headers)
        except WebhookSignatureInvalid:
            raise
        except (ValueError, TypeError, RecursionError, PaytrackError) as exc:
            raise WebhookSignatureInvalid(f"the PayPal delivery cannot be read "
                                          f"({type(exc).__name__}: {exc})") from exc

    def _parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        transmission = read_transmission(headers, self._clock())
        event = json.loads(body)
        if not isinstance(event, dict):
            raise WebhookSignatureInvalid("a PayPal delivery is a JSON object")
        if self._verification == "online":
            verify_online(body, transmission, webhook_id=self._webhook_id, http=self._http,
                          api_base=self._base, access_token=self._access_token())
        else:
            verify_locally(body, transmission, webhook_id=self._webhook_id, http=self._http,
                           now=self._clock())
        return translate(event)

    def _access_token(self) -> str:
        """The verification call's token, kept until a minute before it expires."""
        now = self._clock()
        if self._token is None or self._token[1] <= now:
            token, lifetime_s = request_access_token(self._http, self._base, self._client_id,
                                                     self._client_secret)
            self._token = (token, now + timedelta(seconds=max(lifetime_s - 60, 0)))
        return self._token[0]


def _refusal(what: str, exc: ApiException) -> _Refused:
    """PayPal's error answer -> a ``GatewayError`` naming PayPal's words, not ours."""
    try:
        answer = json.loads(exc.response.text or "")
    except (TypeError, ValueError):
        answer = None
    info: Mapping[str, Any] = answer if isinstance(answer, dict) else {}
    details = info.get("details")
    first = details[0] if isinstance(details, list) and details else {}
    issue = _text(first.get("issue")) if isinstance(first, dict) else None
    name = _text(info.get("name")) or _text(info.get("error"))
    message = _text(info.get("message")) or _text(info.get("error_description"))
    said = ": ".join(part for part in (name, issue, message) if part) or "no details"
    debug = f" (debug_id {info['debug_id']})" if _text(info.get("debug_id")) else ""
    return _Refused(f"could not {what}: PayPal answered HTTP {exc.response_code} ({said})"
                    f"{debug}", status=exc.response_code, issue=issue)


def _order_state(order: Mapping[str, Any]) -> PaymentState:
    units = order.get("purchase_units")
    unit = units[0] if isinstance(units, list) and units and isinstance(units[0], dict) else {}
    payments = unit.get("payments")
    captures = payments.get("captures") if isinstance(payments, dict) else None
    if isinstance(captures, list) and captures:
        done = [c for c in captures if isinstance(c, dict)
                and CAPTURE_STATUS.get(_text(c.get("status")) or "") is RemoteStatus.SUCCEEDED]
        return _capture_state(done[0] if done else captures[-1])
    status = ORDER_STATUS.get(_text(order.get("status")) or "", RemoteStatus.PENDING)
    amount = _money(unit.get("amount"))
    return PaymentState(status, amount=amount[0] if amount else None,
                        currency=amount[1] if amount else None)


def _capture_state(capture: Mapping[str, Any]) -> PaymentState:
    status = CAPTURE_STATUS.get(_text(capture.get("status")) or "", RemoteStatus.PROCESSING)
    amount = _money(capture.get("amount"))
    breakdown = capture.get("seller_receivable_breakdown")
    fee = _money(breakdown.get("paypal_fee")) if isinstance(breakdown, dict) else None
    reason = _reason(capture) or (_text(capture.get("status"))
                                  if status is RemoteStatus.FAILED else None)
    return PaymentState(status, gateway_payment_id=_text(capture.get("id")),
                        amount=amount[0] if amount else None,
                        currency=amount[1] if amount else None,
                        fee=fee[0] if fee else None, reason=reason)


def _money(value: object) -> tuple[int, str] | None:
    try:
        return money(value)
    except (ValueError, PaytrackError) as exc:
        raise GatewayError(f"PayPal answered an amount paytrack cannot read ({exc})",
                           retryable=False) from exc


def _link(resource: Mapping[str, Any], rel: str) -> str | None:
    links = resource.get("links")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, dict) and link.get("rel") == rel:
            return _text(link.get("href"))
    return None


def _reason(resource: Mapping[str, Any]) -> str | None:
    details = resource.get("status_details")
    return _text(details.get("reason")) if isinstance(details, dict) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
