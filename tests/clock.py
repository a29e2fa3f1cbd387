"""A clock a test sets by hand: ``Storage(engine, clock=Clock(start))``, then move
``clock.now`` (or ``advance``) to make time pass."""

from __future__ import annotations

from datetime import datetime, timedelta


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now
