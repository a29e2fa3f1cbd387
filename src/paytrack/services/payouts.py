"""Payouts: requested -> approved -> paid | failed; requested -> canceled | failed.

    requested            available -> in transit, at once (``payout.requested``)
    approved             (holds)
    paid                 in transit -> the method's clearing account (``payout.paid``)
    failed / canceled    in transit -> available (``payout.failed``, ``payout.canceled``)

A request is refused below the currency's minimum (``Policy.payouts``) and above what is
available; the second is the database's decision, not a read beforehand: the seller's
available balance is a bounded account, moved by one conditional UPDATE that refuses to go
below zero, so concurrent requests serialize on its row and never overdraw it. Every later
move is one conditional UPDATE of the payout's status, and its entry is posted only after
that move succeeded, in the same transaction: of two racing moves, one posts.

A seller's payout accounts (one per method) are stored encrypted with the platform's
payout keys; only their last four characters are ever shown, recorded or logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import (
    InsufficientFunds,
    InvalidAmount,
    InvalidTransition,
    NotFound,
    PayoutAccountMissing,
    PayoutBelowMinimum,
    ValidationFailed,
)
from paytrack.domain.events import EventType
from paytrack.domain.gateways import PAYOUT_GATEWAYS
from paytrack.domain.ids import new_id
from paytrack.domain.ledger import seller_available, seller_debt
from paytrack.domain.limits import check_amount
from paytrack.domain.money import format_amount, validate_currency
from paytrack.domain.payouts import (
    Payout,
    PayoutAccount,
    PayoutMethod,
    account_details,
    last4,
    masked,
    paid_entry,
    request_entry,
    returned_entry,
)
from paytrack.domain.states import (
    OPEN_PAYOUT_STATES,
    PAYOUT_TRANSITIONS,
    PayoutStatus,
    sources_of,
)
from paytrack.services import gateways, permissions
from paytrack.services._common import fetch, guarded_move, require_text
from paytrack.services.events import emit
from paytrack.services.permissions import Action

S = PayoutStatus
ROTATE_BATCH = 500


class ShownPayoutAccount(TypedDict):
    """A payout account as anyone sees it: masked."""

    seller_id: str
    method: str
    last4: str
    masked: str
    created_at: datetime
    updated_at: datetime


def request_payout(uow: UnitOfWork, actor: Actor, *, amount: int, currency: str, method: str,
                   seller_id: str | None = None) -> Payout:
    """Ask to be paid ``amount`` of the seller's available balance; it moves to in transit
    now. A seller asks for itself; an admin names the seller."""
    permissions.check(actor, Action.REQUEST_PAYOUT)
    if seller_id is None:
        if actor.role is not Role.SELLER or actor.id is None:
            raise ValidationFailed("seller_id is required: the seller to pay",
                                   field="seller_id")
        seller_id = actor.id
    permissions.check_object(actor, Action.REQUEST_PAYOUT, {"seller_id": seller_id},
                             f"seller {seller_id}")
    validate_currency(currency)
    kind = _method(method)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount("amount must be a positive integer of minor units", field="amount")
    check_amount(amount, "amount")
    minimum = uow.policy.payouts.minimum_for(currency)
    if amount < minimum:
        raise PayoutBelowMinimum(
            f"a payout in {currency} must be at least {format_amount(minimum, currency)} "
            f"{currency}; {format_amount(amount, currency)} {currency} was asked",
            field="amount", minimum=minimum)
    if uow.parties.get("seller", seller_id) is None:
        raise NotFound(f"seller {seller_id} not found")
    account = uow.payout_accounts.get(seller_id, kind)
    if account is None:
        raise PayoutAccountMissing(
            f"seller {seller_id} has no {kind} payout account: set one with "
            f"PUT /v1/sellers/{seller_id}/payout-account", method=str(kind))
    now = uow.now()
    payout: Payout = {
        "id": new_id("po"), "seller_id": seller_id, "currency": currency, "amount": amount,
        "method": str(kind), "destination": masked(account["last4"]),
        "status": str(S.REQUESTED), "previous_status": None, "requested_by": str(actor),
        "decided_by": None, "reference": None, "failure_reason": None,
        "cancellation_reason": None, "gateway": None, "gateway_payout_id": None,
        "next_submit_at": None, "submitted_at": None, "submit_attempts": 0,
        "last_error": None, "created_at": now, "updated_at": now,
        "approved_at": None, "paid_at": None, "failed_at": None, "canceled_at": None,
    }
    uow.payouts.insert(payout)
    try:
        uow.ledger.post(request_entry(payout), now)
    except InsufficientFunds:
        raise _insufficient(uow, payout) from None
    uow.records.status_event("payout", payout["id"], None, S.REQUESTED, str(actor), None, now)
    uow.records.audit(str(actor), "payout.requested", "payout", payout["id"], None,
                      _audited(payout), now)
    return payout


def approve_payout(uow: UnitOfWork, payout_id: str, actor: Actor) -> Payout:
    """An admin approves: the money stays in transit until it is paid or fails."""
    permissions.check(actor, Action.DECIDE_PAYOUT)
    now = uow.now()
    payout = _move(uow, payout_id, S.APPROVED, actor, None,
                   {"approved_at": now, "decided_by": str(actor)})
    gateway = PAYOUT_GATEWAYS.get(payout["method"])
    if gateway is not None and gateways.is_configured(uow, gateway):
        # Sent to the gateway once this commits (services.gateway_jobs); its answer or
        # webhook pays or fails it.
        values = {"gateway": gateway, "next_submit_at": now}
        uow.payouts.update(payout_id, values)
        return {**payout, "gateway": gateway, "next_submit_at": now}
    return payout


def pay_payout(uow: UnitOfWork, payout_id: str, actor: Actor, *, reference: str) -> Payout:
    """The provider paid it (``reference`` is its id of the transfer): the money leaves."""
    permissions.check(actor, Action.DECIDE_PAYOUT)
    reference = require_text(reference, "reference", max_length=200)
    _not_at_gateway(uow, payout_id, actor)
    now = uow.now()
    payout = _move(uow, payout_id, S.PAID, actor, None,
                   {"paid_at": now, "reference": reference})
    uow.ledger.post(paid_entry(payout), now)
    emit(uow, EventType.PAYOUT_PAID, "payout", payout)
    return payout


def fail_payout(uow: UnitOfWork, payout_id: str, actor: Actor, *, reason: str) -> Payout:
    """The provider refused it, or an admin turns a request down: the funds go back to
    available."""
    permissions.check(actor, Action.DECIDE_PAYOUT)
    reason = require_text(reason, "reason")
    _not_at_gateway(uow, payout_id, actor)
    now = uow.now()
    payout = _move(uow, payout_id, S.FAILED, actor, reason,
                   {"failed_at": now, "failure_reason": reason, "decided_by": str(actor)})
    _return_funds(uow, payout, "payout.failed", now)
    emit(uow, EventType.PAYOUT_FAILED, "payout", payout)
    return payout


def cancel_payout(uow: UnitOfWork, payout_id: str, actor: Actor, *,
                  reason: str | None = None) -> Payout:
    """Withdraw a request before an admin approved it (its seller, or an admin): the funds
    go back to available."""
    grant = permissions.check(actor, Action.CANCEL_PAYOUT)
    if reason is not None:
        reason = require_text(reason, "reason")
    permissions.check_object(actor, Action.CANCEL_PAYOUT, fetch(uow.payouts, "payout",
                                                                payout_id),
                             f"payout {payout_id}")
    sources = grant.states if grant.states is not None else sources_of(
        PAYOUT_TRANSITIONS, S.CANCELED)
    now = uow.now()
    payout = _move(uow, payout_id, S.CANCELED, actor, reason,
                   {"canceled_at": now, "cancellation_reason": reason,
                    "decided_by": str(actor)},
                   sources=sources, refusal="a payout can be canceled only while it is "
                                            "requested; an admin can still fail it")
    _return_funds(uow, payout, "payout.canceled", now)
    return payout


def get_payout(uow: UnitOfWork, payout_id: str, actor: Actor) -> Payout:
    permissions.check(actor, Action.READ_PAYOUT)
    payout = fetch(uow.payouts, "payout", payout_id)
    permissions.check_object(actor, Action.READ_PAYOUT, payout, f"payout {payout_id}")
    return payout


def list_payouts(uow: UnitOfWork, actor: Actor, *, limit: int = 20, cursor: str | None = None,
                 status: str | None = None, seller_id: str | None = None,
                 currency: str | None = None) -> list[Payout]:
    """Newest first, only the actor's own (a seller's)."""
    if currency is not None:
        validate_currency(currency)  # an unknown one is a 422, as on the other lists
    scope = permissions.list_scope(actor, Action.READ_PAYOUT)
    if "seller_id" in scope and seller_id not in (None, scope["seller_id"]):
        return []  # another seller's payouts do not exist for this one
    filters = {"status": status, "seller_id": seller_id, "currency": currency, **scope}
    return uow.payouts.list(filters=filters, limit=limit, before_id=cursor)


def pending_payouts(uow: UnitOfWork, actor: Actor, *, limit: int = 20,
                    cursor: str | None = None) -> list[Payout]:
    """The admin's queue: requested and approved payouts, oldest first."""
    permissions.check(actor, Action.DECIDE_PAYOUT)
    return uow.payouts.open(map(str, OPEN_PAYOUT_STATES), limit=limit, after_id=cursor)


