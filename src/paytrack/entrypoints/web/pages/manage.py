"""The admin's management pages: coupons, sellers, gateways and the ledger. Reads and
writes go through the service functions the API's routes call, as the admin."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.coupons import CouponKind, FundedBy
from paytrack.domain.errors import ValidationFailed
from paytrack.domain.money import parse_amount, validate_currency
from paytrack.entrypoints.api.parameters import NumberCursor
from paytrack.entrypoints.api.schemas import (
    ID_PATTERN,
    CreateCouponIn,
    DeactivateCouponIn,
    SellerIn,
)
from paytrack.entrypoints.api.views import present
from paytrack.entrypoints.web import fields
from paytrack.entrypoints.web.actions import act
from paytrack.entrypoints.web.forms import FormDep, text, validated, whole
from paytrack.entrypoints.web.pages.admin import AdminDep
from paytrack.entrypoints.web.render import page
from paytrack.entrypoints.web.session import check_csrf, storage_of
from paytrack.services import coupons, gateways, ledger, parties, payouts

pages = APIRouter()
PAGE_SIZE = 25
Cursor = Annotated[str | None, Query(max_length=100)]
CouponId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_]+$")]
SellerId = Annotated[str, Path(max_length=100, pattern=ID_PATTERN)]


# -- coupons ------------------------------------------------------------------------------


@pages.get("/coupons", response_class=HTMLResponse)
def coupons_page(request: Request, viewer: AdminDep, cursor: Cursor = None,
                 active_text: Annotated[str | None, Query(alias="active", max_length=5)] = None,
                 ) -> Response:
    choice = fields.text(active_text, "active")  # the filter's "All" sends active=
    if choice not in (None, "true", "false"):
        raise ValidationFailed("active is true, false or empty (all)", field="active")
    active = None if choice is None else choice == "true"
    with storage_of(request).unit_of_work(readonly=True) as uow:
        rows = coupons.list_coupons(uow, viewer.actor, limit=PAGE_SIZE + 1,
                                    cursor=fields.cursor(cursor, "cpn"), active=active)
    shown = [present(viewer.actor, "coupon", row) for row in rows[:PAGE_SIZE]]
    return page(request, viewer, "manage_coupons.html", coupons=shown,
                params={"active": active, "cursor": cursor},
                next_cursor=rows[PAGE_SIZE - 1]["id"] if len(rows) > PAGE_SIZE else None,
                kinds=list(CouponKind), funders=list(FundedBy))


def _amount(form: Mapping[str, str], name: str, currency: str | None) -> int | None:
    """A decimal amount field in the coupon's currency (minor units), None when empty."""
    value = text(form, name, max_length=30)
    if value is None:
        return None
    if currency is None:
        raise ValidationFailed(f"{name} needs the coupon's currency", field="currency")
    return parse_amount(value, currency)


def _moment(form: Mapping[str, str], name: str) -> datetime | None:
    """A ``datetime-local`` field, read as UTC."""
    value = text(form, name, max_length=30)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{name} is not a date and time", field=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ids(form: Mapping[str, str], name: str) -> list[str]:
    """Ids separated by commas or spaces."""
    value = text(form, name, max_length=1000) or ""
    return [part for part in value.replace(",", " ").split() if part]


def coupon_input(form: Mapping[str, str]) -> CreateCouponIn:
    """The create form as ``POST /v1/coupons`` takes it: amounts in the coupon's currency
    as decimals, dates as UTC."""
    currency = text(form, "currency", max_length=3)
    currency = validate_currency(currency.upper()) if currency else None
    return validated(CreateCouponIn, {
        "code": text(form, "code", max_length=64) or "",
        "kind": text(form, "kind", max_length=20) or "",
        "percent_off": text(form, "percent_off", max_length=20),
        "amount_off": _amount(form, "amount_off", currency),
        "currency": currency,
        "max_discount": _amount(form, "max_discount", currency),
        "min_order_amount": _amount(form, "min_order_amount", currency),
        "max_redemptions": whole(form, "max_redemptions"),
        "max_redemptions_per_customer": whole(form, "max_redemptions_per_customer"),
        "item_ids": _ids(form, "item_ids"),
        "seller_ids": _ids(form, "seller_ids"),
        "starts_at": _moment(form, "starts_at"),
        "expires_at": _moment(form, "expires_at"),
        "funded_by": text(form, "funded_by", max_length=20) or "platform",
        "active": form.get("active") == "on",
        "description": text(form, "description", max_length=500),
    })


@pages.post("/coupons")
def create_coupon(request: Request, viewer: AdminDep, form: FormDep) -> Response:
    def work(uow: UnitOfWork) -> str:
        body = coupon_input(form)
        coupon = coupons.create_coupon(uow, coupons.CreateCoupon(**body.model_dump()),
                                       viewer.actor)
        return f"Coupon {coupon['code']} created."

    return act(request, viewer, form, work, done="/dashboard/coupons",
               back="/dashboard/coupons")


@pages.get("/coupons/{coupon_id}", response_class=HTMLResponse)
def coupon_page(request: Request, viewer: AdminDep, coupon_id: CouponId) -> Response:
    with storage_of(request).unit_of_work(readonly=True) as uow:
        uow.one_snapshot()
        coupon = coupons.get_coupon(uow, coupon_id, viewer.actor)
        usage = coupons.coupon_usage(uow, coupon_id, viewer.actor)
    return page(request, viewer, "manage_coupon.html",
                coupon=present(viewer.actor, "coupon", coupon), usage=usage)


