"""The outbox, the platform's endpoints and the deliveries between them.

Events are appended with the change they report (``EventRepository.add``: buffered with
the unit of work's other rows, no extra round trip). Workers claim work with ``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, so several run at once without taking the same rows; SQLite
serializes writers. A delivery's result is recorded only by the worker that still holds
it: its status is ``delivering`` and its ``attempts`` what that worker's claim made it.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.appender import Appender
from paytrack.adapters.storage.sql import insert_ignore, record_or_none, records
from paytrack.adapters.storage.tables import event_deliveries, event_endpoints, events
from paytrack.domain.events import (
    CLAIMABLE,
    DeliveryStatus,
    Event,
    EventDelivery,
    EventEndpoint,
)

E = events.c
W = event_endpoints.c
D = event_deliveries.c
S = DeliveryStatus
PENDING, DELIVERING, FAILED, DEAD = (str(s) for s in (S.PENDING, S.DELIVERING, S.FAILED,
                                                      S.DEAD))


class EventRepository:
    def __init__(self, conn: Connection, appender: Appender) -> None:
        self.conn = conn
        self.appender = appender

    def add(self, event: Event) -> None:
        self.appender.add(events, cast(dict[str, Any], event))

    def get(self, event_id: str) -> Event | None:
        return record_or_none(self.conn.execute(select(events).where(E.id == event_id))
                              .first(), Event)

    def of_ids(self, ids: Iterable[str]) -> dict[str, Event]:
        rows = records(self.conn.execute(select(events).where(E.id.in_(sorted(set(ids))))),
                       Event)
        return {row["id"]: row for row in rows}

    def list(self, *, limit: int, before_id: str | None = None, type: str | None = None,
             object_id: str | None = None, created_gte: datetime | None = None,
             created_lt: datetime | None = None) -> builtins.list[Event]:
        """Newest first; ``before_id`` is the cursor (ids sort by creation time)."""
        query = select(events)
        for column, value in ((E.type, type), (E.object_id, object_id)):
            if value is not None:
                query = query.where(column == value)
        if created_gte is not None:
            query = query.where(E.created_at >= created_gte)
        if created_lt is not None:
            query = query.where(E.created_at < created_lt)
        if before_id:
            query = query.where(E.id < before_id)
        return records(self.conn.execute(query.order_by(E.id.desc()).limit(limit)), Event)

    def claim_undispatched(self, limit: int) -> builtins.list[tuple[str, str]]:
        """Up to ``limit`` events not fanned out yet, oldest first, as (id, type), locked
        (those another worker holds are skipped)."""
        rows = self.conn.execute(
            select(E.id, E.type).where(E.dispatched_at.is_(None)).order_by(E.id)
            .limit(limit).with_for_update(skip_locked=True))
        return [(row.id, row.type) for row in rows]

    def purge_finished(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` events created before ``before`` whose every delivery is
        over (succeeded or dead), with those deliveries; returns how many events."""
        unfinished = (select(D.id).where(D.event_id == E.id,
                                         D.status.not_in(["succeeded", "dead"]))
                      .exists())
        ids = [row[0] for row in self.conn.execute(
            select(E.id).where(E.created_at < before, E.dispatched_at.is_not(None),
                               ~unfinished).order_by(E.id).limit(limit))]
        if ids:
            self.conn.execute(delete(event_deliveries).where(D.event_id.in_(ids)))
            self.conn.execute(delete(events).where(E.id.in_(ids)))
        return len(ids)

    def mark_dispatched(self, ids: builtins.list[str], now: datetime) -> None:
        self.conn.execute(update(events).where(E.id.in_(ids)).values(dispatched_at=now))


class EventEndpointRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, endpoint: EventEndpoint) -> None:
        self.conn.execute(insert(event_endpoints).values(**endpoint))

    def get(self, endpoint_id: str) -> EventEndpoint | None:
        row = self.conn.execute(select(event_endpoints).where(W.id == endpoint_id)).first()
        return record_or_none(row, EventEndpoint)

    def of_ids(self, ids: Iterable[str]) -> dict[str, EventEndpoint]:
        rows = records(self.conn.execute(
            select(event_endpoints).where(W.id.in_(sorted(set(ids))))), EventEndpoint)
        return {row["id"]: row for row in rows}

    def list(self, *, limit: int, before_id: str | None = None,
             active: bool | None = None) -> builtins.list[EventEndpoint]:
        """Newest first."""
        query = select(event_endpoints)
        if active is not None:
            query = query.where(W.active.is_(active))
        if before_id:
            query = query.where(W.id < before_id)
        return records(self.conn.execute(query.order_by(W.id.desc()).limit(limit)),
                       EventEndpoint)

    def active(self) -> builtins.list[EventEndpoint]:
        return records(self.conn.execute(select(event_endpoints).where(W.active.is_(True))
                                         .order_by(W.id)), EventEndpoint)

    def receiving(self, paused_reason: str) -> builtins.list[EventEndpoint]:
        """The endpoints events are fanned out to: the active ones, and those a worker
        paused (``paused_reason``), whose deliveries wait until an admin turns them on."""
        return records(self.conn.execute(
            select(event_endpoints).where(W.active.is_(True)
                                          | (W.disabled_reason == paused_reason))
            .order_by(W.id)), EventEndpoint)

    def update(self, endpoint_id: str, values: dict[str, Any]) -> EventEndpoint | None:
        row = self.conn.execute(update(event_endpoints).where(W.id == endpoint_id)
                                .values(**values).returning(*event_endpoints.c)).first()
        return record_or_none(row, EventEndpoint)

    def disable(self, endpoint_id: str, reason: str, now: datetime) -> bool:
        """Deactivate an endpoint that is still active (a worker's decision: an admin's
        own changes go through ``update``); whether it was."""
        result = self.conn.execute(update(event_endpoints)
                                   .where(W.id == endpoint_id, W.active.is_(True))
                                   .values(active=False, disabled_reason=reason,
                                           updated_at=now))
        return bool(result.rowcount)

    def batch(self, *, after: str | None, limit: int) -> builtins.list[EventEndpoint]:
        """Every endpoint in id order, ``limit`` at a time, locked (re-encryption)."""
        query = select(event_endpoints)
        if after is not None:
            query = query.where(W.id > after)
        return records(self.conn.execute(query.order_by(W.id).limit(limit).with_for_update()),
                       EventEndpoint)

    def replace_token(self, endpoint_id: str, token: str) -> None:
        """The same secret under a new payout key: not an edit, so ``updated_at`` stays."""
        self.conn.execute(update(event_endpoints).where(W.id == endpoint_id)
                          .values(secret_encrypted=token))


class EventDeliveryRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def create(self, deliveries: builtins.list[EventDelivery]) -> None:
        """Insert; one for an (event, endpoint) pair that has one already is skipped."""
        if deliveries:
            self.conn.execute(insert_ignore(self.conn, event_deliveries),
                              [cast(dict[str, Any], d) for d in deliveries])

    def of_event(self, event_id: str) -> builtins.list[EventDelivery]:
        return records(self.conn.execute(select(event_deliveries)
                                         .where(D.event_id == event_id).order_by(D.id)),
                       EventDelivery)

    def bury(self, now: datetime, max_attempts: int) -> int:
        """Out of attempts and due again (a failure, or a lease its worker let run out):
        dead."""
        result = self.conn.execute(
            update(event_deliveries)
            .where(D.status.in_([FAILED, DELIVERING]), D.next_attempt_at <= now,
                   D.attempts >= max_attempts)
            .values(status=DEAD, next_attempt_at=None,
                    last_error=_when_buried(D.status, D.last_error)))
        return int(result.rowcount or 0)

    def claim(self, now: datetime, lease_until: datetime,
              limit: int) -> builtins.list[EventDelivery]:
        """Take up to ``limit`` due deliveries of active endpoints, soonest first: each
        becomes ``delivering`` until ``lease_until``, its attempt counted."""
        due = (select(D.id)
               .where(D.status.in_(sorted(map(str, CLAIMABLE))), D.next_attempt_at <= now,
                      D.endpoint_id.in_(select(W.id).where(W.active.is_(True))))
               .order_by(D.next_attempt_at, D.id).limit(limit)
               .with_for_update(skip_locked=True, of=event_deliveries))
        rows = self.conn.execute(
            update(event_deliveries).where(D.id.in_(due))
            .values(status=DELIVERING, attempts=D.attempts + 1, claims=D.claims + 1,
                    next_attempt_at=lease_until, last_attempt_at=now)
            .returning(*event_deliveries.c))
        return sorted(records(rows, EventDelivery), key=lambda d: d["id"])

    def finish(self, delivery_id: str, claims: int, values: dict[str, Any], *,
               succeeded: bool = False) -> bool:
        """Record an attempt's result, if the delivery is still this claim's (nobody
        claimed it again after its lease ran out). A success counts whenever it comes: the
        endpoint has the event, whoever holds the delivery now."""
        mine = (D.status != "succeeded" if succeeded
                else (D.status == DELIVERING) & (D.claims == claims))
        result = self.conn.execute(
            update(event_deliveries).where(D.id == delivery_id, mine).values(**values)
            .returning(D.id)).first()
        return result is not None

    def send_again(self, event_id: str, endpoint_ids: builtins.list[str],
                   now: datetime) -> None:
        """The event's deliveries to ``endpoint_ids`` that are not in flight: due now, with
        a fresh set of attempts."""
        self.conn.execute(
            update(event_deliveries)
            .where(D.event_id == event_id, D.endpoint_id.in_(endpoint_ids),
                   D.status != DELIVERING)
            .values(status=PENDING, attempts=0, next_attempt_at=now, delivered_at=None))


def _when_buried(status: Any, last_error: Any) -> Any:
    """A lease that ran out on the last attempt says so; a failure keeps its error."""
    return case((status == DELIVERING,
                 "no result: its worker stopped during the last attempt"),
                else_=last_error)
