"""Orders and bookings (the booking seed): a table with coloured status badges, a status
filter, the admin's status change with a reason, and the per-stream statistics. Read
and written through the API's service functions (``/v1/orders``), as the signed-in actor:
a seller sees the orders with a line of its own, and only those lines."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from paytrack.domain.actors import Role
from paytrack.domain.errors import NotFound, ValidationFailed
from paytrack.domain.orders import OVERRIDABLE, OrderStatus
from paytrack.entrypoints.api.order_schemas import OrderStatusIn
from paytrack.entrypoints.api.views import present, present_page
from paytrack.entrypoints.web.actions import act
from paytrack.entrypoints.web.forms import validated
from paytrack.entrypoints.web.pages.seller import ObjectId, cursor_of, form_of
from paytrack.entrypoints.web.render import page
from paytrack.entrypoints.web.session import Viewer, check_csrf, current_viewer, storage_of
from paytrack.services import orders

pages = APIRouter()
ViewerDep = Annotated[Viewer, Depends(current_viewer)]
Param = Annotated[str | None, Query(max_length=200)]
PAGE_SIZE = 25
# The seed's filter: its three words, read as the API's ``confirmed_code`` (a partially
# refunded booking is still confirmed, a refunded one counts as cancelled).
FILTERS = {"confirmed": 2, "pending": 1, "cancelled": -1}
SETTABLE = [s for s in OrderStatus if s in OVERRIDABLE]


def admin(viewer: ViewerDep) -> Viewer:
    """Only an admin sets a status by hand; a seller posting one is shown the 404 page."""
    if viewer.actor.role is not Role.ADMIN:
        raise NotFound("there is no such page for a seller")
    return viewer


@pages.get("/bookings", response_class=HTMLResponse)
def bookings_page(request: Request, viewer: ViewerDep, status: Param = None,
                  cursor: Param = None) -> Response:
    """``GET /v1/orders?confirmed_code=…`` and ``GET /v1/orders/stats/streams``."""
    if status and status not in FILTERS:
        raise ValidationFailed("status is all, confirmed, pending or cancelled",
                               field="status")
    with storage_of(request).unit_of_work(readonly=True) as uow:
        uow.one_snapshot()
        rows = orders.list_orders(uow, viewer.actor, limit=PAGE_SIZE + 1,
                                  cursor=cursor_of(cursor, "ord"),
                                  confirmed_code=FILTERS.get(status or ""))
        stats = orders.stream_stats(uow, viewer.actor)
    shown = present_page(viewer.actor, "order", rows, PAGE_SIZE)
    params = {"status": status, "cursor": cursor}
    return page(request, viewer, "bookings.html", rows=shown["data"], stats=stats,
                params=params, next_cursor=shown["next_cursor"], filters=list(FILTERS),
                settable=SETTABLE if viewer.is_admin else [])


@pages.post("/bookings/{order_id}/status")
async def set_booking_status(request: Request, viewer: Annotated[Viewer, Depends(admin)],
                             order_id: ObjectId) -> Response:
    """``POST /v1/orders/{id}/status``: the admin's hand-set status, with its reason."""
    form = await form_of(request)
    check_csrf(viewer, form.get("csrf_token"))
    with storage_of(request).unit_of_work(readonly=True) as uow:
        orders.get_order(uow, order_id, viewer.actor)  # an unknown one: the 404 page
    status, reason = form.get("status", ""), form.get("reason", "")
    back = form.get("back") or "/dashboard/bookings"

    def work(uow: Any) -> str:
        body = validated(OrderStatusIn, {"status": status, "reason": reason})  # as the API
        order = present(viewer.actor, "order", orders.override_status(
            uow, order_id, viewer.actor, reason=body.reason, status=body.status))
        return f"Booking {order['id']} is now {order['status']}."

    return act(request, viewer, form, work, done=back, back=back)
