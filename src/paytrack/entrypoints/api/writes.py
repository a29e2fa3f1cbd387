"""Write requests: one unit of work each, with its ``Idempotency-Key``.

A POST's key is claimed, its work done and its response stored in one database
transaction (``Write.run``), so a crash at any instant leaves all three or none: a retry
replays the stored response or runs for the first time, never twice. All of it runs in the
endpoint's own thread, so a request holding a lock never waits for a free thread.

A response that carries a secret (an event endpoint's signing secret) names it in
``sealed``: the stored copy holds it encrypted with the payout keys, and a replay decrypts it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from functools import cache
from typing import Annotated, Any, NamedTuple

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from paytrack.adapters.secrets import KeyMissing
from paytrack.adapters.storage.uow import Storage, UnitOfWork
from paytrack.domain.errors import (
    Conflict,
    IdempotencyKeyReused,
    IdempotentRequestInFlight,
    PaytrackError,
)
from paytrack.entrypoints.api.deps import StorageDep, authenticated, bearer_token
from paytrack.entrypoints.api.problems import MEDIA_TYPE, response_for
from paytrack.services import idempotency

HEADER = "Idempotency-Key"


class _Key(NamedTuple):
    scope: str  # the API key's id
    key: str
    fingerprint: str


class WriteRoute(APIRoute):
    """Reads a POST's ``Idempotency-Key`` (after authenticating the caller) for ``Write``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            key = request.headers.get(HEADER)
            if request.method == "POST" and key is not None:
                try:
                    request.state.idempotency = await _read_key(request, key)
                except Exception as exc:
                    response = response_for(exc)
                    if response is None:
                        raise
                    return response
            return await handler(request)

        return route


async def _read_key(request: Request, key: str) -> _Key:
    await authenticated(request, bearer_token(request.headers.get("authorization")))
    idempotency.check_key(key)
    body = await request.body()
    raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
    fingerprint = idempotency.request_fingerprint(
        request.method, raw_path.decode("latin-1"),
        request.scope.get("query_string", b"").decode("latin-1"), body)
    return _Key(request.state.api_key["id"], key, fingerprint)


class Write:
    """The unit of work of one write request."""

    def __init__(self, request: Request, storage: Storage) -> None:
        self.request = request
        self.storage = storage
        self.key: _Key | None = getattr(request.state, "idempotency", None)
        self.sealed: tuple[str, ...] = ()

    def run(self, work: Callable[[UnitOfWork], Any], *,
            sealed: tuple[str, ...] = ()) -> Response:
        """Claim the key, do ``work``, shape its result as the route's response, store the
        response with the key and commit: one transaction. A domain error rolls the work
        back; its response is then stored for the key on its own. The top-level fields
        ``sealed`` of the response are stored encrypted."""
        self.sealed = sealed
        try:
            return self.storage.run(lambda uow: self._attempt(uow, work))
        except (IdempotencyKeyReused, IdempotentRequestInFlight):
            raise
        except PaytrackError as exc:
            response = response_for(exc)
            if self.key is None or response is None or response.status_code >= 500:
                raise
            return self._store_error(response)

    def _attempt(self, uow: UnitOfWork, work: Callable[[UnitOfWork], Any]) -> Response:
        if self.key is not None:
            replay = idempotency.claim(uow, *self.key)
            if replay is not None:
                return self._replayed(replay)
        response = self._respond(work(uow))
        if self.key is not None:
            idempotency.record(uow, self.key.scope, self.key.key, response.status_code,
                               self._seal(bytes(response.body).decode()))
        return response

    def _respond(self, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        route: APIRoute = self.request.scope["route"]
        adapter = _adapter(route.response_model)
        body = adapter.dump_json(adapter.validate_python(result), by_alias=True)
        return Response(body, status_code=route.status_code or 200,
                        media_type="application/json")

    def _store_error(self, response: Response) -> Response:
        assert self.key is not None
        with self.storage.unit_of_work() as uow:
            replay = idempotency.claim(uow, *self.key)
            if replay is not None:  # a twin finished meanwhile: answer as it did
                return self._replayed(replay)
            idempotency.record(uow, self.key.scope, self.key.key, response.status_code,
                               bytes(response.body).decode())
            uow.commit()
        return response

    def _replayed(self, replay: idempotency.Replay) -> Response:
        media_type = "application/json" if replay.status < 400 else MEDIA_TYPE
        try:
            body = self._unseal(replay.body)
        except KeyMissing:
            unreadable = response_for(Conflict(
                "the first answer to this Idempotency-Key holds a secret encrypted with a "
                "payout key no longer configured; the work was done: rotate the secret to "
                "see a new one"))
            assert unreadable is not None
            return unreadable
        return Response(body, status_code=replay.status,
                        media_type=media_type, headers={"Idempotent-Replayed": "true"})

    def _seal(self, body: str) -> str:
        return self._each_sealed(body, lambda value: {_SEALED: self.storage.payout_keys
                                                      .encrypt({"value": value})})

    def _unseal(self, body: str) -> str:
        return self._each_sealed(body, lambda value: self.storage.payout_keys.decrypt(
            value[_SEALED])["value"] if isinstance(value, dict) and _SEALED in value
            else value)

    def _each_sealed(self, body: str, change: Callable[[Any], Any]) -> str:
        if not self.sealed:
            return body
        data = json.loads(body)
        if not isinstance(data, dict) or not any(name in data for name in self.sealed):
            return body  # a problem: nothing secret in it
        for name in self.sealed:
            if name in data:
                data[name] = change(data[name])
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


_SEALED = "paytrack_sealed"  # {"secret": {"paytrack_sealed": "<Fernet token>"}}


@cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


async def get_write(request: Request, storage: StorageDep) -> Write:  # no I/O
    return Write(request, storage)


WriteDep = Annotated[Write, Depends(get_write)]
