"""CSV exports: the list filters and scoping, each role's columns, amounts in minor units
and as decimals, and text that a spreadsheet would run as a formula quoted."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from paytrack.adapters.secrets import PayoutKeyring
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import Forbidden, NotFound
from paytrack.domain.payouts import PayoutRules
from paytrack.domain.splits import Policy
from paytrack.services import disputes, payouts, permissions, seller_funds
from paytrack.services.exports import cell, columns, start_export
from paytrack.services.refunds import refund_payment
from tests.integration.conftest import ADMIN, committed, new_payment

SELLER = Actor(Role.SELLER, "seller_1")
CUSTOMER = Actor(Role.CUSTOMER, "cust_1")
IBAN = "DE89370400440532013000"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def storage(engine, clock) -> Storage:
    return Storage(engine, Policy(hold_days=7, payouts=PayoutRules.parse("10.00")),
                   clock=clock, payout_keys=PayoutKeyring.of(Fernet.generate_key()))


def export(storage: Storage, kind: str, actor: Actor = ADMIN, **filters) -> list[dict]:
    text = "".join(start_export(storage, kind, actor, **filters).csv_chunks())  # type: ignore[arg-type]
    return list(csv.DictReader(io.StringIO(text)))


def test_payments_export_every_row_newest_first_across_batches(storage):
    made = [new_payment(storage, subtotal=1000 + i) for i in range(7)]
    text = "".join(start_export(storage, "payments", ADMIN, batch_rows=3).csv_chunks())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == [p["id"] for p in reversed(made)]
    assert text.count("\r\n") == 8  # the header and seven rows, nothing twice


def test_payments_export_takes_the_list_filters(storage, clock):
    early = new_payment(storage, subtotal=1000, customer_id="cust_2")
    clock.now += timedelta(days=1)
    later = new_payment(storage, subtotal=2000, seller_id="seller_2")
    pending = new_payment(storage, subtotal=3000, capture=False, currency="EUR")
    assert [r["id"] for r in export(storage, "payments", status="pending")] == [pending["id"]]
    assert [r["id"] for r in export(storage, "payments", seller_id="seller_2")] == [later["id"]]
    assert [r["id"] for r in export(storage, "payments", customer_id="cust_2")] == [early["id"]]
    assert [r["id"] for r in export(storage, "payments", currency="EUR")] == [pending["id"]]
    window = export(storage, "payments", created_gte=clock.now - timedelta(hours=1),
                    created_lt=clock.now + timedelta(hours=1))
    assert {r["id"] for r in window} == {later["id"], pending["id"]}


def test_amounts_come_in_minor_units_and_as_decimals_per_currency(storage):
    new_payment(storage, subtotal=12345, currency="KWD", seller_id="seller_k")
    new_payment(storage, subtotal=12345, currency="JPY", seller_id="seller_j")
    new_payment(storage, subtotal=12345, currency="USD")
    rows = {r["currency"]: r for r in export(storage, "payments")}
    assert (rows["KWD"]["total"], rows["KWD"]["total_decimal"]) == ("12345", "12.345")
    assert (rows["JPY"]["total"], rows["JPY"]["total_decimal"]) == ("12345", "12345")
    assert (rows["USD"]["total"], rows["USD"]["total_decimal"]) == ("12345", "123.45")
    assert rows["USD"]["created_at"] == "2026-03-02T12:00:00Z"


def test_each_role_gets_its_own_rows_and_only_the_fields_the_api_shows_it(storage):
    mine = new_payment(storage, subtotal=5000, billing_details={"name": "Ada"},
                       ip_address="203.0.113.7")
    other = new_payment(storage, subtotal=6000, seller_id="seller_2", customer_id="cust_2")
    committed(storage, refund_payment, mine["id"], ADMIN, reason="r", amount=100)
    committed(storage, refund_payment, other["id"], ADMIN, reason="r", amount=100)
    seller_rows = export(storage, "payments", SELLER)
    assert [r["id"] for r in seller_rows] == [mine["id"]]
    seller_fields = {c for c in seller_rows[0] if not c.endswith("_decimal")}
    assert seller_fields == permissions.visible_fields(Role.SELLER, "payment")
    assert "billing_details" not in seller_rows[0] and "ip_address" not in seller_rows[0]
    customer_rows = export(storage, "payments", CUSTOMER)
    assert [r["id"] for r in customer_rows] == [mine["id"]]
    assert "platform_fee" not in customer_rows[0] and "seller_amount" not in customer_rows[0]
    assert customer_rows[0]["ip_address"] == "203.0.113.7"
    # Another party's rows do not exist for it, even when asked for by name.
    assert export(storage, "payments", SELLER, seller_id="seller_2") == []
    refunds = export(storage, "refunds", CUSTOMER)
    assert [r["payment_id"] for r in refunds] == [mine["id"]]
    assert "seller_part" not in refunds[0] and refunds[0]["requested_by"] == "admin"
    assert [r["payment_id"] for r in export(storage, "refunds", SELLER)] == [mine["id"]]
    with pytest.raises(NotFound):
        start_export(storage, "refunds", SELLER, payment_id=other["id"])
    for kind in ("payouts", "disputes", "ledger"):
        with pytest.raises(Forbidden):
            start_export(storage, kind, CUSTOMER)
    with pytest.raises(Forbidden):
        start_export(storage, "ledger", SELLER)


def test_payouts_and_disputes_exports_are_scoped_and_filtered(storage, clock):
    for seller in ("seller_1", "seller_2"):
        new_payment(storage, subtotal=12500, seller_id=seller, customer_id=f"c_{seller}")
        committed(storage, payouts.set_payout_account, seller, ADMIN, method="bank_transfer",
                  details={"account_holder": "Ada Lovelace", "iban": IBAN})
    clock.now += timedelta(days=8)
    committed(storage, seller_funds.release_due)
    made = {seller: committed(storage, payouts.request_payout, ADMIN, amount=2000,
                              currency="USD", method="bank_transfer", seller_id=seller)
            for seller in ("seller_1", "seller_2")}
    committed(storage, payouts.approve_payout, made["seller_2"]["id"], ADMIN)
    rows = export(storage, "payouts", SELLER)
    assert [r["id"] for r in rows] == [made["seller_1"]["id"]]
    assert rows[0]["amount_decimal"] == "20.00" and "submit_attempts" not in rows[0]
    assert [r["id"] for r in export(storage, "payouts", status="approved")] == [
        made["seller_2"]["id"]]
    disputed = new_payment(storage, subtotal=3000, seller_id="seller_2")
    dispute = committed(storage, disputes.open_dispute, disputed["id"], ADMIN, amount=3000,
                        reason="fraud")
    assert [r["id"] for r in export(storage, "disputes", seller_id="seller_2")] == [
        dispute["id"]]
    assert export(storage, "disputes", SELLER) == []
    assert export(storage, "disputes", status="won") == []


def test_ledger_export_is_one_row_per_posting_with_debit_and_credit(storage):
    payment = new_payment(storage, subtotal=12500)
    new_payment(storage, subtotal=5000)
    rows = export(storage, "ledger", payment_id=payment["id"])
    assert rows and {r["kind"] for r in rows} == {"payment.captured"}
    assert {r["payment_id"] for r in rows} == {payment["id"]}
    assert sum(int(r["debit"]) for r in rows) == sum(int(r["credit"]) for r in rows) == 12500
    by_account = {r["account"]: r for r in rows}
    assert by_account["seller:seller_1:pending"]["credit"] == "10000"
    assert by_account["seller:seller_1:pending"]["credit_decimal"] == "100.00"
    assert by_account["platform:revenue"]["credit"] == "2500"
    assert list(rows[0]) == columns("ledger", ADMIN)
    assert len(export(storage, "ledger")) > len(rows)


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)",
                                  "\tcmd", "\rcmd"])
def test_text_a_spreadsheet_would_run_is_quoted(storage, text):
    new_payment(storage, subtotal=1000, description=text)
    row = export(storage, "payments")[0]
    assert row["description"] == "'" + text
    assert row["subtotal"] == "1000"


def test_cells_are_plain_text():
    assert cell(None) == "" and cell(True) == "true" and cell(-5) == "-5"
    assert cell({"b": 1, "a": "=x"}) == '{"a":"=x","b":1}'
    assert cell("safe") == "safe" and cell("a=b") == "a=b"
