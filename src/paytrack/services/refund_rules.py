"""The refund policy in force, changed by an admin, and applied to a new request.

The configured policy (``PAYTRACK_REFUND_*``) is in force until an admin replaces it with
``set_refund_policy``; from then on the stored one is, for every process, read in the
transaction of each request it decides."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, TypedDict

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor, Role
from paytrack.domain.payments import Payment
from paytrack.domain.refund_rules import Decision, Facts, RefundPolicy, decide, policy_from_json
from paytrack.services import permissions
from paytrack.services.permissions import Action


class RefundPolicyState(TypedDict):
    """The policy in force (``RefundPolicy.to_json()``'s fields) and where it comes from."""

    auto_approve_max_amount: dict[str, int]
    auto_approve_within_days: int | None
    auto_approve_max_refund_rate: str | None
    customer_refund_window_days: int | None
    seller_requests_auto_approve: bool
    source: Literal["configuration", "admin"]
    version: int  # 0: the configured policy, never changed through the API
    updated_by: str | None
    updated_at: datetime | None


def current_policy(uow: UnitOfWork) -> RefundPolicy:
    stored = uow.refund_rules.get_policy()
    return uow.storage.refund_policy if stored is None else policy_from_json(stored["policy"])


def get_refund_policy(uow: UnitOfWork, actor: Actor) -> RefundPolicyState:
    permissions.check(actor, Action.MANAGE_REFUND_POLICY)
    stored = uow.refund_rules.get_policy()
    if stored is None:
        return _state(uow.storage.refund_policy, "configuration", 0, None, None)
    return _state(policy_from_json(stored["policy"]), "admin", stored["version"],
                  stored["updated_by"], stored["updated_at"])


def set_refund_policy(uow: UnitOfWork, actor: Actor,
                      values: Mapping[str, Any]) -> RefundPolicyState:
    """Replace the whole policy (a field left out is off); audited."""
    permissions.check(actor, Action.MANAGE_REFUND_POLICY)
    policy = policy_from_json(values)
    before = current_policy(uow).to_json()
    now = uow.now()
    stored = uow.refund_rules.put_policy(policy.to_json(), str(actor), now)
    uow.records.audit(str(actor), "refund_policy.updated", "refund_policy", "refund_policy",
                      before, {**policy.to_json(), "version": stored["version"]}, now)
    return _state(policy, "admin", stored["version"], stored["updated_by"],
                  stored["updated_at"])


def decide_request(uow: UnitOfWork, payment: Payment, actor: Actor, amount: int) -> Decision:
    """What the policy in force says of ``actor``'s request of ``amount`` on ``payment``
    (read after the request reserved its amount, in its transaction)."""
    policy = current_policy(uow)
    captured_at = payment["succeeded_at"]
    since = None if captured_at is None else max(uow.now() - captured_at, timedelta(0))
    refunded, captured = 0, payment["total"]
    role = Role.ADMIN if actor.role is Role.SYSTEM else actor.role
    if role is Role.CUSTOMER and policy.auto_approve_max_refund_rate is not None:
        refunded, captured = uow.refund_rules.customer_refund_sums(payment["customer_id"],
                                                                   payment["currency"])
    return decide(policy, Facts(requester=role, amount=amount, currency=payment["currency"],
                                payment_total=payment["total"], since_capture=since,
                                refunded=refunded, captured=captured))


def _state(policy: RefundPolicy, source: Literal["configuration", "admin"], version: int,
           updated_by: str | None, updated_at: datetime | None) -> RefundPolicyState:
    values = policy.to_json()
    return {
        "auto_approve_max_amount": values["auto_approve_max_amount"],
        "auto_approve_within_days": values["auto_approve_within_days"],
        "auto_approve_max_refund_rate": values["auto_approve_max_refund_rate"],
        "customer_refund_window_days": values["customer_refund_window_days"],
        "seller_requests_auto_approve": values["seller_requests_auto_approve"],
        "source": source, "version": version, "updated_by": updated_by,
        "updated_at": updated_at,
    }
