"""CSV exports (``/v1/exports/<kind>.csv``, streamed) and seller statements."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from paytrack.adapters.pdf.statement import render_statement
from paytrack.domain.actors import Actor
from paytrack.domain.payments import Gateway, PaymentKind, PaymentMethod
from paytrack.domain.states import DisputeStatus, PaymentStatus, PayoutStatus, RefundStatus
from paytrack.entrypoints.api.deps import ActorDep, StorageDep, may
from paytrack.entrypoints.api.routes._shared import router
from paytrack.entrypoints.api.routes.payments import NeedsReview
from paytrack.entrypoints.api.schemas import (
    ID_EXPECTED,
    ID_PATTERN,
    OBJECT_ID_PATTERN,
    Currency,
    DisputeStatusName,
    GatewayName,
    IsoDateTime,
    Kind,
    Method,
    PaymentStatusName,
    PayoutStatusName,
    RefundStatusName,
)
from paytrack.services import exports as svc
from paytrack.services import statements
from paytrack.services.permissions import Action

api = router("/v1/exports", "exports")
sellers = router("/v1/sellers", "exports")

CSV = "text/csv; charset=utf-8"
PartyId = Annotated[str, Path(pattern=ID_PATTERN, examples=["seller_42"],
                              description=ID_EXPECTED)]
SellerReader = Annotated[Actor, may(Action.READ_SELLER)]
_CSV_DOC: dict[int | str, dict[str, Any]] = {200: {
    "description": "the rows as CSV, streamed: a header, then one row per record",
    "content": {"text/csv": {"schema": {"type": "string"}}}}}


def _party(what: str, example: str) -> Any:
    return Query(pattern=ID_PATTERN, examples=[example], description=f"{what}: {ID_EXPECTED}")


def _one_of(what: str, values: Any, example: str) -> Any:
    return Query(description=f"{what}: {', '.join(values)}", examples=[example])


def _object(what: str) -> Any:
    return Query(pattern=OBJECT_ID_PATTERN, examples=["pay_01JD8X3M9QH7V2K4T6W8Y0Z1AB"],
                 description=f"a paytrack payment id: only its {what}")


def _stream(storage: Any, what: svc.ExportKind, actor: Actor, /, **filters: Any
            ) -> StreamingResponse:
    export = svc.start_export(storage, what, actor, **filters)  # refusals before any byte
    return StreamingResponse(export.csv_chunks(), media_type=CSV, headers={
        "Content-Disposition": f'attachment; filename="{what}.csv"'})


@api.get("/payments.csv", response_class=StreamingResponse, responses=_CSV_DOC)
def export_payments(storage: StorageDep, actor: ActorDep,
                    status: Annotated[PaymentStatusName | None, _one_of(
                        "a payment status", PaymentStatus, "succeeded")] = None,
                    seller_id: Annotated[str | None, _party("a seller", "seller_42")] = None,
                    customer_id: Annotated[str | None, _party("a customer", "cust_1042")
                                           ] = None,
                    item_id: Annotated[str | None, _party("an item", "course_python_101")
                                       ] = None,
                    currency: Currency | None = None,
                    method: Annotated[Method | None, _one_of(
                        "a payment method", PaymentMethod, "card")] = None,
                    gateway: Annotated[GatewayName | None, _one_of(
                        "a gateway", Gateway, "stripe")] = None,
                    kind: Annotated[Kind | None, _one_of("a kind of payment", PaymentKind,
                                                         "renewal")] = None,
                    created_gte: IsoDateTime | None = None,
                    created_lt: IsoDateTime | None = None,
                    needs_review: NeedsReview = None,
                    reconciled: Annotated[bool | None, Query(
                        examples=[False], description="true for only the payments marked "
                                                      "reconciled, false for only the others")
                    ] = None,
                    gateway_payment_id: Annotated[str | None, Query(
                        min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
                        description="the gateway's id of the payment or of its checkout",
                        examples=["pi_3P9xYz2eZvKYlo2C"])] = None) -> StreamingResponse:
    """Payments as CSV, newest first, with the filters of `GET /v1/payments`; a seller or
    a customer gets its own, with the fields it sees there."""
    return _stream(storage, "payments", actor, status=status, seller_id=seller_id,
                   customer_id=customer_id, item_id=item_id, currency=currency,
                   method=method, gateway=gateway, kind=kind, created_gte=created_gte,
                   created_lt=created_lt, needs_review=needs_review, reconciled=reconciled,
                   gateway_payment_id=gateway_payment_id)


@api.get("/refunds.csv", response_class=StreamingResponse, responses=_CSV_DOC)
def export_refunds(storage: StorageDep, actor: ActorDep,
                   status: Annotated[RefundStatusName | None, _one_of(
                       "a refund status", RefundStatus, "succeeded")] = None,
                   payment_id: Annotated[str | None, _object("refunds")] = None
                   ) -> StreamingResponse:
    """Refunds as CSV, newest first, with the filters of `GET /v1/refunds`."""
    return _stream(storage, "refunds", actor, status=status, payment_id=payment_id)


@api.get("/payouts.csv", response_class=StreamingResponse, responses=_CSV_DOC)
def export_payouts(storage: StorageDep, actor: ActorDep,
                   status: Annotated[PayoutStatusName | None, _one_of(
                       "a payout status", PayoutStatus, "paid")] = None,
                   seller_id: Annotated[str | None, _party("a seller", "inst_ada")] = None,
                   currency: Currency | None = None) -> StreamingResponse:
    """Payouts as CSV, newest first, with the filters of `GET /v1/payouts`."""
    return _stream(storage, "payouts", actor, status=status, seller_id=seller_id,
                   currency=currency)


@api.get("/disputes.csv", response_class=StreamingResponse, responses=_CSV_DOC)
def export_disputes(storage: StorageDep, actor: ActorDep,
                    status: Annotated[DisputeStatusName | None, _one_of(
                        "a dispute status", DisputeStatus, "lost")] = None,
                    payment_id: Annotated[str | None, _object("disputes")] = None,
                    seller_id: Annotated[str | None, _party("a seller", "seller_42")] = None
                    ) -> StreamingResponse:
    """Disputes as CSV, newest first, with the filters of `GET /v1/disputes`."""
    return _stream(storage, "disputes", actor, status=status, payment_id=payment_id,
                   seller_id=seller_id)


@api.get("/ledger.csv", response_class=StreamingResponse, responses=_CSV_DOC)
def export_ledger(storage: StorageDep, actor: ActorDep,
                  payment_id: Annotated[str | None, _object("entries")] = None
                  ) -> StreamingResponse:
    """Ledger postings as CSV, one row per posting (entry id, kind, payment and refund
    ids, account, currency, debit, credit, time), newest entry first; admins only."""
    return _stream(storage, "ledger", actor, payment_id=payment_id)


# -- seller statements -------------------------------------------------------------------


class StatementLineOut(BaseModel):
    date: datetime
    kind: str
    entry_id: str
    description: str
    payment_id: str | None
    refund_id: str | None
    payout_id: str | None
    dispute_id: str | None
    pending: int
    available: int
    in_transit: int
    debt: int
    amount: int
    balance: int


class KindTotalOut(BaseModel):
    kind: str
    lines: int
    amount: int


class StatementOut(BaseModel):
    """What the platform owed the seller at `from` (pending + available + in transit −
    debt), each ledger entry on its accounts until `to` with its change to each bucket
    and to the balance, and the closing balance: the opening plus every line."""

    seller_id: str
    currency: str
    start: datetime
    end: datetime
    opening_balance: int
    closing_balance: int
    totals: list[KindTotalOut]
    lines: list[StatementLineOut]


_STATEMENT_DOC: dict[int | str, dict[str, Any]] = {200: {
    "description": "the statement as JSON (`format=json`), CSV or PDF",
    "content": {"text/csv": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


@sellers.get("/{seller_id}/statement", response_model=StatementOut,
             responses=_STATEMENT_DOC)
def seller_statement(seller_id: PartyId, storage: StorageDep, actor: SellerReader,
                     currency: Annotated[str, Query(
                         pattern=r"^[A-Z]{3}$", examples=["USD"],
                         description="an ISO 4217 currency code: the statement's currency")],
                     start: Annotated[IsoDateTime, Query(
                         alias="from", examples=["2026-03-01T00:00:00Z"],
                         description="the period's start (included), ISO 8601 with an offset")],
                     end: Annotated[IsoDateTime, Query(
                         alias="to", examples=["2026-04-01T00:00:00Z"],
                         description="the period's end (excluded), ISO 8601 with an offset")],
                     format: Annotated[Literal["json", "csv", "pdf"], Query(
                         examples=["pdf"], description="json (default), csv or pdf")] = "json"
                     ) -> Any:
    """A seller's statement for a period, from the ledger: the opening balance, every
    entry on its accounts with the running balance, the totals per kind and the closing
    balance. An admin, or the seller itself."""
    with storage.unit_of_work(readonly=True) as uow:
        statement = statements.seller_statement(uow, seller_id, actor, currency=currency,
                                                start=start, end=end)
    name = f"statement_{seller_id}_{currency}_{start:%Y%m%d}_{end:%Y%m%d}"
    if format == "csv":
        return Response(statements.statement_csv(statement), media_type=CSV, headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"'})
    if format == "pdf":
        return Response(render_statement(statement), media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{name}.pdf"'})
    return statement
