"""Work carried out at the gateways, outside any database transaction: sending approved
refunds and payouts, and cancelling checkouts nobody paid in time.

Each send follows the same three steps, so the process may die at any line:

1. claim (one short transaction): the row is due (``next_submit_at <= now``); it is leased
   for ``LEASE`` and one more attempt is counted;
2. send, with the refund's or payout's id as the provider's idempotency key: a resend after
   a crash gets the provider's first answer, never a second refund;
3. record the answer (another transaction): succeeded or failed settles it; accepted
   (pending) waits for the webhook; a retryable error is tried again after a backoff, up to
   ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple, TypeVar

from paytrack.adapters.gateways.base import PayoutRequest, RefundRequest
from paytrack.adapters.storage.uow import Storage, UnitOfWork
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import (
    GatewayNotConfigured,
    GatewayUnsupported,
    PaytrackError,
)
from paytrack.domain.gateways import Outcome, PaymentState, RemoteStatus
from paytrack.domain.payments import Payment
from paytrack.domain.payouts import Payout
from paytrack.domain.refunds import Refund
from paytrack.services import gateways, payments, payouts, refunds

R = TypeVar("R", Refund, Payout)
log = logging.getLogger("paytrack.gateways")
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
BATCH = 20
EXPIRY_GRACE = timedelta(days=1)


def gateway_actor(gateway: str) -> Actor:
    """Who a gateway's answers and webhooks act as: the system, named by the gateway."""
    return Actor(Role.SYSTEM, f"{gateway}_gateway")


