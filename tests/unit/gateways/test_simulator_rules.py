"""The simulator's test cards, fee and checkout tokens (no database)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from paytrack.adapters.gateways.simulator_rules import (
    TEST_CARDS,
    CardOutcome,
    CheckoutToken,
    TokenExpired,
    TokenInvalid,
    card_for,
    decode_token,
    encode_token,
    simulated_fee,
    token_key,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
KEY = token_key("whsec_dGVzdCBzZWNyZXQgZm9yIHRoZSBzaW11bGF0b3I=")
CHECKOUT = CheckoutToken(payment_id="pay_01JDQ5Z0000000000000000000", amount=1250,
                         currency="USD", description="Course: Python 101 — ünïcode",
                         expires_at=NOW + timedelta(minutes=30),
                         return_url="https://shop.test/done?x=1", metadata={"order": "1001"})


def test_a_token_carries_its_checkout_back_unchanged():
    assert decode_token(encode_token(CHECKOUT, KEY), KEY, NOW) == CHECKOUT


def test_a_token_is_url_safe():
    token = encode_token(CHECKOUT, KEY)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_a_token_is_refused_once_its_checkout_has_expired_and_says_which_it_was():
    token = encode_token(CHECKOUT, KEY)
    with pytest.raises(TokenExpired) as raised:
        decode_token(token, KEY, CHECKOUT.expires_at)
    assert raised.value.checkout == CHECKOUT


def _reencoded(token: str, **changes) -> str:
    body, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data.update(changes)
    body = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{body}.{signature}"


def test_a_token_whose_amount_was_changed_is_refused():
    token = encode_token(CHECKOUT, KEY)
    with pytest.raises(TokenInvalid):
        decode_token(_reencoded(token, a=1), KEY, NOW)


def test_a_token_whose_expiry_was_pushed_back_is_refused():
    token = encode_token(CHECKOUT, KEY)
    later = int((NOW + timedelta(days=365)).timestamp())
    with pytest.raises(TokenInvalid):
        decode_token(_reencoded(token, e=later), KEY, NOW + timedelta(hours=1))


def test_a_token_signed_with_another_secret_is_refused():
    token = encode_token(CHECKOUT, token_key("whsec_b3RoZXIgc2VjcmV0"))
    with pytest.raises(TokenInvalid):
        decode_token(token, KEY, NOW)


@pytest.mark.parametrize("token", [
    "", ".", "..", "a.b", "a.b.c", "%00", "\x00.\x00", "é.é", "a" * 9000,
    encode_token(CHECKOUT, KEY)[:-2], encode_token(CHECKOUT, KEY) + "A",
    "eyJwIjoxfQ." + "A" * 43,
])
def test_garbage_is_refused_as_an_invalid_token_and_nothing_else(token):
    with pytest.raises(TokenInvalid):
        decode_token(token, KEY, NOW)


def test_a_signed_token_that_is_not_a_checkout_is_refused():
    import hashlib
    import hmac
    body = base64.urlsafe_b64encode(b'{"p": 1}').rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(
        hmac.new(KEY, body.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    with pytest.raises(TokenInvalid):
        decode_token(f"{body}.{signature}", KEY, NOW)


@pytest.mark.parametrize(("number", "outcome"), [
    ("4242 4242 4242 4242", CardOutcome.SUCCEEDS),
    ("4242424242424242", CardOutcome.SUCCEEDS),
    ("4242-4242-4242-4242", CardOutcome.SUCCEEDS),
    ("4000 0000 0000 0002", CardOutcome.DECLINED),
    ("4000 0000 0000 9995", CardOutcome.INSUFFICIENT_FUNDS),
    ("4000 0000 0000 3220", CardOutcome.DELAYED),
    ("4000 0000 0000 0259", CardOutcome.DISPUTED),
    ("4000 0000 0000 5126", CardOutcome.REFUND_FAILS),
])
def test_each_test_card_names_its_outcome(number, outcome):
    card = card_for(number)
    assert card is not None and card.outcome is outcome


@pytest.mark.parametrize("number", ["", "4111 1111 1111 1111", "5555555555554444",
                                    "4242 4242 4242 4241", "4242" * 20, "４２４２"])
def test_any_other_number_is_not_a_test_card(number):
    assert card_for(number) is None


def test_every_outcome_has_exactly_one_test_card():
    assert sorted(card.outcome for card in TEST_CARDS) == sorted(CardOutcome)


@pytest.mark.parametrize(("amount", "fee"), [
    (10000, 320),  # 290 + 30
    (1000, 59),  # 29 + 30
    (1017, 59),  # 29.493 rounds down
    (1018, 60),  # 29.522 rounds up
    (50, 31),  # 1.45 rounds down
    (10, 10),  # never more than the amount
    (0, 0),
    (9_000_000_000_000_000, 261_000_000_000_030),  # exact at any size
])
def test_the_simulated_fee_is_2_9_percent_rounded_half_up_plus_30_minor_units(amount, fee):
    assert simulated_fee(amount) == fee
