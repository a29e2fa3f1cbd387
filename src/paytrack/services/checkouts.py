"""A checkout the customer completed at the gateway, confirmed by the gateway's signature:
Razorpay Checkout hands back ``razorpay_order_id``, ``razorpay_payment_id`` and
``razorpay_signature`` (HMAC-SHA256 of ``order_id|payment_id`` with the key secret). The
signature is the proof: checked against the order paytrack stored for the payment, it
captures the payment, as the gateway's webhook would (whichever comes first; the other
then changes nothing)."""

from __future__ import annotations

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import ValidationFailed, WebhookSignatureInvalid
from paytrack.domain.payments import Gateway, Payment
from paytrack.domain.states import CAPTURABLE_STATES
from paytrack.services import gateways, payments, permissions
from paytrack.services._common import fetch
from paytrack.services.permissions import Action

CAPTURABLE = frozenset(map(str, CAPTURABLE_STATES))


def verify_razorpay_checkout(uow: UnitOfWork, payment_id: str, actor: Actor, *,
                             order_id: str, gateway_payment_id: str,
                             signature: str) -> Payment:
    """Check the signature against the payment's stored order and capture it; a wrong one
    is refused (400 ``invalid_signature``) and nothing is written."""
    permissions.check(actor, Action.READ_PAYMENT)
    payment = fetch(uow.payments, "payment", payment_id)
    permissions.check_object(actor, Action.READ_PAYMENT, payment, f"payment {payment_id}")
    if payment["gateway"] != Gateway.RAZORPAY or payment["gateway_order_id"] is None:
        raise ValidationFailed(f"payment {payment_id} has no Razorpay order to verify",
                               field="razorpay_order_id")
    adapter = gateways.adapter_for(uow, Gateway.RAZORPAY)
    verify = getattr(adapter, "verify_checkout", None)
    assert verify is not None, "the Razorpay adapter verifies checkouts"
    if order_id != payment["gateway_order_id"] or not verify(order_id, gateway_payment_id,
                                                             signature):
        raise WebhookSignatureInvalid(
            "razorpay_signature does not match this payment's order and the payment id")
    if payment["status"] not in CAPTURABLE:
        return payment  # its webhook came first, or it was already confirmed
    held = payment["gateway_payment_id"]
    return payments.capture_payment(
        uow, payment_id, Actor(Role.SYSTEM, "razorpay_checkout"),
        gateway_payment_id=gateway_payment_id if held is None else None,
        reason="Razorpay checkout signature verified")
