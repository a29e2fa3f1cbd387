from __future__ import annotations

from typing import Annotated

from fastapi import Body, Query, Response

from paytrack.domain.actors import Actor
from paytrack.domain.coupons import Order
from paytrack.entrypoints.api.deps import ActorDep, StorageDep, may
from paytrack.entrypoints.api.parameters import id_cursor
from paytrack.entrypoints.api.routes._shared import Limit, object_id, router
from paytrack.entrypoints.api.schemas import (
    CouponCheckOut,
    CouponUsageOut,
    CreateCouponIn,
    DeactivateCouponIn,
    ValidateCouponIn,
)
from paytrack.entrypoints.api.views import CouponPage, CouponView, present, present_page
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import coupons as svc
from paytrack.services.permissions import Action

api = router("/v1/coupons", "coupons")
CouponId = Annotated[str, object_id("cpn_01JD8X9K2M4N6P8Q0R2S4T6V8W")]


@api.post("", status_code=201, response_model=CouponView)
def create_coupon(body: CreateCouponIn, write: WriteDep,
                  actor: Annotated[Actor, may(Action.MANAGE_COUPONS)]) -> Response:
    """A discount code: `percent` (`percent_off`, capped at `max_discount`) or `fixed`
    (`amount_off` in `currency`), with optional minimum, usage limits, item or seller
    targeting and a validity window. Codes are unique whatever their case."""
    cmd = svc.CreateCoupon(**body.model_dump())
    return write.run(lambda uow: present(actor, "coupon", svc.create_coupon(uow, cmd, actor)))


# Declared before the `/{coupon_id}` routes: a static path is never read as an id.
@api.post("/validate", response_model=CouponCheckOut)
def validate_coupon(body: ValidateCouponIn, write: WriteDep,
                    actor: Annotated[Actor, may(Action.VALIDATE_COUPON)]) -> Response:
    """Whether a code applies to an order now and the discount it gives; `reason` says why
    not. Changes nothing: a payment with the code takes its place in the limits. A seller
    asks for its own sales, a customer for itself."""
    order = Order(body.customer_id, body.seller_id, body.item_id, body.currency, body.subtotal)
    return write.run(lambda uow: svc.validate_coupon(uow, body.code, order, actor))


@api.get("", response_model=CouponPage)
def list_coupons(storage: StorageDep, actor: ActorDep,
                 cursor: Annotated[str | None, id_cursor("cpn")], limit: Limit = 20,
                 active: Annotated[bool | None, Query(
                     examples=[True], description="true for active coupons only, false for "
                                                  "deactivated ones only")] = None,
                 code: Annotated[str | None, Query(
                     max_length=64, examples=["SPRING25"],
                     description="the coupon with this code (case does not matter)")] = None
                 ) -> dict:
    """Newest first; a seller sees the coupons limited to it."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_coupons(uow, actor, limit=limit + 1, cursor=cursor, active=active,
                                code=code)
    return present_page(actor, "coupon", rows, limit)


@api.get("/{coupon_id}", response_model=CouponView)
def get_coupon(coupon_id: CouponId, storage: StorageDep, actor: ActorDep) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        return present(actor, "coupon", svc.get_coupon(uow, coupon_id, actor))


@api.get("/{coupon_id}/usage", response_model=CouponUsageOut)
def coupon_usage(coupon_id: CouponId, storage: StorageDep, actor: ActorDep) -> dict:
    """Redemptions, discount given and revenue per currency; a seller's figures are its own
    payments' only."""
    with storage.unit_of_work(readonly=True) as uow:
        return dict(svc.coupon_usage(uow, coupon_id, actor))


@api.post("/{coupon_id}/deactivate", response_model=CouponView)
def deactivate_coupon(coupon_id: CouponId, write: WriteDep,
                      actor: Annotated[Actor, may(Action.MANAGE_COUPONS)],
                      body: Annotated[DeactivateCouponIn | None, Body()] = None) -> Response:
    """No new payment may use it; payments that hold it already keep their discount."""
    reason = (body or DeactivateCouponIn()).reason
    return write.run(lambda uow: present(actor, "coupon", svc.deactivate_coupon(
        uow, coupon_id, actor, reason=reason)))
