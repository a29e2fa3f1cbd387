"""``Idempotency-Key`` on every POST: a route class that claims the key before the handler
runs and stores the response it gave (status and body) for replay."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from paytrack.entrypoints.api.deps import identify
from paytrack.entrypoints.api.problems import response_for
from paytrack.services import idempotency

HEADER = "Idempotency-Key"


class IdempotentRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            key = request.headers.get(HEADER)
            if request.method != "POST" or key is None:
                return await handler(request)
            try:
                return await _idempotent(request, key, handler)
            except Exception as exc:
                response = response_for(exc)
                if response is None:
                    raise
                return response

        return route


async def _idempotent(request: Request, key: str, handler) -> Response:
    storage = request.app.state.storage
    authorization = request.headers.get("authorization", "")
    token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
    await run_in_threadpool(identify, request, storage, token)
    scope = request.state.api_key["id"]
    body = await request.body()
    fingerprint = idempotency.request_fingerprint(request.method, request.url.path, body)
    replay = await run_in_threadpool(idempotency.begin, storage, scope, key, fingerprint)
    if replay is not None:
        return Response(replay.body, status_code=replay.status,
                        media_type=_media_type(replay.status),
                        headers={"Idempotent-Replayed": "true"})
    try:
        response = await handler(request)
    except Exception as exc:
        response = response_for(exc)
        if response is None:
            await run_in_threadpool(idempotency.finish, storage, scope, key, 500, "")
            raise
    await run_in_threadpool(idempotency.finish, storage, scope, key, response.status_code,
                            bytes(response.body).decode())
    return response


def _media_type(status: int) -> str:
    return "application/json" if status < 400 else "application/problem+json"
