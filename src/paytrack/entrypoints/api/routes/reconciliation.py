"""Reconciliation: settlement report imports, the exceptions queue, marking by hand."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Query, Response, UploadFile
from pydantic import TypeAdapter

from paytrack.adapters.reports.common import MAX_REPORT_BYTES
from paytrack.domain.actors import Actor
from paytrack.entrypoints.api.deps import StorageDep, may
from paytrack.entrypoints.api.parameters import id_cursor
from paytrack.entrypoints.api.reconciliation_schemas import (
    ExceptionKind,
    ExceptionOut,
    ExceptionPage,
    GatewayName,
    ImportOut,
    ImportPage,
    MarkIn,
    MarkOut,
    ResolveIn,
)
from paytrack.entrypoints.api.routes._shared import Limit, object_id, router
from paytrack.entrypoints.api.schemas import page
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import reconciliation as svc
from paytrack.services.permissions import Action

api = router("/v1/reconciliation", "reconciliation")

ImportId = Annotated[str, object_id("rci_01JD8X3M9QH7V2K4T6W8Y0Z1AB")]
ExceptionId = Annotated[str, object_id("rcl_01JD8X3M9QH7V2K4T6W8Y0Z1AB")]
GatewayQuery = Annotated[GatewayName | None, Query(
    examples=["stripe"], description="a gateway whose reports paytrack reads: stripe, "
                                     "razorpay, paypal")]
_IMPORT = TypeAdapter(ImportOut)


@api.post("/imports", status_code=201, response_model=ImportOut, responses={
    200: {"model": ImportOut, "description": "This file was imported before: that import"}})
def import_report(write: WriteDep,
                  actor: Annotated[Actor, may(Action.IMPORT_SETTLEMENT_REPORT)],
                  file: Annotated[UploadFile, File(
                      description="the gateway's settlement report, CSV in UTF-8")],
                  gateway: Annotated[GatewayName, Form(
                      description="whose report it is: stripe, razorpay or paypal",
                      examples=["stripe"])]) -> Response:
    """Import a settlement report: each line is matched by the gateway's ids and
    classified, the report's fees are recorded (the difference posted to
    `platform:fees`), matched payments are marked reconciled, and every other line
    becomes an exception. The same file again changes nothing and answers with its
    first import (200)."""
    data = file.file.read(MAX_REPORT_BYTES + 1)  # enough to refuse a larger one
    filename = file.filename

    def work(uow: Any) -> Any:
        imported = svc.import_report(uow, gateway, data, actor, filename=filename)
        if imported.created:
            return imported.report
        return Response(_IMPORT.dump_json(_IMPORT.validate_python(imported.report)),
                        status_code=200, media_type="application/json")

    return write.run(work)


@api.get("/imports", response_model=ImportPage)
def list_imports(storage: StorageDep, actor: Annotated[Actor, may(Action.READ_RECONCILIATION)],
                 cursor: Annotated[str | None, id_cursor("rci")], limit: Limit = 20,
                 gateway: GatewayQuery = None) -> dict:
    """Newest first, each with its counts per class and its totals."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_imports(uow, actor, gateway=gateway, limit=limit + 1, cursor=cursor)
    return page(rows, limit, lambda row: row)


@api.get("/imports/{import_id}", response_model=ImportOut)
def get_import(import_id: ImportId, storage: StorageDep,
               actor: Annotated[Actor, may(Action.READ_RECONCILIATION)]) -> dict:
    """An import's report: lines per class, report vs paytrack totals per currency, the
    fee difference posted."""
    with storage.unit_of_work(readonly=True) as uow:
        return dict(svc.get_import(uow, import_id, actor))


@api.get("/exceptions", response_model=ExceptionPage)
def list_exceptions(storage: StorageDep,
                    actor: Annotated[Actor, may(Action.READ_RECONCILIATION)],
                    cursor: Annotated[str | None, id_cursor("rcl")], limit: Limit = 20,
                    status: Annotated[str | None, Query(
                        pattern=r"^(open|resolved)$", examples=["open"],
                        description="open or resolved")] = None,
                    gateway: GatewayQuery = None,
                    kind: Annotated[ExceptionKind | None, Query(
                        examples=["fee_mismatch"],
                        description="amount_mismatch, fee_mismatch, missing_in_paytrack, "
                                    "duplicate or missing_in_report")] = None,
                    import_id: Annotated[str | None, Query(
                        pattern=r"^[A-Za-z0-9_]{1,64}$",
                        examples=["rci_01JD8X3M9QH7V2K4T6W8Y0Z1AB"],
                        description="only this import's: a paytrack id")] = None) -> dict:
    """Lines that did not match, newest first: what an admin works through."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_exceptions(uow, actor, status=status, gateway=gateway, kind=kind,
                                   import_id=import_id, limit=limit + 1, cursor=cursor)
    return page(rows, limit, lambda row: row)


@api.post("/exceptions/{exception_id}/resolve", response_model=ExceptionOut)
def resolve_exception(exception_id: ExceptionId, body: ResolveIn, write: WriteDep,
                      actor: Annotated[Actor, may(Action.RESOLVE_RECONCILIATION)]
                      ) -> Response:
    """Close an open exception with a note (who and when are recorded)."""
    return write.run(lambda uow: svc.resolve_exception(uow, exception_id, body.note, actor))


@api.post("/mark", response_model=MarkOut)
def mark_reconciled(body: MarkIn, write: WriteDep,
                    actor: Annotated[Actor, may(Action.MARK_RECONCILED)]) -> Response:
    """Mark payments reconciled by hand (up to 1000): idempotent, a payment marked before
    keeps its first who and when; unknown ids are listed, not refused."""
    return write.run(lambda uow: svc.mark_reconciled(uow, body.payment_ids, actor,
                                                     note=body.note))
