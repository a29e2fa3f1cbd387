"""The settlement report parsers: each provider's columns read exactly into minor units,
and a hostile file refused whole with the line and column at fault, never half-read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from paytrack.adapters.reports import common, parse_report
from paytrack.domain.errors import InvalidReport
from paytrack.domain.ledger import PLATFORM_FEES
from paytrack.domain.reconciliation import (
    LineKind,
    MatchClass,
    ReportGateway,
    classify,
    fee_adjustment_entry,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "settlements"
STRIPE_HEADER = ("id,Type,Source,Amount,Fee,Net,Currency,Created (UTC),Available On (UTC),"
                 "Description\n")


def stripe(*rows: str) -> bytes:
    return (STRIPE_HEADER + "".join(f"{row}\n" for row in rows)).encode()


def _refused(gateway: str, data: bytes) -> InvalidReport:
    with pytest.raises(InvalidReport) as caught:
        parse_report(ReportGateway(gateway), data)
    return caught.value


def test_stripe_lines_are_read_exactly_in_minor_units():
    line, refund, payout = parse_report(ReportGateway.STRIPE, stripe(
        "txn_1,charge,ch_1,1234.56,36.10,1198.46,usd,2026-11-02 09:37,2026-11-04 09:37,A",
        "txn_2,refund,re_1,-10.00,0.00,-10.00,usd,2026-11-02 10:00:05,,B",
        "txn_3,payout,po_1,-500.00,0.00,-500.00,usd,2026-11-03 00:00,,STRIPE PAYOUT"))
    assert (line.kind, line.amount, line.fee, line.currency) == (LineKind.CHARGE, 123456,
                                                                3610, "USD")
    assert line.occurred_at == datetime(2026, 11, 2, 9, 37, tzinfo=UTC)
    assert line.refs == ("ch_1", "txn_1")
    assert (refund.kind, refund.amount, refund.fee) == (LineKind.REFUND, 1000, None)
    assert payout.kind is LineKind.OTHER


def test_zero_and_three_decimal_currencies_use_their_own_exponent():
    yen, dinar = parse_report(ReportGateway.STRIPE, stripe(
        "txn_1,charge,ch_1,1800,65,1735,jpy,2026-11-02 09:37,,",
        "txn_2,charge,ch_2,12.345,0.100,12.245,kwd,2026-11-02 09:37,,"))
    assert (yen.amount, yen.fee, dinar.amount, dinar.fee) == (1800, 65, 12345, 100)


def test_paypal_reads_thousands_separators_and_its_time_zone():
    lines = parse_report(ReportGateway.PAYPAL, (FIXTURES / "paypal.csv").read_bytes())
    big = next(line for line in lines if line.amount == 125000)
    assert big.kind is LineKind.CHARGE and big.currency == "EUR"
    assert lines[0].occurred_at == datetime(2026, 11, 2, 9, 37, tzinfo=UTC)  # 01:37 PST
    pending = [line for line in lines if line.gateway_ref == "0PD51872VX0001"]
    assert pending[0].kind is LineKind.OTHER  # not completed: not a sale yet


def test_razorpay_reads_subunits_and_unix_times():
    first = parse_report(ReportGateway.RAZORPAY,
                         (FIXTURES / "razorpay.csv").read_bytes())[0]
    assert (first.amount, first.fee, first.currency) == (49990, 1179, "INR")
    assert first.refs == ("pay_Nov00QxRzp7Lm000", "order_Nov00QxRzp7Lm")
    assert first.occurred_at == datetime(2026, 11, 2, 9, 37, 1, tzinfo=UTC)


@pytest.mark.parametrize("gateway", ["stripe", "razorpay", "paypal"])
def test_another_providers_report_is_refused_by_its_columns(gateway):
    other = {"stripe": "paypal", "razorpay": "stripe", "paypal": "razorpay"}[gateway]
    refused = _refused(gateway, (FIXTURES / f"{other}.csv").read_bytes())
    assert "lacks the column" in refused.detail and refused.code == "invalid_report"


@pytest.mark.parametrize(("row", "where"), [
    ("txn_1,charge,ch_1,12.345,0.30,12.045,usd,2026-11-02 09:37,,", "'Amount'"),
    ("txn_1,charge,ch_1,1e3,0.30,999.70,usd,2026-11-02 09:37,,", "'Amount'"),
    ("txn_1,charge,ch_1,12.00,0.30,11.00,usd,2026-11-02 09:37,,", "'Net'"),
    ("txn_1,charge,ch_1,,0.30,-0.30,usd,2026-11-02 09:37,,", "'Amount'"),
    ("txn_1,charge,ch_1,12.00,0.30,11.70,usd,yesterday,,", "'Created (UTC)'"),
    ("txn_1,charge,ch_1,12.00,0.30,11.70,xts,2026-11-02 09:37,,", "'Currency'"),
    ("txn_1,charge,ch_1,99999999999999.99,0,99999999999999.99,usd,2026-11-02 09:37,,",
     "'Amount'"),
    ("txn_1,charge,ch 1,12.00,0.30,11.70,usd,2026-11-02 09:37,,", "'Source'"),
    ('txn_1,charge,ch_1,12.00,0.30,11.70,usd,2026-11-02 09:37,,"=HYPERLINK(""x"")"',
     "'Description'"),
    ("txn_1,charge,ch_1,12.00,0.30,11.70,usd,2026-11-02 09:37,,@SUM(A1)", "'Description'"),
    ("txn_1,charge,ch_1,12.00,0.30,11.70,usd,2026-11-02 09:37,,+cmd|' /C calc'!A0",
     "'Description'"),
])
def test_a_bad_cell_is_refused_with_its_line_and_column(row, where):
    refused = _refused("stripe", stripe("txn_0,charge,ch_0,1.00,0.00,1.00,usd,"
                                        "2026-11-02 09:37,,", row))
    assert refused.detail.startswith(f"line 3, column {where}"), refused.detail


@pytest.mark.parametrize(("data", "says"), [
    (b"id,Type\n" + "é".encode("latin-1"), "not UTF-8"),
    (b"", "empty"),
    (stripe("txn_1,charge,ch_1,1.00,0.00,1.00,usd,2026-11-02 09:37,,") + b"\x00", "NUL"),
    (stripe("txn_1,charge,ch_1,1.00"), "cells"),
    (stripe('txn_1,charge,ch_1,1.00,0.00,1.00,usd,2026-11-02 09:37,,"open'), "CSV"),
])
def test_a_file_that_is_not_a_csv_report_is_refused(data, says):
    assert says in _refused("stripe", data).detail


def test_a_report_too_large_or_too_long_is_refused(monkeypatch):
    assert "larger than" in _refused("stripe", b" " * (common.MAX_REPORT_BYTES + 1)).detail
    monkeypatch.setattr(common, "MAX_REPORT_LINES", 2)
    rows = ["txn_1,charge,ch_1,1.00,0.00,1.00,usd,2026-11-02 09:37,,"] * 3
    assert "more than 2 lines" in _refused("stripe", stripe(*rows)).detail


def test_a_byte_order_mark_and_blank_lines_are_fine():
    data = b"\xef\xbb\xbf" + stripe("", "txn_1,charge,ch_1,1.00,0.00,1.00,usd,"
                                        "2026-11-02 09:37,,-", "")
    line, = parse_report(ReportGateway.STRIPE, data)
    assert line.line_number == 3 and line.description == "-"


def test_a_line_is_classified_by_what_paytrack_holds():
    found = {"amount": 1000, "currency": "USD", "fee": 59}
    charge = LineKind.CHARGE
    assert classify(charge, 1000, "USD", 59, found, seen_before=False) is MatchClass.MATCHED
    assert classify(charge, 1000, "USD", None, found, seen_before=False) is MatchClass.MATCHED
    assert classify(charge, 1000, "USD", 60, found,
                    seen_before=False) is MatchClass.FEE_MISMATCH
    assert classify(charge, 999, "USD", 59, found,
                    seen_before=False) is MatchClass.AMOUNT_MISMATCH
    assert classify(charge, 1000, "EUR", 59, found,
                    seen_before=False) is MatchClass.AMOUNT_MISMATCH
    assert classify(charge, 1000, "USD", 59, None,
                    seen_before=False) is MatchClass.MISSING_IN_PAYTRACK
    assert classify(charge, 1000, "USD", 59, found, seen_before=True) is MatchClass.DUPLICATE
    assert classify(LineKind.OTHER, 1, "USD", 0, None, seen_before=True) is MatchClass.IGNORED


@pytest.mark.parametrize(("recorded", "reported", "to_fees"), [(150, 175, 25), (175, 150, -25)])
def test_a_fee_difference_is_one_balanced_entry_borne_by_the_platform(recorded, reported,
                                                                      to_fees):
    entry = fee_adjustment_entry(payment_id="pay_1", gateway="stripe", currency="USD",
                                 recorded_fee=recorded, report_fee=reported)
    assert entry is not None
    entry.check_balanced()
    assert {(p.account.code, p.amount_minor) for p in entry.postings} == {
        (PLATFORM_FEES.code, to_fees), ("gateway:stripe:clearing", -to_fees)}
    assert fee_adjustment_entry(payment_id="pay_1", gateway="stripe", currency="USD",
                                recorded_fee=150, report_fee=150) is None


PAYPAL_HEADER = ('"Date","Time","TimeZone","Type","Status","Currency","Gross","Fee","Net",'
                 '"Transaction ID","Reference Txn ID"\n')
RAZORPAY_HEADER = ("entity_id,type,debit,credit,amount,currency,fee,tax,settled,created_at,"
                   "settlement_id\n")


@pytest.mark.parametrize(("gateway", "data"), [
    # At the calendar's edge a time zone pushed the time past year 9999 or before year 1.
    ("paypal", PAYPAL_HEADER + '"12/31/9999","23:00:00","PST","Express Checkout Payment",'
               '"Completed","USD","10.00","-1.00","9.00","TX1",""\n'),
    ("paypal", PAYPAL_HEADER + '"01/01/0001","00:00:00","CET","Express Checkout Payment",'
               '"Completed","USD","10.00","-1.00","9.00","TX1",""\n'),
    # Far outside any settlement: the report's period would cover every payment.
    ("stripe", STRIPE_HEADER + "txn_1,charge,ch_1,1.00,0.00,1.00,usd,1999-12-31 23:59,,\n"),
    ("stripe", STRIPE_HEADER + "txn_1,charge,ch_1,1.00,0.00,1.00,usd,9999-12-31 23:59,,\n"),
    ("razorpay", RAZORPAY_HEADER + "pay_1,payment,0,100,100,INR,0,0,1,0,setl_1\n"),
    ("razorpay", RAZORPAY_HEADER + "pay_1,payment,0,100,100,INR,0,0,1,99999999999,setl_1\n"),
])
def test_a_time_far_in_the_past_or_future_is_refused(gateway, data):
    assert "line 2" in _refused(gateway, data.encode()).detail


def test_a_header_naming_a_column_twice_is_refused():
    data = (STRIPE_HEADER.rstrip("\n") + ",Amount\n"
            + "txn_1,charge,ch_1,1.00,0.00,1.00,usd,2026-11-02 09:37,,,99.00\n").encode()
    assert "'Amount' twice" in _refused("stripe", data).detail


@pytest.mark.parametrize(("gateway", "data", "column"), [
    ("stripe", STRIPE_HEADER + "txn_1,charge,ch_1,-10.00,0.30,-10.30,usd,2026-11-02 09:37,,\n",
     "Amount"),
    ("stripe", STRIPE_HEADER + "txn_1,refund,re_1,10.00,0.00,10.00,usd,2026-11-02 09:37,,\n",
     "Amount"),
    ("razorpay", RAZORPAY_HEADER + "pay_1,payment,0,100,-100,INR,0,0,1,1793612221,setl_1\n",
     "amount"),
])
def test_a_line_whose_sign_contradicts_its_type_is_refused(gateway, data, column):
    assert f"column {column!r}" in _refused(gateway, data.encode()).detail


@pytest.mark.parametrize(("gateway", "data"), [
    ("stripe", STRIPE_HEADER + "txn_1,charge,ch_1,1.00,2.00,-1.00,usd,2026-11-02 09:37,,\n"),
    ("razorpay", RAZORPAY_HEADER + "pay_1,payment,0,0,100,INR,200,0,1,1793612221,setl_1\n"),
    ("paypal", PAYPAL_HEADER + '"11/02/2026","01:37:00","PST","Express Checkout Payment",'
               '"Completed","USD","1.00","-2.00","-1.00","TX1",""\n'),
])
def test_a_charge_whose_fee_exceeds_its_amount_is_refused(gateway, data):
    assert "larger than the amount" in _refused(gateway, data.encode()).detail


def test_a_paypal_refund_line_with_money_coming_in_is_no_refund():
    line, = parse_report(ReportGateway.PAYPAL, (
        PAYPAL_HEADER + '"11/02/2026","01:37:00","PST","Payment Refund Reversal","Completed",'
                        '"USD","10.00","0.00","10.00","TX2","TX1"\n').encode())
    assert line.kind is LineKind.OTHER
