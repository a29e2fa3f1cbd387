"""Turn constraint violations the database caught into domain errors."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from paytrack.domain.errors import BalanceLimitExceeded, DuplicateGatewayPayment, PaytrackError
from paytrack.domain.limits import MAX_BALANCE_MINOR


def balance_limit_exceeded() -> BalanceLimitExceeded:
    return BalanceLimitExceeded(
        f"this would take a ledger account past {MAX_BALANCE_MINOR} minor units either way, "
        "the most paytrack keeps in one account; nothing was recorded",
        limit=MAX_BALANCE_MINOR)


# How each backend names the constraint in its message -> the domain error to raise.
_BY_CONSTRAINT: dict[str, tuple[type[PaytrackError], str]] = {
    "uq_payments_gateway_gateway_payment_id": (   # PostgreSQL
        DuplicateGatewayPayment, "this gateway payment id is already recorded"),
    "payments.gateway, payments.gateway_payment_id": (   # SQLite
        DuplicateGatewayPayment, "this gateway payment id is already recorded"),
}


def translate(exc: DBAPIError) -> Exception:
    message = str(exc.orig)
    if "balance_limit_exceeded" in message:  # the balance_deltas trigger, either backend
        return balance_limit_exceeded()
    for name, (error, detail) in _BY_CONSTRAINT.items():
        if name in message:
            return error(detail)
    return exc


class StaleRead(Exception):  # noqa: N818 - a signal to retry, not a failure
    """Something read from a cache changed before the write; the unit of work wrote
    nothing and should run again without caches (``Storage.run`` does)."""
