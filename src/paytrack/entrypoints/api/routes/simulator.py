"""The simulator's hosted payment page, at the ``payment_url`` its checkouts return.

``GET /simulator/checkout/{token}`` shows the amount, the description, the expiry, the
test cards and the delivery options; ``POST`` (a urlencoded form) records the card's
outcome, queues its webhooks and sends the browser back (303) to the checkout's return
URL with ``payment_id`` and ``status``. No key is needed: the customer's browser opens
it, and the signed token is the only authority. A changed token is a 400, an expired one
a 410, a second payment a 409 ("already paid"), a bad form a 422, all as HTML pages.

Build it with ``router(get_gateway)``: ``get_gateway`` returns the configured
``SimulatorGateway`` (its errors, ``GatewayNotConfigured`` say, become their page).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from paytrack.adapters.gateways.simulator import ORDERS, Payment, SimulatorGateway, status_at
from paytrack.adapters.gateways.simulator_rules import (
    CARD_FIELD_MAX_CHARS,
    DELAY_S_MAX,
    DUPLICATES_MAX,
    TEST_CARDS,
    CheckoutToken,
    TestCard,
    TokenExpired,
    TokenInvalid,
    card_for,
)
from paytrack.domain.errors import PaytrackError
from paytrack.domain.gateways import RemoteStatus
from paytrack.domain.money import format_amount

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                   auto_reload=False)
HEADERS = {"Cache-Control": "no-store",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                      "frame-ancestors 'none'; base-uri 'none'"}
ORDER_LABELS = {"in_order": "in order", "reversed": "reversed (latest first)",
                "shuffled": "shuffled"}
_SMALL_COUNT = re.compile(r"[0-9]{1,6}")
FORM_FIELDS_MAX = 20


pages = APIRouter(include_in_schema=False)


def serve(app: FastAPI, get_gateway: Callable[[], SimulatorGateway]) -> None:
    """Serve the hosted page on ``app``, paying through the simulator ``get_gateway()``
    answers. (The routes are the module's own and find it on the app: FastAPI caches what
    it learns of each endpoint function for the process, so a closure made per app would
    keep every app alive.)"""
    app.state.simulator_gateway = get_gateway
    app.include_router(pages)


def _gateway(request: Request) -> SimulatorGateway:
    gateway: SimulatorGateway = request.app.state.simulator_gateway()
    return gateway


@pages.get("/simulator/checkout/{token}", response_class=HTMLResponse)
def show_checkout(token: str, request: Request) -> Response:
    return _guarded(lambda: _show(_gateway(request), token))


@pages.post("/simulator/checkout/{token}", response_class=HTMLResponse)
async def pay_checkout(token: str, request: Request) -> Response:
    try:
        form = await request.form(max_files=0, max_fields=FORM_FIELDS_MAX)
    except Exception:  # a malformed or oversized multipart body, a file field
        return _message(400, "This form could not be read",
                        "Send the payment form as it is shown on the page.")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(
        lambda: _guarded(lambda: _pay(_gateway(request), token, fields)))


def _guarded(action: Callable[[], Response]) -> Response:
    try:
        return action()
    except PaytrackError as exc:  # no configuration, say: its own status, never a 500
        return _message(exc.status, exc.title, exc.detail)


def _show(gateway: SimulatorGateway, token: str) -> Response:
    opened = _open(gateway, token, paying=False)
    if isinstance(opened, Response):
        return opened
    existing = gateway.checkout(payment_id=opened.payment_id)
    if existing is not None and existing["outcome"] == "expired":
        return _expired(opened)
    if existing is not None:
        payment = Payment(status_at(existing, gateway.clock()), already_paid=True)
        return _already_paid(opened, payment, 200)
    return _form(gateway, opened, 200)


def _pay(gateway: SimulatorGateway, token: str, fields: Mapping[str, str]) -> Response:
    opened = _open(gateway, token, paying=True)
    if isinstance(opened, Response):
        return opened
    choice = _read_form(fields)
    if isinstance(choice, str):
        return _form(gateway, opened, 422, error=choice, fields=fields)
    card, duplicates, delay_s, order = choice
    if not _usable(opened.return_url):
        return _message(400, "This checkout cannot return to the shop",
                        "Its return URL is not an http or https address; nothing was paid.")
    payment = gateway.pay(opened, card, duplicates=duplicates, delay_s=delay_s, order=order)
    if payment.already_paid:
        return _already_paid(opened, payment, 409)
    target = _return_to(opened, payment.status)
    assert target is not None  # checked usable above
    return RedirectResponse(target, status_code=303)


def _open(gateway: SimulatorGateway, token: str, *, paying: bool) -> CheckoutToken | Response:
    try:
        return gateway.open_checkout(token)
    except TokenInvalid:
        return _message(400, "This payment link is not valid",
                        "It was changed, or it is not a paytrack simulator link.")
    except TokenExpired as exc:
        payment = gateway.expire(exc.checkout)
        if payment.already_paid and payment.status is not RemoteStatus.CANCELED:
            return _already_paid(exc.checkout, payment, 409 if paying else 200)
        return _expired(exc.checkout)


def _expired(checkout: CheckoutToken) -> Response:
    return _message(410, "This payment link has expired",
                    "Nothing was paid. Go back to the shop to start again.",
                    back_url=_return_to(checkout, RemoteStatus.CANCELED))


def _read_form(fields: Mapping[str, str]) -> tuple[TestCard, int, int | None, str] | str:
    """The choices, or what is wrong with them (never echoing a card number)."""
    card = card_for(fields.get("card", "").strip())
    if card is None:
        return "Use a test card: this simulator takes no other number."
    duplicates = _count(fields.get("duplicates", ""), default=1)
    if duplicates is None or not 1 <= duplicates <= DUPLICATES_MAX:
        return f"Send every webhook 1 to {DUPLICATES_MAX} times."
    delay_s = _count(fields.get("delay_s", ""), default=-1)
    if delay_s is None or delay_s > DELAY_S_MAX:
        return f"The delay is a whole number of seconds from 0 to {DELAY_S_MAX}."
    order = fields.get("order", "").strip() or "in_order"
    if order not in ORDERS:
        return f"The order is one of {', '.join(ORDERS)}."
    return card, duplicates, None if delay_s < 0 else delay_s, order


def _count(text: str, *, default: int) -> int | None:
    text = text.strip()
    if not text:
        return default
    return int(text) if _SMALL_COUNT.fullmatch(text) else None


def _usable(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _return_to(checkout: CheckoutToken, status: RemoteStatus) -> str | None:
    if not _usable(checkout.return_url):
        return None
    parts = urlsplit(checkout.return_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in ("payment_id", "status")]
    query += [("payment_id", checkout.payment_id), ("status", status.value)]
    return urlunsplit(parts._replace(query=urlencode(query)))


# -- pages ---------------------------------------------------------------------------------


def _amount(checkout: CheckoutToken) -> str:
    try:
        return f"{format_amount(checkout.amount, checkout.currency)} {checkout.currency}"
    except PaytrackError:
        return f"{checkout.amount} {checkout.currency} (minor units)"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _form(gateway: SimulatorGateway, checkout: CheckoutToken, status: int, *,
          error: str | None = None, fields: Mapping[str, str] | None = None) -> Response:
    fields = fields or {}
    order = fields.get("order", "in_order")
    return _render("simulator_checkout.html", status, amount=_amount(checkout),
                   description=checkout.description, payment_id=checkout.payment_id,
                   expires=_when(checkout.expires_at), cards=TEST_CARDS, error=error,
                   card_max=CARD_FIELD_MAX_CHARS, duplicates_max=DUPLICATES_MAX,
                   delay_max=DELAY_S_MAX, duplicates=fields.get("duplicates", "1")[:6],
                   delay_s=fields.get("delay_s", "")[:6],
                   order=order if order in ORDERS else "in_order",
                   orders=list(ORDER_LABELS.items()))


def _already_paid(checkout: CheckoutToken, payment: Payment, status: int) -> Response:
    return _message(status, "Already paid",
                    f"This checkout was paid already ({payment.status.value}); "
                    "nothing more was charged.", amount=_amount(checkout),
                    back_url=_return_to(checkout, payment.status))


def _message(status: int, title: str, detail: str, *, amount: str | None = None,
             back_url: str | None = None) -> Response:
    return _render("simulator_message.html", status, title=title, detail=detail,
                   amount=amount, back_url=back_url)


def _render(template: str, status: int, **context: object) -> Response:
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)
