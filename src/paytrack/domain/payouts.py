"""Seller payouts: the record, the minimum, the ledger entries and the payout accounts.

A payout moves money the platform owes a seller out of its available balance:

    requested   debit seller:<id>:available, credit seller:<id>:payout_in_transit
    paid        debit payout_in_transit, credit the clearing account the money leaves from
    failed /    debit payout_in_transit, credit seller:<id>:available (the funds return)
    canceled

The money leaves from the clearing account of the rail that pays it (``CLEARING``):
``gateway:stripe:clearing`` for Stripe Connect, ``gateway:paypal:clearing`` for PayPal and
``gateway:manual:clearing`` for a bank transfer the platform makes itself.

The state machine is ``states.PAYOUT_TRANSITIONS``. Payout account details (bank, PayPal,
Stripe Connect) are checked here and then only ever stored encrypted; what anyone sees of
them is their last four characters (``masked``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import TypedDict

from paytrack.domain.errors import ValidationFailed
from paytrack.domain.ledger import (
    JournalEntry,
    gateway_clearing,
    seller_available,
    seller_debt,
    seller_in_transit,
)
from paytrack.domain.money import currency_exponent, validate_currency


class PayoutMethod(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    PAYPAL = "paypal"
    STRIPE_CONNECT = "stripe_connect"


# The gateway whose clearing account a paid payout leaves from.
CLEARING: dict[PayoutMethod, str] = {
    PayoutMethod.STRIPE_CONNECT: "stripe",
    PayoutMethod.PAYPAL: "paypal",
    PayoutMethod.BANK_TRANSFER: "manual",
}

DEFAULT_MINIMUM = Decimal("10.00")  # MIN_PAYOUT_AMOUNT of the Django seed


@dataclass(frozen=True, slots=True)
class PayoutRules:
    """The smallest payout: ``minimum`` major units in any currency (10.00 USD is 1000,
    10 JPY is 10, 10.000 KWD is 10000), unless ``minimum_minor`` names the currency with
    its own minimum in minor units."""

    minimum: Decimal = DEFAULT_MINIMUM
    minimum_minor: tuple[tuple[str, int], ...] = field(default_factory=tuple)

    def minimum_for(self, currency: str) -> int:
        """The minimum in ``currency``'s minor units (a fraction of a minor unit rounds up:
        a minimum is never undercut)."""
        for code, amount in self.minimum_minor:
            if code == currency:
                return amount
        scaled = self.minimum.scaleb(currency_exponent(currency))
        return int(scaled.to_integral_value(rounding=ROUND_CEILING))

    @classmethod
    def parse(cls, minimum: str | Decimal, overrides: dict[str, int] | None = None
              ) -> PayoutRules:
        """From configuration; a bad value is refused with what was expected."""
        try:
            value = Decimal(str(minimum))
        except ArithmeticError:
            value = Decimal(-1)
        if not value.is_finite() or value < 0:
            raise ValueError(f"payout minimum {minimum!r}: expected a decimal amount in "
                             "major units, e.g. '10.00'")
        pairs = []
        for code, amount in sorted((overrides or {}).items()):
            try:
                validate_currency(code)
            except ValidationFailed as exc:
                raise ValueError(f"payout minimum: {exc.detail}") from None
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
                raise ValueError(f"payout minimum for {code}: expected an integer of minor "
                                 f"units, e.g. 1000, not {amount!r}")
            pairs.append((code, amount))
        return cls(value, tuple(pairs))


class Payout(TypedDict):
    """A payout as stored, read and returned: one row of ``payouts``. ``destination`` is
    the masked payout account it goes to (``****3000``); ``requested_by`` and
    ``decided_by`` are recorded actors (``"admin:key_01…"``)."""

    id: str
    seller_id: str
    currency: str
    amount: int
    method: str  # a PayoutMethod value
    destination: str
    status: str  # a PayoutStatus value
    previous_status: str | None
    requested_by: str
    decided_by: str | None
    reference: str | None  # the provider's reference, set when paid
    failure_reason: str | None
    cancellation_reason: str | None
    gateway: str | None  # paid through this gateway (stripe_connect: stripe)
    gateway_payout_id: str | None
    next_submit_at: datetime | None
    submitted_at: datetime | None
    submit_attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None
    paid_at: datetime | None
    failed_at: datetime | None
    canceled_at: datetime | None


class PayoutAccount(TypedDict):
    """A seller's payout account for one method, as stored: the details encrypted as a
    whole, and their last four characters in clear."""

    seller_id: str
    method: str
    details_encrypted: str
    last4: str
    created_at: datetime
    updated_at: datetime


# -- the ledger --------------------------------------------------------------------------


def request_entry(payout: Payout) -> JournalEntry:
    seller, currency, amount = payout["seller_id"], payout["currency"], payout["amount"]
    entry = JournalEntry("payout.requested", f"payout {payout['id']} requested")
    entry.debit(seller_available(seller), currency, amount)
    entry.credit(seller_in_transit(seller), currency, amount)
    return entry


def paid_entry(payout: Payout) -> JournalEntry:
    """The money leaves: in transit -> the clearing account of the payout's method."""
    seller, currency, amount = payout["seller_id"], payout["currency"], payout["amount"]
    gateway = CLEARING[PayoutMethod(payout["method"])]
    entry = JournalEntry("payout.paid", f"payout {payout['id']} paid")
    entry.debit(seller_in_transit(seller), currency, amount)
    entry.credit(gateway_clearing(gateway), currency, amount)
    return entry


