"""Orders (bookings): one payment per seller, a status its payments drive, and the
per-stream booking statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Query, Response

from paytrack.domain.actors import Actor
from paytrack.domain.orders import OrderStatus
from paytrack.entrypoints.api.deps import ActorDep, StorageDep, may
from paytrack.entrypoints.api.order_schemas import (
    CancelOrderIn,
    CreateOrderIn,
    OrderStatusIn,
    OrderStatusName,
    Stream,
    StreamStatsOut,
)
from paytrack.entrypoints.api.parameters import id_cursor
from paytrack.entrypoints.api.routes._shared import Limit, object_id, router
from paytrack.entrypoints.api.schemas import (
    ID_EXPECTED,
    ID_PATTERN,
    Currency,
    IsoDateTime,
    StatusEventOut,
)
from paytrack.entrypoints.api.views import OrderPage, OrderView, present, present_page
from paytrack.entrypoints.api.writes import WriteDep
from paytrack.services import orders as svc
from paytrack.services.permissions import Action

api = router("/v1/orders", "orders")

OrderId = Annotated[str, object_id("ord_01JD8X3M9QH7V2K4T6W8Y0Z1AB")]


def _party(example: str, what: str = ID_EXPECTED) -> object:
    return Query(pattern=ID_PATTERN, examples=[example], description=what)


StreamQuery = Annotated[str | None, Query(
    pattern=Stream.__metadata__[0].pattern, examples=["2026-spring"],
    description="a course cohort or session: 1 to 100 printable ASCII characters")]


@api.post("", status_code=201, response_model=OrderView)
def create_order(body: CreateOrderIn, write: WriteDep,
                 actor: Annotated[Actor, may(Action.CREATE_ORDER)]) -> Response:
    """Record an order: one payment per seller (each with its own split and, at a
    configured gateway, its `payment_url`). It is confirmed when every payment succeeded,
    cancelled as soon as one fails or is canceled."""
    values = body.model_dump()
    lines = [svc.LineIn(**line) for line in values.pop("lines")]
    cmd = svc.CreateOrder(lines=lines, **values)
    return write.run(lambda uow: present(actor, "order", svc.create_order(uow, cmd, actor)))


@api.get("", response_model=OrderPage)
def list_orders(storage: StorageDep, actor: ActorDep,
                cursor: Annotated[str | None, id_cursor("ord")], limit: Limit = 20,
                status: Annotated[OrderStatusName | None, Query(
                    examples=["confirmed"],
                    description="an order status: " + ", ".join(OrderStatus))] = None,
                confirmed_code: Annotated[int | None, Query(
                    ge=-1, le=2, examples=[2], description="2 confirmed (or partially refunded), 1 "
                                              "pending, -1 cancelled (or refunded)")] = None,
                customer_id: Annotated[str | None, _party("stu_42")] = None,
                seller_id: Annotated[str | None, _party(
                    "inst_ada", f"orders with a line of this seller: {ID_EXPECTED}")] = None,
                item_id: Annotated[str | None, _party(
                    "course_python", f"orders with a line for this item: {ID_EXPECTED}")
                ] = None,
                stream: StreamQuery = None,
                created_gte: IsoDateTime | None = None,
                created_lt: IsoDateTime | None = None) -> dict:
    """Newest first; a seller sees the orders with a line of its own (only its lines and
    payment), a customer its own orders."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.list_orders(uow, actor, limit=limit + 1, cursor=cursor, status=status,
                               confirmed_code=confirmed_code, customer_id=customer_id,
                               seller_id=seller_id, item_id=item_id, stream=stream,
                               created_gte=created_gte, created_lt=created_lt)
    return present_page(actor, "order", rows, limit)


@api.get("/stats/streams", response_model=StreamStatsOut)
def stream_stats(storage: StorageDep,
                 actor: Annotated[Actor, may(Action.READ_ORDER_STATS)],
                 item_id: Annotated[str | None, _party("course_python")] = None,
                 item_type: Annotated[str | None, Query(
                     pattern=r"^[a-z][a-z0-9_]{0,39}$", examples=["course"],
                     description="what is sold: a lowercase word of up to 40 letters, "
                                 "digits and `_`")] = None,
                 stream: StreamQuery = None,
                 currency: Currency | None = None,
                 created_gte: IsoDateTime | None = None,
                 created_lt: IsoDateTime | None = None) -> dict:
    """Per item, stream and currency: bookings (order lines) confirmed (2), pending (1)
    and cancelled (-1), and the confirmed revenue net of discounts. A seller: its own."""
    with storage.unit_of_work(readonly=True) as uow:
        rows = svc.stream_stats(uow, actor, item_id=item_id, item_type=item_type,
                                stream=stream, currency=currency, created_gte=created_gte,
                                created_lt=created_lt)
    return {"data": rows}


@api.get("/{order_id}", response_model=OrderView)
def get_order(order_id: OrderId, storage: StorageDep, actor: ActorDep) -> dict:
    with storage.unit_of_work(readonly=True) as uow:
        return present(actor, "order", svc.get_order(uow, order_id, actor))


@api.get("/{order_id}/history", response_model=list[StatusEventOut])
def order_history(order_id: OrderId, storage: StorageDep, actor: ActorDep) -> list[dict]:
    """Every status move with its time, actor and reason (hand-set ones say `override:`)."""
    with storage.unit_of_work(readonly=True) as uow:
        events = svc.order_history(uow, order_id, actor)
    return [present(actor, "status_event", e) for e in events]


@api.post("/{order_id}/cancel", response_model=OrderView)
def cancel_order(order_id: OrderId, write: WriteDep,
                 actor: Annotated[Actor, may(Action.CANCEL_ORDER)],
                 body: Annotated[CancelOrderIn | None, Body()] = None) -> Response:
    """Cancel a pending order (an admin, or its customer): its open payments are
    canceled, its paid ones get a full refund request. Any other status: 409."""
    reason = (body or CancelOrderIn()).reason
    return write.run(lambda uow: present(actor, "order", svc.cancel_order(
        uow, order_id, actor, reason=reason)))


@api.post("/{order_id}/status", response_model=OrderView)
def set_order_status(order_id: OrderId, body: OrderStatusIn, write: WriteDep,
                     actor: Annotated[Actor, may(Action.OVERRIDE_ORDER_STATUS)]) -> Response:
    """An admin sets pending, confirmed or cancelled by hand (`confirmed_code` 1, 2, -1 or
    `status`) with a reason: recorded in the history as an override. No payment and no
    money moves. The status it already has: 409."""
    return write.run(lambda uow: present(actor, "order", svc.override_status(
        uow, order_id, actor, reason=body.reason, confirmed_code=body.confirmed_code,
        status=body.status)))
