"""Background upkeep: release sellers' earnings whose hold has ended, fold appended balance
deltas into account rows and revenue deltas into the analytics rollups (rebuilding them
first when they do not hold the history in the configured time zone), purge expired
idempotency keys, and send events to the platform (``deliverer.py``). ``paytrack worker``
runs it alone; ``paytrack serve`` runs it in a thread beside the API unless told not to.

Several processes may run it at once: a fold deletes the deltas it adds (``DELETE …
RETURNING``; revenue deltas claimed with ``SKIP LOCKED``) in the transaction that adds
them, so a delta is folded by exactly one of them, a purge deletes only keys past their
lifetime, and events and deliveries are claimed with ``SKIP LOCKED`` (each delivery under
a lease).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import NamedTuple, TypeVar

import httpx

from paytrack.adapters.gateways.simulator import SimulatorGateway
from paytrack.adapters.storage.analytics import FOLD_BATCH
from paytrack.adapters.storage.uow import Storage, UnitOfWork
from paytrack.domain.events import DeliveryRules
from paytrack.entrypoints.deliverer import Delivered, Deliverer
from paytrack.services import analytics, gateway_jobs, orders, subscriptions
from paytrack.services import gateways as gateway_config
from paytrack.services.idempotency import purge_expired
from paytrack.services.ledger import fold_balances
from paytrack.services.seller_funds import release_due

log = logging.getLogger("paytrack.upkeep")
T = TypeVar("T")


class Round(NamedTuple):
    folded: int  # balance deltas
    purged: int  # idempotency keys
    released: int = 0  # seller earnings
    dispatched: int = 0  # events fanned out to their endpoints
    delivered: int = 0  # event deliveries an endpoint took
    delivery_failures: int = 0  # event deliveries that failed (retried later, or dead)
    sent: int = 0  # refunds and payouts sent to their gateways
    expired: int = 0  # checkouts expired unpaid (canceled) or found paid (captured)
    simulated: int = 0  # the simulator's webhooks delivered to paytrack
    subscriptions: int = 0  # moved past_due, canceled at period end, or expired
    settled: int = 0  # cancelled orders whose other payments were canceled or refunded
    revenue_folded: int = 0  # revenue deltas folded into the analytics rollups


MAX_RELEASE_BATCHES = 20  # per round: the next round goes on where this one stopped
MAX_REVENUE_BATCHES = 20  # likewise, of revenue deltas
REJECTED_KEPT = timedelta(days=7)  # unsigned webhook deliveries, then purged
PURGE_BATCH = 1000


def run_once(storage: Storage, http: httpx.Client | None = None,
             rules: DeliveryRules | None = None, *,
             deliverer: Deliverer | None = None) -> Round:
    """Releases, one fold, one purge and a round of event deliveries, each in short
    transactions of its own. Events are sent with ``http`` (else a client made with
    ``rules.timeout_s`` when first needed, closed at the end), or by ``deliverer``."""
    # Each part on its own: one that fails (a gateway that cannot be reached, a row that
    # cannot be released) holds up none of the others, and the next round tries again.
    released = _safely("releasing seller earnings", lambda: _release(storage), 0)
    folded = _safely("folding balance deltas", lambda: _in_one(storage, fold_balances), 0)
    revenue = _safely("folding revenue deltas", lambda: _fold_revenue(storage), 0)
    purged = _safely("purging idempotency keys", lambda: _in_one(storage, purge_expired), 0)
    sent = _safely("sending refunds and payouts to gateways",
                   lambda: sum(gateway_jobs.send_due(storage)), 0)
    expired = _safely("expiring checkouts", lambda: gateway_jobs.expire_checkouts(storage), 0)
    _safely("purging unsigned webhook deliveries", lambda: _purge_rejected(storage), 0)
    advanced = _safely("advancing subscriptions",
                       lambda: subscriptions.advance_subscriptions(storage), 0)
    settled = _safely("settling cancelled orders", lambda: orders.settle_cancelled(storage), 0)
    sender = deliverer or Deliverer(rules, http)
    try:
        simulated = _safely("delivering the simulator's webhooks", lambda: (
            _simulator_webhooks(storage, storage.gateways.http or sender.client())), 0)
        events = _safely("delivering events", lambda: sender.run(storage), Delivered(0, 0, 0))
    finally:
        if deliverer is None:
            sender.close()
    return Round(folded, purged, released, *events, sent=sent, expired=expired,
                 simulated=simulated, subscriptions=advanced, settled=settled,
                 revenue_folded=revenue)


def _safely(what: str, part: Callable[[], T], failed: T) -> T:
    try:
        return part()
    except Exception:
        log.exception("%s failed; the next round tries again", what)
        return failed


def _release(storage: Storage) -> int:
    released = 0
    for _ in range(MAX_RELEASE_BATCHES):
        batch = _in_one(storage, release_due)
        released += batch
        if not batch:
            break
    return released


def _fold_revenue(storage: Storage) -> int:
    """Rebuild the rollups if they need it, then fold batches of revenue deltas."""
    with storage.unit_of_work() as uow:
        rebuilt = analytics.prepare_rollups(uow)
        uow.commit()
    if rebuilt is not None:
        log.info("rebuilt the analytics rollups in %s from %d deltas of history",
                 rebuilt["tz"], rebuilt["deltas"])
    folded = 0
    for _ in range(MAX_REVENUE_BATCHES):
        batch = _in_one(storage, analytics.fold_revenue)
        folded += batch
        if batch < FOLD_BATCH:
            break
    return folded


def _in_one(storage: Storage, work: Callable[[UnitOfWork], int]) -> int:
    with storage.unit_of_work() as uow:
        done = work(uow)
        uow.commit()
    return done


def _purge_rejected(storage: Storage) -> int:
    with storage.unit_of_work() as uow:
        purged = uow.webhooks.purge_rejected(uow.now() - REJECTED_KEPT, PURGE_BATCH)
        uow.commit()
    return purged


def _simulator_webhooks(storage: Storage, http: httpx.Client) -> int:
    """Deliver the simulator's due webhooks to paytrack's own intake (PAYTRACK_PUBLIC_URL),
    as the real gateways would; nothing to do when the simulator was never used."""
    with storage.unit_of_work() as uow:
        if not uow.gateway_configs.of_gateway("simulator"):
            return 0
        adapter = gateway_config.adapter_for(uow, "simulator")
        now = uow.now()
        uow.commit()
    assert isinstance(adapter, SimulatorGateway)
    return adapter.deliver_due(http, f"{storage.gateways.public_url}/v1/webhooks/simulator",
                               now)


class Upkeep:
    """``run_once`` every ``interval_s`` in a daemon thread, from ``start()`` to ``stop()``.
    A failed round (the database restarting, a lock timeout) is logged and the next one
    runs as usual."""

    def __init__(self, storage: Storage, interval_s: float, *,
                 rules: DeliveryRules | None = None, http: httpx.Client | None = None) -> None:
        self.storage = storage
        self.interval_s = interval_s
        self.deliverer = Deliverer(rules, http)  # one HTTP client for the thread's life
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="paytrack-upkeep",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the thread to stop and wait for the round in progress, if any."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        if not self._thread.is_alive():
            self.deliverer.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                done = run_once(self.storage, deliverer=self.deliverer)
            except Exception:
                log.exception("upkeep round failed; retrying in %g s", self.interval_s)
            else:
                if any(done):
                    log.info("folded %d balance deltas, purged %d idempotency keys, "
                             "released %d seller earnings, dispatched %d events, "
                             "delivered %d, %d deliveries failed, sent %d refunds and "
                             "payouts to gateways, expired %d checkouts, delivered %d "
                             "simulator webhooks, moved %d subscriptions, settled %d "
                             "cancelled orders, folded %d revenue deltas", *done)
            self._stopping.wait(self.interval_s)