def returned_entry(payout: Payout, kind: str, to_debt: int = 0) -> JournalEntry:
    """A payout that will not be paid (``payout.failed``, ``payout.canceled``): its funds
    go back to the seller, paying down ``to_debt`` of its debt first (as a release does),
    the rest to available."""
    assert kind in ("payout.failed", "payout.canceled")
    seller, currency, amount = payout["seller_id"], payout["currency"], payout["amount"]
    assert 0 <= to_debt <= amount
    entry = JournalEntry(kind, f"payout {payout['id']} {kind.partition('.')[2]}")
    entry.debit(seller_in_transit(seller), currency, amount)
    entry.credit(seller_debt(seller), currency, to_debt)
    entry.credit(seller_available(seller), currency, amount - to_debt)
    return entry


# -- payout accounts ---------------------------------------------------------------------
# No message here repeats a value it refuses: details are secret, even wrong ones.

FIELDS: dict[PayoutMethod, frozenset[str]] = {
    PayoutMethod.BANK_TRANSFER: frozenset({"account_holder", "iban", "account_number",
                                           "routing_number", "sort_code", "bank_name"}),
    PayoutMethod.PAYPAL: frozenset({"email"}),
    PayoutMethod.STRIPE_CONNECT: frozenset({"account_id"}),
}
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_CONNECT = re.compile(r"^acct_[A-Za-z0-9]{8,64}$")


def account_details(method: str, given: dict[str, str | None]) -> dict[str, str]:
    """The details of a payout account for ``method``, checked and normalized (spaces
    out of an IBAN, dashes out of a sort code); refused with the field named."""
    kind = PayoutMethod(method)
    sent = {k: v.strip() for k, v in given.items() if v is not None}
    for name in sorted(set(sent) - FIELDS[kind]):
        raise ValidationFailed(f"{name} is not a detail of a {kind} account (it takes "
                               f"{', '.join(sorted(FIELDS[kind]))})", field=name)
    if kind is PayoutMethod.PAYPAL:
        email = _required(sent, "email")
        if len(email) > 254 or not _EMAIL.fullmatch(email):
            raise ValidationFailed("email is not an email address (e.g. ada@example.com)",
                                   field="email")
        return {"email": email}
    if kind is PayoutMethod.STRIPE_CONNECT:
        account_id = _required(sent, "account_id")
        if not _CONNECT.fullmatch(account_id):
            raise ValidationFailed("account_id is not a Stripe Connect account id (`acct_` "
                                   "and 8 to 64 letters or digits, e.g. acct_1Nv0FGQ9RKHgCVdK)",
                                   field="account_id")
        return {"account_id": account_id}
    return _bank(sent)


