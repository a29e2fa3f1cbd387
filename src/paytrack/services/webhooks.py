"""Webhook intake: a gateway's delivery verified, stored and applied exactly once.

    receive_webhook(storage, gateway, body, headers)

1. The adapter verifies the signature over the raw body with each configured mode's secret
   (the active one first). Not signed by the gateway: stored as ``rejected`` and refused
   (``WebhookSignatureInvalid``, 400); nothing else changes.
2. In one transaction, the delivery's row is claimed by (gateway, event id) and its events
   applied through the same service functions as the API. A duplicate finds the row
   already processed and only counts itself; one racing its twin waits for it (the unique
   key), so an event is applied once even when delivered twice at the same moment.
3. Applying never regresses a state: an event for something already further along is a
   no-op; a refund or dispute that arrives before its payment's success first records the
   capture it implies; a confirmation after paytrack cancelled or failed the payment is
   recorded and flagged for review. An event paytrack cannot apply yet (no payment has its
   ids) leaves the delivery ``failed`` with the error: the gateway's retry, or an admin's
   replay, runs it again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from paytrack.adapters.storage.uow import Storage, UnitOfWork
from paytrack.domain.actors import Actor, Role
from paytrack.domain.disputes import DisputeReason
from paytrack.domain.errors import (
    GatewayError,
    GatewayNotConfigured,
    NotFound,
    PaytrackError,
    ValidationFailed,
    WebhookSignatureInvalid,
)
from paytrack.domain.gateways import (
    CREDENTIALS,
    EventKind,
    GatewayEvent,
    Notification,
    RemoteStatus,
    WebhookDelivery,
    WebhookStatus,
)
from paytrack.domain.ids import new_id
from paytrack.domain.payments import Gateway, Payment
from paytrack.domain.states import (
    CAPTURABLE_STATES,
    LATE_CAPTURE_STATES,
    OPEN_DISPUTE_STATES,
    OPEN_STATES,
    PaymentStatus,
    RefundStatus,
)
from paytrack.services import disputes, gateways, payments, payouts, permissions, refunds
from paytrack.services.permissions import Action

K = EventKind
P = PaymentStatus
# Headers never stored: credentials a proxy may have added.
SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})
# Of a delivery not signed by the gateway (anyone can send one), only its start is kept.
UNSIGNED_BODY_KEPT = 2048
HEADERS_KEPT, HEADER_CHARS_KEPT = 50, 500
# An event naming nothing paytrack knows is answered 503 (the gateway retries: the payment
# may be committing right now); after this long it is recorded and flagged instead.
UNMATCHED_RETRY_FOR = timedelta(minutes=10)
MISMATCH = "amount mismatch"
OPEN = frozenset(map(str, OPEN_STATES))
CAPTURABLE = frozenset(map(str, CAPTURABLE_STATES))


class Unmatched(PaytrackError):
    """An event for a payment (refund, payout) paytrack does not know, or not yet."""

    code = "webhook_unmatched"
    status = 503
    title = "The webhook names nothing paytrack knows yet; it will be retried"


def webhook_actor(gateway: str) -> Actor:
    return Actor(Role.SYSTEM, f"{gateway}_webhook")


def receive_webhook(storage: Storage, gateway: str, body: bytes,
                    headers: Mapping[str, str]) -> WebhookDelivery:
    """Verify, store and apply one delivery; see the module docstring."""
    if gateway == Gateway.MANUAL or gateway not in CREDENTIALS:
        raise NotFound(f"no gateway {gateway!r} takes webhooks here")
    headers = {k.lower(): v for k, v in headers.items()}
    note, mode = _verify(storage, gateway, body, headers)
    if note is None:
        raise mode  # the refusal, already stored
    return _apply_delivery(storage, gateway, str(mode), note, body, headers)


def _verify(storage: Storage, gateway: str, body: bytes, headers: dict[str, str]
            ) -> tuple[Notification | None, Any]:
    refusal: PaytrackError = WebhookSignatureInvalid(
        f"gateway {gateway} is not configured here, so no webhook of it can be verified")
    with storage.unit_of_work() as uow:
        candidates = [gateways.build(uow, s) for s in gateways.all_settings(uow, gateway)]
        modes = [str(s.mode) for s in gateways.all_settings(uow, gateway)]
        uow.commit()
    for adapter, mode in zip(candidates, modes, strict=True):
        try:
            return adapter.parse_webhook(body, headers), mode
        except WebhookSignatureInvalid as exc:
            refusal = exc
        except ValidationFailed as exc:  # signed, but not something paytrack can read
            _store(storage, gateway, mode, body, headers, None, WebhookStatus.FAILED,
                   signed=True, error=exc.detail)
            return None, exc
        except GatewayNotConfigured as exc:
            refusal = WebhookSignatureInvalid(exc.detail)
    _store(storage, gateway, None, body, headers, None, WebhookStatus.REJECTED, signed=False,
           error=refusal.detail)
    return None, refusal


def _store(storage: Storage, gateway: str, mode: str | None, body: bytes,
           headers: Mapping[str, str], note: Notification | None, status: WebhookStatus, *,
           signed: bool, error: str | None) -> WebhookDelivery:
    with storage.unit_of_work() as uow:
        delivery = _new_delivery(uow, gateway, mode, body, headers, note, status,
                                 signed=signed, error=error)
        uow.webhooks.insert(delivery)
        uow.commit()
    return delivery


def _new_delivery(uow: UnitOfWork, gateway: str, mode: str | None, body: bytes,
                  headers: Mapping[str, str], note: Notification | None,
                  status: WebhookStatus, *, signed: bool, error: str | None
                  ) -> WebhookDelivery:
    now = uow.now()
    text = body.decode("utf-8", errors="replace")
    if not signed:
        text = text[:UNSIGNED_BODY_KEPT]
    return {
        "id": new_id("whd"), "gateway": gateway, "mode": mode,
        "event_id": note.event_id[:255] if note else None,
        "event_type": note.event_type[:100] if note else None, "status": str(status),
        "signature_valid": signed, "body": text,
        "headers": {k[:100]: v[:HEADER_CHARS_KEPT]
                    for k, v in list(headers.items())[:HEADERS_KEPT]
                    if k.lower() not in SECRET_HEADERS},
        "events": [_jsonable(e) for e in note.events] if note else [],
        "result": [], "error": error[:1000] if error else None, "needs_review": False,
        "payment_id": None, "times_received": 1, "attempts": 0, "received_at": now,
        "last_received_at": now, "processed_at": None,
    }


def _apply_delivery(storage: Storage, gateway: str, mode: str, note: Notification,
                    body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
    with storage.unit_of_work() as uow:
        fresh = _new_delivery(uow, gateway, mode, body, headers, note, WebhookStatus.FAILED,
                              signed=True, error=None)
        delivery, new = uow.webhooks.claim(fresh)
        if not new and delivery["status"] != WebhookStatus.FAILED:
            uow.webhooks.count_duplicate(delivery["id"], uow.now())
            uow.commit()
            return {**delivery, "times_received": delivery["times_received"] + 1}
        try:
            applied = _apply_events(uow, gateway, mode, note.events)
            done = _finish(uow, delivery, note, applied, new=new)
            uow.commit()
        except PaytrackError as exc:
            error = exc
        else:
            _after(storage, gateway, note.events)
            return done
    return _record_failure(storage, gateway, mode, note, body, headers, error)


def _finish(uow: UnitOfWork, delivery: WebhookDelivery, note: Notification,
            applied: list[dict[str, Any]], *, new: bool) -> WebhookDelivery:
    now = uow.now()
    values: dict[str, Any] = {
        "status": str(WebhookStatus.PROCESSED if note.events else WebhookStatus.IGNORED),
        "result": applied, "processed_at": now,
        "error": MISMATCH if any(a.get("outcome") == "amount_mismatch" for a in applied)
        else None,
        "needs_review": any(a.get("needs_review") for a in applied),
        "payment_id": next((a["payment_id"] for a in applied if a.get("payment_id")), None),
        "attempts": delivery["attempts"] + 1,
    }
    if not new:
        values.update(times_received=delivery["times_received"] + 1, last_received_at=now)
    uow.webhooks.update(delivery["id"], values)
    return {**delivery, **values}  # type: ignore[typeddict-item]


def _record_failure(storage: Storage, gateway: str, mode: str, note: Notification,
                    body: bytes, headers: Mapping[str, str],
                    error: PaytrackError) -> WebhookDelivery:
    """The events' work rolled back; the delivery is kept as failed with the error (a
    twin that succeeded meanwhile is left as it is). An event still naming nothing known
    after ``UNMATCHED_RETRY_FOR`` is recorded as processed and flagged: a gateway that
    keeps getting errors may stop sending, and the event is kept for a person."""
    with storage.unit_of_work() as uow:
        fresh = _new_delivery(uow, gateway, mode, body, headers, note, WebhookStatus.FAILED,
                              signed=True, error=error.detail)
        delivery, new = uow.webhooks.claim(fresh)
        given_up = (isinstance(error, Unmatched) and not new
                    and delivery["status"] == WebhookStatus.FAILED
                    and uow.now() - delivery["received_at"] >= UNMATCHED_RETRY_FOR)
        if given_up:
            uow.webhooks.update(delivery["id"], {
                "status": str(WebhookStatus.PROCESSED), "needs_review": True,
                "result": [{"outcome": "unmatched", "detail": error.detail}],
                "error": error.detail[:1000], "attempts": delivery["attempts"] + 1,
                "times_received": delivery["times_received"] + 1,
                "last_received_at": uow.now(), "processed_at": uow.now()})
            uow.commit()
            current = uow.webhooks.get(delivery["id"])
            assert current is not None
            return current
        if not new and delivery["status"] == WebhookStatus.FAILED:
            uow.webhooks.update(delivery["id"], {
                "error": error.detail[:1000], "attempts": delivery["attempts"] + 1,
                "times_received": delivery["times_received"] + 1,
                "last_received_at": uow.now()})
        elif new:
            uow.webhooks.update(delivery["id"], {"attempts": 1})
        uow.commit()
    raise error


def _after(storage: Storage, gateway: str, events: tuple[GatewayEvent, ...]) -> None:
    """Work for the gateway once the events are committed: a payment the customer approved
    is captured there (its confirmation then arrives as a webhook, or is applied here)."""
    for event in events:
        if event.kind is not K.PAYMENT_APPROVED:
            continue
        with storage.unit_of_work() as uow:
            payment = _find_payment(uow, gateway, event)
            adapter = gateways.adapter_for(uow, gateway) if payment else None
            uow.commit()
        if payment is None or adapter is None or payment["status"] not in OPEN:
            continue
        try:
            state = adapter.capture(payment["gateway_payment_id"], payment["gateway_order_id"],
                                    payment["total"], payment["currency"])
        except (GatewayError, GatewayNotConfigured):
            continue  # its expiry job asks the gateway again
        if state.status is RemoteStatus.SUCCEEDED:
            with storage.unit_of_work() as uow:
                current = uow.payments.get(payment["id"])
                if current is not None and current["status"] in OPEN:
                    payments.capture_payment(
                        uow, payment["id"], webhook_actor(gateway), gateway_fee=state.fee or 0,
                        gateway_payment_id=state.gateway_payment_id,
                        reason=f"captured at {gateway} after the customer approved")
                    uow.commit()


# -- applying events ---------------------------------------------------------------------


def _apply_events(uow: UnitOfWork, gateway: str, mode: str | None,
                  events: tuple[GatewayEvent, ...]) -> list[dict[str, Any]]:
    return [{"kind": str(e.kind), **_apply(uow, gateway, mode, e)} for e in events]


def _apply(uow: UnitOfWork, gateway: str, mode: str | None,
           event: GatewayEvent) -> dict[str, Any]:
    if event.kind in (K.PAYOUT_PAID, K.PAYOUT_FAILED):
        return _apply_payout(uow, gateway, event)
    found = _find_payment(uow, gateway, event)
    if found is None:
        raise Unmatched(f"no {gateway} payment has "
                        f"{_refs(event) or 'the ids this event names'}")
    payment = uow.payments.lock(found["id"])  # events about one payment, one at a time
    assert payment is not None
    actor = webhook_actor(gateway)
    why = f"{gateway} webhook: {event.kind}"
    outcome: dict[str, Any] = {"payment_id": payment["id"]}
    doubt = _doubt(payment, mode, event)
    if doubt is not None:
        return {**outcome, "outcome": "not applied", "detail": doubt, "needs_review": True}
    status = payment["status"]
    if event.kind in (K.PAYMENT_SUCCEEDED, K.PAYMENT_PROCESSING, K.PAYMENT_APPROVED):
        mismatch = _amount_mismatch(payment, event)
        if mismatch:
            return {**outcome, "outcome": "amount_mismatch", "detail": mismatch,
                    "needs_review": True}
    if event.kind is K.PAYMENT_SUCCEEDED:
        if status not in CAPTURABLE:
            return {**outcome, "outcome": f"already {status}"}
        late = status in LATE_CAPTURE_STATES
        _capture(uow, payment, event, actor, why)
        return {**outcome, "outcome": "captured", "needs_review": late}
    if event.kind in (K.PAYMENT_PROCESSING, K.PAYMENT_APPROVED):
        if status != P.PENDING:
            return {**outcome, "outcome": f"already {status}"}
        payments.mark_processing(uow, payment["id"], actor)
        return {**outcome, "outcome": "processing"}
    if event.kind is K.PAYMENT_FAILED:
        if gateway == Gateway.RAZORPAY and payment["gateway_order_id"] is not None:
            # One attempt on the order failed; the customer may try again on the same
            # order until the checkout expires (then the payment is canceled).
            return {**outcome, "outcome": "attempt failed; the order stays open"}
        if status not in OPEN:
            return {**outcome, "outcome": f"already {status}"}
        payments.fail_payment(uow, payment["id"], actor, reason=(event.reason or why)[:500])
        return {**outcome, "outcome": "failed"}
    if event.kind is K.PAYMENT_CANCELED:
        if status not in OPEN:
            return {**outcome, "outcome": f"already {status}"}
        payments.cancel_payment(uow, payment["id"], actor, reason=(event.reason or why)[:500])
        return {**outcome, "outcome": "canceled"}
    if event.kind in (K.REFUND_SUCCEEDED, K.REFUND_FAILED):
        return {**outcome, **_apply_refund(uow, gateway, payment, event, actor)}
    return {**outcome, **_apply_dispute(uow, gateway, payment, event, actor)}


def _capture(uow: UnitOfWork, payment: Payment, event: GatewayEvent, actor: Actor,
             why: str) -> Payment:
    gateway_payment_id = (event.gateway_payment_id
                          if payment["gateway_payment_id"] is None else None)
    return payments.capture_payment(uow, payment["id"], actor, gateway_fee=event.fee or 0,
                                    gateway_payment_id=gateway_payment_id, reason=why)


def _implied_capture(uow: UnitOfWork, payment: Payment, event: GatewayEvent,
                     actor: Actor) -> tuple[Payment, bool]:
    """A refund or dispute proves the payment was taken: record its capture first, if its
    own webhook has not come yet. Returns the payment and whether that needs review."""
    if payment["status"] not in CAPTURABLE:
        return payment, False
    if uow.webhooks.flagged(payment["id"], MISMATCH):
        raise Unmatched(f"payment {payment['id']}'s confirmation had another amount: a "
                        "person decides before its capture is implied")
    late = payment["status"] in LATE_CAPTURE_STATES
    captured = payments.capture_payment(
        uow, payment["id"], actor,
        reason=f"implied by {event.kind} before the payment's own confirmation")
    return captured, late


def _apply_refund(uow: UnitOfWork, gateway: str, payment: Payment, event: GatewayEvent,
                  actor: Actor) -> dict[str, Any]:
    refund = None
    if event.refund_id is not None:
        found = uow.refunds.get(event.refund_id)
        refund = found if found and found["payment_id"] == payment["id"] else None
    if refund is None and event.gateway_refund_id is not None:
        refund = uow.refunds.by_gateway_id(payment["id"], event.gateway_refund_id)
    succeeded = event.kind is K.REFUND_SUCCEEDED
    if refund is not None:
        if refund["status"] == RefundStatus.APPROVED:
            refunds.settle_refund(uow, refund["id"], actor, succeeded=succeeded,
                                  gateway_refund_id=event.gateway_refund_id,
                                  reason=event.reason)
            return {"refund_id": refund["id"], "outcome": "succeeded" if succeeded else "failed"}
        expected = RefundStatus.SUCCEEDED if succeeded else RefundStatus.FAILED
        return {"refund_id": refund["id"], "outcome": f"already {refund['status']}",
                "needs_review": refund["status"] != expected}
    if not succeeded:
        return {"outcome": "unknown refund failed", "needs_review": True}
    if event.gateway_refund_id is None and event.refund_id is None:
        # Only a running total (Stripe's charge.refunded without its refunds): each refund
        # is recorded by its own event, which names it; counting the total too would book
        # a refund twice.
        return {"outcome": "left to each refund's own event"}
    # A refund made at the gateway itself (its dashboard): recorded here as it happened.
    payment, late = _implied_capture(uow, payment, event, actor)
    amount = event.amount
    if amount is None or amount <= 0:
        return {"outcome": "refund without an amount", "needs_review": True}
    try:
        refund = refunds.record_gateway_refund(
            uow, payment["id"], actor, amount=amount, gateway_refund_id=event.gateway_refund_id,
            reason=f"refunded at {gateway}")
    except PaytrackError as exc:  # more than paytrack holds refundable: a person looks
        return {"outcome": "not recorded", "detail": exc.detail, "needs_review": True}
    return {"refund_id": refund["id"], "outcome": "recorded", "needs_review": late}


def _apply_dispute(uow: UnitOfWork, gateway: str, payment: Payment, event: GatewayEvent,
                   actor: Actor) -> dict[str, Any]:
    gid = event.gateway_dispute_id
    dispute = uow.disputes.by_gateway_id(gateway, gid) if gid else None
    late = False
    if dispute is None:  # opened, or closed before its opening arrived
        payment, late = _implied_capture(uow, payment, event, actor)
        amount = event.amount or payment["total"]
        # Refunds already sent to the gateway keep their money; requests are canceled.
        in_flight = sum(r["amount"] for r in uow.refunds.open_on_payment(payment["id"])
                        if disputes.in_flight(r))
        try:
            dispute = disputes.open_dispute(
                uow, payment["id"], actor,
                amount=min(amount, payment["total"] - payment["refunded_amount"]
                           - payment["disputed_amount"] - in_flight),
                reason=(event.reason or f"disputed at {gateway}")[:500],
                reason_code=_reason_code(event.reason), gateway_dispute_id=gid,
                fee=event.fee or 0)
        except PaytrackError as exc:
            return {"outcome": "not recorded", "detail": exc.detail, "needs_review": True}
        if event.kind is K.DISPUTE_OPENED:
            return {"dispute_id": dispute["id"], "outcome": "opened", "needs_review": late}
    elif event.kind is K.DISPUTE_OPENED:
        return {"dispute_id": dispute["id"], "outcome": f"already {dispute['status']}"}
    if dispute["status"] not in OPEN_DISPUTE_STATES:
        return {"dispute_id": dispute["id"], "outcome": f"already {dispute['status']}"}
    if event.kind is K.DISPUTE_WON:
        disputes.win_dispute(uow, dispute["id"], actor, reason=f"won at {gateway}")
        return {"dispute_id": dispute["id"], "outcome": "won", "needs_review": late}
    disputes.lose_dispute(uow, dispute["id"], actor, reason=f"lost at {gateway}")
    return {"dispute_id": dispute["id"], "outcome": "lost", "needs_review": late}


def _apply_payout(uow: UnitOfWork, gateway: str, event: GatewayEvent) -> dict[str, Any]:
    payout = uow.payouts.get(event.payout_id) if event.payout_id else None
    if payout is None and event.gateway_payout_id:
        payout = uow.payouts.by_gateway_id(gateway, event.gateway_payout_id)
    if payout is None:
        raise Unmatched(f"no payout has {_refs(event) or 'the ids this event names'}")
    actor = webhook_actor(gateway)
    outcome: dict[str, Any] = {"payout_id": payout["id"]}
    if payout["status"] != "approved":
        expected = "paid" if event.kind is K.PAYOUT_PAID else "failed"
        return {**outcome, "outcome": f"already {payout['status']}",
                "needs_review": payout["status"] != expected}
    if event.kind is K.PAYOUT_PAID:
        payouts.pay_payout(uow, payout["id"], actor,
                           reference=event.gateway_payout_id or payout["id"])
        return {**outcome, "outcome": "paid"}
    payouts.fail_payout(uow, payout["id"], actor,
                        reason=(event.reason or f"failed at {gateway}")[:500])
    return {**outcome, "outcome": "failed"}


def _find_payment(uow: UnitOfWork, gateway: str, event: GatewayEvent) -> Payment | None:
    return uow.payments.by_gateway_ref(gateway, payment_id=event.payment_id,
                                       gateway_payment_id=event.gateway_payment_id,
                                       gateway_order_id=event.gateway_order_id)


def _doubt(payment: Payment, mode: str | None, event: GatewayEvent) -> str | None:
    """Why this event should not touch this payment, if it should not: signed with the
    other mode's secret, or naming the payment by its id with another provider id."""
    if mode is not None and payment["gateway_mode"] not in (None, mode):
        return (f"verified with the {mode} secret, but the payment was taken in "
                f"{payment['gateway_mode']} mode")
    held, named = payment["gateway_payment_id"], event.gateway_payment_id
    if (event.payment_id == payment["id"] and held and named and held != named
            and event.kind in (K.PAYMENT_SUCCEEDED, K.PAYMENT_PROCESSING, K.PAYMENT_APPROVED,
                               K.PAYMENT_FAILED, K.PAYMENT_CANCELED)):
        return f"the event names provider payment {named}, the payment holds {held}"
    return None


