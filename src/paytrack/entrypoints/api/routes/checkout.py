"""Where a customer lands after paying at a gateway (the default ``return_url``): the
payment's status, nothing more. No key: the customer's browser opens it."""

from __future__ import annotations

import json
from html import escape
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paytrack.adapters.gateways.razorpay_units import to_razorpay_amount
from paytrack.domain.actors import SYSTEM
from paytrack.domain.errors import PaytrackError
from paytrack.entrypoints.api.deps import StorageDep
from paytrack.entrypoints.api.schemas import OBJECT_ID_PATTERN
from paytrack.services import checkouts, gateways

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


PaymentId = Annotated[str, Path(pattern=OBJECT_ID_PATTERN, max_length=40)]
RAZORPAY_JS = "https://checkout.razorpay.com/v1/checkout.js"
# Razorpay Checkout is the provider's own script and frame; nothing else runs here.
RAZORPAY_CSP = ("default-src 'none'; script-src 'self' https://checkout.razorpay.com "
                "'unsafe-inline'; frame-src https://api.razorpay.com "
                "https://checkout.razorpay.com; connect-src https://*.razorpay.com; "
                "style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")


@pages.get("/razorpay/{payment_id}", response_class=HTMLResponse)
def razorpay_checkout(payment_id: PaymentId, storage: StorageDep) -> Response:
    """The payment's Razorpay order, opened in Razorpay Checkout; its answer comes back
    to ``…/verify`` below, signed."""
    with storage.unit_of_work() as uow:
        payment = uow.payments.get(payment_id)
        usable = (payment is not None and payment["gateway"] == "razorpay"
                  and payment["gateway_order_id"] is not None
                  and payment["status"] in ("pending", "processing"))
        settings = gateways.settings_for(uow, "razorpay") if usable else None
        uow.commit()
    if payment is None or settings is None:
        return _page("This checkout is not open.", status=404)
    options = {
        "key": settings.credentials.get("key_id", ""),
        "order_id": payment["gateway_order_id"],
        "amount": to_razorpay_amount(payment["total"], payment["currency"]),
        "currency": payment["currency"], "name": "paytrack",
        "description": payment["description"] or payment["item_id"],
        "notes": {"paytrack_payment_id": payment["id"]},
    }
    verify = f"/checkout/razorpay/{quote(payment_id)}/verify"
    script = (f"var o={json.dumps(options)};o.handler=function(r){{var f=document.forms[0];"
              "f.razorpay_order_id.value=r.razorpay_order_id;"
              "f.razorpay_payment_id.value=r.razorpay_payment_id;"
              "f.razorpay_signature.value=r.razorpay_signature;f.submit();};"
              "new Razorpay(o).open();").replace("</", "<\\/")
    body = (f"<form method='post' action='{escape(verify)}'>"
            "<input type='hidden' name='razorpay_order_id'>"
            "<input type='hidden' name='razorpay_payment_id'>"
            "<input type='hidden' name='razorpay_signature'></form>"
            f"<script src='{RAZORPAY_JS}'></script><script>{script}</script>")
    return _page("Opening Razorpay Checkout…", body=body, csp=RAZORPAY_CSP)


@pages.post("/razorpay/{payment_id}/verify", response_class=HTMLResponse)
def razorpay_verify(payment_id: PaymentId, storage: StorageDep,
                    razorpay_order_id: Annotated[str, Form(max_length=200)],
                    razorpay_payment_id: Annotated[str, Form(max_length=200)],
                    razorpay_signature: Annotated[str, Form(max_length=200)]) -> Response:
    """Razorpay Checkout's signed answer: verified, the payment is captured."""
    try:
        with storage.unit_of_work() as uow:
            checkouts.verify_razorpay_checkout(
                uow, payment_id, SYSTEM, order_id=razorpay_order_id,
                gateway_payment_id=razorpay_payment_id, signature=razorpay_signature)
            uow.commit()
    except PaytrackError as exc:
        return _page("The payment could not be confirmed.", status=exc.status)
    return RedirectResponse(f"/checkout/return?payment_id={quote(payment_id)}",
                            status_code=303)


def _page(title: str, *, body: str = "", status: int = 200,
          csp: str | None = None) -> HTMLResponse:
    headers = {"Cache-Control": "no-store"}
    if csp:
        headers["Content-Security-Policy"] = csp
    return HTMLResponse(f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                        f"<title>paytrack</title></head><body><main><h1>{escape(title)}"
                        f"</h1>{body}</main></body></html>", status_code=status,
                        headers=headers)
