"""Response models of the admin analytics (``/v1/analytics/…``); what each measure means is
in ``domain/analytics.py`` and the README's Analytics section."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Scope(BaseModel):
    currency: str
    from_: date = Field(alias="from", description="the range's first local day")
    to: date = Field(description="the range's last local day (included)")
    tz: str = Field(description="the time zone the days are local to "
                                "(PAYTRACK_ANALYTICS_TZ)")


class Figures(BaseModel):
    """Amounts in minor units of the currency."""

    gross: int = Field(description="what customers paid for the payments captured")
    discount: int = Field(description="discounts on the payments captured")
    platform_discount: int = Field(
        description="platform:discounts: platform-funded discounts less those returned")
    refunded: int = Field(description="money refunded")
    refunds: int = Field(description="refunds that succeeded")
    disputed: int = Field(description="taken by disputes opened, less returned by those won")
    disputes: int = Field(description="disputes opened")
    dispute_losses: int = Field(description="amounts of disputes lost")
    net: int = Field(description="gross − refunded − dispute_losses")
    platform_revenue: int = Field(description="platform:revenue: commission, less refunds "
                                              "and lost disputes")
    seller_earnings: int = Field(description="what sellers' accounts gained from payments")
    tax: int = Field(description="platform:tax_payable")
    shipping: int = Field(description="platform:shipping")
    fees: int = Field(description="gateway fees, whoever bears them")
    transactions: int = Field(description="payments captured")
    failed: int = Field(description="payments that ended unpaid (failed, canceled, expired)")
    average_transaction_value: int | None = Field(
        description="gross ÷ transactions, rounded half up; null without transactions")
    success_rate: str | None = Field(
        description="transactions ÷ (transactions + failed), 4 decimals; null when none "
                    "ended", examples=["0.9500"])
    failure_rate: str | None = Field(
        description="failed ÷ (transactions + failed), 4 decimals; null when none ended",
        examples=["0.0500"])


class SummaryOut(Scope, Figures):
    seller_id: str | None = Field(description="the one seller summed, if asked")


class TrendBucketOut(Figures):
    bucket: str = Field(description="2026-03-02 (day), 2026-W10 (ISO week), 2026-03 (month)")
    start: date = Field(description="its first day within the range")
    end: date = Field(description="its last day within the range")


class TrendOut(Scope):
    interval: str
    data: list[TrendBucketOut]


class RankedOut(BaseModel):
    revenue: int = Field(description="what the list is ordered by (`by`)")
    units: int = Field(description="payments captured")
    gross: int
    refunded: int
    refunds: int
    net: int
    platform_revenue: int
    seller_earnings: int


class TopSellerOut(RankedOut):
    seller_id: str


class TopItemOut(RankedOut):
    item_type: str
    item_id: str
    seller_id: str


class TopSellersOut(Scope):
    by: str
    data: list[TopSellerOut]


class TopItemsOut(Scope):
    by: str
    data: list[TopItemOut]


class MethodOut(BaseModel):
    method: str
    gateway: str
    count: int = Field(description="payments captured")
    amount: int = Field(description="what they took (gross)")
    failed: int = Field(description="payments that ended unpaid")
    refunded: int
    success_rate: str | None


class MethodsOut(Scope):
    data: list[MethodOut]