def backoff(attempts: int) -> timedelta:
    """After the ``attempts``-th failed try: 30 s, 1 min, 2 min … capped at 1 h."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


# -- checkouts ---------------------------------------------------------------------------


def expire_checkouts(storage: Storage, limit: int = BATCH) -> int:
    """Cancel open payments whose checkout expired unpaid. The gateway is asked first: one
    it says succeeded (for the payment's amount) is captured instead, its webhook may have
    been lost; one still processing, or a gateway that cannot be asked, waits until a day
    past the expiry."""
    with storage.unit_of_work(readonly=True) as uow:
        now = uow.now()
        expired = uow.payments.expired_checkouts(now, limit)
    done = 0
    for payment in expired:
        state = _remote_state(storage, payment)
        expires_at = payment["payment_url_expires_at"]
        assert expires_at is not None
        overdue = now - expires_at > EXPIRY_GRACE
        status = state.status if state else None
        paid = (state is not None and status is RemoteStatus.SUCCEEDED
                and state.amount in (None, payment["total"])
                and (state.currency or payment["currency"]) == payment["currency"])
        if not paid and status in (RemoteStatus.SUCCEEDED, RemoteStatus.PROCESSING, None) \
                and not overdue:
            continue  # a person looks at a different amount; the others may still settle
        try:
            with storage.unit_of_work() as uow:
                current = uow.payments.lock(payment["id"])
                if current is None or current["status"] not in ("pending", "processing"):
                    continue
                actor = gateway_actor(payment["gateway"])
                if paid and state is not None:
                    payments.capture_payment(
                        uow, payment["id"], actor, gateway_fee=state.fee or 0,
                        reason="the gateway says paid at checkout expiry")
                else:
                    payments.cancel_payment(uow, payment["id"], actor,
                                            reason="checkout expired")
                uow.commit()
                done += 1
        except PaytrackError:
            log.exception("expiring the checkout of payment %s failed", payment["id"])
    return done


def _remote_state(storage: Storage, payment: Payment) -> PaymentState | None:
    try:
        with storage.unit_of_work() as uow:
            adapter = gateways.adapter_for(uow, payment["gateway"])
            uow.commit()
        return adapter.fetch_status(payment["gateway_payment_id"],
                                    payment["gateway_order_id"])
    except Exception:  # noqa: BLE001 - the gateway cannot say: asked again next round
        log.warning("could not ask %s about payment %s", payment["gateway"], payment["id"],
                    exc_info=True)
        return None


# -- refunds and payouts -----------------------------------------------------------------


class Sent(NamedTuple):
    refunds: int
    payouts: int


def send_due(storage: Storage, limit: int = BATCH) -> Sent:
    """One round of the background job: every refund and payout due to be sent."""
    return Sent(send_refund(storage, limit=limit), send_payout(storage, limit=limit))


def send_refund(storage: Storage, refund_id: str | None = None, limit: int = BATCH) -> int:
    """Send ``refund_id`` (or every due refund) to its gateway; returns how many were sent."""
    return _send_each(storage, "refund", lambda uow, now: uow.refunds.claim_to_submit(
        now, now + LEASE, limit, refund_id), _send_one_refund)


def send_payout(storage: Storage, payout_id: str | None = None, limit: int = BATCH) -> int:
    """Send ``payout_id`` (or every due payout) to its gateway; returns how many were sent."""
    return _send_each(storage, "payout", lambda uow, now: uow.payouts.claim_to_submit(
        now, now + LEASE, limit, payout_id), _send_one_payout)


def _send_each(storage: Storage, kind: str,
               claim: Callable[[UnitOfWork, datetime], list[R]],
               send_one: Callable[[Storage, R], None]) -> int:
    """Claim (one short transaction), then send each on its own: one row's trouble does
    not hold up the rest; it is tried again after its lease."""
    with storage.unit_of_work() as uow:
        claimed = claim(uow, uow.now())
        uow.commit()
    for row in claimed:
        try:
            send_one(storage, row)
        except Exception:  # noqa: BLE001
            log.exception("sending %s %s failed; tried again after its lease", kind,
                          row["id"])
    return len(claimed)


def _try_again(exc: PaytrackError, attempts: int) -> bool:
    """Whether a send that raised ``exc`` is tried again: the gateway may answer later
    (or be configured later), and attempts are left."""
    retryable = isinstance(exc, GatewayNotConfigured) or bool(exc.extra.get("retryable"))
    return retryable and attempts < MAX_ATTEMPTS


def _send_one_refund(storage: Storage, refund: Refund) -> None:
    with storage.unit_of_work() as uow:
        payment = uow.payments.get(refund["payment_id"])
        assert payment is not None
        try:
            adapter = gateways.adapter_for(uow, payment["gateway"])
        except GatewayNotConfigured as exc:
            adapter, error = None, exc
        uow.commit()
    actor = gateway_actor(payment["gateway"])
    try:
        if adapter is None:
            raise error
        result = adapter.refund(RefundRequest(
            refund_id=refund["id"], payment_id=payment["id"],
            gateway_payment_id=payment["gateway_payment_id"],
            gateway_order_id=payment["gateway_order_id"], amount=refund["amount"],
            currency=refund["currency"], reason=refund["reason"]))
    except PaytrackError as exc:  # refused, unreachable, or an amount it cannot take
        with storage.unit_of_work() as uow:
            if _try_again(exc, refund["submit_attempts"]):
                uow.refunds.update(refund["id"], {
                    "next_submit_at": uow.now() + backoff(refund["submit_attempts"]),
                    "last_error": exc.detail[:500]})
            else:
                uow.refunds.update(refund["id"], {"last_error": exc.detail[:500]})
                refunds.settle_refund(uow, refund["id"], actor, succeeded=False,
                                      reason=f"the gateway refused: {exc.detail}")
            uow.commit()
        return
    with storage.unit_of_work() as uow:
        current = uow.refunds.get(refund["id"])
        if current is None or current["status"] != "approved":
            return  # settled meanwhile (its webhook came first)
        if result.outcome is Outcome.PENDING:
            uow.refunds.update(refund["id"], {
                "next_submit_at": None, "submitted_at": uow.now(), "last_error": None,
                "gateway_refund_id": result.gateway_refund_id})
        else:
            refunds.settle_refund(uow, refund["id"], actor,
                                  succeeded=result.outcome is Outcome.SUCCEEDED,
                                  gateway_refund_id=result.gateway_refund_id,
                                  reason=result.reason)
        uow.commit()


def _send_one_payout(storage: Storage, payout: Payout) -> None:
    gateway = payout["gateway"]
    assert gateway is not None, "only payouts through a gateway are due"
    actor = gateway_actor(gateway)
    with storage.unit_of_work() as uow:
        account = uow.payout_accounts.get(payout["seller_id"], payout["method"])
        destination = (uow.payout_keys.decrypt(account["details_encrypted"])
                       if account else {})
        try:
            adapter = gateways.adapter_for(uow, gateway)
        except GatewayNotConfigured as exc:
            adapter, error = None, exc
        uow.commit()
    try:
        if adapter is None:
            raise error
        result = adapter.payout(PayoutRequest(
            payout_id=payout["id"], seller_id=payout["seller_id"], amount=payout["amount"],
            currency=payout["currency"], method=payout["method"], destination=destination))
    except GatewayUnsupported as exc:  # stays approved: an admin pays it by hand
        with storage.unit_of_work() as uow:
            uow.payouts.update(payout["id"], {"next_submit_at": None,
                                              "last_error": exc.detail[:500]})
            uow.commit()
        return
    except PaytrackError as exc:
        with storage.unit_of_work() as uow:
            if _try_again(exc, payout["submit_attempts"]):
                uow.payouts.update(payout["id"], {
                    "next_submit_at": uow.now() + backoff(payout["submit_attempts"]),
                    "last_error": exc.detail[:500]})
            else:
                uow.payouts.update(payout["id"], {"next_submit_at": None,
                                                  "last_error": exc.detail[:500]})
                payouts.fail_payout(uow, payout["id"], actor,
                                    reason=f"the gateway refused: {exc.detail}"[:500])
            uow.commit()
        return
    with storage.unit_of_work() as uow:
        current = uow.payouts.get(payout["id"])
        if current is None or current["status"] != "approved":
            return
        uow.payouts.update(payout["id"], {
            "next_submit_at": None, "submitted_at": uow.now(), "last_error": None,
            "gateway_payout_id": result.gateway_payout_id})
        if result.outcome is Outcome.SUCCEEDED:
            payouts.pay_payout(uow, payout["id"], actor,
                               reference=result.gateway_payout_id or payout["id"])
        elif result.outcome is Outcome.FAILED:
            payouts.fail_payout(uow, payout["id"], actor,
                                reason=result.reason or "the gateway refused the payout")
        uow.commit()



def send_now(storage: Storage) -> None:
    """Send what is due at once, after a request committed an approval; whatever goes wrong
    is left to the background job's next round."""
    try:
        send_due(storage)
    except Exception:  # noqa: BLE001 - the job retries; the request already succeeded
        log.exception("sending approved refunds and payouts failed; the job retries")
