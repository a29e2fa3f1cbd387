"""Turn constraint violations the database caught into domain errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError

from paytrack.domain.errors import (
    BalanceLimitExceeded,
    DuplicateGatewayDispute,
    DuplicateGatewayPayment,
    DuplicateGatewayRefund,
    ItemHasPayments,
    ItemSellerMismatch,
    PaytrackError,
)
from paytrack.domain.limits import MAX_BALANCE_MINOR


def balance_limit_exceeded() -> BalanceLimitExceeded:
    return BalanceLimitExceeded(
        f"this would take a ledger account past {MAX_BALANCE_MINOR} minor units either way, "
        "the most paytrack keeps in one account; nothing was recorded",
        limit=MAX_BALANCE_MINOR)


_ITEM_FK = "fk_payments_item_type_item_id_seller_id_items"
_DUPLICATE = "this gateway payment id is already recorded"
_DUPLICATE_DISPUTE = "this gateway dispute id is already recorded"
_DUPLICATE_REFUND = "this gateway refund id is already recorded on the payment"

# How each backend names the constraint in its message -> the domain error to raise, its
# detail (filled from the key PostgreSQL reports) and a detail for when no key is shown.
# SQLite names no foreign key; there writers are serialized, so the services' own checks
# decide before the database has to.
_BY_CONSTRAINT: dict[str, tuple[type[PaytrackError], str, str]] = {
    "uq_payments_gateway_gateway_payment_id": (   # PostgreSQL
        DuplicateGatewayPayment, _DUPLICATE, _DUPLICATE),
    "payments.gateway, payments.gateway_payment_id": (   # SQLite
        DuplicateGatewayPayment, _DUPLICATE, _DUPLICATE),
    "uq_disputes_gateway_gateway_dispute_id": (   # PostgreSQL
        DuplicateGatewayDispute, _DUPLICATE_DISPUTE, _DUPLICATE_DISPUTE),
    "disputes.gateway, disputes.gateway_dispute_id": (   # SQLite
        DuplicateGatewayDispute, _DUPLICATE_DISPUTE, _DUPLICATE_DISPUTE),
    "uq_refunds_payment_id_gateway_refund_id": (   # PostgreSQL
        DuplicateGatewayRefund, _DUPLICATE_REFUND, _DUPLICATE_REFUND),
    "refunds.payment_id, refunds.gateway_refund_id": (   # SQLite
        DuplicateGatewayRefund, _DUPLICATE_REFUND, _DUPLICATE_REFUND),
    f'on table "payments" violates foreign key constraint "{_ITEM_FK}"': (
        ItemSellerMismatch,
        "{item_type} {item_id} does not belong to seller {seller_id}: another request set "
        "its seller while this payment was being recorded",
        "the item does not belong to the payment's seller"),
    f'on table "items" violates foreign key constraint "{_ITEM_FK}"': (
        ItemHasPayments,
        "{item_type} {id} has payments for seller {seller_id}; it cannot move to another "
        "seller",
        "the item has payments for its seller; it cannot move to another seller"),
}

# PostgreSQL's DETAIL: Key (item_type, item_id, seller_id)=(course, c1, s2) is not present…
_KEY = re.compile(r"Key \((?P<columns>[^)]*)\)=\((?P<values>.*)\) is ")


def translate(exc: StatementError) -> Exception:
    """The domain error for a constraint the database refused, or ``exc`` itself."""
    message = str(exc.orig)
    if "balance_limit_exceeded" in message:  # the balance_deltas trigger, either backend
        return balance_limit_exceeded()
    for name, (error, detail, without_key) in _BY_CONSTRAINT.items():
        if name in message:
            return error(_fill(detail, message) or without_key)
    return exc


@contextmanager
def driver_errors_translated(dialect: Dialect) -> Iterator[None]:
    """For code that talks to the driver itself (the appender): raise its errors as
    SQLAlchemy's, then as domain errors where one fits."""
    dbapi = dialect.loaded_dbapi
    try:
        yield
    except DBAPIError as exc:  # raised through SQLAlchemy's own commit
        raise translate(exc) from exc
    except dbapi.Error as exc:
        wrapped = DBAPIError.instance("(buffered appends)", None, exc, dbapi.Error)
        raise translate(wrapped) from exc


def _fill(detail: str, message: str) -> str | None:
    """``detail`` with the key's values, or None if they cannot be told apart."""
    key = _KEY.search(message)
    if key is None:
        return None
    columns, values = key["columns"].split(", "), key["values"].split(", ")
    if len(columns) != len(values):  # a value with ", " in it
        return None
    try:
        return detail.format_map(dict(zip(columns, values, strict=True)))
    except KeyError:
        return None


class StaleRead(Exception):  # noqa: N818 - a signal to retry, not a failure
    """Something read from a cache changed before the write; the unit of work wrote
    nothing and should run again without caches (``Storage.run`` does)."""
