"""The seller's pages: its balance, with when pending money becomes available, and its
earnings chart; its transactions; its payouts (request, cancel); its statements (HTML,
CSV, PDF). Each reads and writes through the API's service functions, as the seller."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from paytrack.adapters.pdf.statement import render_statement
from paytrack.domain.actors import Role
from paytrack.domain.errors import InvalidCursor, NotFound, ValidationFailed
from paytrack.domain.ids import is_id
from paytrack.domain.money import format_amount, parse_amount, validate_currency
from paytrack.domain.payouts import PayoutMethod
from paytrack.domain.periods import resolve_range, zone
from paytrack.domain.states import PaymentStatus, PayoutStatus
from paytrack.entrypoints.api.views import present_page, present_transactions
from paytrack.entrypoints.web.actions import act
from paytrack.entrypoints.web.charts import Series, line_chart
from paytrack.entrypoints.web.fields import DayText, day
from paytrack.entrypoints.web.forms import read_form
from paytrack.entrypoints.web.render import page
from paytrack.entrypoints.web.session import Viewer, check_csrf, current_viewer, storage_of
from paytrack.services import analytics, ledger, payouts, seller_funds, statements

pages = APIRouter()
INTERVALS = ("day", "week", "month")
PAGE_SIZE = 25
ViewerDep = Annotated[Viewer, Depends(current_viewer)]
Param = Annotated[str | None, Query(max_length=200)]
ObjectId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_]+$")]
Day = DayText  # an empty field (a cleared date input) is no choice, as on every page


def seller(viewer: ViewerDep) -> Viewer:
    """Only a seller (its own pages); an admin asking is shown the 404 page."""
    if viewer.actor.role is not Role.SELLER:
        raise NotFound("there is no such page for an admin")
    return viewer


SellerDep = Annotated[Viewer, Depends(seller)]


def cursor_of(cursor: str | None, prefix: str) -> str | None:
    """A page's cursor: an id of the list's kind, or none (a made-up one is a 400 page)."""
    if not cursor:
        return None
    if not is_id(cursor, prefix):
        raise InvalidCursor(f"the cursor is not a {prefix}_ id this list returned")
    return cursor


def balance_page(request: Request, viewer: Viewer, start: date | None, end: date | None,
                 currency: str | None, interval: str | None) -> Response:
    seller_id = viewer.seller_id
    assert seller_id is not None
    interval = interval if interval in INTERVALS else "day"
    with storage_of(request).unit_of_work(readonly=True) as uow:
        uow.one_snapshot()
        today = uow.now().date()
        end = end or today
        if start is not None and start > end:
            raise ValidationFailed("the range starts after it ends", field="start")
        span = resolve_range(start, end, today)  # never before the calendar's first day
        start, end = span.start, span.end
        balance = ledger.seller_balance(uow, seller_id, viewer.actor)
        known = [b["currency"] for b in balance["balances"]] or ["USD"]
        currency = validate_currency(currency) if currency else known[0]
        held = seller_funds.list_earnings(uow, seller_id, viewer.actor, limit=20,
                                          released=False)
        trend = analytics.seller_trend(uow, viewer.actor, currency=currency, start=start,
                                       end=end, interval=interval)
        summary = analytics.seller_summary(uow, viewer.actor, currency=currency,
                                           start=start, end=end)
    buckets = trend["data"]
    chart = line_chart([viewer.formats.bucket(b["start"], interval) for b in buckets],
                       [Series("earnings", [b["earnings"] for b in buckets], "earnings")],
                       title=f"Earnings {start} – {end}", chart_id="earnings",
                       label_of=lambda v: viewer.formats.money(v, currency))
    return page(request, viewer, "seller_balance.html", balance=balance["balances"],
                held=held, chart=chart, trend=buckets, summary=summary, currency=currency,
                currencies=known, interval=interval, start=start, end=end)


# -- transactions ------------------------------------------------------------------------


@pages.get("/transactions", response_class=HTMLResponse)
def transactions_page(request: Request, viewer: SellerDep, status: Param = None,
                      currency: Param = None, cursor: Param = None) -> Response:
    """The seller's payments, newest first (``GET /v1/analytics/seller/transactions``)."""
    with storage_of(request).unit_of_work(readonly=True) as uow:
        uow.one_snapshot()
        _, rows, total = analytics.seller_transactions(
            uow, viewer.actor, status=status or None, currency=currency or None,
            limit=PAGE_SIZE + 1, cursor=cursor_of(cursor, "pay"))
        known = _currencies(uow, viewer)
    shown = present_transactions(viewer.actor, rows, PAGE_SIZE)
    params = {"status": status, "currency": currency, "cursor": cursor}
    return page(request, viewer, "seller_transactions.html", rows=shown["data"],
                total=total, params=params, next_cursor=shown["next_cursor"],
                statuses=list(PaymentStatus), currencies=known)


def _currencies(uow: Any, viewer: Viewer) -> list[str]:
    """The currencies the seller has a balance in."""
    assert viewer.seller_id is not None
    balance = ledger.seller_balance(uow, viewer.seller_id, viewer.actor)
    return [b["currency"] for b in balance["balances"]]


# -- payouts -----------------------------------------------------------------------------


