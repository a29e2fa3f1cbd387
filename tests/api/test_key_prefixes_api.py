"""API key prefixes cannot collide in practice, a collision is drawn again instead of a
500, and keys made with the old 8-digit prefixes keep working."""

import hashlib
import secrets
from datetime import UTC, datetime

from paytrack.adapters.storage.tables import api_keys
from paytrack.services.keys import create_key
from tests.api.conftest import Api
from tests.integration.conftest import ADMIN


def test_a_prefix_is_96_random_bits(make_key):
    token = make_key("admin")
    prefix = token.split("_")[1]
    assert len(prefix) == 24 and int(prefix, 16) >= 0


def test_a_colliding_prefix_is_drawn_again(client, storage, monkeypatch):
    real = secrets.token_hex
    draws = iter(["same", "same"])  # the random source repeats itself once

    def token_hex(nbytes: int) -> str:
        drawn = next(draws, None)
        return real(nbytes) if drawn is None else "ab" * nbytes

    monkeypatch.setattr(secrets, "token_hex", token_hex)
    tokens = []
    for _ in range(2):
        with storage.unit_of_work() as uow:
            key, token = create_key(uow, "admin", ADMIN)
            uow.commit()
        tokens.append(token)
    first, second = (t.split("_")[1] for t in tokens)
    assert first == "ab" * 12 and second != first
    for token in tokens:
        assert Api(client, token).get("/v1/payments").status_code == 200


def test_a_key_with_an_old_8_digit_prefix_still_authenticates(client, storage):
    token = "ptk_0a1b2c3d_" + secrets.token_urlsafe(32)
    with storage.engine.begin() as conn:
        conn.execute(api_keys.insert().values(
            id="key_old", prefix="0a1b2c3d", secret_hash=hashlib.sha256(token.encode())
            .hexdigest(), role="admin", created_at=datetime.now(UTC)))
    assert Api(client, token).get("/v1/payments").status_code == 200
    assert Api(client, token[:-1] + "x").get("/v1/payments").status_code == 401
