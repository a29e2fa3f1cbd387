"""Response models of the admin analytics (``/v1/analytics/…``); what each measure means is
in ``domain/analytics.py`` and the README's Analytics section."""

from __future__ import annotations

from datetime import date, datetime

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


class RefundFigures(BaseModel):
    refunds: int = Field(description="refunds that succeeded in the range")
    refunded: int = Field(description="money they returned")
    captured: int = Field(description="payments captured in the range")
    gross: int = Field(description="what those payments took")
    refund_rate_by_count: str | None = Field(
        description="refunds ÷ captured, 4 decimals (null without captures; may pass 1)",
        examples=["0.0500"])
    refund_rate_by_amount: str | None = Field(
        description="refunded ÷ gross, 4 decimals (null without gross)", examples=["0.0312"])


class SellerRefundsOut(RefundFigures):
    seller_id: str


class ItemRefundsOut(RefundFigures):
    item_type: str
    item_id: str
    seller_id: str


class RefundsOut(Scope, RefundFigures):
    sellers: list[SellerRefundsOut] = Field(description="the top `limit` by money refunded")
    items: list[ItemRefundsOut] = Field(description="the top `limit` by money refunded")


class CouponFigures(BaseModel):
    uses: int = Field(description="payments captured with the coupon")
    discount: int = Field(description="the discount they got")
    gross: int = Field(description="what they took")
    refunded: int
    net: int = Field(description="gross − refunded − dispute losses")


class CouponOut(CouponFigures):
    coupon_id: str
    code: str | None = Field(description="its code, as created")
    funded_by: str = Field(description="platform or seller: who bears the discount")


class FunderOut(CouponFigures):
    funded_by: str


class CouponsOut(Scope):
    data: list[CouponOut] = Field(description="largest discount first")
    totals: list[FunderOut] = Field(description="per funder: platform and seller")


class CustomerFigures(BaseModel):
    payments: int = Field(description="payments captured")
    gross: int
    net: int


class CustomerBucketOut(BaseModel):
    bucket: str
    start: date
    end: date
    new_customers: int = Field(description="customers whose first capture (in this "
                                           "currency) fell in the bucket")
    new: CustomerFigures = Field(description="what new customers paid in the bucket")
    returning: CustomerFigures = Field(
        description="what customers whose first capture was before the bucket paid in it")


class CohortOut(CustomerFigures):
    cohort: str = Field(description="the month of the customers' first capture, 2026-03")
    customers: int = Field(description="customers whose first capture fell in that month")
    platform_revenue: int
    seller_earnings: int


class CustomersOut(Scope):
    interval: str
    new_customers: int = Field(description="customers whose first capture fell in the range")
    data: list[CustomerBucketOut]
    cohorts: list[CohortOut] = Field(description="what each cohort paid in the range")


class SellerFigures(BaseModel):
    """One seller's payments; amounts in minor units of the currency."""

    earnings: int = Field(description="what the seller's accounts gained from its payments: "
                                      "its shares, less fees it bears, refunds and disputes")
    commission: int = Field(description="the platform's commission on them, less refunds "
                                        "and lost disputes")
    gross: int = Field(description="what customers paid (the total)")
    discount: int
    platform_discount: int
    refunded: int
    refunds: int
    disputed: int
    disputes: int
    dispute_losses: int
    net: int = Field(description="gross − refunded − dispute_losses")
    tax: int
    shipping: int
    fees: int
    transactions: int = Field(description="payments captured")
    failed: int = Field(description="payments that ended unpaid")
    average_order_value: int | None = Field(
        description="gross ÷ transactions, rounded half up; null without transactions")
    success_rate: str | None
    failure_rate: str | None


class SellerScope(Scope):
    seller_id: str


class SellerSummaryOut(SellerScope, SellerFigures):
    pass


class SellerBucketOut(SellerFigures):
    bucket: str
    start: date
    end: date


class SellerTrendOut(SellerScope):
    interval: str
    data: list[SellerBucketOut]


class SellerTopItemsOut(SellerScope):
    by: str
    data: list[TopItemOut]


class TransactionOut(BaseModel):
    id: str
    status: str
    currency: str
    total: int = Field(description="what the customer paid")
    seller_amount: int = Field(description="the seller's share at capture")
    platform_fee: int = Field(description="the platform's commission")
    refunded_amount: int
    created_at: datetime
    customer_id: str
    order_id: str | None = Field(description="the platform's order reference")
    item_type: str
    item_id: str


class TransactionsOut(BaseModel):
    seller_id: str
    data: list[TransactionOut] = Field(description="newest first")
    has_more: bool
    next_cursor: str | None
    total: int = Field(description="payments matching the filters, on every page")
