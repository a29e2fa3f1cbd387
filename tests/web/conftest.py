from __future__ import annotations

import re
from html import unescape

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from paytrack.services import dashboard_access
from paytrack.services.dashboard_access import create_user
from paytrack.services.parties import upsert_party
from tests.api.conftest import (  # noqa: F401 - fixtures used here
    Api,
    _shared_app,
    make_key,
    shared_app,
)
from tests.integration.conftest import ADMIN

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """argon2id still, with its cheapest parameters: the defaults take ~0.1 s a hash."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(dashboard_access, "HASHER", hasher)
    monkeypatch.setattr(dashboard_access, "_NOBODY", hasher.hash("nobody's password"))


@pytest.fixture
def web(shared_app):  # noqa: F811 - the fixture imported above
    """A browser without a session (its own cookie jar)."""
    with TestClient(shared_app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def make_user(storage):
    def make(username: str = "ana", role: str = "admin", seller_id: str | None = None,
             password: str = PASSWORD) -> str:
        with storage.unit_of_work() as uow:
            create_user(uow, ADMIN, username, password, role, seller_id=seller_id)
            uow.commit()
        return username
    return make


def field(html: str, name: str) -> str:
    """The value of the first hidden input ``name`` in ``html``."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return unescape(found.group(1))


def sign_in(client: TestClient, *, username: str = "", password: str = PASSWORD,
            api_key: str = "", follow: bool = False):
    form = client.get("/dashboard/sign-in")
    assert form.status_code == 200, form.text
    data = {"form_token": field(form.text, "form_token"), "next": "/dashboard/"}
    data |= {"api_key": api_key} if api_key else {"username": username, "password": password}
    return client.post("/dashboard/sign-in", data=data, follow_redirects=follow)


def form_post(client: TestClient, page_path: str, action: str, data: dict, *,
              follow: bool = False):
    """Post a form found on ``page_path`` as a browser would: with the page's CSRF token
    and a fresh form key."""
    html = client.get(page_path).text
    body = {"csrf_token": field(html, "csrf_token"), "form_key": field(html, "form_key"), **data}
    return client.post(action, data=body, follow_redirects=follow)


@pytest.fixture
def make_seller(storage):
    def make(seller_id: str = "s1") -> str:
        with storage.unit_of_work() as uow:
            upsert_party(uow, "seller", seller_id, ADMIN)
            uow.commit()
        return seller_id
    return make


@pytest.fixture
def admin_web(web, make_user):
    make_user("ana")
    assert sign_in(web, username="ana").status_code == 303
    return web


@pytest.fixture
def api(shared_app, make_key):  # noqa: F811
    with TestClient(shared_app, raise_server_exceptions=False) as client:
        yield Api(client, make_key("admin"))
