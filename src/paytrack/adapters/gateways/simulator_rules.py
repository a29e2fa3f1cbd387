"""The simulator's rules: its test cards, its fee and its signed checkout tokens.

Test cards (in the spirit of Stripe's; spaces and dashes are ignored, any other number is
refused, and only the outcome's name is ever kept, never the number):

    4242 4242 4242 4242   succeeds
    4000 0000 0000 0002   declined (card_declined)
    4000 0000 0000 9995   declined (insufficient_funds)
    4000 0000 0000 3220   processing at once, succeeds after delay_s (default 10 s)
    4000 0000 0000 0259   succeeds, then a dispute opens after delay_s (default 10 s)
    4000 0000 0000 5126   succeeds, but every refund of it fails

A checkout is not stored when it is created (that happens inside paytrack's own
transaction): it travels in the hosted page's URL as a token, the JSON of what the page
shows and needs, signed with an HMAC-SHA256 key derived from the webhook secret. A token
that was changed, or whose checkout has expired, is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

# -- test cards ------------------------------------------------------------------------------


class CardOutcome(StrEnum):
    SUCCEEDS = "succeeded"
    DECLINED = "card_declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    DELAYED = "delayed"
    DISPUTED = "disputed"
    REFUND_FAILS = "refund_fails"


@dataclass(frozen=True, slots=True)
class TestCard:
    number: str  # as shown: groups of four
    outcome: CardOutcome
    label: str

    __test__ = False  # not a pytest test class


TEST_CARDS: tuple[TestCard, ...] = (
    TestCard("4242 4242 4242 4242", CardOutcome.SUCCEEDS, "succeeds"),
    TestCard("4000 0000 0000 0002", CardOutcome.DECLINED, "declined (card_declined)"),
    TestCard("4000 0000 0000 9995", CardOutcome.INSUFFICIENT_FUNDS,
             "declined (insufficient_funds)"),
    TestCard("4000 0000 0000 3220", CardOutcome.DELAYED,
             "processing, then succeeds after the delay"),
    TestCard("4000 0000 0000 0259", CardOutcome.DISPUTED,
             "succeeds, then is disputed after the delay"),
    TestCard("4000 0000 0000 5126", CardOutcome.REFUND_FAILS, "succeeds; its refunds fail"),
)
_BY_DIGITS = {card.number.replace(" ", ""): card for card in TEST_CARDS}
CARD_FIELD_MAX_CHARS = 40
# The later step of these cards waits this long when no delay is chosen.
DEFAULT_DELAY_S = {CardOutcome.DELAYED: 10, CardOutcome.DISPUTED: 10}
DELAY_S_MAX = 3600
DUPLICATES_MAX = 5


def card_for(number: str) -> TestCard | None:
    """The test card a typed number names (spaces and dashes ignored), or None."""
    if len(number) > CARD_FIELD_MAX_CHARS:
        return None
    return _BY_DIGITS.get(number.replace(" ", "").replace("-", ""))


# -- fees --------------------------------------------------------------------------------------

FEE_PER_MILLE = 29  # 2.9 %
FEE_FIXED_MINOR = 30  # plus 30 minor units
DISPUTE_FEE_MINOR = 1500


def simulated_fee(amount: int) -> int:
    """2.9 % of the amount rounded half up, plus 30 minor units, never more than the
    amount: ``10000 -> 320``, ``1000 -> 59``, ``10 -> 10``. Integer arithmetic only."""
    percent = (amount * FEE_PER_MILLE * 2 + 1000) // 2000
    return min(amount, percent + FEE_FIXED_MINOR)


# -- checkout tokens ---------------------------------------------------------------------------

TOKEN_MAX_CHARS = 8000  # a URL path segment browsers and servers all accept
_KEY_LABEL = b"paytrack simulator checkout token v1"


class TokenInvalid(Exception):
    """Not a token this simulator signed with its secret (or changed since)."""


class TokenExpired(Exception):
    """A genuine token whose checkout has expired."""

    def __init__(self, checkout: CheckoutToken) -> None:
        super().__init__("the checkout has expired")
        self.checkout = checkout


@dataclass(frozen=True, slots=True)
class CheckoutToken:
    payment_id: str
    amount: int
    currency: str
    description: str
    expires_at: datetime
    return_url: str
    metadata: Mapping[str, str] = field(default_factory=dict)


def token_key(webhook_secret: str) -> bytes:
    return hmac.new(webhook_secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_token(checkout: CheckoutToken, key: bytes) -> str:
    payload = json.dumps({
        "p": checkout.payment_id, "a": checkout.amount, "c": checkout.currency,
        "d": checkout.description, "e": int(checkout.expires_at.timestamp()),
        "r": checkout.return_url, "m": dict(checkout.metadata),
    }, separators=(",", ":"), ensure_ascii=False).encode()
    body = _b64(payload)
    return f"{body}.{_b64(hmac.new(key, body.encode(), hashlib.sha256).digest())}"


def decode_token(token: str, key: bytes, now: datetime) -> CheckoutToken:
    """The checkout a token carries; ``TokenInvalid`` unless this key signed it unchanged,
    ``TokenExpired`` (carrying it) once it has expired. Never any other exception."""
    checkout = _verified(token, key)
    if checkout.expires_at <= now:
        raise TokenExpired(checkout)
    return checkout


def _verified(token: str, key: bytes) -> CheckoutToken:
    if not isinstance(token, str) or len(token) > TOKEN_MAX_CHARS or token.count(".") != 1:
        raise TokenInvalid("not a checkout token")
    body, signature = token.split(".")
    try:
        expected = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
        valid = hmac.compare_digest(expected, _unb64(signature))
    except (UnicodeError, binascii.Error, ValueError):
        valid = False
    if not valid:
        raise TokenInvalid("the token's signature does not match")
    try:
        data = json.loads(_unb64(body))
        checkout = CheckoutToken(
            payment_id=_text(data["p"]), amount=_count(data["a"]), currency=_text(data["c"]),
            description=_text(data["d"]),
            expires_at=datetime.fromtimestamp(_count(data["e"]), UTC),
            return_url=_text(data["r"]),
            metadata={_text(k): _text(v) for k, v in data["m"].items()})
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError, OSError,
            binascii.Error) as exc:  # signed but unreadable: a key shared with another tool
        raise TokenInvalid("the token's content is not a checkout") from exc
    return checkout


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError("expected a non-negative integer")
    return value