def _bank(sent: dict[str, str]) -> dict[str, str]:
    details = {"account_holder": _required(sent, "account_holder")}
    if len(details["account_holder"]) > 200:
        raise ValidationFailed("account_holder is longer than 200 characters",
                               field="account_holder")
    if "bank_name" in sent:
        if not sent["bank_name"] or len(sent["bank_name"]) > 200:
            raise ValidationFailed("bank_name must be 1 to 200 characters", field="bank_name")
        details["bank_name"] = sent["bank_name"]
    if "iban" in sent:
        for other in ("account_number", "routing_number", "sort_code"):
            if other in sent:
                raise ValidationFailed(f"send iban, or account_number with routing_number or "
                                       f"sort_code: not both ({other})", field=other)
        details["iban"] = _iban(sent["iban"])
        return details
    if "account_number" not in sent:
        raise ValidationFailed("a bank account needs iban, or account_number with "
                               "routing_number (US) or sort_code (UK)", field="iban")
    number = sent["account_number"].replace(" ", "")
    if "routing_number" in sent and "sort_code" in sent:
        raise ValidationFailed("send routing_number or sort_code, not both",
                               field="sort_code")
    if "routing_number" in sent:
        if not re.fullmatch(r"[0-9]{4,17}", number):
            raise ValidationFailed("account_number must be 4 to 17 digits",
                                   field="account_number")
        details["account_number"] = number
        details["routing_number"] = _routing(sent["routing_number"])
    elif "sort_code" in sent:
        if not re.fullmatch(r"[0-9]{8}", number):
            raise ValidationFailed("account_number must be 8 digits with a sort code",
                                   field="account_number")
        code = sent["sort_code"].replace("-", "").replace(" ", "")
        if not re.fullmatch(r"[0-9]{6}", code):
            raise ValidationFailed("sort_code must be 6 digits (e.g. 12-34-56)",
                                   field="sort_code")
        details["account_number"] = number
        details["sort_code"] = code
    else:
        raise ValidationFailed("account_number needs routing_number (US) or sort_code (UK)",
                               field="routing_number")
    return details


def _required(sent: dict[str, str], name: str) -> str:
    value = sent.get(name)
    if not value:
        raise ValidationFailed(f"{name} is required", field=name)
    return value


def _iban(value: str) -> str:
    """ISO 13616: country, check digits, then the account; the check is mod 97 == 1."""
    iban = value.replace(" ", "").upper()
    if not _IBAN.fullmatch(iban):
        raise ValidationFailed("iban is not in the form of an IBAN (a country code, 2 check "
                               "digits and up to 30 letters or digits, e.g. "
                               "DE89 3704 0044 0532 0130 00)", field="iban")
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        raise ValidationFailed("iban fails its check digits: a character is mistyped",
                               field="iban")
    return iban


def _routing(value: str) -> str:
    """An ABA routing number: 9 digits whose weighted sum (3, 7, 1) is a multiple of 10."""
    if not re.fullmatch(r"[0-9]{9}", value):
        raise ValidationFailed("routing_number must be 9 digits", field="routing_number")
    d = [int(c) for c in value]
    if (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10:
        raise ValidationFailed("routing_number fails its checksum: a digit is mistyped",
                               field="routing_number")
    return value


# The detail whose end identifies an account to its owner.
_IDENTIFYING = ("iban", "account_number", "email", "account_id")


def last4(details: dict[str, str]) -> str:
    """The last four characters of what identifies the account: all anyone is shown."""
    key = next(k for k in _IDENTIFYING if k in details)
    return details[key][-4:]


def masked(last_four: str) -> str:
    return f"****{last_four}"
