"""The refund record. Its state machine is in ``states``, how a refund splits back over the
payment's legs in ``splits.refund_split``, and what it posts in ``payments.refund_entry``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict


class Refund(TypedDict):
    """A refund as stored, read and returned: one row of ``refunds``.

    ``amount`` is in the payment's ``currency``; the four parts are filled when the refund
    succeeds (None before) and then sum to ``amount``. ``requested_by`` and ``decided_by``
    are recorded actors (``"admin:key_01…"``)."""

    id: str
    payment_id: str
    currency: str
    amount: int
    status: str  # a RefundStatus value
    previous_status: str | None
    reason: str
    requested_by: str
    decided_by: str | None
    rejection_reason: str | None
    failure_reason: str | None
    cancellation_reason: str | None
    seller_part: int | None
    platform_part: int | None
    tax_part: int | None
    shipping_part: int | None
    discount_part: int | None  # back to platform:discounts (a platform-funded discount)
    gateway_refund_id: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None
    rejected_at: datetime | None
    succeeded_at: datetime | None
    failed_at: datetime | None
    canceled_at: datetime | None
    # The refund rule that made the latest decision (``refund_rules.Rule``: ``manual_review``
    # while it waits for an admin) and, for an admin's eyes, why.
    decision_rule: str
    decision_detail: str | None
    # Carried out at a gateway: due to be sent, sent, how often tried, the last error.
    next_submit_at: datetime | None
    submitted_at: datetime | None
    submit_attempts: int
    last_error: str | None
