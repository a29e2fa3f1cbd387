"""The seller's pages: its balance, with when pending money becomes available, and its
earnings chart."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from paytrack.domain.errors import ValidationFailed
from paytrack.domain.money import validate_currency
from paytrack.entrypoints.web.charts import Series, line_chart
from paytrack.entrypoints.web.render import page
from paytrack.entrypoints.web.session import Viewer, storage_of
from paytrack.services import analytics, ledger, seller_funds

pages = APIRouter()
INTERVALS = ("day", "week", "month")


def balance_page(request: Request, viewer: Viewer, start: date | None, end: date | None,
                 currency: str | None, interval: str | None) -> Response:
    seller_id = viewer.seller_id
    assert seller_id is not None
    interval = interval if interval in INTERVALS else "day"
    with storage_of(request).unit_of_work(readonly=True) as uow:
        uow.one_snapshot()
        today = uow.now().date()
        end = end or today
        start = start or end - timedelta(days=29)
        if start > end:
            raise ValidationFailed("the range starts after it ends", field="start")
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
