"""Analytics over a range of local days, per currency: the platform's (admins,
``/v1/analytics/…``) and one seller's own (``/v1/analytics/seller/…``: a seller key reads
its own, an admin names the seller)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from paytrack.domain.actors import Actor
from paytrack.domain.states import PaymentStatus
from paytrack.entrypoints.api.analytics_schemas import (
    CouponsOut,
    CustomersOut,
    MethodsOut,
    RefundsOut,
    SellerSummaryOut,
    SellerTopItemsOut,
    SellerTrendOut,
    SummaryOut,
    TopItemsOut,
    TopSellersOut,
    TransactionsOut,
    TrendOut,
)
from paytrack.entrypoints.api.deps import StorageDep, may
from paytrack.entrypoints.api.parameters import id_cursor
from paytrack.entrypoints.api.problems import documented
from paytrack.entrypoints.api.routes._shared import Limit, router
from paytrack.entrypoints.api.schemas import ID_EXPECTED, ID_PATTERN, PaymentStatusName
from paytrack.entrypoints.api.views import present_transactions
from paytrack.services import analytics as svc
from paytrack.services.permissions import Action

api = router("/v1/analytics", "analytics")
Reader = Annotated[Actor, may(Action.READ_ANALYTICS)]
SellerReader = Annotated[Actor, may(Action.READ_SELLER_ANALYTICS)]
# The rollups are being rebuilt (an upgraded install, or a new PAYTRACK_ANALYTICS_TZ).
REBUILDING = documented(503)

DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


def _date_only(value: object) -> object:
    """A calendar date as YYYY-MM-DD only: not a date-time, and not a number of seconds,
    which pydantic would otherwise read as a Unix time."""
    if isinstance(value, str) and not re.fullmatch(DATE_PATTERN, value, re.ASCII):
        raise PydanticCustomError("date_only", "expected a date as YYYY-MM-DD, e.g. 2026-03-01")
    return value


LocalDate = Annotated[date, BeforeValidator(_date_only)]
Currency = Annotated[str, Query(
    pattern=r"^[A-Z]{3}$", examples=["USD"],
    description="an ISO 4217 currency code: every figure is in it (minor units)")]
From = Annotated[LocalDate | None, Query(
    alias="from", examples=["2026-03-01"], json_schema_extra={"pattern": f"^{DATE_PATTERN}$"},
    description="the range's first local day, YYYY-MM-DD (default: 29 days before `to`)")]
To = Annotated[LocalDate | None, Query(
    alias="to", examples=["2026-03-31"], json_schema_extra={"pattern": f"^{DATE_PATTERN}$"},
    description="the range's last local day, included, YYYY-MM-DD (default: today, or 29 "
                "days after `from`); at most 3660 days in all")]
Top = Annotated[int, Query(ge=1, le=100, examples=[10], description="how many: 1 to 100")]
Every = Annotated[Literal["day", "week", "month"], Query(
    examples=["week"], description="day (default), week (ISO, from Monday) or month")]
SellerId = Annotated[str | None, Query(
    pattern=ID_PATTERN, examples=["inst_ada"],
    description=f"the seller: a seller key's own by default (another's is a 404); an "
                f"admin must name one: {ID_EXPECTED}")]
By = Annotated[Literal["gross", "net", "platform_revenue", "seller_earnings", "units"], Query(
    examples=["gross"], description="what to rank by: gross (default), net, "
                                    "platform_revenue, seller_earnings or units")]


@api.get("/summary", response_model=SummaryOut, response_model_by_alias=True,
         responses=REBUILDING)
def summary(storage: StorageDep, actor: Reader, currency: Currency, start: From = None,
            end: To = None,
            seller_id: Annotated[str | None, Query(
                pattern=ID_PATTERN, examples=["inst_ada"],
                description=f"only this seller's sales: {ID_EXPECTED}")] = None) -> Any:
    """Every figure over the range: gross, discounts, refunded, disputed, net, platform
    revenue, seller earnings, tax, shipping, fees, transactions, failed, the average
    transaction value and the success and failure rates."""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.summary(uow, actor, currency=currency, start=start, end=end,
                           seller_id=seller_id)


@api.get("/trend", response_model=TrendOut, responses=REBUILDING)
def trend(storage: StorageDep, actor: Reader, currency: Currency, start: From = None,
          end: To = None,
          interval: Annotated[Literal["day", "week", "month"], Query(
              examples=["week"], description="day (default), week (ISO, from Monday) or "
                                             "month")] = "day") -> Any:
    """The figures per day, week or month of the range, every bucket present (zeros where
    nothing happened): platform revenue and seller earnings side by side."""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.trend(uow, actor, currency=currency, start=start, end=end,
                         interval=interval)


@api.get("/top-sellers", response_model=TopSellersOut, responses=REBUILDING)
def top_sellers(storage: StorageDep, actor: Reader, currency: Currency, start: From = None,
                end: To = None, limit: Top = 10, by: By = "gross") -> Any:
    """The sellers with the most revenue (gross by default) in the range, with units
    (payments captured), refunded, net, platform revenue and seller earnings."""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.top_sellers(uow, actor, currency=currency, start=start, end=end,
                               limit=limit, by=by)


@api.get("/top-items", response_model=TopItemsOut, responses=REBUILDING)
def top_items(storage: StorageDep, actor: Reader, currency: Currency, start: From = None,
              end: To = None, limit: Top = 10, by: By = "gross") -> Any:
    """The items (courses, events, products …) with the most revenue in the range, each
    with its seller, units sold, refunded, net, platform revenue and seller earnings."""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.top_items(uow, actor, currency=currency, start=start, end=end,
                             limit=limit, by=by)


@api.get("/methods", response_model=MethodsOut, responses=REBUILDING)
def methods(storage: StorageDep, actor: Reader, currency: Currency, start: From = None,
            end: To = None) -> Any:
    """Per payment method and gateway: payments captured and what they took, payments
    that ended unpaid, refunded money and the success rate."""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.methods(uow, actor, currency=currency, start=start, end=end)


@api.get("/refunds", response_model=RefundsOut, responses=REBUILDING)
def refunds(storage: StorageDep, actor: Reader, currency: Currency, start: From = None,
            end: To = None, limit: Top = 10) -> Any:
    """Refund rates in the range, by count and by amount: in all, and for the sellers and
    the items with the most money refunded."""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.refunds(uow, actor, currency=currency, start=start, end=end, limit=limit)


@api.get("/coupons", response_model=CouponsOut, responses=REBUILDING)
def coupons(storage: StorageDep, actor: Reader, currency: Currency, start: From = None,
            end: To = None) -> Any:
    """Per coupon: its uses (payments captured with it), the discount given, who funded
    it, and the gross and net of those payments; totals per funder."""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.coupons(uow, actor, currency=currency, start=start, end=end)


@api.get("/customers", response_model=CustomersOut, responses=REBUILDING)
def customers(storage: StorageDep, actor: Reader, currency: Currency, start: From = None,
              end: To = None, interval: Every = "day") -> Any:
    """Per bucket, new customers (first capture in it) and what new and returning
    customers paid; and what each monthly cohort of customers paid in the range."""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.customers(uow, actor, currency=currency, start=start, end=end,
                             interval=interval)


@api.get("/seller/summary", response_model=SellerSummaryOut, responses=REBUILDING)
def seller_summary(storage: StorageDep, actor: SellerReader, currency: Currency,
                   start: From = None, end: To = None, seller_id: SellerId = None) -> Any:
    """One seller's figures over the range: its earnings, the platform's commission, gross,
    refunded, transactions, the average order value …"""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.seller_summary(uow, actor, currency=currency, start=start, end=end,
                                  seller_id=seller_id)


@api.get("/seller/trend", response_model=SellerTrendOut, responses=REBUILDING)
def seller_trend(storage: StorageDep, actor: SellerReader, currency: Currency,
                 start: From = None, end: To = None, interval: Every = "day",
                 seller_id: SellerId = None) -> Any:
    """One seller's figures per day, week or month: earnings, commission, gross (the
    total) and transactions, every bucket present."""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.seller_trend(uow, actor, currency=currency, start=start, end=end,
                                interval=interval, seller_id=seller_id)


@api.get("/seller/top-items", response_model=SellerTopItemsOut, responses=REBUILDING)
def seller_top_items(storage: StorageDep, actor: SellerReader, currency: Currency,
                     start: From = None, end: To = None, limit: Top = 10,
                     by: By = "gross", seller_id: SellerId = None) -> Any:
    """One seller's items with the most revenue in the range."""
    with storage.unit_of_work(readonly=True) as uow:
        return svc.seller_top_items(uow, actor, currency=currency, start=start, end=end,
                                    limit=limit, by=by, seller_id=seller_id)


@api.get("/seller/transactions", response_model=TransactionsOut)
def seller_transactions(storage: StorageDep, actor: SellerReader,
                        cursor: Annotated[str | None, id_cursor("pay")], limit: Limit = 20,
                        status: Annotated[PaymentStatusName | None, Query(
                            examples=["succeeded"],
                            description="only payments in this status: "
                                        f"{', '.join(PaymentStatus)}")] = None,
                        currency: Annotated[str | None, Query(
                            pattern=r"^[A-Z]{3}$", examples=["USD"],
                            description="only payments in this ISO 4217 currency")] = None,
                        seller_id: SellerId = None) -> Any:
    """One seller's payments, newest first: total, its share, the platform's commission,
    refunded, status, customer and order; ``total`` counts every payment the filters
    match."""
    with storage.unit_of_work(readonly=True) as uow:
        seller, rows, total = svc.seller_transactions(
            uow, actor, seller_id=seller_id, status=status, currency=currency,
            limit=limit + 1, cursor=cursor)
    return {"seller_id": seller, **present_transactions(actor, rows, limit), "total": total}
