"""What the event tests share: a storage with its own clock and payout keys (each module
makes them its fixtures), endpoints, and a look at the outbox and the deliveries from
outside the services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from sqlalchemy import select

from paytrack.adapters.secrets import PayoutKeyring
from paytrack.adapters.storage.tables import event_deliveries, events
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.events import DeliveryRules
from paytrack.domain.splits import Policy
from paytrack.services import event_endpoints
from tests.integration.conftest import ADMIN, committed

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
# Fast and small enough to walk through in a test: 3 attempts, waits of up to 10 s, 20 s,
# 40 s …, a 2 s timeout and a 30 s lease.
RULES = DeliveryRules(max_attempts=3, backoff_base_s=10, backoff_cap_s=60, timeout_s=2,
                      lease_s=30)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def clocked_storage(engine, clock: Clock) -> Storage:
    """No hold on earnings (payouts at once), time from ``clock``, payout keys of its
    own."""
    return Storage(engine, Policy(hold_days=0), clock=clock,
                   payout_keys=PayoutKeyring.of(Fernet.generate_key()))


def endpoint(storage: Storage, url: str, types: list[str] | None = None) -> tuple[str, str]:
    """Register an endpoint; returns its id and secret."""
    made = committed(storage, event_endpoints.create_endpoint, ADMIN, url=url,
                     event_types=types)
    return made.endpoint["id"], made.secret


def stored_events(storage: Storage, object_id: str | None = None) -> list[dict]:
    query = select(events).order_by(events.c.id)
    if object_id is not None:
        query = query.where(events.c.object_id == object_id)
    with storage.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def deliveries(storage: Storage) -> list[dict]:
    with storage.engine.connect() as conn:
        return [dict(r._mapping) for r in
                conn.execute(select(event_deliveries).order_by(event_deliveries.c.id))]