@pages.post("/coupons/{coupon_id}/deactivate")
def deactivate_coupon(request: Request, viewer: AdminDep, form: FormDep,
                      coupon_id: CouponId) -> Response:
    here = f"/dashboard/coupons/{coupon_id}"

    def work(uow: UnitOfWork) -> str:
        body = validated(DeactivateCouponIn, {"reason": text(form, "reason")})
        coupon = coupons.deactivate_coupon(uow, coupon_id, viewer.actor, reason=body.reason)
        return f"Coupon {coupon['code']} deactivated."

    return act(request, viewer, form, work, done=here, back=here)


# -- sellers ------------------------------------------------------------------------------


@pages.get("/sellers", response_class=HTMLResponse)
def sellers_page(request: Request, viewer: AdminDep, cursor: Cursor = None) -> Response:
    with storage_of(request).unit_of_work(readonly=True) as uow:
        uow.one_snapshot()
        rows = parties.list_parties(uow, "seller", viewer.actor, limit=PAGE_SIZE + 1,
                                    cursor=fields.text(cursor, "cursor"))
        shown = rows[:PAGE_SIZE]
        balances = {row["id"]: ledger.seller_balance(uow, row["id"], viewer.actor)["balances"]
                    for row in shown}
    return page(request, viewer, "manage_sellers.html", sellers=shown, balances=balances,
                params={"cursor": cursor},
                next_cursor=rows[PAGE_SIZE - 1]["id"] if len(rows) > PAGE_SIZE else None)


@pages.get("/sellers/{seller_id}", response_class=HTMLResponse)
def seller_page(request: Request, viewer: AdminDep, seller_id: SellerId) -> Response:
    with storage_of(request).unit_of_work(readonly=True) as uow:
        uow.one_snapshot()
        seller = parties.get_party(uow, "seller", seller_id, viewer.actor)
        balance = ledger.seller_balance(uow, seller_id, viewer.actor)["balances"]
        accounts = [present(viewer.actor, "payout_account", row)
                    for row in payouts.list_payout_accounts(uow, seller_id, viewer.actor)]
    return page(request, viewer, "manage_seller.html", seller=seller, balance=balance,
                accounts=accounts)


def seller_input(form: Mapping[str, str]) -> SellerIn:
    """The edit form as ``PUT /v1/sellers/{id}`` takes it (an empty field: unchanged)."""
    return validated(SellerIn, {
        "name": text(form, "name", max_length=200),
        "email": text(form, "email", max_length=320),
        "commission_rate": text(form, "commission_rate", max_length=20),
        "clear_commission_rate": form.get("clear_commission_rate") == "on",
        "hold_days": whole(form, "hold_days"),
        "clear_hold_days": form.get("clear_hold_days") == "on",
    })


@pages.post("/sellers/{seller_id}")
def edit_seller(request: Request, viewer: AdminDep, form: FormDep,
                seller_id: SellerId) -> Response:
    here = f"/dashboard/sellers/{seller_id}"

    def work(uow: UnitOfWork) -> str:
        parties.get_party(uow, "seller", seller_id, viewer.actor)  # edits, never creates
        body = seller_input(form)
        # What PUT /v1/sellers/{id} does with the same body.
        fields = body.model_dump(exclude={"clear_commission_rate", "clear_hold_days"},
                                 exclude_none=True)
        parties.upsert_party(uow, "seller", seller_id, viewer.actor, **fields)
        if body.clear_commission_rate or body.clear_hold_days:
            parties.clear_seller_overrides(uow, seller_id, viewer.actor,
                                           commission_rate=body.clear_commission_rate,
                                           hold_days=body.clear_hold_days)
        return f"Seller {seller_id} saved."

    return act(request, viewer, form, work, done=here, back=here)


# -- gateways -----------------------------------------------------------------------------


@pages.get("/gateways", response_class=HTMLResponse)
def gateways_page(request: Request, viewer: AdminDep) -> Response:
    """As ``GET /v1/gateways``: which credentials are set, each by a masked tail, never a
    secret (the listing writes: the simulator's configuration is made on first sight)."""
    with storage_of(request).unit_of_work() as uow:
        shown = gateways.list_gateways(uow, viewer.actor)
        uow.commit()
    return page(request, viewer, "manage_gateways.html", gateways=shown)


# -- ledger -------------------------------------------------------------------------------


def _ledger_page(request: Request, viewer: Any, cursor: int | None,
                 check: Mapping[str, Any] | None = None) -> Response:
    with storage_of(request).unit_of_work(readonly=True) as uow:
        uow.one_snapshot()
        balance = ledger.trial_balance(uow, viewer.actor)
        accounts = ledger.list_accounts(uow, viewer.actor, limit=PAGE_SIZE + 1,
                                        cursor=cursor)
    return page(request, viewer, "manage_ledger.html", trial=balance, accounts=accounts[:PAGE_SIZE],
                params={"cursor": cursor}, check=check,
                next_cursor=accounts[PAGE_SIZE - 1]["id"] if len(accounts) > PAGE_SIZE
                else None)


@pages.get("/ledger", response_class=HTMLResponse)
def ledger_page(request: Request, viewer: AdminDep, cursor: NumberCursor = None) -> Response:
    return _ledger_page(request, viewer, cursor)


@pages.post("/ledger/verify", response_class=HTMLResponse)
def verify_ledger(request: Request, viewer: AdminDep, form: FormDep) -> Response:
    """Recompute every balance from the postings (as ``GET /v1/ledger/verify``): it only
    reads, so it needs no form key, but it is a POST with the session's CSRF token since
    it is heavy; the result is shown on the ledger page."""
    check_csrf(viewer, form.get("csrf_token"))
    with storage_of(request).unit_of_work(readonly=True) as uow:
        check = ledger.verify_ledger(uow, viewer.actor)
    return _ledger_page(request, viewer, None, check)

