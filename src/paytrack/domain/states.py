"""One transition table per entity. A move not in the table is an ``InvalidTransition``.

Webhooks and retries may repeat a move or arrive out of order; ``can_move`` lets callers
treat a repeat as a no-op, and ``move`` refuses anything that would make state regress.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict

from paytrack.domain.errors import InvalidTransition


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    DISPUTED = "disputed"
    CHARGED_BACK = "charged_back"


class RefundStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class DisputeStatus(StrEnum):
    OPEN = "open"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"


P = PaymentStatus
R = RefundStatus
D = DisputeStatus

PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    P.PENDING: frozenset({P.PROCESSING, P.SUCCEEDED, P.FAILED, P.CANCELED}),
    P.PROCESSING: frozenset({P.SUCCEEDED, P.FAILED, P.CANCELED}),
    P.SUCCEEDED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED, P.DISPUTED}),
    P.PARTIALLY_REFUNDED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED, P.DISPUTED}),
    # A dispute ends either back where the payment was, or charged back.
    P.DISPUTED: frozenset({P.SUCCEEDED, P.PARTIALLY_REFUNDED, P.CHARGED_BACK}),
    # Money a gateway really took is never lost: its confirmation is recorded even after a
    # cancel or a failure (only by a capture, see CAPTURABLE_STATES), flagged for review.
    P.FAILED: frozenset({P.SUCCEEDED}),
    P.CANCELED: frozenset({P.SUCCEEDED}),
    P.REFUNDED: frozenset(),
    P.CHARGED_BACK: frozenset(),
}

# Payments whose captured money is still (partly) held: refundable and disputable.
CAPTURED_STATES = frozenset({P.SUCCEEDED, P.PARTIALLY_REFUNDED})

# Payments not yet paid: they may still be captured, failed or cancelled.
OPEN_STATES = frozenset({P.PENDING, P.PROCESSING})

# A capture (the gateway's confirmation) moves a payment to succeeded from any state in
# which the money was not yet recorded. From canceled or failed it is a late confirmation:
# recorded all the same, and flagged for review in the payment's history.
LATE_CAPTURE_STATES = frozenset({P.CANCELED, P.FAILED})
CAPTURABLE_STATES = OPEN_STATES | LATE_CAPTURE_STATES
REVIEW_REASONS: dict[str | None, str] = {P.CANCELED: "confirmed after cancel: review",
                                  P.FAILED: "confirmed after failure: review"}


def needs_review(from_status: str | None, to_status: str) -> bool:
    """Whether a status move is a late confirmation that someone should look at."""
    return to_status == P.SUCCEEDED and from_status in LATE_CAPTURE_STATES


class StatusEvent(TypedDict):
    """One status move of a payment or refund, as recorded in its history."""

    id: int
    object_type: str  # "payment", "refund"
    object_id: str
    from_status: str | None  # None for the first event
    to_status: str
    actor: str  # the recorded actor ("admin:key_01…", "system")
    reason: str | None
    created_at: datetime


class PaymentEvent(StatusEvent):
    """A status event in a payment's history, marked when it ``needs_review``."""

    needs_review: bool

REFUND_TRANSITIONS: dict[RefundStatus, frozenset[RefundStatus]] = {
    # Withdrawn by whoever asked (or an admin) before anyone decided: canceled.
    R.REQUESTED: frozenset({R.APPROVED, R.REJECTED, R.CANCELED}),
    R.APPROVED: frozenset({R.SUCCEEDED, R.FAILED}),
    R.REJECTED: frozenset(),
    R.SUCCEEDED: frozenset(),
    R.FAILED: frozenset(),
    R.CANCELED: frozenset(),
}

# A refund holds a reservation on its payment's money from its request until it is
# settled: the reservation becomes refunded money (succeeded) or is released (rejected,
# canceled, failed). Open refunds plus refunded money never exceed the payment's total.
OPEN_REFUND_STATES = frozenset({R.REQUESTED, R.APPROVED})
RELEASING_REFUND_STATES = frozenset({R.REJECTED, R.CANCELED, R.FAILED})


DISPUTE_TRANSITIONS: dict[DisputeStatus, frozenset[DisputeStatus]] = {
    # Evidence moves an open dispute under review; more may follow while it is there.
    D.OPEN: frozenset({D.UNDER_REVIEW, D.WON, D.LOST}),
    D.UNDER_REVIEW: frozenset({D.UNDER_REVIEW, D.WON, D.LOST}),
    D.WON: frozenset(),
    D.LOST: frozenset(),
}

# A dispute holds its amount on the payment (``disputed_amount``) from its opening: a won
# one gives it back, a lost one keeps it (the payment is then charged back).
OPEN_DISPUTE_STATES = frozenset({D.OPEN, D.UNDER_REVIEW})


# A transition table: each state to the states allowed next (``PAYMENT_TRANSITIONS``).
# Keyed by the entity's own enum, looked up with the plain strings rows hold.
Transitions = Mapping[Any, frozenset[Any]]


def can_move(table: Transitions, current: str, target: str) -> bool:
    return target in table.get(current, frozenset())


def move(table: Transitions, entity: str, current: str, target: str) -> str:
    """Return ``target`` if the table allows ``current -> target``, else raise."""
    if not can_move(table, current, target):
        allowed = ", ".join(sorted(table.get(current, ()))) or "nothing"
        raise InvalidTransition(
            f"{entity} is {current}; it cannot become {target} (allowed next: {allowed})",
            current=current,
            target=target,
        )
    return target


def sources_of(table: Transitions, target: str) -> frozenset[str]:
    """Every state from which ``target`` may be reached: the guard of a conditional UPDATE."""
    return frozenset(str(s) for s, nexts in table.items() if target in nexts)


# -- payouts ---------------------------------------------------------------------------


class PayoutStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    PAID = "paid"
    FAILED = "failed"
    CANCELED = "canceled"


PO = PayoutStatus

PAYOUT_TRANSITIONS: dict[PayoutStatus, frozenset[PayoutStatus]] = {
    # Withdrawn by the seller (or an admin) before approval: canceled. An admin turning a
    # request down, with a reason, fails it; the funds go back to available either way.
    PO.REQUESTED: frozenset({PO.APPROVED, PO.FAILED, PO.CANCELED}),
    PO.APPROVED: frozenset({PO.PAID, PO.FAILED}),
    PO.PAID: frozenset(),
    PO.FAILED: frozenset(),
    PO.CANCELED: frozenset(),
}

# A payout holds its amount in the seller's in-transit account while it is open.
OPEN_PAYOUT_STATES = frozenset({PO.REQUESTED, PO.APPROVED})
