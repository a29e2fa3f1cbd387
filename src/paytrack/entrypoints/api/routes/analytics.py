"""Admin analytics: the platform's figures over a range of local days, per currency."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from paytrack.domain.actors import Actor
from paytrack.entrypoints.api.analytics_schemas import (
    MethodsOut,
    SummaryOut,
    TopItemsOut,
    TopSellersOut,
    TrendOut,
)
from paytrack.entrypoints.api.deps import StorageDep, may
from paytrack.entrypoints.api.problems import documented
from paytrack.entrypoints.api.routes._shared import router
from paytrack.entrypoints.api.schemas import ID_EXPECTED, ID_PATTERN
from paytrack.services import analytics as svc
from paytrack.services.permissions import Action

api = router("/v1/analytics", "analytics")
Reader = Annotated[Actor, may(Action.READ_ANALYTICS)]
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
