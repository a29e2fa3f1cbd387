"""The largest numbers paytrack accepts, chosen so that no accepted write can break a read.

Every number paytrack stores is a signed 64-bit integer (at most 2^63 - 1, about
9.22 × 10^18). Two limits keep every stored number, and every sum a read computes, exact:

``MAX_AMOUNT_MINOR = 99_999_999_999_999`` (fourteen digits) is the most one amount field
may hold: a subtotal, a discount, tax, shipping, a total, a gateway fee, a refund. Stripe
stops at eight digits (99,999,999, that is 999,999.99 USD), but a ledger also records what
card networks do not carry: B2B invoices, bookings and bank transfers, in currencies whose
units are small. Fourteen digits is what one bank wire can carry: a SWIFT MT103 amount is
at most 15 characters including its decimal comma, so 14 digits in any currency.

    currency (decimals)     largest amount              in USD, roughly
    USD, EUR (2)            999,999,999,999.99          1 trillion
    KRW (0), VND (0)        99,999,999,999,999          72 billion, 3.9 billion
    KWD (3), IQD (3)        99,999,999,999.999          330 billion, 76 million
    IDR (2)                 999,999,999,999.99          61 million
    LBP (2), IRR (2)        999,999,999,999.99          11 million; IRR 24 million at the
                                                        official rate, 1 million at market

Twelve digits (or 10^11, one billion rupiah) would refuse real payments in the currencies
at the bottom: an IDR invoice above 610,000 USD, an IRR payment above 10,000 USD at market
rates. The limit stays below 2^53, so one amount is exact even in a JSON reader that parses
numbers as doubles (JavaScript).

``MAX_BALANCE_MINOR = 4 × 10^18`` is the most any one ledger account may hold, either way
(|balance| ≤ 4 × 10^18). A write that would take an account past it is refused
(``balance_limit_exceeded``, 409), by the database itself: a conditional UPDATE for the
accounts kept under a row lock, a trigger on ``balance_deltas`` for the ones that take
appended deltas. Why this number:

- 2 × 4 × 10^18 < 2^63, so any two balances can be added or subtracted in 64 bits;
- it is 40,000 amounts at the per-amount maximum, and more than real commerce puts through
  one account: a billion USD a year in IDR fills it in about 2,400 years; only IRR at
  market rates (about a million rials to the dollar, 10^8 minor units) gets within reach,
  at 40 billion USD, which payouts and settlements drain long before;
- the 5 × 10^18 left below 2^63 absorb what concurrent writers add between their check
  and their commit on PostgreSQL (each at most one entry, a few amounts; tens of thousands
  of simultaneous transactions on one account would be needed to overflow), so folding
  deltas into a stored balance and rebuilding balances from postings always fit.

Sums across accounts (the trial balance adds every posting of a currency ever made) have
no such bound; the reads compute them exactly instead: PostgreSQL sums bigints as
``numeric``, and on SQLite each value is summed in two halves that cannot overflow (see
``adapters/storage/sql.py``).
"""

from __future__ import annotations

from paytrack.domain.errors import AmountLimitExceeded

MAX_AMOUNT_MINOR = 99_999_999_999_999
MAX_BALANCE_MINOR = 4 * 10**18


def amount_limit_message() -> str:
    most = MAX_AMOUNT_MINOR
    return (f"is above the largest amount paytrack accepts: {most} minor units "
            f"(e.g. {most // 100}.{most % 100:02d} USD or {most} JPY)")


def check_amount(value: int, field: str) -> int:
    """Refuse an amount above ``MAX_AMOUNT_MINOR``; ``field`` names it in the error."""
    if value > MAX_AMOUNT_MINOR:
        raise AmountLimitExceeded(f"{field} {value} {amount_limit_message()}", field=field,
                                  maximum=MAX_AMOUNT_MINOR)
    return value
