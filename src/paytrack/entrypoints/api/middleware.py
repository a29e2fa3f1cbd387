"""What every request passes before a route sees it (pure ASGI, nothing buffered).

    Authenticate        API paths: the bearer key is checked before anything reads the
                        body (401), and an address that keeps failing is locked out (429)
"""

from __future__ import annotations

import math
from collections.abc import Collection

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from paytrack.domain.errors import Unauthenticated
from paytrack.entrypoints.api.deps import authenticated, bearer_token
from paytrack.entrypoints.api.problems import response_for
from paytrack.entrypoints.api.throttle import FailureLimiter

API_PREFIX = "/v1/"


def _route_path(scope: Scope) -> str:
    """The path as the router matches it: without the ``root_path`` a proxy put in front."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root + "/") else path


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
