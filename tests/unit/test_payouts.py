"""Payouts in the domain: the entries balance, the state machine, the minimum per
currency, and payout account details checked without ever being repeated."""

from decimal import Decimal

import pytest

from paytrack.domain.errors import InvalidTransition, ValidationFailed
from paytrack.domain.payouts import (
    CLEARING,
    PayoutMethod,
    PayoutRules,
    account_details,
    last4,
    masked,
    paid_entry,
    request_entry,
    returned_entry,
)
from paytrack.domain.states import PAYOUT_TRANSITIONS, PayoutStatus, move, sources_of

S = PayoutStatus


def payout(method: str = "bank_transfer", amount: int = 2500, currency: str = "USD") -> dict:
    return {"id": "po_1", "seller_id": "s1", "currency": currency, "amount": amount,
            "method": method}


def lines(entry) -> dict[str, int]:
    return {p.account.code: p.amount_minor for p in entry.postings}


def test_a_request_moves_available_to_in_transit():
    entry = request_entry(payout())
    entry.check_balanced()
    assert entry.kind == "payout.requested"
    assert lines(entry) == {"seller:s1:available": 2500, "seller:s1:payout_in_transit": -2500}


@pytest.mark.parametrize(("method", "clearing"), [
    ("bank_transfer", "gateway:manual:clearing"), ("paypal", "gateway:paypal:clearing"),
    ("stripe_connect", "gateway:stripe:clearing")])
def test_a_paid_payout_leaves_from_its_methods_clearing_account(method, clearing):
    entry = paid_entry(payout(method))
    entry.check_balanced()
    assert entry.kind == "payout.paid"  # what seller_balance's paid_out sums
    assert lines(entry) == {"seller:s1:payout_in_transit": 2500, clearing: -2500}
    assert set(CLEARING) == set(PayoutMethod)


@pytest.mark.parametrize("kind", ["payout.failed", "payout.canceled"])
def test_a_failed_or_canceled_payout_returns_to_available(kind):
    entry = returned_entry(payout(), kind)
    entry.check_balanced()
    assert entry.kind == kind
    assert lines(entry) == {"seller:s1:payout_in_transit": 2500, "seller:s1:available": -2500}


def test_every_payout_entry_undoes_its_request_or_completes_it():
    p = payout()
    moved = [request_entry(p), returned_entry(p, "payout.canceled")]
    total: dict[str, int] = {}
    for entry in moved:
        for code, amount in lines(entry).items():
            total[code] = total.get(code, 0) + amount
    assert set(total.values()) == {0}


@pytest.mark.parametrize(("current", "target"), [
    (S.REQUESTED, S.APPROVED), (S.REQUESTED, S.CANCELED), (S.REQUESTED, S.FAILED),
    (S.APPROVED, S.PAID), (S.APPROVED, S.FAILED)])
def test_allowed_payout_moves(current, target):
    assert move(PAYOUT_TRANSITIONS, "payout", current, target) == target


@pytest.mark.parametrize(("current", "target"), [
    (S.REQUESTED, S.PAID), (S.APPROVED, S.CANCELED), (S.APPROVED, S.APPROVED),
    (S.PAID, S.FAILED), (S.FAILED, S.REQUESTED), (S.CANCELED, S.APPROVED), (S.PAID, S.PAID)])
def test_refused_payout_moves(current, target):
    with pytest.raises(InvalidTransition):
        move(PAYOUT_TRANSITIONS, "payout", current, target)


def test_only_a_requested_payout_can_be_canceled_and_only_an_approved_one_paid():
    assert sources_of(PAYOUT_TRANSITIONS, S.CANCELED) == {"requested"}
    assert sources_of(PAYOUT_TRANSITIONS, S.PAID) == {"approved"}
    assert sources_of(PAYOUT_TRANSITIONS, S.FAILED) == {"requested", "approved"}


@pytest.mark.parametrize(("currency", "minimum"), [
    ("USD", 1000), ("EUR", 1000), ("JPY", 10), ("KWD", 10000), ("IQD", 10000),
    ("IDR", 1000)])
def test_the_default_minimum_is_ten_in_each_currencys_exponent(currency, minimum):
    assert PayoutRules().minimum_for(currency) == minimum


def test_a_currency_can_have_its_own_minimum_in_minor_units():
    rules = PayoutRules.parse("25.00", {"JPY": 1000})
    assert (rules.minimum_for("JPY"), rules.minimum_for("USD")) == (1000, 2500)


def test_a_minimum_finer_than_a_currencys_unit_rounds_up():
    assert PayoutRules(Decimal("10.50")).minimum_for("JPY") == 11


@pytest.mark.parametrize(("minimum", "overrides"), [
    ("ten", None), ("-1", None), ("10.00", {"usd": 100}), ("10.00", {"USD": 1.5}),
    ("10.00", {"USD": -1})])
def test_a_bad_minimum_in_configuration_is_refused(minimum, overrides):
    with pytest.raises(ValueError):
        PayoutRules.parse(minimum, overrides)


IBAN = "DE89 3704 0044 0532 0130 00"


def test_bank_details_are_normalized_and_only_their_last_four_shown():
    details = account_details("bank_transfer", {"account_holder": "Ada Lovelace",
                                                "iban": IBAN.lower(), "bank_name": None})
    assert details == {"account_holder": "Ada Lovelace", "iban": "DE89370400440532013000"}
    assert masked(last4(details)) == "****3000"
    us = account_details("bank_transfer", {"account_holder": "A", "account_number":
                                           "000123456789", "routing_number": "011000015"})
    assert last4(us) == "6789"
    uk = account_details("bank_transfer", {"account_holder": "A", "account_number":
                                           "31926819", "sort_code": "60-16-13"})
    assert uk["sort_code"] == "601613"


@pytest.mark.parametrize(("method", "details", "field"), [
    ("bank_transfer", {"account_holder": "A", "iban": "DE89 3704 0044 0532 0130 01"}, "iban"),
    ("bank_transfer", {"account_holder": "A", "iban": "not an iban at all"}, "iban"),
    ("bank_transfer", {"iban": IBAN}, "account_holder"),
    ("bank_transfer", {"account_holder": "A"}, "iban"),
    ("bank_transfer", {"account_holder": "A", "iban": IBAN, "sort_code": "601613"},
     "sort_code"),
    ("bank_transfer", {"account_holder": "A", "account_number": "000123456789",
                       "routing_number": "011000016"}, "routing_number"),
    ("bank_transfer", {"account_holder": "A", "account_number": "000123456789"},
     "routing_number"),
    ("bank_transfer", {"account_holder": "A", "account_number": "3192", "sort_code":
                       "601613"}, "account_number"),
    ("bank_transfer", {"account_holder": "A", "iban": IBAN, "email": "a@b.co"}, "email"),
    ("paypal", {"email": "ada.example.com"}, "email"),
    ("paypal", {}, "email"),
    ("paypal", {"email": "ada@example.com", "iban": IBAN}, "iban"),
    ("stripe_connect", {"account_id": "acct_x9"}, "account_id"),
    ("stripe_connect", {"account_id": "ba_1Nv0FGQ9RKHgCVdK"}, "account_id"),
])
def test_bad_details_are_refused_naming_the_field_but_never_the_value(method, details, field):
    with pytest.raises(ValidationFailed) as refused:
        account_details(method, details)
    assert refused.value.extra["field"] == field
    for value in details.values():
        if len(value) > 3:
            assert value not in refused.value.detail
            assert value.replace(" ", "") not in refused.value.detail
