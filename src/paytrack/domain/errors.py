"""Every domain error, each with a stable machine ``code`` and an HTTP status.

    PaytrackError
    ├── BadRequest (400)                a request that cannot be read as sent
    │   ├── UnknownParameter             a query parameter the route does not take
    │   ├── InvalidCursor                a cursor that no list returned
    │   └── WebhookSignatureInvalid      a webhook not signed by the gateway (or too old)
    ├── ValidationFailed (422)          bad input: amounts, currencies, rates, breakdowns
    │   ├── InvalidAmount
    │   │   └── AmountLimitExceeded      above the largest amount one field may hold
    │   ├── InvalidCurrency
    │   ├── InvalidRate
    │   ├── IdempotencyKeyReused         the same key with another request
    │   ├── PayoutBelowMinimum           a payout under the currency's minimum
    │   ├── ItemSellerMismatch           a payment names a seller that does not own the item
    │   ├── CouponNotApplicable          a payment's coupon does not apply (``reason`` says why)
    │   ├── DiscountMismatch             a payment's discount is not its coupon's
    │   ├── OrderTotalMismatch           an order's computed total is not the one expected
    │   └── InvalidReport                a settlement report paytrack cannot read
    ├── Unauthenticated (401)
    ├── Forbidden (403)
    ├── NotFound (404)
    ├── Conflict (409)
    │   ├── InvalidTransition            a move the state machine does not allow
    │   ├── RefundExceedsCaptured
    │   ├── RefundWindowClosed           a customer asked after the refund policy's window
    │   ├── DisputeExceedsCaptured       disputes and refunds never exceed the total
    │   ├── EvidenceLimitReached         a dispute already holds its most submissions
    │   ├── InsufficientFunds            a bounded account would go below zero
    │   ├── BalanceLimitExceeded         an account would pass the largest balance kept
    │   ├── DuplicateGatewayPayment
    │   ├── DuplicateGatewayRefund
    │   ├── DuplicateGatewayDispute
    │   ├── CurrencyMismatch
    │   ├── ItemHasPayments              a paid item cannot move to another seller
    │   ├── PayoutAccountMissing         no payout account for the payout's method
    │   ├── CouponCodeTaken              another coupon has this code (in any case)
    │   ├── IdempotentRequestInFlight    its twin is still being processed
    │   ├── GatewayNotConfigured         no credentials for this gateway (and mode)
    │   └── GatewayUnsupported           the provider cannot do this
    ├── GatewayError (502)              the provider refused or could not be reached
    ├── AnalyticsRebuilding (503)       the analytics rollups are being rebuilt: retry soon
    └── LedgerError (500)               an unbalanced entry: a programming error, never input
"""

from __future__ import annotations

from typing import Any


class PaytrackError(Exception):
    code = "paytrack_error"
    status = 400
    title = "Request failed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(PaytrackError):
    code = "bad_request"
    status = 400
    title = "Bad request"


class UnknownParameter(BadRequest):
    code = "unknown_parameter"
    title = "Unknown query parameter"


class RepeatedParameter(BadRequest):
    code = "repeated_parameter"
    title = "Query parameter given more than once"


class InvalidCursor(BadRequest):
    code = "invalid_cursor"
    title = "Invalid cursor"


class ValidationFailed(PaytrackError):
    code = "validation_failed"
    status = 422
    title = "Invalid input"


class InvalidAmount(ValidationFailed):
    code = "invalid_amount"
    title = "Invalid amount"


class AmountLimitExceeded(InvalidAmount):
    code = "amount_limit_exceeded"
    title = "Amount above the limit"


class InvalidCurrency(ValidationFailed):
    code = "invalid_currency"
    title = "Unknown currency"


class InvalidRate(ValidationFailed):
    code = "invalid_rate"
    title = "Invalid rate"


class IdempotencyKeyReused(ValidationFailed):
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused with another request"


class PayoutBelowMinimum(ValidationFailed):
    code = "payout_below_minimum"
    title = "Payout below the minimum"