def _amount_mismatch(payment: Payment, event: GatewayEvent) -> str | None:
    if event.currency is not None and event.currency.upper() != payment["currency"]:
        return f"the gateway says {event.currency}, the payment is in {payment['currency']}"
    if event.amount is not None and event.amount != payment["total"]:
        return (f"the gateway says {event.amount} minor units, the payment's total is "
                f"{payment['total']}")
    return None


def _reason_code(reason: str | None) -> str:
    known = {str(r) for r in DisputeReason}
    return reason if reason in known else str(DisputeReason.GENERAL)


def _refs(event: GatewayEvent) -> str:
    names = ("payment_id", "gateway_payment_id", "gateway_order_id", "payout_id",
             "gateway_payout_id")
    return ", ".join(f"{n} {getattr(event, n)!r}" for n in names if getattr(event, n))


def _jsonable(event: GatewayEvent) -> dict[str, Any]:
    stored: dict[str, Any] = json.loads(json.dumps(asdict(event), default=_default))
    return stored


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


# -- reading and replaying ---------------------------------------------------------------


def list_deliveries(uow: UnitOfWork, actor: Actor, *, limit: int = 20,
                    cursor: str | None = None, gateway: str | None = None,
                    status: str | None = None, event_type: str | None = None,
                    event_id: str | None = None, payment_id: str | None = None,
                    needs_review: bool | None = None, received_gte: datetime | None = None,
                    received_lt: datetime | None = None) -> list[WebhookDelivery]:
    permissions.check(actor, Action.READ_WEBHOOKS)
    if status is not None and status not in {str(s) for s in WebhookStatus}:
        raise ValidationFailed(f"status {status!r} is not one of: "
                               + ", ".join(s.value for s in WebhookStatus), field="status")
    return uow.webhooks.list(filters={"gateway": gateway, "status": status,
                                      "event_type": event_type, "event_id": event_id,
                                      "payment_id": payment_id},
                             limit=limit, before_id=cursor, received_gte=received_gte,
                             received_lt=received_lt, needs_review=needs_review)


