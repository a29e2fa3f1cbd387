"""Dependencies: the storage and the caller (from its API key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor
from paytrack.services import permissions
from paytrack.services.keys import authenticate
from paytrack.services.permissions import Action

bearer = HTTPBearer(auto_error=False, description="A paytrack API key: `paytrack keys create`")


async def get_storage(request: Request) -> Storage:  # async: no I/O, no thread hop
    return request.app.state.storage


StorageDep = Annotated[Storage, Depends(get_storage)]


def identify(request: Request, storage: Storage, token: str | None) -> Actor:
    """Authenticate once per request; the middleware, the idempotency layer and the route
    share the result."""
    actor = getattr(request.state, "actor", None)
    if actor is None:
        with storage.unit_of_work(readonly=True) as uow:
            actor, key = authenticate(uow, token)
        request.state.actor, request.state.api_key = actor, key
    return actor


def bearer_token(authorization: str | None) -> str | None:
    """The key in an ``Authorization: Bearer <key>`` header (parsed as ``bearer`` does)."""
    scheme, token = get_authorization_scheme_param(authorization)
    return token if scheme.lower() == "bearer" and token else None


async def authenticated(request: Request, token: str | None) -> Actor:
    """The caller: looked up once (by the authentication middleware, before the body is
    read), then taken from ``request.state`` without another thread hop."""
    actor = getattr(request.state, "actor", None)
    if actor is not None:
        return actor
    return await run_in_threadpool(identify, request, request.app.state.storage, token)


async def current_actor(request: Request,
                        credentials: Annotated[HTTPAuthorizationCredentials | None,
                                               Depends(bearer)]) -> Actor:
    return await authenticated(request, credentials.credentials if credentials else None)


ActorDep = Annotated[Actor, Depends(current_actor)]


def may(action: Action):
    """The caller, if ``permissions`` says its role may ever do ``action``: asked before the
    request body is read, so a role that never may is refused first (403). The service asks
    again, about the object itself."""

    async def check(actor: ActorDep) -> Actor:
        permissions.check(actor, action)
        return actor

    return Depends(check)
