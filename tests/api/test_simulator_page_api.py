"""The simulator's hosted payment page, through HTTP, mounted on its own app as the lead's
``create_app`` will mount it."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from paytrack.adapters.gateways.simulator_store import list_webhooks
from paytrack.domain.errors import GatewayNotConfigured
from paytrack.entrypoints.api.routes.simulator import serve
from paytrack.services.gateways import adapter_for
from tests.api.conftest import payment_body
from tests.integration.simulator_support import (
    DECLINED,
    DISPUTED,
    RETURN_URL,
    SUCCEEDS,
    Clock,
    checkout_request,
    gateway,
)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def gw(engine, clock):
    return gateway(engine, clock)


@pytest.fixture
def browser(gw):
    app = FastAPI()
    serve(app, lambda: gw)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as browser:
        yield browser


@pytest.fixture
def page(gw, clock):
    """A new checkout's page path, and its request."""
    def make(**changes):
        request = checkout_request(clock, **changes)
        url = gw.create_checkout(request).payment_url
        return urlsplit(url).path, request
    return make


def form(card=SUCCEEDS, **options):
    return {"card": card, **options}


def test_the_page_shows_the_amount_description_expiry_and_test_cards(browser, page):
    path, request = page(description="Course: <b>Python</b> 101")
    response = browser.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "12.50 USD" in html
    assert "Course: &lt;b&gt;Python&lt;/b&gt; 101" in html  # escaped, never markup
    assert "2026-11-28 12:30 UTC" in html
    for number in ("4242 4242 4242 4242", "4000 0000 0000 0002", "4000 0000 0000 9995",
                   "4000 0000 0000 3220", "4000 0000 0000 0259", "4000 0000 0000 5126"):
        assert number in html
    assert 'name="duplicates"' in html and 'name="delay_s"' in html and 'name="order"' in html


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    (500, "JPY", "500 JPY"), (1234, "KWD", "1.234 KWD"), (5, "USD", "0.05 USD")])
def test_amounts_are_shown_in_the_currency_s_own_decimals(browser, page, amount, currency,
                                                          shown):
    path, _ = page(amount=amount, currency=currency)
    assert shown in browser.get(path).text


def test_the_page_is_not_cached_framed_or_scripted(browser, page):
    path, _ = page()
    headers = browser.get(path).headers
    assert headers["cache-control"] == "no-store"
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_paying_redirects_back_to_the_shop_with_the_status_and_queues_the_webhook(
        browser, page, engine):
    path, request = page()
    response = browser.post(path, data=form(duplicates="2"))
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location._replace(query="").geturl() == urlsplit(RETURN_URL)._replace(
        query="").geturl()
    assert parse_qs(location.query) == {"lang": ["en"], "payment_id": [request.payment_id],
                                        "status": ["succeeded"]}
    assert [row["event_type"] for row in list_webhooks(engine)] == ["payment.succeeded"] * 2


def test_a_declined_card_returns_failed(browser, page, engine):
    path, _ = page()
    response = browser.post(path, data=form(DECLINED))
    assert parse_qs(urlsplit(response.headers["location"]).query)["status"] == ["failed"]
    assert [row["event_type"] for row in list_webhooks(engine)] == ["payment.failed"]


def test_paying_twice_pays_once(browser, page, engine):
    path, _ = page()
    assert browser.post(path, data=form()).status_code == 303
    again = browser.post(path, data=form(DECLINED))
    assert again.status_code == 409
    assert "Already paid" in again.text
    assert browser.get(path).status_code == 200 and "Already paid" in browser.get(path).text
    assert [row["event_type"] for row in list_webhooks(engine)] == ["payment.succeeded"]


def test_an_expired_link_is_refused_and_queues_nothing(browser, page, clock, engine, gw):
    path, request = page(expires_in_s=60)
    clock.advance(60)
    assert browser.get(path).status_code == 410
    response = browser.post(path, data=form())
    assert response.status_code == 410
    assert "expired" in response.text
    assert list_webhooks(engine) == []
    assert gw.fetch_status(f"sim_pi_{request.payment_id[4:]}", None).status == "canceled"


def test_a_link_paid_in_time_still_says_paid_after_it_expires(browser, page, clock):
    path, _ = page(expires_in_s=60)
    browser.post(path, data=form())
    clock.advance(3600)
    response = browser.get(path)
    assert (response.status_code, "Already paid" in response.text) == (200, True)


def test_a_tampered_link_is_refused_and_queues_nothing(browser, page, engine):
    path, _ = page()
    body, signature = path.rsplit("/", 1)[1].split(".")
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    tampered = f"/simulator/checkout/{flipped}.{signature}"
    assert browser.get(tampered).status_code == 400
    assert browser.post(tampered, data=form()).status_code == 400
    assert list_webhooks(engine) == []


