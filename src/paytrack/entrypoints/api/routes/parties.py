from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import NotFound
from paytrack.entrypoints.api.deps import ActorDep, AdminDep, AdminOrSellerDep, StorageDep
from paytrack.entrypoints.api.routes._shared import router
from paytrack.entrypoints.api.schemas import (
    ID_PATTERN,
    CustomerIn,
    CustomerOut,
    SellerBalanceOut,
    SellerIn,
    SellerOut,
)
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import ledger, parties

api = router("/v1", "sellers and customers")
PartyId = Annotated[str, Path(pattern=ID_PATTERN)]


def _own(actor: Actor, role: Role, party_id: str, kind: str) -> None:
    """Another seller's (or customer's) records do not exist for this caller."""
    if actor.role is role and actor.id != party_id:
        raise NotFound(f"{kind} {party_id} not found")


@api.get("/sellers/{seller_id}/balance", response_model=SellerBalanceOut)
def seller_balance(seller_id: PartyId, storage: StorageDep, actor: AdminOrSellerDep) -> dict:
    """Pending, available, in transit and paid out, per currency, from the ledger."""
    _own(actor, Role.SELLER, seller_id, "seller")
    with storage.unit_of_work(readonly=True) as uow:
        return ledger.seller_balance(uow, seller_id, actor)


@api.get("/sellers/{seller_id}", response_model=SellerOut)
def get_seller(seller_id: PartyId, storage: StorageDep, actor: AdminOrSellerDep) -> dict:
    _own(actor, Role.SELLER, seller_id, "seller")
    with storage.unit_of_work(readonly=True) as uow:
        return parties.get_party(uow, "seller", seller_id)


@api.put("/sellers/{seller_id}", response_model=SellerOut)
def put_seller(seller_id: PartyId, body: SellerIn, write: WriteDep,
               actor: AdminDep) -> Response:
    """Create or edit a seller, including its commission-rate override."""
    fields = body.model_dump(exclude={"clear_commission_rate"}, exclude_none=True)

    def work(uow: UnitOfWork) -> dict:
        seller = parties.upsert_party(uow, "seller", seller_id, actor, **fields)
        if body.clear_commission_rate:
            seller = parties.clear_commission_rate(uow, seller_id, actor)
        return seller

    return write.run(work)


@api.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: PartyId, storage: StorageDep, actor: ActorDep) -> dict:
    if actor.role is Role.SELLER:
        raise NotFound(f"customer {customer_id} not found")
    _own(actor, Role.CUSTOMER, customer_id, "customer")
    with storage.unit_of_work(readonly=True) as uow:
        return parties.get_party(uow, "customer", customer_id)


@api.put("/customers/{customer_id}", response_model=CustomerOut)
def put_customer(customer_id: PartyId, body: CustomerIn, write: WriteDep,
                 actor: AdminDep) -> Response:
    fields = body.model_dump(exclude_none=True)
    return write.run(lambda uow: parties.upsert_party(uow, "customer", customer_id, actor,
                                                      **fields))