class ItemSellerMismatch(ValidationFailed):
    code = "item_seller_mismatch"
    title = "The item belongs to another seller"


class CouponNotApplicable(ValidationFailed):
    code = "coupon_not_applicable"
    title = "The coupon does not apply"


class DiscountMismatch(ValidationFailed):
    code = "discount_mismatch"
    title = "The discount is not the coupon's"


class OrderTotalMismatch(ValidationFailed):
    code = "order_total_mismatch"
    title = "The order's total is not the one expected"


class InvalidReport(ValidationFailed):
    code = "invalid_report"
    title = "Settlement report refused"


class Unauthenticated(PaytrackError):
    code = "unauthenticated"
    status = 401
    title = "Missing or invalid API key"


class Forbidden(PaytrackError):
    code = "forbidden"
    status = 403
    title = "Not allowed"


class NotFound(PaytrackError):
    code = "not_found"
    status = 404
    title = "Not found"


class Conflict(PaytrackError):
    code = "conflict"
    status = 409
    title = "Conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "State does not allow this"


class RefundExceedsCaptured(Conflict):
    code = "refund_exceeds_captured"
    title = "Refund exceeds the refundable amount"


class RefundWindowClosed(Conflict):
    code = "refund_window_closed"
    title = "The refund window has closed"


class DisputeExceedsCaptured(Conflict):
    code = "dispute_exceeds_captured"
    title = "Dispute exceeds what is left of the payment"


class EvidenceLimitReached(Conflict):
    code = "evidence_limit_reached"
    title = "The dispute holds all the evidence it may"


class InsufficientFunds(Conflict):
    code = "insufficient_funds"
    title = "Insufficient funds"


class BalanceLimitExceeded(Conflict):
    code = "balance_limit_exceeded"
    title = "Balance limit exceeded"


class DuplicateGatewayPayment(Conflict):
    code = "duplicate_gateway_payment"
    title = "Gateway payment already recorded"


class DuplicateGatewayRefund(Conflict):
    code = "duplicate_gateway_refund"
    title = "This gateway refund id is already recorded"


class DuplicateGatewayDispute(Conflict):
    code = "duplicate_gateway_dispute"
    title = "Gateway dispute already recorded"


class CurrencyMismatch(Conflict):
    code = "currency_mismatch"
    title = "Currencies do not match"


class ItemHasPayments(Conflict):
    code = "item_has_payments"
    title = "The item has payments for its seller"


class PayoutAccountMissing(Conflict):
    code = "payout_account_missing"
    title = "No payout account for this method"


class CouponCodeTaken(Conflict):
    code = "coupon_code_taken"
    title = "Another coupon has this code"


class IdempotentRequestInFlight(Conflict):
    code = "idempotent_request_in_flight"
    title = "A request with this Idempotency-Key is still being processed"


class LedgerError(PaytrackError):
    code = "ledger_error"
    status = 500
    title = "Ledger invariant violated"


class WebhookSignatureInvalid(BadRequest):
    """A webhook whose signature is missing, wrong, tampered with or too old."""

    code = "invalid_signature"
    title = "Webhook signature is not valid"


class GatewayNotConfigured(Conflict):
    code = "gateway_not_configured"
    title = "This gateway has no configuration"


class GatewayUnsupported(Conflict):
    """The provider cannot do this (a payout through Razorpay, say)."""

    code = "gateway_unsupported"
    title = "The gateway does not support this"


class GatewayError(PaytrackError):
    """The provider refused or could not be reached; ``retryable`` says whether trying the
    same request again (with the same idempotency key) may succeed."""

    code = "gateway_error"
    status = 502
    title = "The payment gateway did not accept the request"


class AnalyticsRebuilding(PaytrackError):
    """The rollups do not yet hold the history in the configured time zone (an upgraded
    install, or ``PAYTRACK_ANALYTICS_TZ`` changed): the background job is rebuilding
    them."""

    code = "analytics_rebuilding"
    status = 503
    title = "Analytics are being rebuilt"
