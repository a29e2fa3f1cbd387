from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from paytrack.entrypoints.api import create_app
from paytrack.services.keys import create_key
from tests.integration.conftest import ADMIN


class Api:
    """A test client that speaks as one API key."""

    def __init__(self, client: TestClient, token: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **kw):
        return self.client.get(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, path: str, json=None, **kw):
        return self.client.post(path, json=json,
                                headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def put(self, path: str, json=None, **kw):
        return self.client.put(path, json=json,
                               headers={**self.headers, **kw.pop("headers", {})}, **kw)


@pytest.fixture(scope="session")
def _shared_app():
    """One app for the whole run: FastAPI builds each route's fields on an app's first
    request (~0.5 s an app: most of a short test)."""
    return create_app(None)


def fresh(app, storage):
    """``app`` on this test's database, with no failed sign-ins or keys remembered."""
    app.state.storage = storage
    for limiter in (app.state.auth_limiter, app.state.sign_in_limiter):
        if limiter is not None:
            limiter.clear()
    return app


@pytest.fixture
def app(storage):
    return create_app(storage)


@pytest.fixture
def shared_app(_shared_app, storage):
    """The run's one app, on this test's database (tests/web)."""
    return fresh(_shared_app, storage)


@pytest.fixture
def client(app):
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def make_key(storage):
    def make(role: str = "admin", **binding) -> str:
        with storage.unit_of_work() as uow:
            _, token = create_key(uow, role, ADMIN, **binding)
            uow.commit()
        return token

    return make


@pytest.fixture
def admin(client, make_key) -> Api:
    return Api(client, make_key("admin"))


@pytest.fixture
def as_key(client, make_key):
    return lambda role="admin", **binding: Api(client, make_key(role, **binding))


PAYMENT = {"customer_id": "cust_1", "seller_id": "seller_1", "item_type": "course",
           "item_id": "course_1", "currency": "USD", "subtotal": 10000, "method": "card"}


def payment_body(**changes) -> dict:
    return {**PAYMENT, **changes}


@pytest.fixture
def captured(admin):
    """Create and capture a payment through the API; returns its JSON."""
    def make(**changes) -> dict:
        created = admin.post("/v1/payments", json=payment_body(**changes))
        assert created.status_code == 201, created.text
        response = admin.post(f"/v1/payments/{created.json()['id']}/capture")
        assert response.status_code == 200, response.text
        return response.json()

    return make
