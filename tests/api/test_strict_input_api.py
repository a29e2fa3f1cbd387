"""Nothing quietly does the wrong thing: what a route cannot honour is refused, not ignored."""

import pytest

from tests.api.conftest import payment_body


def _paths(app) -> list[tuple[str, str]]:
    return sorted((method.upper(), path) for path, operations in app.openapi()["paths"].items()
                  for method in operations if path.startswith("/v1/"))


@pytest.mark.parametrize("name", ["seller", "currency_code", "limit2", "Status"])
def test_an_unknown_query_parameter_is_a_400_naming_it_on_every_route(app, admin, name):
    for method, path in _paths(app):
        url = path.replace("{payment_id}", "pay_0").replace("{refund_id}", "re_0") \
                  .replace("{seller_id}", "s1").replace("{customer_id}", "c1")
        response = admin.client.request(method, url, params={name: "x"}, headers=admin.headers)
        assert response.status_code == 400, (method, path, response.text)
        body = response.json()
        assert body["code"] == "unknown_parameter" and body["parameter"] == name, body
        assert repr(name) in body["detail"]


@pytest.mark.parametrize(("role", "path", "query"), [
    ("admin", "/v1/payments", "limit=5&limit=50"),
    ("admin", "/v1/payments", "currency=USD&status=succeeded&currency=EUR"),
    ("admin", "/v1/analytics/summary", "currency=USD&currency=EUR"),
    ("seller", "/v1/analytics/seller/summary",
     "currency=USD&seller_id=seller_2&seller_id=seller_1"),
])
def test_a_query_parameter_given_twice_is_refused_not_last_one_wins(as_key, role, path,
                                                                    query):
    api = as_key(role, **({"seller_id": "seller_1"} if role == "seller" else {}))
    response = api.get(f"{path}?{query}")
    assert response.status_code == 400, response.text
    body = response.json()
    name = query.split("&")[-1].split("=")[0]
    assert (body["code"], body["parameter"]) == ("repeated_parameter", name), body


def test_a_filter_the_list_does_not_have_is_refused_not_ignored(admin):
    admin.post("/v1/payments", json=payment_body(currency="USD"))
    response = admin.get("/v1/refunds", params={"currency": "KWD"})
    assert response.status_code == 400 and "currency" in response.json()["detail"]
    assert "payment_id" in response.json()["detail"]  # says what the list does take


def test_known_parameters_still_work(admin):
    assert admin.get("/v1/payments", params={"limit": 5, "needs_review": "false"}) \
        .status_code == 200


@pytest.mark.parametrize(("name", "value", "other"), [
    ("currency", "KWD", "USD"), ("method", "upi", "card"), ("gateway", "razorpay", "manual"),
    ("kind", "renewal", "one_time")])
def test_payments_filter_by_currency_method_gateway_and_kind(admin, name, value, other):
    wanted = admin.post("/v1/payments", json=payment_body(**{name: value})).json()
    admin.post("/v1/payments", json=payment_body(**{name: other}))
    found = admin.get("/v1/payments", params={name: value})
    assert found.status_code == 200, found.text
    assert [p["id"] for p in found.json()["data"]] == [wanted["id"]]


@pytest.mark.parametrize(("name", "value"), [("currency", "usd"), ("currency", "XYZ"),
                                             ("method", "cheque"), ("gateway", "square"),
                                             ("kind", "forever")])
def test_a_payment_filter_outside_its_values_is_a_422(admin, name, value):
    response = admin.get("/v1/payments", params={name: value})
    assert response.status_code == 422, response.text
    assert name in response.json()["detail"]


def test_a_seller_filtering_by_currency_still_sees_only_its_own(as_key, admin):
    admin.post("/v1/payments", json=payment_body(seller_id="s1", item_id="i1", currency="EUR"))
    admin.post("/v1/payments", json=payment_body(seller_id="s2", item_id="i2", currency="EUR"))
    seller = as_key("seller", seller_id="s1")
    found = seller.get("/v1/payments", params={"currency": "EUR"}).json()["data"]
    assert [p["seller_id"] for p in found] == ["s1"]


@pytest.mark.parametrize("path", ["/v1/payments", "/v1/refunds", "/v1/ledger/entries",
                                  "/v1/ledger/accounts"])
@pytest.mark.parametrize("cursor", ["AAA", "zzz", "pay_", "!!", "re_0", "-1", "1" * 40, ""])
def test_a_cursor_no_list_returned_is_a_400_on_every_list(admin, path, cursor):
    response = admin.get(path, params={"cursor": cursor})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_cursor"
    assert "next_cursor" in response.json()["detail"]