def test_a_card_that_is_not_a_test_card_is_refused_and_not_echoed(browser, page, engine):
    path, _ = page()
    response = browser.post(path, data=form("4111 1111 1111 1111"))
    assert response.status_code == 422
    assert "test card" in response.text
    assert "4111 1111 1111 1111" not in response.text
    assert list_webhooks(engine) == []


@pytest.mark.parametrize("fields", [
    {},
    {"card": ""},
    {"card": "\x00"},
    {"card": "4242" * 1000},
    form(duplicates="0"), form(duplicates="6"), form(duplicates="abc"),
    form(duplicates="1e3"), form(duplicates="-1"), form(duplicates="９"),
    form(duplicates="99999999999999999999"),
    form(delay_s="3601"), form(delay_s="nan"), form(delay_s="-5"), form(delay_s="1.5"),
    form(order="sideways"), form(order="\x00"),
], ids=repr)
def test_hostile_form_values_are_refused_with_a_4xx_and_queue_nothing(browser, page, engine,
                                                                      fields):
    path, _ = page()
    response = browser.post(path, data=fields)
    assert 400 <= response.status_code < 500
    assert list_webhooks(engine) == []


@pytest.mark.parametrize(("content", "content_type"), [
    (b'{"card": "4242424242424242"}', "application/json"),
    (b"card=%ZZ&&&==", "application/x-www-form-urlencoded"),
    (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
    (b"--x\r\nContent-Disposition: form-data; name=\"card\"; filename=\"a.txt\"\r\n\r\n"
     b"4242424242424242\r\n--x--\r\n", "multipart/form-data; boundary=x"),
    (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
    (b"&".join(b"f%d=1" % i for i in range(50)), "application/x-www-form-urlencoded"),
])
def test_hostile_bodies_are_refused_with_a_4xx(browser, page, engine, content, content_type):
    path, _ = page()
    response = browser.post(path, content=content, headers={"content-type": content_type})
    assert 400 <= response.status_code < 500
    assert list_webhooks(engine) == []


@pytest.mark.parametrize("token", ["x", "a.b", "..", "%00", "%E2%80%AE", "A" * 9000,
                                   "%2e%2e", "a.b%00"])
def test_hostile_links_are_refused_with_a_4xx(browser, token):
    assert 400 <= browser.get(f"/simulator/checkout/{token}").status_code < 500
    assert 400 <= browser.post(f"/simulator/checkout/{token}", data=form()).status_code < 500


def test_a_checkout_whose_return_url_is_not_http_is_refused_before_paying(browser, page,
                                                                         engine):
    path, _ = page(return_url="javascript:alert(1)")
    assert browser.post(path, data=form()).status_code == 400
    assert list_webhooks(engine) == []


def test_an_unconfigured_simulator_answers_its_error_not_a_500():
    def missing():
        raise GatewayNotConfigured("the simulator has no configuration")

    app = FastAPI()
    serve(app, missing)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/simulator/checkout/abc.def")
    assert response.status_code == 409
    assert "no configuration" in response.text


# -- end to end, through paytrack's own webhook intake --------------------------------------


@pytest.fixture
def shop(app, storage, admin):
    """paytrack's app with the page mounted on the configured simulator; returns a function
    that creates a payment at the simulator and returns it with its page path."""
    def simulator():
        with storage.unit_of_work() as uow:
            adapter = adapter_for(uow, "simulator")
            uow.commit()
        return adapter

    serve(app, simulator)

    def new_payment():
        response = admin.post("/v1/payments", json=payment_body(gateway="simulator"))
        assert response.status_code == 201, response.text
        return response.json(), urlsplit(response.json()["payment_url"]).path

    new_payment.simulator = simulator
    return new_payment


def deliver(shop, client) -> int:
    return shop.simulator().deliver_due(client, "/v1/webhooks/simulator", datetime.now(UTC))


def test_a_payment_paid_on_the_page_succeeds_through_its_signed_webhook(shop, client, admin):
    payment, path = shop()
    assert client.post(path, data=form(), follow_redirects=False).status_code == 303
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "pending"
    assert deliver(shop, client) == 1
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "succeeded"


def test_a_dispute_sent_before_its_payment_twice_each_ends_disputed_once(shop, client, admin):
    payment, path = shop()
    client.post(path, data=form(DISPUTED, duplicates="2", delay_s="0", order="reversed"),
                follow_redirects=False)
    assert deliver(shop, client) == 4
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "disputed"
    disputes = admin.get("/v1/disputes", params={"payment_id": payment["id"]}).json()["data"]
    assert [(d["status"], d["amount"]) for d in disputes] == [("open", payment["total"])]


def test_a_declined_card_fails_the_payment(shop, client, admin):
    payment, path = shop()
    client.post(path, data=form(DECLINED), follow_redirects=False)
    deliver(shop, client)
    assert admin.get(f"/v1/payments/{payment['id']}").json()["status"] == "failed"