# -- payout accounts ---------------------------------------------------------------------


def set_payout_account(uow: UnitOfWork, seller_id: str, actor: Actor, *, method: str,
                       details: dict[str, str | None]) -> ShownPayoutAccount:
    """Set (or replace) the seller's account for ``method``; stored encrypted."""
    permissions.check_object(actor, Action.MANAGE_PAYOUT_ACCOUNT, {"seller_id": seller_id},
                             f"seller {seller_id}")
    kind = _method(method)
    checked = account_details(kind, details)
    if uow.parties.get("seller", seller_id) is None:
        raise NotFound(f"seller {seller_id} not found")
    now = uow.now()
    before = uow.payout_accounts.get(seller_id, kind)
    account = uow.payout_accounts.upsert({
        "seller_id": seller_id, "method": str(kind),
        "details_encrypted": uow.payout_keys.encrypt(checked), "last4": last4(checked),
        "created_at": now, "updated_at": now})
    uow.records.audit(str(actor), "payout_account.set", "seller", seller_id,
                      None if before is None else {"method": str(kind),
                                                   "last4": before["last4"]},
                      {"method": str(kind), "last4": account["last4"]}, now)
    return shown(account)


def list_payout_accounts(uow: UnitOfWork, seller_id: str,
                         actor: Actor) -> list[ShownPayoutAccount]:
    permissions.check_object(actor, Action.MANAGE_PAYOUT_ACCOUNT, {"seller_id": seller_id},
                             f"seller {seller_id}")
    if uow.parties.get("seller", seller_id) is None:
        raise NotFound(f"seller {seller_id} not found")
    return [shown(a) for a in uow.payout_accounts.of_seller(seller_id)]


