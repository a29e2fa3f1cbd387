"""HTTP hygiene: the key is checked before the body is read, bodies are bounded, 401s say
how to authenticate, no redirect echoes the Host header, an address that keeps failing to
authenticate is locked out, and every response carries security headers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import anyio
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from paytrack.config import Settings
from paytrack.entrypoints.api import create_app
from paytrack.entrypoints.api.app import PUBLIC_PATHS
from paytrack.entrypoints.api.deps import current_actor
from paytrack.entrypoints.api.routes import webhooks
from paytrack.entrypoints.api.throttle import FailureLimiter
from paytrack.services.keys import revoke_key
from tests.api.conftest import Api, payment_body
from tests.integration.conftest import ADMIN

MiB = 1024 * 1024


class Sent:
    """What a raw ASGI call answered, and how much of the body the app pulled."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""
        self.pulled_bytes = 0

    def json(self) -> dict:
        return json.loads(self.body)


def call(app, path: str, chunks: Iterable[bytes], headers: dict[str, str],
         method: str = "POST", root_path: str = "") -> Sent:
    """Stream ``chunks`` to the app as a client would (the TestClient reads a body in full
    before the app sees it, so it cannot show what the app reads)."""
    sent = Sent()
    pending: Iterator[bytes] = iter(chunks)

    async def receive() -> dict:
        chunk = next(pending, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        sent.pulled_bytes += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            sent.status = message["status"]
            sent.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            sent.body += message.get("body", b"")

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": root_path + path,
             "raw_path": (root_path + path).encode(), "root_path": root_path,
             "query_string": b"", "client": ("203.0.113.7", 50000),
             "server": ("testserver", 80), "state": {},
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    anyio.run(app, scope, receive, send)
    return sent


def garbage(total_bytes: int, chunk_bytes: int = 64 * 1024) -> Iterator[bytes]:
    for _ in range(total_bytes // chunk_bytes):
        yield b"x" * chunk_bytes


# -- authentication before the body ------------------------------------------------------

@pytest.mark.parametrize("idempotency_key", [None, "k1"])
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_50_mb_body_without_a_key_is_refused_before_it_is_read(app, declared,
                                                                 idempotency_key):
    headers = {"Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    if declared:
        headers["Content-Length"] = str(50 * MiB)
    sent = call(app, "/v1/payments", garbage(50 * MiB), headers)
    assert sent.status == 401 and sent.json()["code"] == "unauthenticated"
    assert sent.pulled_bytes == 0


def test_behind_a_proxy_path_prefix_the_key_is_still_checked_first(app):
    sent = call(app, "/v1/payments", [b'{"subtotal": '],
                {"Content-Type": "application/json"}, root_path="/paytrack")
    assert sent.status == 401 and sent.pulled_bytes == 0
    assert sent.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("authorization", [None, "Bearer ptk_nope_nope", "Basic eDp5"])
def test_malformed_json_without_a_valid_key_is_a_401_not_a_400(client, authorization):
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    for extra in ({}, {"Idempotency-Key": "k1"}):
        response = client.post("/v1/payments", content=b'{"subtotal": ',
                               headers={**headers, **extra})
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "unauthenticated"


def test_a_request_is_authenticated_once(admin, monkeypatch):
    from paytrack.entrypoints.api import deps

    calls = []
    original = deps.authenticate
    monkeypatch.setattr(deps, "authenticate",
                        lambda uow, token: calls.append(token) or original(uow, token))
    created = admin.post("/v1/payments", json=payment_body(),
                         headers={"Idempotency-Key": "once"})
    assert created.status_code == 201 and len(calls) == 1
    assert admin.get(f"/v1/payments/{created.json()['id']}").status_code == 200
    assert len(calls) == 2


def test_every_api_route_but_the_public_ones_needs_a_key(app):
    """The middleware checks keys on every /v1 path except PUBLIC_PATHS: that list must be
    exactly the routes that do not ask who the caller is."""
    def asks_for_actor(dependant) -> bool:
        return any(d.call is current_actor or asks_for_actor(d)
                   for d in dependant.dependencies)

    def flat(routes: Iterable) -> Iterator:  # FastAPI keeps an included router whole
        for route in routes:
            if hasattr(route, "original_router"):
                yield from flat(route.original_router.routes)
            else:
                yield route

    routes = [r for r in flat(app.routes)
              if isinstance(r, APIRoute) and r.path.startswith("/v1/")]
    assert routes
    public = {path.replace("{gateway}", gateway)
              for path in (r.path for r in routes if not asks_for_actor(r.dependant))
              for gateway in (webhooks.GATEWAYS if "{gateway}" in path else ("",))}
    assert public == PUBLIC_PATHS


def test_a_public_path_answers_without_a_key(client):
    assert client.get("/v1/health").status_code == 200


# -- the body limit ----------------------------------------------------------------------

@pytest.fixture
def small_limit(storage, make_key):
    """An app that takes bodies of at most 1,000 bytes, and an admin key for it."""
    return create_app(storage, Settings(max_body_bytes=1000)), make_key("admin")


def test_a_body_declared_over_the_limit_is_a_413_before_it_is_read(small_limit):
    app, token = small_limit
    sent = call(app, "/v1/payments", garbage(2 * MiB, 1024),
                {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                 "Content-Length": str(2 * MiB)})
    assert sent.status == 413 and sent.pulled_bytes == 0
    assert sent.headers["content-type"] == "application/problem+json"
    assert sent.json()["code"] == "payload_too_large" and "1000 bytes" in sent.json()["detail"]


@pytest.mark.parametrize("idempotency_key", [None, "k1"])
def test_a_streamed_body_is_cut_off_once_it_passes_the_limit(small_limit, idempotency_key):
    app, token = small_limit
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    sent = call(app, "/v1/payments", garbage(50 * MiB, 600), headers)
    assert sent.status == 413 and sent.json()["code"] == "payload_too_large"
    assert sent.pulled_bytes == 1200  # the chunk that passed the limit, and not one more


def test_a_body_within_the_limit_goes_through(small_limit):
    app, token = small_limit
    body = json.dumps(payment_body()).encode()
    body += b" " * (1000 - len(body))
    with TestClient(app) as client:
        response = client.post("/v1/payments", content=body, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status_code == 201, response.text


def test_the_default_limit_is_one_mib_and_configurable(admin, monkeypatch):
    assert Settings().max_body_bytes == MiB
    too_big = {**payment_body(), "description": "x" * MiB}
    response = admin.post("/v1/payments", json=too_big)
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    monkeypatch.setenv("PAYTRACK_MAX_BODY_BYTES", "2048")
    assert Settings().max_body_bytes == 2048


# -- 401s, redirects ----------------------------------------------------------------------

def test_every_401_says_how_to_authenticate(client, storage, make_key):
    token = make_key("admin")
    with storage.unit_of_work() as uow:
        revoke_key(uow, token.split("_")[1], ADMIN)
        uow.commit()
    for api in (Api(client, None), Api(client, "ptk_nope_nope"), Api(client, token)):
        for response in (api.get("/v1/payments"), api.get("/v1/nowhere"),
                         api.post("/v1/payments", json=payment_body(),
                                  headers={"Idempotency-Key": "k1"})):
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_trailing_slash_is_a_404_not_a_redirect_to_the_host_header(admin, method):
    response = admin.client.request(
        method, "/v1/payments/", json=payment_body() if method == "POST" else None,
        headers={**admin.headers, "Host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 404 and "location" not in response.headers
    assert "evil.example" not in response.text


# -- locking out an address that keeps failing --------------------------------------------

@pytest.fixture
def strict(storage):
    return create_app(storage, Settings(auth_failures_max=3, auth_failure_window_s=60,
                                        auth_lockout_s=30))


def test_repeated_authentication_failures_from_one_address_get_a_429(strict, make_key):
    token = make_key("admin")
    with TestClient(strict, client=("198.51.100.1", 1000)) as attacker, \
            TestClient(strict, client=("198.51.100.2", 1000)) as neighbour:
        for _ in range(10):  # no key at all: a 401, but not a guess
            assert attacker.get("/v1/payments").status_code == 401
        for _ in range(3):
            assert Api(attacker, "ptk_guess_guess").get("/v1/payments").status_code == 401
        for api in (Api(attacker, "ptk_guess_guess"), Api(attacker, token)):
            refused = api.get("/v1/payments")
            assert refused.status_code == 429
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["code"] == "too_many_requests"
            assert refused.headers["Retry-After"] == "30"
        assert attacker.get("/v1/health").status_code == 200
        assert Api(neighbour, token).get("/v1/payments").status_code == 200


def test_failures_slide_out_of_the_window_and_a_lockout_ends():
    now = [0.0]
    limiter = FailureLimiter(3, window_s=10, lockout_s=30, clock=lambda: now[0])
    for t in (0, 6, 12):  # never three within ten seconds
        now[0] = t
        limiter.failed("a")
    assert limiter.retry_after_s("a") == 0
    now[0] = 13
    limiter.failed("a")  # 6, 12, 13
    assert limiter.retry_after_s("a") == 30
    now[0] = 40
    assert limiter.retry_after_s("a") == 3
    now[0] = 43
    assert limiter.retry_after_s("a") == 0
    limiter.failed("a")
    assert limiter.retry_after_s("a") == 0  # the failures before the lockout are forgotten


def test_the_limiter_remembers_a_bounded_number_of_addresses():
    limiter = FailureLimiter(2, window_s=10, lockout_s=30, clients_max=100)
    for i in range(10_000):
        limiter.failed(f"10.0.{i // 256}.{i % 256}")
    assert limiter.addresses_tracked == 100


def test_the_limiter_can_be_turned_off(storage):
    app = create_app(storage, Settings(auth_failures_max=0))
    with TestClient(app) as client:
        for _ in range(50):
            assert Api(client, "ptk_guess_guess").get("/v1/payments").status_code == 401


# -- security headers ---------------------------------------------------------------------

def test_every_response_carries_security_headers(app, admin, monkeypatch):
    from paytrack.services import payments

    def broken(*_args, **_kw):
        raise RuntimeError("a bug")

    responses = {
        "health": admin.client.get("/v1/health"),
        "ok": admin.get("/v1/payments"),
        "401": admin.client.get("/v1/payments"),
        "404": admin.get("/v1/payments/pay_nope"),
        "422": admin.post("/v1/payments", json={}),
        "docs": admin.client.get("/docs"),
        "openapi": admin.client.get("/openapi.json"),
    }
    monkeypatch.setattr(payments, "list_payments", broken)
    responses["500"] = admin.get("/v1/payments")
    assert responses["500"].status_code == 500
    for name, response in responses.items():
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["X-Frame-Options"] == "DENY", name
        assert response.headers["Referrer-Policy"] == "no-referrer", name
        if name not in ("docs", "openapi"):
            assert response.headers["Cache-Control"] == "no-store", name
            assert "default-src 'none'" in response.headers["Content-Security-Policy"], name


def test_the_docs_still_render(client):
    docs = client.get("/docs")
    assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text
    assert "Content-Security-Policy" not in docs.headers  # its inline script must run
    script = client.get("/static-offline-docs/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith(("text/javascript",
                                                      "application/javascript"))