def get_delivery(uow: UnitOfWork, actor: Actor, delivery_id: str) -> WebhookDelivery:
    permissions.check(actor, Action.READ_WEBHOOKS)
    delivery = uow.webhooks.get(delivery_id)
    if delivery is None:
        raise NotFound(f"webhook delivery {delivery_id} not found")
    return delivery


def replay_delivery(storage: Storage, actor: Actor, delivery_id: str) -> WebhookDelivery:
    """Apply a stored delivery's events again (they were verified when it arrived): a
    failed one gets another try; a processed one changes nothing that is already done,
    since applying never regresses. A rejected one has nothing to replay."""
    permissions.check(actor, Action.REPLAY_WEBHOOK)
    with storage.unit_of_work() as uow:
        delivery = uow.webhooks.lock(delivery_id)
        if delivery is None:
            raise NotFound(f"webhook delivery {delivery_id} not found")
        if not delivery["signature_valid"] or delivery["event_id"] is None:
            raise ValidationFailed("this delivery was not verified (or could not be read): "
                                   "there is nothing to replay", field="delivery_id")
        events = tuple(_event(e) for e in delivery["events"])
        try:
            applied = _apply_events(uow, delivery["gateway"], delivery["mode"], events)
        except PaytrackError as exc:
            error = exc
        else:
            note = Notification(delivery["event_id"], delivery["event_type"] or "", None,
                                events)
            done = _finish(uow, delivery, note, applied, new=True)
            uow.records.audit(str(actor), "webhook.replayed", "webhook_delivery", delivery_id,
                              {"status": delivery["status"]}, {"status": done["status"]},
                              uow.now())
            uow.commit()
            _after(storage, delivery["gateway"], events)
            return done
    with storage.unit_of_work() as uow:
        uow.webhooks.update(delivery_id, {"status": str(WebhookStatus.FAILED),
                                          "error": error.detail[:1000],
                                          "attempts": delivery["attempts"] + 1})
        uow.commit()
    raise error


def _event(stored: dict[str, Any]) -> GatewayEvent:
    values = dict(stored)
    values["kind"] = EventKind(values["kind"])
    if values.get("occurred_at"):
        values["occurred_at"] = datetime.fromisoformat(values["occurred_at"])
    return GatewayEvent(**values)
