"""The background job that sends events to the platform (run by ``upkeep.run_once``).

One round fans out what the outbox holds (``event_delivery.dispatch``), then sends due
deliveries a batch at a time: the batch is claimed and its lease committed first, the
POSTs go out side by side outside any transaction, and each result is recorded in its own
short transaction as it comes in. Every part is bounded: so many events and batches per
round, and no new batch once the round has run for ``ROUND_BUDGET_S``.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor, wait
from typing import NamedTuple

import httpx

from paytrack.adapters.event_sender import Sent, post, signed_headers
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.events import DeliveryRules, DeliveryStatus
from paytrack.entrypoints.api.views import event_payload
from paytrack.services.event_delivery import (
    Claimed,
    claim_due,
    dispatch,
    purge_old,
    record_result,
)

log = logging.getLogger("paytrack.events")

DISPATCH_BATCH = 200  # events fanned out per transaction
MAX_DISPATCH_BATCHES = 10  # per round
CONCURRENCY = 8  # deliveries claimed and sent together
MAX_DELIVERY_BATCHES = 25  # per round
ROUND_BUDGET_S = 30.0  # no new batch after this long


class Delivered(NamedTuple):
    dispatched: int  # events fanned out
    succeeded: int  # deliveries the endpoint took (2xx)
    failed: int  # attempts that did not (to be retried, or dead)


class Deliverer:
    """Sends with ``http`` if given, else with a client of its own, made when first
    needed and closed by ``close``."""

    def __init__(self, rules: DeliveryRules | None = None,
                 http: httpx.Client | None = None) -> None:
        self.rules = rules or DeliveryRules()
        self._http = http
        self._owns_http = http is None

    def run(self, storage: Storage) -> Delivered:
        dispatched = 0
        for _ in range(MAX_DISPATCH_BATCHES):
            with storage.unit_of_work() as uow:
                batch = dispatch(uow, limit=DISPATCH_BATCH)
                uow.commit()
            dispatched += batch
            if batch < DISPATCH_BATCH:
                break
        succeeded = failed = 0
        started = time.monotonic()
        for _ in range(MAX_DELIVERY_BATCHES):
            if time.monotonic() - started > ROUND_BUDGET_S:
                break
            with storage.unit_of_work() as uow:
                claimed = claim_due(uow, self.rules, limit=CONCURRENCY)
                uow.commit()
            if not claimed:
                break
            for status in self._send_all(storage, claimed):
                succeeded += status == DeliveryStatus.SUCCEEDED
                failed += status in (DeliveryStatus.FAILED, DeliveryStatus.DEAD)
        with storage.unit_of_work() as uow:  # and what is kept no longer: one batch a round
            purge_old(uow, self.rules)
            uow.commit()
        return Delivered(dispatched, succeeded, failed)

    def close(self) -> None:
        if self._owns_http and self._http is not None:
            self._http.close()
            self._http = None

    def client(self) -> httpx.Client:
        """The HTTP client deliveries go out with (made when first needed)."""
        return self._client()

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=self.rules.timeout_s, follow_redirects=False)
        return self._http

    def _send_all(self, storage: Storage, claimed: list[Claimed]) -> list[str | None]:
        """Send side by side; record each result as it arrives."""
        client = self._client()
        statuses = []
        pool = ThreadPoolExecutor(max_workers=len(claimed),
                                  thread_name_prefix="paytrack-deliver")
        try:
            sends = {pool.submit(self._send, client, c): c for c in claimed}
            # A send that trickles its answer outlasts every per-step timeout: past the
            # deadline it counts as failed (its thread is left to end on its own).
            late = Sent(None, f"no complete answer within {self.rules.deadline_s:g} s")
            done, _ = wait(sends, timeout=self.rules.deadline_s)
            for future, claim in sends.items():
                statuses.append(self._record(storage, claim,
                                             future.result() if future in done else late))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return statuses

    def _record(self, storage: Storage, claim: Claimed, sent: Sent) -> str | None:
        with storage.unit_of_work() as uow:
            status = record_result(uow, claim.delivery, self.rules,
                                   response_status=sent.status_code, error=sent.error)
            uow.commit()
        if sent.status_code is None or not 200 <= sent.status_code < 300:
            log.info("event %s to endpoint %s: %s", claim.event["id"],
                     claim.delivery["endpoint_id"], sent.error or f"HTTP {sent.status_code}")
        return status

    def _send(self, client: httpx.Client, claim: Claimed) -> Sent:
        if claim.secret is None:
            return Sent(None, claim.error)
        try:
            body = event_payload(claim.event)
            headers = signed_headers(claim.secret, claim.event["id"], body)
        except Exception:
            log.exception("event %s could not be prepared", claim.event["id"])
            return Sent(None, "paytrack could not prepare the delivery")
        return post(client, claim.url, body, headers, timeout_s=self.rules.timeout_s)
