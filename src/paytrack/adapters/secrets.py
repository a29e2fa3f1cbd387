"""Payout account details encrypted at rest: Fernet, with key rotation through MultiFernet.

Keys come from ``PAYTRACK_PAYOUT_KEYS`` (comma-separated Fernet keys, newest first): the
newest encrypts, every one decrypts, so a new key goes in front and the old ones stay
until ``paytrack payout-keys rotate`` has re-encrypted every stored account with the
newest. Without it, paytrack keeps one key in a file (``PAYTRACK_PAYOUT_KEY_FILE``, by
default ``paytrack-payout.key`` next to the SQLite database, else in the current folder),
created with mode 0600 on first use, so the embedded default just works. A key never
appears in a message, a log line or a response; neither does what it encrypts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url

log = logging.getLogger("paytrack.secrets")
KEY_FILE_NAME = "paytrack-payout.key"


class KeyMissing(Exception):  # noqa: N818 - a configuration problem, named for what it is
    """Stored details that no configured key decrypts: a key was dropped too early."""


class PayoutKeyring:
    """Encrypts and decrypts payout account details; the keys are loaded on first use."""

    def __init__(self, load: Callable[[], list[bytes]]) -> None:
        self._load = load
        self._fernet: MultiFernet | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, *keys: str | bytes) -> PayoutKeyring:
        """A keyring of these keys, newest first."""
        return cls(lambda: [k.encode() if isinstance(k, str) else k for k in keys])

    @classmethod
    def configured(cls, keys: str | None, key_file: str | None,
                   database_url: str) -> PayoutKeyring:
        """From configuration: ``keys`` if set, else the key file (made when first used)."""
        if keys:
            return cls(lambda: parse_keys(keys))
        path = Path(key_file) if key_file else default_key_file(database_url)
        return cls(lambda: [read_or_create_key(path)])

    @classmethod
    def from_environment(cls, database_url: str) -> PayoutKeyring:
        """From ``PAYTRACK_*`` settings, read when first used."""
        def load() -> list[bytes]:
            from paytrack.config import Settings

            settings = Settings()
            keys = settings.payout_keys.get_secret_value() if settings.payout_keys else None
            return cls.configured(keys, settings.payout_key_file, database_url)._keys()

        return cls(load)

    def _keys(self) -> list[bytes]:
        return self._load()

    @property
    def _multi(self) -> MultiFernet:
        if self._fernet is None:
            with self._lock:
                if self._fernet is None:
                    self._fernet = MultiFernet([_fernet(k, i) for i, k in
                                                enumerate(self._load(), start=1)])
        return self._fernet

    def derive(self, purpose: str) -> list[bytes]:
        """A secret per configured key for ``purpose`` (HMAC-SHA256 of the purpose with
        the key), newest first: what signs the dashboard's cookies, say, so that a rotated
        key still verifies what the one before signed."""
        return [hmac.new(key, purpose.encode(), hashlib.sha256).digest() for key in self._load()]

    def encrypt(self, details: dict[str, str]) -> str:
        """``details`` as one token, with the newest key."""
        plain = json.dumps(details, sort_keys=True, separators=(",", ":")).encode()
        return self._multi.encrypt(plain).decode("ascii")

    def decrypt(self, token: str) -> dict[str, str]:
        try:
            plain = self._multi.decrypt(token.encode("ascii"))
        except InvalidToken:
            raise KeyMissing("no configured payout key decrypts these details") from None
        details: dict[str, str] = json.loads(plain)
        return details

    def rotate(self, token: str) -> str:
        """The same details encrypted with the newest key (unchanged if they already were
        is not guaranteed: a new token is made either way)."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise KeyMissing("no configured payout key decrypts these details") from None


def _fernet(key: bytes, position: int) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        raise ValueError(f"payout key {position} is not a Fernet key (32 url-safe "
                         "base64-encoded bytes; make one with `paytrack payout-keys new`)"
                         ) from None


def parse_keys(text: str) -> list[bytes]:
    """``PAYTRACK_PAYOUT_KEYS``: comma-separated, newest first."""
    keys = [k.strip().encode() for k in text.split(",") if k.strip()]
    if not keys:
        raise ValueError("PAYTRACK_PAYOUT_KEYS names no key")
    return keys


def default_key_file(database_url: str) -> Path:
    """``paytrack-payout.key`` next to a SQLite database file, else in the current folder."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).resolve().parent / KEY_FILE_NAME
    return Path.cwd() / KEY_FILE_NAME


def read_or_create_key(path: Path) -> bytes:
    """The key in ``path``; if there is none yet, a new one written there with mode 0600.
    Written to a private temporary file and linked into place, so a process that loses the
    race to create it reads the winner's whole key."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".payout-key-")
    try:
        os.write(handle, Fernet.generate_key() + b"\n")
        os.close(handle)
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)
            log.warning("created payout encryption key file %s (mode 0600): back it up, or "
                        "set PAYTRACK_PAYOUT_KEYS", path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)
    return path.read_bytes().strip()