def rotate_payout_keys(uow: UnitOfWork, actor: Actor) -> int:
    """Re-encrypt every stored payout account with the newest key, in this transaction;
    afterwards the older keys can be dropped. Returns how many were re-encrypted."""
    permissions.check(actor, Action.ROTATE_PAYOUT_KEYS)
    done, after = 0, None
    while batch := uow.payout_accounts.batch(after=after, limit=ROTATE_BATCH):
        for account in batch:
            uow.payout_accounts.replace_token(
                account["seller_id"], account["method"],
                uow.payout_keys.rotate(account["details_encrypted"]))
        done += len(batch)
        after = (batch[-1]["seller_id"], batch[-1]["method"])
    uow.records.audit(str(actor), "payout_keys.rotated", "payout_accounts", "all", None,
                      {"accounts": done}, uow.now())
    return done


def shown(account: PayoutAccount) -> ShownPayoutAccount:
    return {"seller_id": account["seller_id"], "method": account["method"],
            "last4": account["last4"], "masked": masked(account["last4"]),
            "created_at": account["created_at"], "updated_at": account["updated_at"]}


# -- moves -------------------------------------------------------------------------------


def _move(uow: UnitOfWork, payout_id: str, target: PayoutStatus, actor: Actor,
          reason: str | None, values: dict[str, Any], *,
          sources: frozenset[str] | None = None, refusal: str | None = None) -> Payout:
    now = uow.now()
    if sources is None:
        sources = sources_of(PAYOUT_TRANSITIONS, target)
    payout = guarded_move(uow.payouts, PAYOUT_TRANSITIONS, "payout", payout_id, sources,
                          str(target), {**values, "updated_at": now}, refusal=refusal)
    previous = payout["previous_status"]
    uow.records.status_event("payout", payout_id, previous, target, str(actor), reason, now)
    uow.records.audit(str(actor), f"payout.{target}", "payout", payout_id,
                      {"status": previous}, _audited(payout), now)
    return payout


