"""The admin's pages: the overview, payments and a payment."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Role
from paytrack.domain.errors import NotFound, ValidationFailed
from paytrack.domain.money import parse_amount, validate_currency
from paytrack.domain.payments import PaymentMethod
from paytrack.domain.periods import resolve_range
from paytrack.domain.states import PaymentStatus
from paytrack.entrypoints.api.schemas import CreateRefundIn
from paytrack.entrypoints.api.views import present
from paytrack.entrypoints.web import fields, forms
from paytrack.entrypoints.web.actions import act
from paytrack.entrypoints.web.charts import Series, line_chart
from paytrack.entrypoints.web.fields import DayText, Text, day, text
from paytrack.entrypoints.web.forms import FormDep, validated
from paytrack.entrypoints.web.render import page
from paytrack.entrypoints.web.session import Viewer, check_csrf, current_viewer, storage_of
from paytrack.services import (
    analytics,
    disputes,
    exports,
    gateway_jobs,
    ledger,
    payments,
    refunds,
    webhooks,
)
from paytrack.services.permissions import Action, check

pages = APIRouter()
ViewerDep = Annotated[Viewer, Depends(current_viewer)]
Day = DayText
Param = Text
INTERVALS = ("day", "week", "month")
PAGE_SIZE = 25
PaymentId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_]+$")]


def admin(viewer: ViewerDep) -> Viewer:
    """Only an admin; a seller asking for an admin page is shown its 404."""
    if viewer.actor.role is not Role.ADMIN:
        raise NotFound("there is no such page for a seller")
    return viewer


AdminDep = Annotated[Viewer, Depends(admin)]


def currencies(viewer: Viewer, request: Request) -> list[str]:
    """The currencies money was taken in, most first (read from the analytics rollups)."""
    with storage_of(request).unit_of_work(readonly=True) as uow:
        return analytics.currencies(uow, viewer.actor) or ["USD"]


def date_range(request: Request, start: date | None, end: date | None) -> tuple[date, date]:
    """``start`` to ``end`` (today when not given); no ``start``: 30 days to ``end`` (as the
    API's analytics count them, never stepping before the calendar's first day)."""
    with storage_of(request).unit_of_work(readonly=True) as uow:
        today = uow.now().date()
    end = end or today
    if start is not None and start > end:
        raise ValidationFailed("the range starts after it ends", field="start")
    span = resolve_range(start, end, today)
    return span.start, span.end


@pages.get("/", response_class=HTMLResponse)
def home(request: Request, viewer: ViewerDep, start: Day = None, end: Day = None,
         currency: Param = None, interval: Param = None) -> Response:
    span = (day(start, "start"), day(end, "end"), text(currency), text(interval))
    if not viewer.is_admin:
        from paytrack.entrypoints.web.pages.seller import balance_page
        return balance_page(request, viewer, *span)
    return overview(request, viewer, *span)


def overview(request: Request, viewer: Viewer, start: date | None, end: date | None,
             currency: str | None, interval: str | None) -> Response:
    known = currencies(viewer, request)
    currency = validate_currency(currency) if currency else known[0]
    interval = interval if interval in INTERVALS else "day"
    start, end = date_range(request, start, end)
    span: dict[str, Any] = {"currency": currency, "start": start, "end": end}
    with storage_of(request).unit_of_work(readonly=True) as uow:
        uow.one_snapshot()
        summary = analytics.summary(uow, viewer.actor, **span)
        trend = analytics.trend(uow, viewer.actor, interval=interval, **span)
        sellers = analytics.top_sellers(uow, viewer.actor, limit=5, **span)
        items = analytics.top_items(uow, viewer.actor, limit=5, **span)
        methods = analytics.methods(uow, viewer.actor, **span)
    buckets = trend["data"]
    chart = line_chart(
        [viewer.formats.bucket(b["start"], interval) for b in buckets],
        [Series("platform", [b["platform_revenue"] for b in buckets], "platform"),
         Series("sellers", [b["seller_earnings"] for b in buckets], "sellers")],
        title=f"Revenue {start} – {end}", chart_id="trend",
        label_of=lambda v: viewer.formats.money(v, currency))
    return page(request, viewer, "overview.html", summary=summary, trend=buckets,
                chart=chart, sellers=sellers["data"], items=items["data"],
                methods=methods["data"], currency=currency, currencies=known,
                interval=interval, intervals=INTERVALS, start=start, end=end)


def _moment(day: date | None, *, after: bool = False) -> datetime | None:
    if day is None or after and day == date.max:  # the calendar's last day: no bound
        return None
    return datetime.combine(day + timedelta(days=1) if after else day, time(), UTC)


def payment_filters(status: str | None, seller_id: str | None, customer_id: str | None,
                    method: str | None, gateway: str | None, currency: str | None,
                    start: date | None, end: date | None, search: str | None
                    ) -> dict[str, Any]:
    """The payments table's filters as ``payments.list_payments`` takes them (a blank
    field is no filter); ``search`` is a paytrack id or a gateway's id."""
    filters: dict[str, Any] = {
        "status": text(status), "seller_id": text(seller_id),
        "customer_id": text(customer_id), "method": text(method),
        "gateway": text(gateway), "currency": text(currency),
        "created_gte": _moment(start), "created_lt": _moment(end, after=True)}
    search = text(search)
    if search and not search.startswith("pay_"):
        filters["gateway_payment_id"] = search
    return filters


