"""Turn constraint violations the database caught into domain errors."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from paytrack.domain.errors import DuplicateGatewayPayment, PaytrackError

_BY_CONSTRAINT: dict[str, PaytrackError] = {
    "uq_payments_gateway_gateway_payment_id": DuplicateGatewayPayment(
        "this gateway payment id is already recorded"),
    "payments.gateway, payments.gateway_payment_id": DuplicateGatewayPayment(
        "this gateway payment id is already recorded"),
}


def translate(exc: DBAPIError) -> Exception:
    message = str(exc.orig)
    for name, error in _BY_CONSTRAINT.items():
        if name in message:
            return type(error)(error.detail)
    return exc
