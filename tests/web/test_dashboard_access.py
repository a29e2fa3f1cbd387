"""Signing in and out of the dashboard, its cookie, CSRF, and who sees what."""

from __future__ import annotations

from tests.web.conftest import PASSWORD, field, sign_in


def test_an_admin_signs_in_with_a_password_and_sees_the_admin_navigation(web, make_user):
    make_user("ana")
    signed = sign_in(web, username="ANA")  # usernames compare case-insensitively
    assert signed.status_code == 303 and signed.headers["location"] == "/dashboard/"
    cookie = signed.headers["set-cookie"]
    assert "paytrack_session=" in cookie and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower() and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # served over http here; https sets it
    home = web.get("/dashboard/")
    assert home.status_code == 200
    assert 'href="/dashboard/ledger"' in home.text and "Overview" in home.text


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(web, make_user):
    make_user("ana")
    wrong = sign_in(web, username="ana", password="not the password")
    nobody = sign_in(web, username="nobody", password=PASSWORD)
    assert wrong.status_code == nobody.status_code == 401
    assert all("wrong username or password" in r.text for r in (wrong, nobody))
    assert "paytrack_session" not in wrong.headers.get("set-cookie", "")


def test_the_password_is_stored_as_an_argon2id_hash(storage, make_user):
    make_user("ana")
    with storage.unit_of_work(readonly=True) as uow:
        row = uow.dashboard.user_by_username("ana")
    assert row is not None and row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]


def test_a_page_without_a_session_redirects_to_sign_in_and_back(web, make_user):
    response = web.get("/dashboard/payments?status=succeeded", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/dashboard/sign-in?next=")
    make_user("ana")
    form = web.get(response.headers["location"])
    back = web.post("/dashboard/sign-in", follow_redirects=False, data={
        "form_token": field(form.text, "form_token"), "username": "ana",
        "password": PASSWORD, "next": field(form.text, "next")})
    assert back.headers["location"] == "/dashboard/payments?status=succeeded"


def test_sign_in_never_redirects_off_the_dashboard(web, make_user):
    make_user("ana")
    for target in ("https://evil.example/", "//evil.example/x", "/v1/payments", "/\\evil"):
        web.cookies.clear()
        form = web.get("/dashboard/sign-in")
        response = web.post("/dashboard/sign-in", follow_redirects=False, data={
            "form_token": field(form.text, "form_token"), "username": "ana",
            "password": PASSWORD, "next": target})
        assert response.headers["location"] == "/dashboard/", target


def test_sign_in_with_an_api_key_and_a_customer_key_is_refused(web, make_key, make_seller):
    make_seller("s1")
    assert sign_in(web, api_key=make_key("customer", customer_id="c1")).status_code == 401
    seller = sign_in(web, api_key=make_key("seller", seller_id="s1"))
    assert seller.status_code == 303
    home = web.get("/dashboard/")
    assert home.status_code == 200 and 'href="/dashboard/payouts"' in home.text
    assert 'href="/dashboard/ledger"' not in home.text


def test_signing_out_ends_the_session_for_the_cookie_too(web, make_user):
    make_user("ana")
    sign_in(web, username="ana")
    cookie = web.cookies.get("paytrack_session")
    home = web.get("/dashboard/")
    out = web.post("/dashboard/sign-out", data={"csrf_token": field(home.text, "csrf_token")},
                   follow_redirects=False)
    assert out.status_code == 303
    web.cookies.set("paytrack_session", cookie, path="/dashboard")  # replayed after sign-out
    assert web.get("/dashboard/", follow_redirects=False).status_code == 303


def test_a_forged_or_unsigned_cookie_is_no_session(web):
    web.cookies.set("paytrack_session", "made-up-token", path="/dashboard")
    assert web.get("/dashboard/", follow_redirects=False).status_code == 303


def test_a_revoked_key_or_a_disabled_user_ends_their_sessions(web, storage, make_user,
                                                               make_key):
    from paytrack.services.dashboard_access import disable_user
    from paytrack.services.keys import revoke_key_by_reference
    from tests.integration.conftest import ADMIN

    make_user("ana")
    sign_in(web, username="ana")
    with storage.unit_of_work() as uow:
        disable_user(uow, ADMIN, "ana")
        uow.commit()
    assert web.get("/dashboard/", follow_redirects=False).status_code == 303
    key = make_key("admin")
    sign_in(web, api_key=key)
    assert web.get("/dashboard/").status_code == 200
    with storage.unit_of_work() as uow:
        revoke_key_by_reference(uow, key, ADMIN)
        uow.commit()
    assert web.get("/dashboard/", follow_redirects=False).status_code == 303


def test_a_form_without_its_csrf_token_is_refused(admin_web):
    for data in ({}, {"csrf_token": "guessed"}):
        response = admin_web.post("/dashboard/sign-out", data=data, follow_redirects=False)
        assert response.status_code == 403, data
        assert "CSRF" in response.text
    assert admin_web.get("/dashboard/").status_code == 200  # still signed in


def test_a_sign_in_form_without_its_token_is_refused(web, make_user):
    make_user("ana")
    response = web.post("/dashboard/sign-in", data={"username": "ana", "password": PASSWORD},
                        follow_redirects=False)
    assert response.status_code == 403


def test_many_failed_sign_ins_lock_the_address_out(web, make_user):
    make_user("ana")
    for _ in range(20):
        sign_in(web, username="ana", password="wrong password!")
    locked = sign_in(web, username="ana")  # the right password, too late
    assert locked.status_code == 401 and "Too many failed sign-ins" in locked.text


def test_the_root_links_to_the_dashboard(web):
    response = web.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/dashboard/"


def test_pages_have_a_strict_content_security_policy(admin_web):
    policy = admin_web.get("/dashboard/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def test_an_unknown_page_is_a_404_page_not_a_problem(admin_web):
    response = admin_web.get("/dashboard/no-such-page")
    assert response.status_code == 404 and "text/html" in response.headers["content-type"]


def test_over_https_the_session_cookie_is_secure(storage, make_user):
    from fastapi.testclient import TestClient

    from paytrack.entrypoints.api import create_app

    make_user("ana")
    with TestClient(create_app(storage), base_url="https://dash.example") as client:
        signed = sign_in(client, username="ana")
    assert signed.status_code == 303
    assert "Secure" in signed.headers["set-cookie"]
