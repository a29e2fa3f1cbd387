"""The FastAPI application."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp

import paytrack
from paytrack.adapters.gateways.simulator import SimulatorGateway
from paytrack.adapters.storage.uow import Storage
from paytrack.config import Settings
from paytrack.entrypoints.api import parameters, problems
from paytrack.entrypoints.api.middleware import Authenticate, BodyLimit, SecurityHeaders
from paytrack.entrypoints.api.routes import (
    analytics,
    checkout,
    coupons,
    disputes,
    events,
    exports,
    gateways,
    ledger,
    orders,
    parties,
    payments,
    payouts,
    reconciliation,
    refund_policy,
    refunds,
    simulator,
    subscriptions,
    webhooks,
)
from paytrack.entrypoints.api.throttle import FailureLimiter
from paytrack.entrypoints.web import app as dashboard
from paytrack.services import gateways as gateway_config

if TYPE_CHECKING:
    from paytrack.entrypoints.upkeep import Upkeep

DESCRIPTION = """
Payment tracking and a revenue ledger for marketplaces.

* Amounts are **integer minor units** of the currency (`1250` = 12.50 USD, `500` = 500 JPY).
* Authenticate with `Authorization: Bearer <key>` (`paytrack keys create --role admin`).
* Every POST accepts an `Idempotency-Key` header: the same key and body replays the first
  response; another body is refused; a twin still in flight gets 409.
* Errors are `application/problem+json` with a stable `code`; a refused field is named
  with what was expected and an example.
* Nothing is ignored: a query parameter a route does not take is a 400
  (`unknown_parameter`), so is one given twice (`repeated_parameter`), a `cursor` no list
  returned is a 400 (`invalid_cursor`), and an
  id that cannot be one (`pay_%00`) is a 422, while a well-formed id of nothing you may
  see is a 404.
"""


# Sync handlers run in a thread pool; a few threads per process keep the database busy
# without the whole pool fighting over the GIL (measured in bench/http_capture.py).
THREADS_PER_PROCESS = int(os.environ.get("PAYTRACK_THREADS", "4"))

# API paths that answer without a key: gateways sign their webhooks instead.
PUBLIC_PATHS = {"/v1/health", *webhooks.INTAKE_PATHS}


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS_PER_PROCESS
    upkeep: Upkeep | None = app.state.upkeep
    if upkeep is not None:
        upkeep.start()
    try:
        yield
    finally:
        if upkeep is not None:
            upkeep.stop()


def create_app(storage: Storage | None, settings: Settings | None = None, *,
               upkeep: bool = False) -> FastAPI:
    """The app; ``storage`` may be attached later as ``app.state.storage`` (tests).
    With ``upkeep``, balance deltas are folded and expired idempotency keys purged in a
    background thread while the app runs (``paytrack serve`` does this by default)."""
    from paytrack.entrypoints.upkeep import Upkeep  # it imports the views, and so this package

    settings = settings or Settings()
    # FastAPIOffline: the same FastAPI, with /docs assets served locally (works offline).
    app = FastAPIOffline(title="paytrack", version=paytrack.__version__,
                         description=DESCRIPTION, lifespan=_lifespan,
                         redirect_slashes=False,  # its redirect would echo the Host header
                         dependencies=[Depends(parameters.no_unknown_parameters)])
    app.state.storage = storage
    app.state.upkeep = Upkeep(storage, settings.upkeep_interval_s,
                              rules=settings.delivery_rules) \
        if upkeep and storage is not None else None
    problems.install(app)
    # The last added runs first: the key is checked before the body is counted or read.
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)
    limiter = FailureLimiter(settings.auth_failures_max, settings.auth_failure_window_s,
                             settings.auth_lockout_s) if settings.auth_failures_max else None
    app.add_middleware(Authenticate, public_paths=PUBLIC_PATHS, limiter=limiter)
    app.state.auth_limiter = limiter
    _add_security_headers_outermost(app)
    for module in (payments, refunds, coupons, disputes, payouts, parties, ledger,
                   refund_policy, gateways, webhooks, events, subscriptions, orders,
                   reconciliation, analytics):
        app.include_router(module.api)
    app.include_router(exports.api)
    app.include_router(exports.sellers)
    app.include_router(webhooks.intake)
    simulator.serve(app, lambda: _simulator(app.state.storage))
    app.include_router(checkout.pages)
    app.state.sign_in_limiter = FailureLimiter(
        settings.auth_failures_max, settings.auth_failure_window_s, settings.auth_lockout_s
    ) if settings.auth_failures_max else None
    dashboard.mount(app, limiter=app.state.sign_in_limiter)

    app.add_api_route("/v1/health", health, methods=["GET"], tags=["health"],
                      responses=problems.documented(400))
    _document_problem_schema(app)
    return app


def health() -> dict[str, str]:
    """Liveness: answers without touching the database."""
    return {"status": "ok"}


def _simulator(storage: Storage) -> SimulatorGateway:
    """The built-in simulator gateway, configured on first use."""
    with storage.unit_of_work() as uow:
        adapter = gateway_config.adapter_for(uow, "simulator")
        uow.commit()
    assert isinstance(adapter, SimulatorGateway)
    return adapter


def _add_security_headers_outermost(app: FastAPI) -> None:
    """Middleware added with ``add_middleware`` runs inside the layer that answers an
    internal error; wrapping the whole stack puts the headers on that 500 too.
    (``FastAPIOffline`` returns an instance, so the method is wrapped, not overridden.)"""
    build = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build())

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Any string of 1 to 255 printable characters, unique per request (a UUID): "
                   "a retry with the same key and body replays the first response",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "example": "order-1001-capture",
}


# Building the schema takes about 2 s, and a validation error's message reads it (hints.py):
# apps with the same routes (each test makes one) share the one built first.
_SCHEMAS: dict[tuple, dict] = {}


def _routes_key(app: FastAPI) -> tuple:
    routes = tuple((route.path, tuple(sorted(route.methods or ())), route.endpoint)
                   for route in app.routes
                   if isinstance(route, APIRoute) and route.include_in_schema)
    return (app.title, app.version, app.description, routes)


def _document_problem_schema(app: FastAPI) -> None:
    """Make sure ``Problem`` is in the schema components the routes point at."""
    original = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            key = _routes_key(app)
            if key in _SCHEMAS:
                app.openapi_schema = _SCHEMAS[key]
                return app.openapi_schema
            schema = original()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.setdefault("Problem", problems.Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"))
            components.setdefault("FieldError", problems.FieldError.model_json_schema())
            for path in schema.get("paths", {}).values():
                if "post" in path:
                    path["post"].setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            app.openapi_schema = _SCHEMAS[key] = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
