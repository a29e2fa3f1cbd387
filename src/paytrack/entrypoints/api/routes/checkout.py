"""Where a customer lands after paying at a gateway (the default ``return_url``): the
payment's status, nothing more. No key: the customer's browser opens it."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from paytrack.entrypoints.api.deps import StorageDep
from paytrack.entrypoints.api.schemas import OBJECT_ID_PATTERN

pages = APIRouter(prefix="/checkout", tags=["checkout"], include_in_schema=False)

SAID = {"succeeded": "Thank you: your payment went through.",
        "processing": "Your payment is being processed.",
        "pending": "We have not received your payment yet.",
        "failed": "Your payment did not go through.",
        "canceled": "This payment was canceled."}


@pages.get("/return", response_class=HTMLResponse)
def checkout_return(storage: StorageDep, payment_id: Annotated[
        str, Query(pattern=OBJECT_ID_PATTERN, max_length=40)]) -> HTMLResponse:
    with storage.unit_of_work(readonly=True) as uow:
        payment = uow.payments.get(payment_id)
    status = payment["status"] if payment else None
    said = SAID.get(status or "", "We could not find this payment.")
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>paytrack</title>"
        f"</head><body><main><h1>{escape(said)}</h1><p>Reference {escape(payment_id)}</p>"
        "</main></body></html>",
        status_code=200 if payment else 404, headers={"Cache-Control": "no-store"})
