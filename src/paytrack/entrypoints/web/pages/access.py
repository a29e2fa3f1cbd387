"""Signing in (username and password, or an API key), signing out, and the language."""

from __future__ import annotations

import hmac
import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from paytrack.domain.actors import DashboardSession
from paytrack.domain.errors import Unauthenticated
from paytrack.entrypoints.web.actions import PREFIX, local
from paytrack.entrypoints.web.i18n import LOCALES
from paytrack.entrypoints.web.render import page
from paytrack.entrypoints.web.session import (
    LANGUAGE,
    CsrfRefused,
    clear_session_cookie,
    current_viewer,
    set_session_cookie,
    storage_of,
    viewer_or_none,
)
from paytrack.services import dashboard_access

pages = APIRouter()
SIGN_IN_COOKIE = "paytrack_sign_in"  # the sign-in form's CSRF token, before any session
Text = Annotated[str, Form(max_length=500)]


@pages.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: Annotated[str | None, Query(max_length=2000)] = None,
                 ) -> Response:
    if viewer_or_none(request) is not None:
        return RedirectResponse(local(next), status_code=303)
    return _sign_in_form(request, next)


def _sign_in_form(request: Request, next: str | None, *, error: str | None = None,
                  username: str = "") -> Response:
    token = secrets.token_urlsafe(32)
    response = page(request, None, "sign_in.html", status=401 if error else 200,
                    next=local(next), form_token=token, error=error, username=username)
    response.set_cookie(SIGN_IN_COOKIE, token, max_age=3600, path=PREFIX, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


@pages.post("/sign-in")
async def sign_in(request: Request, form_token: Text = "", username: Text = "",
                  password: Text = "", api_key: Text = "", next: Text = "") -> Response:
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), form_token.encode()):
        raise CsrfRefused
    limiter = request.app.state.limiter
    address = request.client.host if request.client else ""
    if limiter is not None and (wait := limiter.retry_after_s(address)) > 0:
        return _sign_in_form(request, next, username=username, error=(
            f"Too many failed sign-ins from your address: try again in {math.ceil(wait)} s."))
    storage = storage_of(request)

    def open_session() -> tuple[DashboardSession, str]:
        with storage.unit_of_work() as uow:
            if api_key:
                opened = dashboard_access.sign_in_with_key(uow, api_key)
            else:
                opened = dashboard_access.sign_in_with_password(uow, username, password)
            uow.commit()
            return opened

    try:
        _, token = await run_in_threadpool(open_session)
    except Unauthenticated as exc:
        if limiter is not None:
            limiter.failed(address)
        return _sign_in_form(request, next, username=username, error=exc.detail)
    response = RedirectResponse(local(next), status_code=303)
    set_session_cookie(request, response, token)
    response.delete_cookie(SIGN_IN_COOKIE, path=PREFIX)
    return response


@pages.post("/sign-out")
def sign_out(request: Request, csrf_token: Text = "") -> Response:
    viewer = current_viewer(request)
    if not hmac.compare_digest(csrf_token.encode(), viewer.csrf.encode()):
        raise CsrfRefused
    with storage_of(request).unit_of_work() as uow:
        dashboard_access.sign_out(uow, viewer.token)
        uow.commit()
    response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    clear_session_cookie(response)
    return response


@pages.get("/language")
def choose_language(to: Annotated[str, Query(max_length=5)],
                    next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    """The language switch: remembered in a cookie (a preference, not a session)."""
    response = RedirectResponse(local(next), status_code=303)
    if to in LOCALES:
        response.set_cookie(LANGUAGE, to, max_age=365 * 24 * 3600, path=PREFIX,
                            samesite="lax")
    return response
