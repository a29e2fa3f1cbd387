from __future__ import annotations

from typing import Annotated

from fastapi import Query

from paytrack.domain.actors import Actor
from paytrack.entrypoints.api.deps import StorageDep, may
from paytrack.entrypoints.api.parameters import NumberCursor, id_cursor
from paytrack.entrypoints.api.routes._shared import Limit, router
from paytrack.entrypoints.api.schemas import (
    OBJECT_ID_PATTERN,
    AccountOut,
    Currency,
    EntryOut,
    Page,
    TrialBalanceOut,
    VerifyOut,
    page,
)
from paytrack.services import ledger as svc
from paytrack.services.permissions import Action

api = router("/v1/ledger", "ledger")
LedgerReader = Annotated[Actor, may(Action.READ_LEDGER)]


def _code(what: str, example: str) -> object:
    return Query(pattern=r"^[A-Za-z0-9_.:@-]{1,200}$", examples=[example],
                 description=f"{what}: up to 200 letters, digits and `_.:@-`")


@api.get("/trial-balance", response_model=TrialBalanceOut)
def trial_balance(storage: StorageDep, actor: LedgerReader) -> svc.TrialBalance:
    """Debits and credits per currency over every posting; ``balanced`` when equal."""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.trial_balance(uow, actor)


@api.get("/accounts", response_model=Page[AccountOut])
def list_accounts(storage: StorageDep, actor: LedgerReader, cursor: NumberCursor,
                  limit: Limit = 20,
                  code: Annotated[str | None, _code("an account code", "platform:revenue")
                                  ] = None,
                  code_prefix: Annotated[str | None, _code("the start of account codes",
                                                           "seller:")] = None,
                  currency: Currency | None = None) -> dict:
    """Accounts with their balances in each account's normal direction, newest first."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_accounts(uow, actor, code=code, code_prefix=code_prefix, currency=currency,
                                 limit=limit + 1, cursor=cursor)
    return page(rows, limit, AccountOut.model_validate, cursor_key="id")


@api.get("/entries", response_model=Page[EntryOut])
def list_entries(storage: StorageDep, actor: LedgerReader,
                 cursor: Annotated[str | None, id_cursor("je")], limit: Limit = 20,
                 payment_id: Annotated[str | None, Query(
                     pattern=OBJECT_ID_PATTERN, examples=["pay_01JD8X3M9QH7V2K4T6W8Y0Z1AB"],
                     description="a paytrack payment id: only its entries")] = None
                 ) -> dict:
    """Journal entries with their postings, newest first."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_entries(uow, actor, limit=limit + 1, cursor=cursor, payment_id=payment_id)
    return page(rows, limit, EntryOut.model_validate)


@api.get("/verify", response_model=VerifyOut)
def verify(storage: StorageDep, actor: LedgerReader) -> svc.LedgerCheck:
    """Recompute every balance from postings and report each difference."""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.verify_ledger(uow, actor)
