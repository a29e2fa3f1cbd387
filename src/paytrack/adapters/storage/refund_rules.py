"""The refund policy an admin set, and the sums behind a customer's past refund rate."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.sql import insert_ignore, labeled_sum, read_sum, record_or_none
from paytrack.adapters.storage.tables import payments, refund_policy
from paytrack.domain.states import PaymentStatus

P = PaymentStatus
# Payments whose money was taken (and perhaps given back since): a refund rate's base.
CAPTURED = sorted(map(str, (P.SUCCEEDED, P.PARTIALLY_REFUNDED, P.REFUNDED, P.DISPUTED,
                            P.CHARGED_BACK)))


class StoredRefundPolicy(TypedDict):
    id: int
    policy: dict[str, Any]  # RefundPolicy.to_json()
    version: int
    updated_by: str
    updated_at: datetime


class RefundRuleRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get_policy(self) -> StoredRefundPolicy | None:
        row = self.conn.execute(select(refund_policy).where(refund_policy.c.id == 1)).first()
        return record_or_none(row, StoredRefundPolicy)

    def put_policy(self, policy: dict[str, Any], actor: str,
                   now: datetime) -> StoredRefundPolicy:
        """Replace the policy; the version counts up by one per change, also when two
        admins change it at once (the second waits for the first's row)."""
        created = self.conn.execute(insert_ignore(self.conn, refund_policy).values(
            id=1, policy=policy, version=1, updated_by=actor, updated_at=now)
            .returning(*refund_policy.c)).first()
        row = created or self.conn.execute(
            update(refund_policy).where(refund_policy.c.id == 1)
            .values(policy=policy, updated_by=actor, updated_at=now,
                    version=refund_policy.c.version + 1)
            .returning(*refund_policy.c)).one()
        return cast(StoredRefundPolicy, record_or_none(row, StoredRefundPolicy))

    def customer_refund_sums(self, customer_id: str, currency: str) -> tuple[int, int]:
        """(refunded, captured): the customer's money already refunded and its money
        captured, over its payments in ``currency`` that were captured. One aggregate,
        exact on both backends."""
        row = self.conn.execute(
            select(*labeled_sum(self.conn, payments.c.refunded_amount, "refunded"),
                   *labeled_sum(self.conn, payments.c.total, "captured"))
            .where(payments.c.customer_id == customer_id, payments.c.currency == currency,
                   payments.c.status.in_(CAPTURED))).mappings().one()
        return read_sum(row, "refunded"), read_sum(row, "captured")
