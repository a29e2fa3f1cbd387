"""The dashboard: server-rendered pages at ``/dashboard``, mounted on the API's app.

Pages read through the same service functions as the API, as the signed-in ``Actor``, and
show the role's own view of each object (``views.present``); forms post to the same
service functions (``actions.act``). A seller asking for anything not its own gets the
404 page, as its API key would.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from paytrack.domain.errors import PaytrackError
from paytrack.entrypoints.api.throttle import FailureLimiter
from paytrack.entrypoints.web.actions import PREFIX
from paytrack.entrypoints.web.pages import access, admin, bookings, manage, queues, seller
from paytrack.entrypoints.web.render import page
from paytrack.entrypoints.web.session import CsrfRefused, SignInRequired, viewer_or_none

STATIC = Path(__file__).resolve().parent / "static"


def mount(parent: FastAPI, *, limiter: FailureLimiter | None) -> None:
    """Serve the dashboard under ``/dashboard`` of ``parent`` (and link it from ``/``);
    ``limiter`` counts failed sign-ins per address."""
    dashboard = FastAPI(openapi_url=None, docs_url=None, redoc_url=None,
                        redirect_slashes=False)
    dashboard.state.parent = parent
    dashboard.state.limiter = limiter
    for module in (access, admin, seller, bookings, queues, manage):
        dashboard.include_router(module.pages)
    dashboard.mount("/static", StaticFiles(directory=STATIC), name="static")
    dashboard.add_exception_handler(SignInRequired, _sign_in)
    dashboard.add_exception_handler(CsrfRefused, _csrf_refused)
    dashboard.add_exception_handler(PaytrackError, _refused)
    dashboard.add_exception_handler(RequestValidationError, _bad_request)
    dashboard.add_exception_handler(HTTPException, _http_error)
    parent.mount(PREFIX, dashboard)
    for path in ("/", PREFIX):
        parent.add_api_route(path, _home, methods=["GET"], include_in_schema=False)


def _home() -> Response:
    return RedirectResponse(PREFIX + "/", status_code=307)


async def _sign_in(request: Request, exc: Exception) -> Response:
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    from urllib.parse import urlencode
    return RedirectResponse(f"{PREFIX}/sign-in?{urlencode({'next': wanted})}",
                            status_code=303)


def _error(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return page(request, viewer_or_none(request), "error.html", status=status,
                title=title, detail=detail)


async def _csrf_refused(request: Request, exc: Exception) -> Response:
    return _error(request, 403, "Form refused",
                  "This form was not sent from this dashboard session (its CSRF token is "
                  "missing or wrong). Reload the page and try again.")


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PaytrackError)
    return _error(request, exc.status if exc.status < 500 else 400, exc.title, exc.detail)


async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = ", ".join(str(e.get("loc", ("?",))[-1]) for e in exc.errors()[:5])
    return _error(request, 400, "Bad request", f"Check these fields: {fields}.")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return _error(request, 404, "Not found", "There is nothing here.")
    if exc.status_code == 405:
        return _error(request, 405, "Method not allowed", "This page cannot be sent that way.")
    return _error(request, exc.status_code, "Request failed", str(exc.detail))
