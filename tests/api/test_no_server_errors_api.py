"""Inputs a probe found to answer 500: each is a 4xx problem now, on SQLite and PostgreSQL."""

import itertools
import re
from urllib.parse import quote

import pytest

from tests.api.conftest import payment_body


def test_capturing_with_a_gateway_id_another_payment_has_names_that_payment(admin):
    first = admin.post("/v1/payments", json=payment_body(gateway="stripe")).json()
    second = admin.post("/v1/payments", json=payment_body(gateway="stripe")).json()
    assert admin.post(f"/v1/payments/{first['id']}/capture",
                      json={"gateway_payment_id": "pi_1"}).status_code == 200
    response = admin.post(f"/v1/payments/{second['id']}/capture",
                          json={"gateway_payment_id": "pi_1"})
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "duplicate_gateway_payment"
    assert first["id"] in response.json()["detail"]
    assert admin.get(f"/v1/payments/{second['id']}").json()["status"] == "pending"


def test_recording_a_gateway_id_twice_names_the_payment_that_has_it(admin):
    first = admin.post("/v1/payments", json=payment_body(gateway="stripe",
                                                         gateway_payment_id="pi_2")).json()
    again = admin.post("/v1/payments", json=payment_body(gateway="stripe",
                                                         gateway_payment_id="pi_2"))
    assert again.status_code == 409 and first["id"] in again.json()["detail"]


def _routes_with_path_ids(app) -> list[tuple[str, str]]:
    routes = sorted((method.upper(), path) for path, operations in app.openapi()["paths"].items()
                    if "{" in path for method in operations)
    assert len(routes) >= 10, routes
    return routes


MALFORMED_IDS = ["pay_\x00", "\x00", "re_\x01", "x\x1b[2J", "x\x7f", "x\u202ey", "x\u2066",
                 "x\u0085", "é", "a" * 101]


@pytest.mark.parametrize("role", ["admin", "seller", "customer"])
def test_a_malformed_path_id_is_a_422_naming_it_for_every_role_and_route(app, as_key, role):
    """Chosen: an id that cannot be one (a control character, a NUL PostgreSQL cannot even
    compare) is refused as malformed before any lookup; a well-formed unknown id is a 404."""
    binding = {"seller": {"seller_id": "s1"}, "customer": {"customer_id": "c1"}}.get(role, {})
    api = as_key(role, **binding)
    for bad, (method, path) in itertools.product(MALFORMED_IDS, _routes_with_path_ids(app)):
        url = re.sub(r"\{(\w+)\}", quote(bad, safe=""), path)
        response = api.client.request(method, url, headers=api.headers, json={})
        assert response.status_code == 422 or (role != "admin" and response.status_code == 403), \
            (method, url, response.text)
        if response.status_code == 422:
            name = re.search(r"\{(\w+)\}", path)[1]
            assert name in response.json()["detail"], response.text


def test_a_well_formed_unknown_id_is_still_a_404(admin):
    assert admin.get("/v1/payments/pay_0123").status_code == 404
    assert admin.post("/v1/refunds/re_0123/approve").status_code == 404


@pytest.mark.parametrize(("name", "value"), [("created_gte", "0001-01-01T00:00:00+14:00"),
                                             ("created_lt", "9999-12-31T23:59:59-23:59"),
                                             ("created_lt", "0001-01-01T00:00:00+00:01")])
def test_a_date_that_leaves_the_calendar_in_utc_is_a_422(admin, name, value):
    response = admin.get("/v1/payments", params={name: value})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == f"query.{name}"
    assert "UTC" in response.json()["detail"] and "e.g." in response.json()["detail"]


def test_the_calendars_own_ends_are_fine(admin):
    response = admin.get("/v1/payments", params={"created_gte": "0001-01-01T00:00:00Z",
                                                 "created_lt": "9999-12-31T23:59:59"})
    assert response.status_code == 200, response.text
