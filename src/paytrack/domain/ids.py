"""Opaque, time-ordered ids with a type prefix: ``pay_01JD…``, ``re_…``, ``je_…``.

The body is 48 bits of milliseconds and 80 random bits in Crockford base32 (as a ULID), so
ids sort by creation time, which gives lists a stable newest-first order and cursor.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str) -> str:
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, index = divmod(value, 32)
        chars.append(_ALPHABET[index])
    return f"{prefix}_{''.join(reversed(chars))}"
