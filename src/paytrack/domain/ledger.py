"""The chart of accounts and balanced journal entries.

Postings are signed: a debit is positive, a credit negative, so every entry sums to zero
per currency. Balances are shown in each account's normal direction: what the platform
owes a seller or has earned is positive.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from paytrack.domain.analytics import RevenueTags
from paytrack.domain.errors import LedgerError


class Normal(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


@dataclass(frozen=True, slots=True)
class AccountSpec:
    code: str
    normal: Normal
    # A bounded account may never go below zero in its normal direction. Its running
    # balance is updated in place under a row lock; unbounded ones append deltas instead.
    non_negative: bool = False

    @property
    def seller_id(self) -> str | None:
        if not self.code.startswith("seller:"):
            return None
        return self.code.removeprefix("seller:").rpartition(":")[0]

    @property
    def sign(self) -> int:
        """Multiply a signed posting by this to get its effect in the normal direction."""
        return 1 if self.normal is Normal.DEBIT else -1


def gateway_clearing(gateway: str) -> AccountSpec:
    return AccountSpec(f"gateway:{gateway}:clearing", Normal.DEBIT)


def seller_pending(seller_id: str) -> AccountSpec:
    return AccountSpec(f"seller:{seller_id}:pending", Normal.CREDIT)


def seller_available(seller_id: str) -> AccountSpec:
    return AccountSpec(f"seller:{seller_id}:available", Normal.CREDIT, non_negative=True)


def seller_in_transit(seller_id: str) -> AccountSpec:
    return AccountSpec(f"seller:{seller_id}:payout_in_transit", Normal.CREDIT)


def seller_debt(seller_id: str) -> AccountSpec:
    """What a seller owes the platform (a receivable): a refund or a lost dispute that
    its available balance could not cover. Recovered from its next releases."""
    return AccountSpec(f"seller:{seller_id}:debt", Normal.DEBIT, non_negative=True)


PLATFORM_REVENUE = AccountSpec("platform:revenue", Normal.CREDIT)
PLATFORM_TAX_PAYABLE = AccountSpec("platform:tax_payable", Normal.CREDIT)
PLATFORM_SHIPPING = AccountSpec("platform:shipping", Normal.CREDIT)
PLATFORM_FEES = AccountSpec("platform:fees", Normal.DEBIT)
PLATFORM_DISPUTES = AccountSpec("platform:disputes", Normal.DEBIT)
PLATFORM_DISCOUNTS = AccountSpec("platform:discounts", Normal.DEBIT)

_HOUSE = {a.code: a for a in (PLATFORM_REVENUE, PLATFORM_TAX_PAYABLE, PLATFORM_SHIPPING,
                              PLATFORM_FEES, PLATFORM_DISPUTES, PLATFORM_DISCOUNTS)}


def spec_for(code: str) -> AccountSpec:
    """Recover an account's rules from its code (used when reading accounts back)."""
    if code in _HOUSE:
        return _HOUSE[code]
    kind, _, rest = code.partition(":")
    name, _, suffix = rest.rpartition(":")
    if kind == "gateway" and suffix == "clearing":
        return gateway_clearing(name)
    if kind == "seller":
        builders = {"pending": seller_pending, "available": seller_available,
                    "payout_in_transit": seller_in_transit, "debt": seller_debt}
        if suffix in builders:
            return builders[suffix](name)
    raise LedgerError(f"unknown account code {code!r}")


@dataclass(frozen=True, slots=True)
class Posting:
    account: AccountSpec
    currency: str
    amount_minor: int  # debit > 0, credit < 0


@dataclass(slots=True)
class JournalEntry:
    """An entry under construction; ``postings`` must balance before it is stored. An
    entry about a payment carries the payment's ``RevenueTags`` in ``about``: the ledger
    appends its revenue delta with it (``domain/analytics.py``)."""

    kind: str
    description: str
    payment_id: str | None = None
    refund_id: str | None = None
    postings: list[Posting] = field(default_factory=list)
    about: RevenueTags | None = None

    def check_about(self) -> None:
        """An entry about a payment carries that payment's tags, in its currency."""
        if self.payment_id is None and self.about is None:
            return
        if self.about is None or self.about.payment_id != self.payment_id:
            raise LedgerError(f"journal entry {self.kind!r} about payment {self.payment_id} "
                              "does not carry that payment's revenue tags")
        if any(p.currency != self.about.currency for p in self.postings):
            raise LedgerError(f"journal entry {self.kind!r} posts in another currency than "
                              f"its payment's, {self.about.currency}")

    def debit(self, account: AccountSpec, currency: str, amount_minor: int) -> JournalEntry:
        if amount_minor:
            assert amount_minor > 0, "debit a positive amount"
            self.postings.append(Posting(account, currency, amount_minor))
        return self

    def credit(self, account: AccountSpec, currency: str, amount_minor: int) -> JournalEntry:
        if amount_minor:
            assert amount_minor > 0, "credit a positive amount"
            self.postings.append(Posting(account, currency, -amount_minor))
        return self

    def post(self, account: AccountSpec, currency: str, signed_minor: int) -> JournalEntry:
        """A signed posting: positive debits, negative credits, zero is skipped."""
        if signed_minor:
            self.postings.append(Posting(account, currency, signed_minor))
        return self

    def check_balanced(self) -> None:
        sums: dict[str, int] = defaultdict(int)
        for p in self.postings:
            sums[p.currency] += p.amount_minor
        unbalanced = {c: s for c, s in sums.items() if s}
        if unbalanced or not self.postings:
            raise LedgerError(f"journal entry {self.kind!r} does not balance: {unbalanced}")

    def reversed(self, kind: str, description: str) -> JournalEntry:
        """The correcting entry: the same postings with their signs flipped."""
        entry = JournalEntry(kind, description, self.payment_id, self.refund_id,
                             about=self.about)
        entry.postings = [Posting(p.account, p.currency, -p.amount_minor) for p in self.postings]
        return entry


# -- what the ledger reads back --------------------------------------------------------


class Account(TypedDict):
    """A stored account with its current balance in its normal direction (the running
    balance plus the deltas not yet folded in)."""

    id: int
    code: str
    currency: str
    normal: str  # a Normal value
    seller_id: str | None
    current_balance: int


class PostingLine(TypedDict):
    """A posting as a journal entry shows it: by account code; debit > 0, credit < 0."""

    account: str
    currency: str
    amount: int


class JournalEntryRow(TypedDict):
    """A stored journal entry with its postings."""

    id: str
    kind: str
    description: str
    payment_id: str | None
    refund_id: str | None
    created_at: datetime
    postings: list[PostingLine]


class CurrencyTotals(TypedDict):
    """Every debit and every credit ever posted in one currency: equal when balanced."""

    currency: str
    debits: int
    credits: int


class UnbalancedEntry(TypedDict):
    """A stored entry whose postings do not sum to zero in ``currency``: off by ``sum``."""

    entry_id: str
    currency: str
    sum: int


class BalanceDifference(TypedDict):
    """An account whose running balance (``stored``) is not what its postings say."""

    account_id: int
    code: str
    currency: str
    stored: int
    expected: int
