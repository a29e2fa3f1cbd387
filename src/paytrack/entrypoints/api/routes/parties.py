from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query, Response

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.earnings import EarningView
from paytrack.domain.parties import Party
from paytrack.entrypoints.api.deps import ActorDep, StorageDep, may
from paytrack.entrypoints.api.parameters import id_cursor
from paytrack.entrypoints.api.routes._shared import Limit, router
from paytrack.entrypoints.api.schemas import (
    ID_EXPECTED,
    ID_PATTERN,
    Currency,
    CustomerIn,
    CustomerOut,
    EarningPage,
    SellerBalanceOut,
    SellerIn,
    SellerOut,
    page,
)
from paytrack.entrypoints.api.views import PaymentPage, present_page
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import ledger, parties, seller_funds, subscriptions
from paytrack.services.permissions import Action

api = router("/v1", "sellers and customers")
PartyId = Annotated[str, Path(
    pattern=ID_PATTERN, examples=["seller_42"],
    description=ID_EXPECTED)]
SellerReader = Annotated[Actor, may(Action.READ_SELLER)]
Editor = Annotated[Actor, may(Action.EDIT_PARTIES)]


@api.get("/sellers/{seller_id}/balance", response_model=SellerBalanceOut)
def seller_balance(seller_id: PartyId, storage: StorageDep,
                   actor: SellerReader) -> ledger.SellerBalance:
    """Pending, available, in transit and paid out, per currency, from the ledger."""
    with storage.unit_of_work(readonly=True) as uow:
        return ledger.seller_balance(uow, seller_id, actor)


@api.get("/sellers/{seller_id}/earnings", response_model=EarningPage)
def seller_earnings(seller_id: PartyId, storage: StorageDep, actor: SellerReader,
                    cursor: Annotated[str | None, id_cursor("pay")], limit: Limit = 20,
                    currency: Currency | None = None,
                    status: Annotated[Literal["pending", "released"] | None, Query(
                        examples=["pending"],
                        description="`pending`: still held; `released`: available")] = None
                    ) -> dict:
    """The earnings behind the balance, one per captured payment, newest first: gross,
    commission, net, the seller's part refunded, what is still held and when it becomes
    available."""
    released = None if status is None else status == "released"
    with storage.unit_of_work(readonly=True) as uow:
        rows = seller_funds.list_earnings(uow, seller_id, actor, limit=limit + 1,
                                          cursor=cursor, currency=currency, released=released)
    return page(rows, limit, _earning, cursor_key="payment_id")


def _earning(row: EarningView) -> dict:
    return {**row, "status": "pending" if row["released_at"] is None else "released"}


@api.get("/sellers/{seller_id}", response_model=SellerOut)
def get_seller(seller_id: PartyId, storage: StorageDep, actor: SellerReader) -> Party:
    with storage.unit_of_work(readonly=True) as uow:
        return parties.get_party(uow, "seller", seller_id, actor)


@api.put("/sellers/{seller_id}", response_model=SellerOut)
def put_seller(seller_id: PartyId, body: SellerIn, write: WriteDep, actor: Editor) -> Response:
    """Create or edit a seller, including its commission-rate override."""
    fields = body.model_dump(exclude={"clear_commission_rate", "clear_hold_days"},
                             exclude_none=True)

    def work(uow: UnitOfWork) -> Party:
        seller = parties.upsert_party(uow, "seller", seller_id, actor, **fields)
        if body.clear_commission_rate or body.clear_hold_days:
            seller = parties.clear_seller_overrides(
                uow, seller_id, actor, commission_rate=body.clear_commission_rate,
                hold_days=body.clear_hold_days)
        return seller

    return write.run(work)


@api.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: PartyId, storage: StorageDep,
                 actor: Annotated[Actor, may(Action.READ_CUSTOMER)]) -> Party:
    with storage.unit_of_work(readonly=True) as uow:
        return parties.get_party(uow, "customer", customer_id, actor)


@api.put("/customers/{customer_id}", response_model=CustomerOut)
def put_customer(customer_id: PartyId, body: CustomerIn, write: WriteDep,
                 actor: Editor) -> Response:
    fields = body.model_dump(exclude_none=True)
    return write.run(lambda uow: parties.upsert_party(uow, "customer", customer_id, actor,
                                                      **fields))


@api.get("/customers/{customer_id}/payments", response_model=PaymentPage)
def customer_payments(customer_id: PartyId, storage: StorageDep, actor: ActorDep,
                      cursor: Annotated[str | None, id_cursor("pay")], limit: Limit = 20
                      ) -> dict:
    """The customer's payment history (subscriptions' and every other), newest first: the
    customer sees all of its own, a seller only its own sales to it, an admin everything."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = subscriptions.customer_payments(uow, customer_id, actor, limit=limit + 1,
                                               cursor=cursor)
    return present_page(actor, "payment", rows, limit)