def test_every_list_pages_with_its_own_next_cursor(admin, captured):
    for _ in range(3):
        captured()
    for path in ("/v1/payments", "/v1/ledger/entries", "/v1/ledger/accounts"):
        first = admin.get(path, params={"limit": 1}).json()
        second = admin.get(path, params={"limit": 1, "cursor": first["next_cursor"]})
        assert second.status_code == 200, (path, second.text)
        assert second.json()["data"] and second.json()["data"] != first["data"]


def test_the_docs_pages_are_not_api_routes(client):
    assert client.get("/docs/oauth2-redirect", params={"state": "x", "code": "y"}) \
        .status_code == 200


@pytest.mark.parametrize("value", ["203.0.113.7", "2001:db8::1", "::ffff:192.0.2.1"])
def test_an_ip_address_is_accepted_as_sent(admin, value):
    response = admin.post("/v1/payments", json=payment_body(ip_address=value))
    assert response.status_code == 201 and response.json()["ip_address"] == value


@pytest.mark.parametrize("value", ["::::", "1.2.3", "999.1.1.1", "01.2.3.4", "fe80::1%eth0",
                                   "dead:beef", "1.2.3.4 "])
def test_an_ip_address_must_be_one(admin, value):
    response = admin.post("/v1/payments", json=payment_body(ip_address=value))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "ip_address"
    assert "203.0.113.7" in response.json()["detail"]  # an example of what is expected


@pytest.mark.parametrize("kind", ["sellers", "customers"])
def test_an_email_must_be_an_email(admin, kind):
    for bad in ["not-an-email", "a@b", "ada@exa mple.com", "x\u202e@example.com"]:
        response = admin.put(f"/v1/{kind}/p1", json={"email": bad})
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == "email"
    ok = admin.put(f"/v1/{kind}/p1", json={"email": "ada@example.com"})
    assert ok.status_code == 200 and ok.json()["email"] == "ada@example.com"


CONTROL_AND_BIDI = ["bell\x07", "esc\x1b[31m", "del\x7f", "nel\x85", "cr\roverwrite",
                    "rlo\u202eevil", "lre\u202a", "pdf\u202c", "lri\u2066", "pdi\u2069"]


@pytest.mark.parametrize("text", CONTROL_AND_BIDI)
def test_control_characters_and_bidi_overrides_in_free_text_are_refused(admin, captured, text):
    payment = captured()
    requests = [
        ("/v1/payments", payment_body(description=text), "description"),
        ("/v1/payments", payment_body(metadata={"note": text}), "metadata.note"),
        ("/v1/payments", payment_body(metadata={text: "x"}), "metadata"),
        ("/v1/payments", payment_body(billing_details={"name": text}), "billing_details"),
        ("/v1/payments", payment_body(coupon_code=text), "coupon_code"),
        ("/v1/payments", payment_body(gateway_payment_id=text), "gateway_payment_id"),
        ("/v1/refunds", {"payment_id": payment["id"], "reason": text}, "reason"),
        (f"/v1/payments/{payment['id']}/fail", {"reason": text}, "reason"),
    ]
    for path, body, field in requests:
        response = admin.post(path, json=body)
        assert response.status_code == 422, (path, body, response.text)
        assert response.json()["errors"][0]["field"].startswith(field), response.text
    for kind in ("sellers", "customers"):
        response = admin.put(f"/v1/{kind}/p1", json={"name": text})
        assert response.status_code == 422, response.text
    assert len(admin.get("/v1/payments").json()["data"]) == 1


def test_free_text_may_span_lines_and_use_any_script(admin):
    text = "Paid at the desk.\n\tReceipt: ٣٤٥ — 払い済み ✓"
    response = admin.post("/v1/payments", json=payment_body(description=text,
                                                            metadata={"note": text}))
    assert response.status_code == 201 and response.json()["description"] == text
    name = admin.put("/v1/sellers/s1", json={"name": "Ada Lovelace (אדה)"})
    assert name.status_code == 200


def test_a_name_is_one_line(admin):
    assert admin.put("/v1/sellers/s1", json={"name": "Ada\nLovelace"}).status_code == 422


def test_json_nested_too_deep_is_malformed_json(admin):
    for depth in (1000, 100_000):
        response = admin.post("/v1/payments", content=b"[" * depth + b"]" * depth,
                              headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "malformed_json"
        assert "deep" in response.json()["detail"]
