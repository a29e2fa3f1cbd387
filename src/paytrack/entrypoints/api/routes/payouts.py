"""Seller payouts and the payout accounts they are paid to (always shown masked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Path, Query, Response

from paytrack.domain.actors import Actor
from paytrack.domain.states import PayoutStatus
from paytrack.entrypoints.api.deps import StorageDep, may
from paytrack.entrypoints.api.parameters import id_cursor
from paytrack.entrypoints.api.routes._shared import Limit, object_id, router
from paytrack.entrypoints.api.schemas import (
    ID_EXPECTED,
    ID_PATTERN,
    CreatePayoutIn,
    Currency,
    FailPayoutIn,
    PayoutAccountIn,
    PayoutAccountOut,
    PayoutAccountPage,
    PayoutStatusName,
    PayPayoutIn,
    ReasonIn,
)
from paytrack.entrypoints.api.views import PayoutPage, PayoutView, present, present_page
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import payouts as svc
from paytrack.services.permissions import Action

api = router("/v1", "payouts")
PayoutId = Annotated[str, object_id("po_01JD8X5R2C4E6G8J0K2M4N6P8Q")]
SellerId = Annotated[str, Path(pattern=ID_PATTERN, examples=["inst_ada"],
                               description=ID_EXPECTED)]
Reader = Annotated[Actor, may(Action.READ_PAYOUT)]
Decider = Annotated[Actor, may(Action.DECIDE_PAYOUT)]
AccountManager = Annotated[Actor, may(Action.MANAGE_PAYOUT_ACCOUNT)]


@api.post("/payouts", status_code=201, response_model=PayoutView)
def create_payout(body: CreatePayoutIn, write: WriteDep,
                  actor: Annotated[Actor, may(Action.REQUEST_PAYOUT)]) -> Response:
    """Ask to be paid part of the seller's available balance: the amount moves from
    available to in transit at once, and waits for an admin to approve and pay it. At
    least the payout minimum (422 `payout_below_minimum`), at most what is available (409
    `insufficient_funds`); the seller needs a payout account for the method (409
    `payout_account_missing`)."""
    return write.run(lambda uow: present(actor, "payout", svc.request_payout(
        uow, actor, seller_id=body.seller_id, amount=body.amount, currency=body.currency,
        method=body.method)))


@api.get("/payouts", response_model=PayoutPage)
def list_payouts(storage: StorageDep, actor: Reader,
                 cursor: Annotated[str | None, id_cursor("po")], limit: Limit = 20,
                 status: Annotated[PayoutStatusName | None, Query(
                     examples=["requested"],
                     description=f"a payout status: {', '.join(PayoutStatus)}")] = None,
                 seller_id: Annotated[str | None, Query(
                     pattern=ID_PATTERN, examples=["inst_ada"],
                     description=f"only this seller's payouts: {ID_EXPECTED}")] = None,
                 currency: Currency | None = None) -> dict:
    """Newest first; a seller sees only its own."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_payouts(uow, actor, limit=limit + 1, cursor=cursor, status=status,
                                seller_id=seller_id, currency=currency)
    return present_page(actor, "payout", rows, limit)


@api.get("/payouts/pending", response_model=PayoutPage)
def pending_payouts(storage: StorageDep, actor: Decider,
                    cursor: Annotated[str | None, id_cursor("po")], limit: Limit = 20
                    ) -> dict:
    """The admin's queue: requested and approved payouts, oldest first (`next_cursor`
    continues toward the newer ones)."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.pending_payouts(uow, actor, limit=limit + 1, cursor=cursor)
    return present_page(actor, "payout", rows, limit)


@api.get("/payouts/{payout_id}", response_model=PayoutView)
def get_payout(payout_id: PayoutId, storage: StorageDep, actor: Reader) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        return present(actor, "payout", svc.get_payout(uow, payout_id, actor))


@api.post("/payouts/{payout_id}/approve", response_model=PayoutView)
def approve_payout(payout_id: PayoutId, write: WriteDep, actor: Decider) -> Response:
    """Approve a requested payout; the money stays in transit until it is paid."""
    return write.run(lambda uow: present(actor, "payout",
                                         svc.approve_payout(uow, payout_id, actor)))


@api.post("/payouts/{payout_id}/pay", response_model=PayoutView)
def pay_payout(payout_id: PayoutId, body: PayPayoutIn, write: WriteDep,
               actor: Decider) -> Response:
    """Record an approved payout as paid, with the provider's reference: the money leaves
    the method's clearing account."""
    return write.run(lambda uow: present(actor, "payout", svc.pay_payout(
        uow, payout_id, actor, reference=body.reference)))


@api.post("/payouts/{payout_id}/fail", response_model=PayoutView)
def fail_payout(payout_id: PayoutId, body: FailPayoutIn, write: WriteDep,
                actor: Decider) -> Response:
    """A requested or approved payout that will not be paid (the provider refused it, or
    an admin turns it down): the money goes back to available."""
    return write.run(lambda uow: present(actor, "payout", svc.fail_payout(
        uow, payout_id, actor, reason=body.reason)))


@api.post("/payouts/{payout_id}/cancel", response_model=PayoutView)
def cancel_payout(payout_id: PayoutId, write: WriteDep,
                  actor: Annotated[Actor, may(Action.CANCEL_PAYOUT)],
                  body: Annotated[ReasonIn | None, Body()] = None) -> Response:
    """Withdraw a payout before it is approved (its seller, or an admin): the money goes
    back to available."""
    reason = (body or ReasonIn()).reason
    return write.run(lambda uow: present(actor, "payout", svc.cancel_payout(
        uow, payout_id, actor, reason=reason)))


@api.put("/sellers/{seller_id}/payout-account", response_model=PayoutAccountOut)
def put_payout_account(seller_id: SellerId, body: PayoutAccountIn, write: WriteDep,
                       actor: AccountManager) -> Response:
    """Set or replace the seller's payout account for one method: `bank_transfer`
    (`account_holder`, `iban` or `account_number` with `routing_number` or `sort_code`,
    `bank_name`), `paypal` (`email`) or `stripe_connect` (`account_id`). Stored encrypted;
    answered, like everywhere, masked to its last four characters."""
    details = body.model_dump(exclude={"method"}, exclude_none=True)
    return write.run(lambda uow: present(actor, "payout_account", svc.set_payout_account(
        uow, seller_id, actor, method=body.method, details=details)))


@api.get("/sellers/{seller_id}/payout-accounts", response_model=PayoutAccountPage)
def list_payout_accounts(seller_id: SellerId, storage: StorageDep,
                         actor: AccountManager) -> dict:
    """The seller's payout accounts, one per method, masked."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_payout_accounts(uow, seller_id, actor)
    return {"data": [present(actor, "payout_account", r) for r in rows], "has_more": False,
            "next_cursor": None}
