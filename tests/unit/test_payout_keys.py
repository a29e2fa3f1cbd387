"""Payout account details under Fernet keys, rotated through MultiFernet."""

import logging
import stat

import pytest
from cryptography.fernet import Fernet

from paytrack.adapters.secrets import (
    KEY_FILE_NAME,
    KeyMissing,
    PayoutKeyring,
    default_key_file,
    read_or_create_key,
)

DETAILS = {"account_holder": "Ada Lovelace", "iban": "DE89370400440532013000"}


def test_details_round_trip_and_the_token_does_not_show_them():
    keyring = PayoutKeyring.of(Fernet.generate_key())
    token = keyring.encrypt(DETAILS)
    assert "DE89" not in token and "Ada" not in token
    assert keyring.decrypt(token) == DETAILS


def test_rotation_old_key_decrypts_until_rotate_then_only_the_new_one_is_needed():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = PayoutKeyring.of(old).encrypt(DETAILS)
    both = PayoutKeyring.of(new, old)  # newest first
    assert both.decrypt(token) == DETAILS  # the old key still decrypts before the rotation
    with pytest.raises(KeyMissing):
        PayoutKeyring.of(new).decrypt(token)
    rotated = both.rotate(token)
    assert PayoutKeyring.of(new).decrypt(rotated) == DETAILS
    with pytest.raises(KeyMissing):
        PayoutKeyring.of(old).decrypt(rotated)


def test_a_key_that_is_not_a_fernet_key_is_refused_without_showing_it():
    keyring = PayoutKeyring.configured("not-a-key-at-all", None, "sqlite:///x.db")
    with pytest.raises(ValueError) as refused:
        keyring.encrypt(DETAILS)
    assert "not-a-key" not in str(refused.value)


def test_the_key_file_is_made_once_with_mode_0600_and_a_warning(tmp_path, caplog):
    path = tmp_path / KEY_FILE_NAME
    with caplog.at_level(logging.WARNING, logger="paytrack.secrets"):
        first = read_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len([r for r in caplog.records if "payout encryption key" in r.message]) == 1
    assert first.decode() not in caplog.text
    assert read_or_create_key(path) == first
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]


def test_the_key_file_lives_next_to_the_sqlite_database(tmp_path, monkeypatch):
    assert default_key_file(f"sqlite:///{tmp_path}/data/p.db") == \
        tmp_path / "data" / KEY_FILE_NAME
    monkeypatch.chdir(tmp_path)
    assert default_key_file("postgresql+psycopg://u@h/db") == tmp_path / KEY_FILE_NAME


def test_configured_keys_win_over_the_key_file(tmp_path):
    key = Fernet.generate_key().decode()
    keyring = PayoutKeyring.configured(f" {key} , {Fernet.generate_key().decode()}",
                                       str(tmp_path / "unused.key"), "sqlite:///x.db")
    token = keyring.encrypt(DETAILS)
    assert PayoutKeyring.of(key).decrypt(token) == DETAILS
    assert not (tmp_path / "unused.key").exists()
