"""The admin's queues: what waits for a decision (refund requests, payouts, disputes,
reconciliation exceptions, webhook deliveries that failed), each with its one-click
actions. Every action calls the service function its API route calls, as the admin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.errors import PaytrackError
from paytrack.entrypoints.api.reconciliation_schemas import ResolveIn
from paytrack.entrypoints.api.schemas import (
    DisputeDecisionIn,
    FailPayoutIn,
    PayPayoutIn,
    RejectRefundIn,
)
from paytrack.entrypoints.api.views import present
from paytrack.entrypoints.web.actions import act, local
from paytrack.entrypoints.web.forms import FormDep, text, validated
from paytrack.entrypoints.web.pages.admin import AdminDep
from paytrack.entrypoints.web.render import page
from paytrack.entrypoints.web.session import check_csrf, flash, storage_of
from paytrack.services import (
    disputes,
    gateway_jobs,
    payouts,
    reconciliation,
    refunds,
    webhooks,
)

pages = APIRouter()
QUEUE = "/dashboard/queues"
SHOWN = 50  # rows per queue on the page; the oldest-first payouts, the newest of the rest
ObjectId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_]+$")]


def _after(request: Request, response: RedirectResponse) -> RedirectResponse:
    """An approval sends the refund or payout to its gateway after the commit, as the
    API's routes do (whatever fails there is the background job's to retry)."""
    response.background = BackgroundTask(gateway_jobs.send_now, storage_of(request))
    return response


def _money(viewer: Any, amount: int, currency: str) -> str:
    return str(viewer.formats.money(amount, currency))


@pages.get("/queues", response_class=HTMLResponse)
def queues_page(request: Request, viewer: AdminDep) -> Response:
    actor = viewer.actor
    with storage_of(request).unit_of_work(readonly=True) as uow:
        uow.one_snapshot()
        requested = refunds.list_refunds(uow, actor, limit=SHOWN + 1, status="requested")
        waiting = payouts.pending_payouts(uow, actor, limit=SHOWN + 1)
        opened = [*disputes.list_disputes(uow, actor, limit=SHOWN + 1, status="open"),
                  *disputes.list_disputes(uow, actor, limit=SHOWN + 1,
                                          status="under_review")]
        exceptions = reconciliation.list_exceptions(uow, actor, status="open",
                                                    limit=SHOWN + 1)
        failed = webhooks.list_deliveries(uow, actor, limit=SHOWN + 1, status="failed")
        flagged = webhooks.list_deliveries(uow, actor, limit=SHOWN + 1, needs_review=True)
    deliveries = {d["id"]: d for d in [*failed, *flagged]}
    shown_deliveries = sorted(deliveries.values(), key=lambda d: d["id"], reverse=True)
    opened.sort(key=lambda d: d["id"], reverse=True)
    return page(request, viewer, "queues.html",
                refunds=[present(actor, "refund", r) for r in requested[:SHOWN]],
                payouts=[present(actor, "payout", p) for p in waiting[:SHOWN]],
                disputes=[present(actor, "dispute", d) for d in opened[:SHOWN]],
                exceptions=exceptions[:SHOWN], deliveries=shown_deliveries[:SHOWN],
                more={"refunds": len(requested) > SHOWN, "payouts": len(waiting) > SHOWN,
                      "disputes": len(opened) > SHOWN,
                      "exceptions": len(exceptions) > SHOWN,
                      "deliveries": len(shown_deliveries) > SHOWN})


# -- refunds ------------------------------------------------------------------------------


@pages.post("/queues/refunds/{refund_id}/approve")
def approve_refund(request: Request, viewer: AdminDep, form: FormDep,
                   refund_id: ObjectId) -> Response:
    def work(uow: UnitOfWork) -> str:
        refund = present(viewer.actor, "refund",
                         refunds.approve_refund(uow, refund_id, viewer.actor))
        return (f"Refund {refund['id']} of {_money(viewer, refund['amount'], refund['currency'])}"
                f" approved: {refund['status']}.")

    return _after(request, act(request, viewer, form, work, done=QUEUE, back=QUEUE))


@pages.post("/queues/refunds/{refund_id}/reject")
def reject_refund(request: Request, viewer: AdminDep, form: FormDep,
                   refund_id: ObjectId) -> Response:
    def work(uow: UnitOfWork) -> str:
        body = validated(RejectRefundIn, {"reason": text(form, "reason") or ""})
        refund = refunds.reject_refund(uow, refund_id, viewer.actor, reason=body.reason)
        return f"Refund {refund['id']} rejected."

    return act(request, viewer, form, work, done=QUEUE, back=QUEUE)


# -- payouts ------------------------------------------------------------------------------


@pages.post("/queues/payouts/{payout_id}/approve")
def approve_payout(request: Request, viewer: AdminDep, form: FormDep,
                   payout_id: ObjectId) -> Response:
    def work(uow: UnitOfWork) -> str:
        payout = payouts.approve_payout(uow, payout_id, viewer.actor)
        return (f"Payout {payout['id']} of {_money(viewer, payout['amount'], payout['currency'])}"
                " approved.")

    return _after(request, act(request, viewer, form, work, done=QUEUE, back=QUEUE))


@pages.post("/queues/payouts/{payout_id}/pay")
def pay_payout(request: Request, viewer: AdminDep, form: FormDep,
                   payout_id: ObjectId) -> Response:
    def work(uow: UnitOfWork) -> str:
        body = validated(PayPayoutIn, {"reference": text(form, "reference", max_length=200)
                                       or ""})
        payout = payouts.pay_payout(uow, payout_id, viewer.actor, reference=body.reference)
        return (f"Payout {payout['id']} of {_money(viewer, payout['amount'], payout['currency'])}"
                " recorded as paid.")

    return act(request, viewer, form, work, done=QUEUE, back=QUEUE)


@pages.post("/queues/payouts/{payout_id}/fail")
def fail_payout(request: Request, viewer: AdminDep, form: FormDep,
                   payout_id: ObjectId) -> Response:
    def work(uow: UnitOfWork) -> str:
        body = validated(FailPayoutIn, {"reason": text(form, "reason") or ""})
        payout = payouts.fail_payout(uow, payout_id, viewer.actor, reason=body.reason)
        return f"Payout {payout['id']} failed; the money is available to the seller again."

    return act(request, viewer, form, work, done=QUEUE, back=QUEUE)


# -- disputes -----------------------------------------------------------------------------


@pages.post("/queues/disputes/{dispute_id}/{outcome}")
def decide_dispute(request: Request, viewer: AdminDep, form: FormDep, dispute_id: ObjectId,
                         outcome: Annotated[str, Path(pattern=r"^(won|lost)$")]) -> Response:
    decide = disputes.win_dispute if outcome == "won" else disputes.lose_dispute

    def work(uow: UnitOfWork) -> str:
        body = validated(DisputeDecisionIn, {"reason": text(form, "reason")})
        dispute = decide(uow, dispute_id, viewer.actor, reason=body.reason)
        return f"Dispute {dispute['id']} recorded as {dispute['status']}."

    return act(request, viewer, form, work, done=QUEUE, back=QUEUE)


# -- reconciliation -----------------------------------------------------------------------


@pages.post("/queues/exceptions/{exception_id}/resolve")
def resolve_exception(request: Request, viewer: AdminDep, form: FormDep,
                            exception_id: ObjectId) -> Response:
    def work(uow: UnitOfWork) -> str:
        body = validated(ResolveIn, {"note": text(form, "note") or ""})
        line = reconciliation.resolve_exception(uow, exception_id, body.note, viewer.actor)
        return f"Exception {line['id']} resolved."

    return act(request, viewer, form, work, done=QUEUE, back=QUEUE)


# -- webhook deliveries -------------------------------------------------------------------


@pages.post("/queues/deliveries/{delivery_id}/replay")
def replay_delivery(request: Request, viewer: AdminDep, form: FormDep,
                          delivery_id: ObjectId) -> Response:
    """Not through ``act``: ``webhooks.replay_delivery`` opens its own transactions on
    the storage (it locks the delivery, then applies each event as the intake does), so
    it cannot share one with a form key's claim. It is safe to repeat (a replayed
    delivery changes nothing already done: state never regresses), so a double click
    only replays twice; the CSRF token is still required, and the outcome is a notice."""
    check_csrf(viewer, form.get("csrf_token"))
    response = RedirectResponse(local(QUEUE), status_code=303)
    try:
        delivery = webhooks.replay_delivery(storage_of(request), viewer.actor, delivery_id)
    except PaytrackError as exc:
        flash(request, response, "error", exc.detail or exc.title)
        return response
    flash(request, response, "ok", f"Delivery {delivery['id']} replayed: {delivery['status']}.")
    return response