@pages.get("/payments", response_class=HTMLResponse)
def payments_page(request: Request, viewer: AdminDep, status: Param = None,
                  seller_id: Param = None, customer_id: Param = None, method: Param = None,
                  gateway: Param = None, currency: Param = None, start: Day = None,
                  end: Day = None, search: Param = None, cursor: Param = None) -> Response:
    search = text(search) or ""
    if search.startswith("pay_"):
        from fastapi.responses import RedirectResponse
        return RedirectResponse(f"/dashboard/payments/{quote(search)}", status_code=303)
    filters = payment_filters(status, seller_id, customer_id, method, gateway, currency,
                              day(start, "start"), day(end, "end"), search)
    with storage_of(request).unit_of_work(readonly=True) as uow:
        rows = payments.list_payments(uow, viewer.actor, limit=PAGE_SIZE + 1,
                                      cursor=fields.cursor(cursor, "pay"), **filters)
    shown = [present(viewer.actor, "payment", row) for row in rows[:PAGE_SIZE]]
    params = {"status": text(status), "seller_id": text(seller_id),
              "customer_id": text(customer_id), "method": text(method),
              "gateway": text(gateway), "currency": text(currency), "start": text(start),
              "end": text(end), "search": search or None, "cursor": text(cursor)}
    return page(request, viewer, "payments.html", rows=shown, params=params,
                next_cursor=rows[PAGE_SIZE - 1]["id"] if len(rows) > PAGE_SIZE else None,
                statuses=list(PaymentStatus), methods=list(PaymentMethod),
                gateways=["manual", "simulator", "stripe", "paypal", "razorpay"])


@pages.get("/payments.csv")
def payments_csv(request: Request, viewer: AdminDep, status: Param = None,
                 seller_id: Param = None, customer_id: Param = None, method: Param = None,
                 gateway: Param = None, currency: Param = None, start: Day = None,
                 end: Day = None, search: Param = None) -> Response:
    """The table's filtered rows, all of them, as the API's export streams them."""
    filters = payment_filters(status, seller_id, customer_id, method, gateway, currency,
                              day(start, "start"), day(end, "end"), search)
    if (search or "").startswith("pay_"):
        raise ValidationFailed("search by a payment id opens that payment", field="search")
    export = exports.start_export(storage_of(request), "payments", viewer.actor, **filters)
    return StreamingResponse(export.csv_chunks(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      'attachment; filename="payments.csv"'})


@pages.get("/payments/{payment_id}", response_class=HTMLResponse)
def payment_page(request: Request, viewer: ViewerDep, payment_id: PaymentId) -> Response:
    actor = viewer.actor
    with storage_of(request).unit_of_work(readonly=True) as uow:
        uow.one_snapshot()
        payment = payments.get_payment(uow, payment_id, actor)  # 404 if not its own
        history = payments.payment_history(uow, payment["id"], actor)
        its_refunds = refunds.list_refunds(uow, actor, limit=100, payment_id=payment["id"])
        its_disputes = disputes.list_disputes(uow, actor, limit=100, payment_id=payment["id"])
        entries = audit = deliveries = None
        if viewer.is_admin:
            entries = ledger.list_entries(uow, actor, limit=100, payment_id=payment["id"])
            audit = payments.payment_audit_trail(uow, payment["id"], actor)
            deliveries = webhooks.list_deliveries(uow, actor, limit=50,
                                                  payment_id=payment["id"])
    may_refund = _may(actor, Action.REQUEST_REFUND)
    return page(request, viewer, "payment.html",
                payment=present(actor, "payment", payment),
                history=[present(actor, "status_event", e) for e in history],
                refunds=[present(actor, "refund", r) for r in its_refunds],
                disputes=[present(actor, "dispute", d) for d in its_disputes],
                entries=entries, audit=audit, deliveries=deliveries, may_refund=may_refund)


def _may(actor: Any, action: Action) -> bool:
    try:
        check(actor, action)
    except Exception:  # noqa: BLE001 - Forbidden: the button is not shown
        return False
    return True


@pages.post("/payments/{payment_id}/refunds")
def request_refund(request: Request, viewer: ViewerDep, form: FormDep,
                         payment_id: PaymentId) -> Response:
    """The payment page's refund form: what ``POST /v1/refunds`` does (the refund policy
    may approve it at once; an approved one is sent to its gateway after the commit)."""
    here = f"/dashboard/payments/{payment_id}"
    check_csrf(viewer, form.get("csrf_token"))
    with storage_of(request).unit_of_work(readonly=True) as uow:
        payments.get_payment(uow, payment_id, viewer.actor)  # another's: the 404 page

    def work(uow: UnitOfWork) -> str:
        payment = payments.get_payment(uow, payment_id, viewer.actor)
        amount_text = forms.text(form, "amount", max_length=30)
        amount = None if amount_text is None else parse_amount(amount_text,
                                                               payment["currency"])
        body = validated(CreateRefundIn, {  # what POST /v1/refunds takes
            "payment_id": payment["id"], "amount": amount,
            "reason": forms.text(form, "reason", max_length=500) or ""})
        refund = refunds.request_refund(uow, body.payment_id, viewer.actor,
                                        reason=body.reason, amount=body.amount)
        shown = present(viewer.actor, "refund", refund)
        return (f"Refund {shown['id']} of "
                f"{viewer.formats.money(shown['amount'], shown['currency'])}: "
                f"{shown['status']}.")

    response = act(request, viewer, form, work, done=here, back=here)
    response.background = BackgroundTask(gateway_jobs.send_now, storage_of(request))
    return response