def _not_at_gateway(uow: UnitOfWork, payout_id: str, actor: Actor) -> None:
    """A payout handed to its gateway is settled by the gateway's answer, not by hand: the
    transfer may already be made."""
    if actor.role is Role.SYSTEM:
        return
    payout = fetch(uow.payouts, "payout", payout_id)
    if payout["status"] == S.APPROVED and (payout["next_submit_at"] is not None
                                           or payout["submitted_at"] is not None):
        raise InvalidTransition(
            f"payout {payout_id} is being paid through {payout['gateway']}: its answer (or "
            "webhook) marks it paid or failed", current=payout["status"])


def _return_funds(uow: UnitOfWork, payout: Payout, kind: str, now: datetime) -> None:
    """Post the return of a payout that will not be paid: the seller's debt (a refund or
    a dispute while it was in transit) is paid down first, the rest goes to available, so
    a seller never has money to withdraw while it owes some."""
    seller, currency = payout["seller_id"], payout["currency"]
    available, debt = seller_available(seller), seller_debt(seller)
    balances = uow.ledger.lock_balances([available, debt], currency, now)
    to_debt = min(balances[debt.code], payout["amount"])
    uow.ledger.post(returned_entry(payout, kind, to_debt), now)


def _audited(payout: Payout) -> dict[str, Any]:
    """What the audit log keeps of a payout: the masked destination, never details."""
    return {"status": payout["status"], "amount": payout["amount"],
            "currency": payout["currency"], "method": payout["method"],
            "destination": payout["destination"], "reference": payout["reference"]}


def _method(method: str) -> PayoutMethod:
    try:
        return PayoutMethod(method)
    except ValueError:
        raise ValidationFailed(f"method must be one of {', '.join(PayoutMethod)}",
                               field="method") from None


def _insufficient(uow: UnitOfWork, payout: Payout) -> InsufficientFunds:
    """The request asked for more than the seller's available balance (as the refused
    UPDATE found it; read again here only to say how much that is)."""
    currency, code = payout["currency"], seller_available(payout["seller_id"]).code
    rows = uow.ledger.accounts(code=code, currency=currency)
    available = int(rows[0]["current_balance"]) if rows else 0
    return InsufficientFunds(
        f"payout of {format_amount(payout['amount'], currency)} {currency} exceeds the "
        f"available {format_amount(available, currency)} {currency}",
        field="amount", available=available)
