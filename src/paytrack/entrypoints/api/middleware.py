"""What every request passes before a route sees it (pure ASGI, nothing buffered).

    SecurityHeaders     every response, a 500 included: nosniff, no framing, no referrer;
                        API responses also no-store and a CSP that allows nothing
    Authenticate        API paths: the bearer key is checked before anything reads the
                        body (401), and an address that keeps failing is locked out (429)
    BodyLimit           a body larger than the limit is refused (413): at once when its
                        Content-Length says so, while it streams in otherwise
"""

from __future__ import annotations

import math
from collections.abc import Collection

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paytrack.domain.errors import Unauthenticated
from paytrack.entrypoints.api.deps import authenticated, bearer_token
from paytrack.entrypoints.api.problems import response_for
from paytrack.entrypoints.api.throttle import FailureLimiter

API_PREFIX = "/v1/"
DASHBOARD_PREFIX = "/dashboard/"


def _route_path(scope: Scope) -> str:
    """The path as the router matches it: without the ``root_path`` a proxy put in front."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root + "/") else path


class SecurityHeaders:
    EVERYWHERE = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                  "Referrer-Policy": "no-referrer"}
    # Not on /docs: Swagger UI runs an inline script.
    API = {"Cache-Control": "no-store",
           "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"}

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        is_api = _route_path(scope).startswith(API_PREFIX)
        wanted = self.EVERYWHERE | (self.API if is_api else {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Authenticate:
    """Checks the bearer key of every API request except ``public_paths``, with the same
    ``authenticated`` the routes use (which then reuse its result)."""

    def __init__(self, app: ASGIApp, *, public_paths: Collection[str],
                 limiter: FailureLimiter | None) -> None:
        self.app = app
        self.public_paths = frozenset(public_paths)
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = _route_path(scope)
        if not path.startswith(API_PREFIX) or path in self.public_paths:
            return await self.app(scope, receive, send)
        refusal = await self._refusal(scope)
        if refusal is None:
            return await self.app(scope, receive, send)
        await refusal(scope, receive, send)

    async def _refusal(self, scope: Scope) -> Response | None:
        """None if the caller may go on, else the 401 or 429 to answer."""
        address = scope["client"][0] if scope.get("client") else ""
        wait_s = self.limiter.retry_after_s(address) if self.limiter is not None else 0.0
        if wait_s > 0:
            retry_after = str(math.ceil(wait_s))
            return response_for(HTTPException(
                429, f"too many failed authentications from your address; retry in "
                     f"{retry_after} s", headers={"Retry-After": retry_after}))
        request = Request(scope)  # without ``receive``: it cannot read the body
        authorization = request.headers.get("authorization")
        try:
            await authenticated(request, bearer_token(authorization))
        except Unauthenticated as exc:
            if self.limiter is not None and authorization is not None:
                self.limiter.failed(address)  # a key was tried, and it was wrong
            return response_for(exc)
        return None


class _TooLarge(HTTPException):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(413, f"the request body is larger than {limit_bytes} bytes")


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.max_body_bytes
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            return await self._refuse(scope, receive, send)
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)  # answered as a problem by the app's handlers
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response: Response | None
        if _route_path(scope).startswith(DASHBOARD_PREFIX):  # a browser's form: a page
            response = HTMLResponse(
                "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">"
                "<title>Form too large</title><h1>Form too large</h1>"
                f"<p>This form sent more than {self.max_body_bytes} bytes. "
                "<a href=\"/dashboard/\">Back to the dashboard</a></p></html>",
                status_code=413, headers={"Cache-Control": "no-store"})
        else:
            response = response_for(_TooLarge(self.max_body_bytes))
        assert response is not None
        await response(scope, receive, send)
