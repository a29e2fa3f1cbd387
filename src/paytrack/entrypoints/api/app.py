"""The FastAPI application."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline

import paytrack
from paytrack.adapters.storage.uow import Storage
from paytrack.entrypoints.api import parameters, problems
from paytrack.entrypoints.api.routes import ledger, parties, payments, refunds

DESCRIPTION = """
Payment tracking and a revenue ledger for marketplaces.

* Amounts are **integer minor units** of the currency (`1250` = 12.50 USD, `500` = 500 JPY).
* Authenticate with `Authorization: Bearer <key>` (`paytrack keys create --role admin`).
* Every POST accepts an `Idempotency-Key` header: the same key and body replays the first
  response; another body is refused; a twin still in flight gets 409.
* Errors are `application/problem+json` with a stable `code`; a refused field is named
  with what was expected and an example.
* Nothing is ignored: a query parameter a route does not take is a 400
  (`unknown_parameter`), a `cursor` no list returned is a 400 (`invalid_cursor`), and an
  id that cannot be one (`pay_%00`) is a 422, while a well-formed id of nothing you may
  see is a 404.
"""


# Sync handlers run in a thread pool; a few threads per process keep the database busy
# without the whole pool fighting over the GIL (measured in bench/http_capture.py).
THREADS_PER_PROCESS = int(os.environ.get("PAYTRACK_THREADS", "4"))


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS_PER_PROCESS
    yield


def create_app(storage: Storage | None) -> FastAPI:
    """The app; ``storage`` may be attached later as ``app.state.storage`` (tests)."""
    # FastAPIOffline: the same FastAPI, with /docs assets served locally (works offline).
    app = FastAPIOffline(title="paytrack", version=paytrack.__version__,
                         description=DESCRIPTION, lifespan=_lifespan,
                         dependencies=[Depends(parameters.no_unknown_parameters)])
    app.state.storage = storage
    problems.install(app)
    for module in (payments, refunds, parties, ledger):
        app.include_router(module.api)

    @app.get("/v1/health", tags=["health"], responses=problems.documented(400))
    def health() -> dict[str, str]:
        """Liveness: answers without touching the database."""
        return {"status": "ok"}

    _document_problem_schema(app)
    return app


def _document_problem_schema(app: FastAPI) -> None:
    """Make sure ``Problem`` is in the schema components the routes point at."""
    original = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = original()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.setdefault("Problem", problems.Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"))
            components.setdefault("FieldError", problems.FieldError.model_json_schema())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