@pages.get("/payouts", response_class=HTMLResponse)
def payouts_page(request: Request, viewer: ViewerDep, status: Param = None,
                 cursor: Param = None) -> Response:
    """A seller's payouts with the request form (its available balance and the minimum
    per currency); an admin sees every seller's payouts (its queue decides them)."""
    if status and status not in set(PayoutStatus):
        raise ValidationFailed(f"unknown payout status {status!r}", field="status")
    balances: list[dict[str, Any]] = []
    with storage_of(request).unit_of_work(readonly=True) as uow:
        uow.one_snapshot()
        rows = payouts.list_payouts(uow, viewer.actor, limit=PAGE_SIZE + 1,
                                    cursor=cursor_of(cursor, "po"), status=status or None)
        if viewer.seller_id is not None:
            found = ledger.seller_balance(uow, viewer.seller_id, viewer.actor)
            minimum = uow.policy.payouts.minimum_for  # what request_payout enforces
            balances = [{"currency": b["currency"], "available": b["available"],
                         "minimum": minimum(b["currency"])} for b in found["balances"]]
    shown = present_page(viewer.actor, "payout", rows, PAGE_SIZE)
    params = {"status": status, "cursor": cursor}
    return page(request, viewer, "seller_payouts.html", rows=shown["data"], params=params,
                next_cursor=shown["next_cursor"], balances=balances,
                statuses=list(PayoutStatus), methods=list(PayoutMethod))


@pages.post("/payouts")
async def request_payout(request: Request, viewer: SellerDep) -> Response:
    """``POST /v1/payouts`` from the form: the amount as decimal text in the currency."""
    form = await form_of(request)
    amount, currency, method = form.get("amount", ""), form.get("currency", ""), \
        form.get("method", "")

    def work(uow: Any) -> str:
        code = validate_currency(currency.strip().upper())
        minor = parse_amount(amount, code)
        payout = payouts.request_payout(uow, viewer.actor, amount=minor, currency=code,
                                        method=method)
        return f"Payout {payout['id']} of {format_amount(minor, code)} {code} requested."

    return act(request, viewer, form, work, done="/dashboard/payouts",
               back="/dashboard/payouts")


@pages.post("/payouts/{payout_id}/cancel")
async def cancel_payout(request: Request, viewer: ViewerDep, payout_id: ObjectId,
                        ) -> Response:
    """``POST /v1/payouts/{id}/cancel``: withdraw a requested payout."""
    form = await form_of(request)
    check_csrf(viewer, form.get("csrf_token"))
    with storage_of(request).unit_of_work(readonly=True) as uow:
        payouts.get_payout(uow, payout_id, viewer.actor)  # another's: the 404 page

    def work(uow: Any) -> str:
        payouts.cancel_payout(uow, payout_id, viewer.actor)
        return f"Payout {payout_id} canceled; its amount is available again."

    return act(request, viewer, form, work, done="/dashboard/payouts",
               back="/dashboard/payouts")


async def form_of(request: Request) -> dict[str, str]:
    """The posted fields as text, read as every other form is (``forms.read_form``)."""
    return await read_form(request)


# -- statements --------------------------------------------------------------------------


def _statement(request: Request, viewer: Viewer, currency: str | None, start_text: str | None,
               end_text: str | None) -> tuple[statements.Statement | None, dict[str, Any]]:
    """The statement (``GET /v1/sellers/{id}/statement``) for the days ``start``..``end``
    (included) in the analytics time zone (the earnings chart's days), or none when the
    seller has no currency yet."""
    start, end = day(start_text, "start"), day(end_text, "end")
    assert viewer.seller_id is not None
    with storage_of(request).unit_of_work(readonly=True) as uow:
        uow.one_snapshot()
        tz = zone(uow.policy.analytics_tz)
        end = end or uow.now().astimezone(tz).date()
        start = start or end.replace(day=1)
        if start > end:
            raise ValidationFailed("the period starts after it ends", field="start")
        if end == date.max:
            raise ValidationFailed("the period ends on the calendar's last day; choose an "
                                   "earlier one", field="end")
        known = _currencies(uow, viewer)
        if currency:
            currency = validate_currency(currency)
        elif known:
            currency = known[0]
        found = None
        if currency:
            found = statements.seller_statement(
                uow, viewer.seller_id, viewer.actor, currency=currency,
                start=datetime.combine(start, time(), tz),
                end=datetime.combine(end + timedelta(days=1), time(), tz))
    return found, {"currency": currency, "start": start, "end": end, "currencies": known,
                   "zone": str(tz)}


@pages.get("/statements", response_class=HTMLResponse)
def statements_page(request: Request, viewer: SellerDep, currency: Param = None,
                    start: Day = None, end: Day = None) -> Response:
    statement, chosen = _statement(request, viewer, currency, start, end)
    return page(request, viewer, "seller_statements.html", statement=statement, **chosen)


@pages.get("/statements.csv")
def statement_csv(request: Request, viewer: SellerDep, currency: Param = None,
                  start: Day = None, end: Day = None) -> Response:
    statement, _ = _statement(request, viewer, currency, start, end)
    if statement is None:
        raise NotFound("no money has moved for you yet: there is no statement")
    return Response(statements.statement_csv(statement), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": _attachment(statement, "csv")})


@pages.get("/statements.pdf")
def statement_pdf(request: Request, viewer: SellerDep, currency: Param = None,
                  start: Day = None, end: Day = None) -> Response:
    statement, _ = _statement(request, viewer, currency, start, end)
    if statement is None:
        raise NotFound("no money has moved for you yet: there is no statement")
    return Response(render_statement(statement), media_type="application/pdf",
                    headers={"Content-Disposition": _attachment(statement, "pdf")})


def _attachment(statement: statements.Statement, extension: str) -> str:
    name = (f"statement_{statement['seller_id']}_{statement['currency']}_"
            f"{statement['start']:%Y%m%d}_{statement['end']:%Y%m%d}")
    return f'attachment; filename="{name}.{extension}"'
