"""Exports and statements through HTTP: streamed CSV downloads scoped per role, statements
as JSON, CSV and PDF with the same numbers, and hostile parameters refused with a 4xx."""

from __future__ import annotations

import csv
import io
import re

import pytest

from paytrack.adapters.pdf.statement import money

PERIOD = {"currency": "USD", "from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.fixture
def world(admin, captured, as_key):
    mine = captured(description="=HYPERLINK(\"http://evil\")")
    other = captured(seller_id="seller_2", customer_id="cust_2", item_id="course_2")
    for payment in (mine, other):
        refund = admin.post("/v1/refunds", json={"payment_id": payment["id"], "amount": 1000,
                                                 "reason": "partial", "approve": True})
        assert refund.status_code == 201, refund.text
    return {"mine": mine, "other": other,
            "s1": as_key("seller", seller_id="seller_1"),
            "c1": as_key("customer", customer_id="cust_1")}


def test_a_csv_export_is_a_download(admin, world):
    response = admin.get("/v1/exports/payments.csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="payments.csv"'
    got = rows(response)
    assert {r["id"] for r in got} == {world["mine"]["id"], world["other"]["id"]}
    mine = next(r for r in got if r["id"] == world["mine"]["id"])
    assert mine["description"] == "'=HYPERLINK(\"http://evil\")"
    assert (mine["total"], mine["total_decimal"]) == ("10000", "100.00")
    assert rows(admin.get("/v1/exports/payments.csv", params={"seller_id": "seller_2"}))[0][
        "id"] == world["other"]["id"]


def test_each_role_exports_its_own_rows_with_its_own_fields(admin, world):
    seller = rows(world["s1"].get("/v1/exports/payments.csv"))
    assert [r["id"] for r in seller] == [world["mine"]["id"]]
    assert "ip_address" not in seller[0] and "platform_fee" in seller[0]
    customer = rows(world["c1"].get("/v1/exports/payments.csv"))
    assert [r["id"] for r in customer] == [world["mine"]["id"]]
    assert "platform_fee" not in customer[0]
    refunds = rows(world["c1"].get("/v1/exports/refunds.csv"))
    assert [r["payment_id"] for r in refunds] == [world["mine"]["id"]]
    assert "seller_part" not in refunds[0]
    assert len(rows(admin.get("/v1/exports/refunds.csv"))) == 2
    assert world["c1"].get("/v1/exports/payouts.csv").status_code == 403
    assert world["s1"].get("/v1/exports/ledger.csv").status_code == 403
    other_refunds = world["s1"].get("/v1/exports/refunds.csv",
                                    params={"payment_id": world["other"]["id"]})
    assert other_refunds.status_code == 404
    ledger = rows(admin.get("/v1/exports/ledger.csv",
                            params={"payment_id": world["mine"]["id"]}))
    assert {r["kind"] for r in ledger} == {"payment.captured", "refund.succeeded"}


@pytest.mark.parametrize(("path", "params"), [
    ("/v1/exports/payments.csv", {"status": "x\x00"}),
    ("/v1/exports/payments.csv", {"seller_id": "a\x00b"}),
    ("/v1/exports/payments.csv", {"created_gte": "9999-12-31T23:59:59-23:59"}),
    ("/v1/exports/payments.csv", {"currency": "usd"}),
    ("/v1/exports/payments.csv", {"sellr_id": "seller_1"}),
    ("/v1/exports/refunds.csv", {"payment_id": "pay_\u202e"}),
    ("/v1/exports/payouts.csv", {"status": "=1+1"}),
    ("/v1/exports/disputes.csv", {"seller_id": "\t"}),
    ("/v1/exports/ledger.csv", {"payment_id": "x" * 500}),
    ("/v1/sellers/seller_1/statement", {**PERIOD, "from": "yesterday"}),
    ("/v1/sellers/seller_1/statement", {**PERIOD, "format": "xlsx"}),
    ("/v1/sellers/seller_1/statement", {**PERIOD, "currency": "\x00SD"}),
    ("/v1/sellers/seller_1/statement", {**PERIOD, "to": "2000-01-01T00:00:00Z"}),
    ("/v1/sellers/seller_1/statement", {"currency": "USD"}),
])
def test_hostile_parameters_are_refused_not_a_server_error(admin, path, params):
    response = admin.get(path, params=params)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json"


def test_a_statement_carries_the_same_numbers_as_json_csv_and_pdf(admin, world):
    path = "/v1/sellers/seller_1/statement"
    statement = admin.get(path, params=PERIOD)
    assert statement.status_code == 200, statement.text
    body = statement.json()
    balance = admin.get("/v1/sellers/seller_1/balance").json()["balances"][0]
    assert body["closing_balance"] == (balance["pending"] + balance["available"]
                                       + balance["in_transit"] - balance["debt"]) == 7200
    assert [line["kind"] for line in body["lines"]] == ["earning", "refund"]
    as_csv = admin.get(path, params={**PERIOD, "format": "csv"})
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    csv_rows = rows(as_csv)
    assert [r["kind"] for r in csv_rows] == ["opening_balance", "earning", "refund",
                                             "closing_balance"]
    assert [int(r["balance"]) for r in csv_rows[1:-1]] == [
        line["balance"] for line in body["lines"]]
    assert csv_rows[-1]["balance"] == "7200" and csv_rows[-1]["balance_decimal"] == "72.00"
    pdf = admin.get(path, params={**PERIOD, "format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert f"Closing balance: {money(7200, 'USD')}".encode("latin-1") in pdf.content
    assert money(7200, "USD") == "$72.00"


def test_a_seller_reads_only_its_own_statement(admin, world, as_key):
    assert world["s1"].get("/v1/sellers/seller_1/statement", params=PERIOD).status_code == 200
    assert world["s1"].get("/v1/sellers/seller_2/statement", params=PERIOD).status_code == 404
    assert world["c1"].get("/v1/sellers/seller_1/statement", params=PERIOD).status_code == 403
    assert admin.get("/v1/sellers/nobody/statement", params=PERIOD).status_code == 404


def test_money_in_a_pdf_is_written_per_currency():
    assert money(123456, "JPY") == "¥123,456"
    assert money(12345, "KWD").replace("\xa0", " ") in ("KWD12.345", "KWD 12.345")
    assert money(-1250, "EUR").replace("\xa0", " ") == "-EUR 12.50"


def test_payments_export_takes_the_reconciled_filter_of_the_list(admin, world):
    marked = admin.post("/v1/reconciliation/mark", json={"payment_ids": [world["mine"]["id"]]})
    assert marked.status_code == 200, marked.text
    for value, wanted in (("true", world["mine"]), ("false", world["other"])):
        listed = admin.get("/v1/payments", params={"reconciled": value}).json()["data"]
        exported = rows(admin.get("/v1/exports/payments.csv", params={"reconciled": value}))
        assert [r["id"] for r in exported] == [p["id"] for p in listed] == [wanted["id"]]


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    (150, "IDR", "IDR1.50"), (100, "HUF", "HUF1.00"), (12340, "TWD", "NT$123.40"),
    (100, "JPY", "¥100"), (12300, "KWD", "KWD12.300"), (-5, "USD", "-$0.05"),
    (7, "UYW", "UYW0.0007")])
def test_money_in_a_pdf_has_the_currencys_iso_digits(amount, currency, shown):
    assert money(amount, currency) == shown


def test_a_pdf_with_a_long_header_keeps_its_lines_under_the_column_heads():
    from datetime import UTC, datetime

    from paytrack.adapters.pdf.statement import LINES_PER_PAGE, render_statement

    day = datetime(2026, 3, 1, tzinfo=UTC)
    line = {"date": day, "kind": "earning", "entry_id": "je_" + "X" * 26,
            "payment_id": "pay_" + "Y" * 26, "refund_id": None, "payout_id": None,
            "dispute_id": None, "amount": 100, "balance": 100}
    statement = {"seller_id": "seller_1", "currency": "USD", "start": day, "end": day,
                 "opening_balance": 0, "closing_balance": 100,
                 "totals": [{"kind": f"kind_{i}", "lines": 1, "amount": 1} for i in range(14)],
                 "lines": [line] * (2 * LINES_PER_PAGE)}
    pdf = render_statement(statement)
    pages = pdf.count(b"/Type /Page\n")
    assert pages >= 3
    assert pdf.count(b"Journal entry") == pages  # the column heads on every page
    # "page n of N" counts every page (fpdf2 writes N, an alias, as a text of its own)
    assert re.findall(rb"page (\d+) of (?:\) Tj \()?(\d+)", pdf) == [
        (str(n).encode(), str(pages).encode()) for n in range(1, pages + 1)]
