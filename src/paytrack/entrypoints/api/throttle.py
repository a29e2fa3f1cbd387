"""Lock out an address that keeps failing to authenticate.

A sliding window per client address: ``failures_max`` failed authentications within
``window_s`` lock the address out for ``lockout_s``. The counts live in this process only,
so with several server processes an address may fail up to that many times more per window
before each one locks it out; behind a proxy the address is the one the server sees (uvicorn
takes it from ``X-Forwarded-For`` for trusted proxies). Memory is bounded: at most
``clients_max`` addresses are remembered, the least recently failing forgotten first.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

CLIENTS_MAX = 10_000


@dataclass(slots=True)
class _Client:
    failures: deque[float]  # the times of the latest failures, at most failures_max
    locked_until: float = field(default=0.0)


class FailureLimiter:
    """Not thread-safe: call it from the event loop only."""

    def __init__(self, failures_max: int, window_s: float, lockout_s: float, *,
                 clients_max: int = CLIENTS_MAX,
                 clock: Callable[[], float] = time.monotonic) -> None:
        assert failures_max > 0 and window_s > 0 and lockout_s > 0 and clients_max > 0
        self.failures_max = failures_max
        self.window_s = window_s
        self.lockout_s = lockout_s
        self.clients_max = clients_max
        self.clock = clock
        self._clients: OrderedDict[str, _Client] = OrderedDict()

    def retry_after_s(self, address: str) -> float:
        """How long ``address`` is still locked out (0: it is not)."""
        client = self._clients.get(address)
        if client is None:
            return 0.0
        return max(0.0, client.locked_until - self.clock())

    def failed(self, address: str) -> None:
        """Count a failed authentication from ``address``."""
        now = self.clock()
        client = self._clients.pop(address, None) or _Client(deque(maxlen=self.failures_max))
        client.failures.append(now)
        if len(client.failures) == self.failures_max and \
                client.failures[0] > now - self.window_s:
            client.locked_until = now + self.lockout_s
            client.failures.clear()
        self._clients[address] = client  # the most recent last
        while len(self._clients) > self.clients_max:
            self._clients.popitem(last=False)

    def clear(self) -> None:
        """Forget every address (a test's fresh start)."""
        self._clients.clear()

    @property
    def addresses_tracked(self) -> int:
        return len(self._clients)
