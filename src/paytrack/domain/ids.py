"""Opaque, time-ordered ids with a type prefix: ``pay_01JD…``, ``re_…``, ``je_…``.

The body is 48 bits of milliseconds and 80 random bits in Crockford base32 (as a ULID), so
ids sort by creation time, which gives lists a stable newest-first order and cursor. Within
one millisecond a process increments the random part instead of drawing a new one, so its
own ids stay in creation order.
"""

from __future__ import annotations

import os
import re
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_lock = threading.Lock()
_last = [0, 0]  # milliseconds, random part of the last id made here


def new_id(prefix: str) -> str:
    with _lock:
        millis = time.time_ns() // 1_000_000
        if millis <= _last[0] and _last[1] + 1 < 1 << _RANDOM_BITS:
            millis, rand = _last[0], _last[1] + 1
        else:
            rand = int.from_bytes(os.urandom(_RANDOM_BITS // 8), "big") >> 1  # room to count
        _last[0], _last[1] = millis, rand
    value = millis << _RANDOM_BITS | rand
    chars = []
    for _ in range(26):
        value, index = divmod(value, 32)
        chars.append(_ALPHABET[index])
    return f"{prefix}_{''.join(reversed(chars))}"


_BODY = re.compile(f"[{_ALPHABET}]{{26}}")


def is_id(value: str, prefix: str) -> bool:
    """Whether ``value`` has the form of an id ``new_id(prefix)`` makes."""
    head, _, body = value.partition("_")
    return head == prefix and _BODY.fullmatch(body) is not None
