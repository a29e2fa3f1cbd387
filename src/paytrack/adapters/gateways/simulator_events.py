"""What the simulator sends: webhook bodies, and the webhooks a paid checkout queues.

A checkout's events follow its test card: the outcome ``delay_s`` after payment (the
delayed card: ``payment.processing`` at once, then the success; the disputed card: the
success at once, then ``dispute.opened``). Each event is queued ``duplicates`` times with
one event id; ``reversed`` or ``shuffled`` hands the same due times to the copies in
another order, so a later event can arrive first.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from paytrack.adapters.gateways.simulator_rules import DISPUTE_FEE_MINOR, CardOutcome
from paytrack.adapters.gateways.simulator_store import QueuedWebhook, SimulatorCheckout
from paytrack.adapters.gateways.simulator_webhooks import DATA_FIELDS
from paytrack.domain.gateways import EventKind
from paytrack.domain.ids import new_id

K = EventKind
DECLINES = frozenset({CardOutcome.DECLINED, CardOutcome.INSUFFICIENT_FUNDS})
ORDERS = ("in_order", "reversed", "shuffled")


def ulid_of(our_id: str) -> str:
    """The ULID part of a paytrack id (``pay_01J…`` -> ``01J…``)."""
    return our_id.partition("_")[2] or our_id


def event_body(kind: EventKind, at: datetime, data: dict[str, Any]) -> tuple[str, str]:
    """A new event id and the exact JSON text sent for it."""
    event_id = new_id("evt_sim")
    payload = {"id": event_id, "type": kind.value, "created_at": at.isoformat(),
               "livemode": False, "data": {**dict.fromkeys(DATA_FIELDS), **data}}
    return event_id, json.dumps(payload, separators=(",", ":"))


def payment_data(checkout: SimulatorCheckout) -> dict[str, Any]:
    return {"payment_id": checkout["payment_id"],
            "gateway_payment_id": checkout["gateway_payment_id"],
            "gateway_order_id": checkout["gateway_order_id"],
            "amount": checkout["amount"], "currency": checkout["currency"]}


def dispute_data(payment_id: str) -> dict[str, Any]:
    """The payment's one dispute (as a card charge has at most one)."""
    return {"gateway_dispute_id": f"sim_dp_{ulid_of(payment_id)}", "fee": DISPUTE_FEE_MINOR,
            "reason": "fraudulent"}


def checkout_webhooks(checkout: SimulatorCheckout, metadata: dict[str, str],
                      rng: random.Random) -> list[QueuedWebhook]:
    """The webhooks a checkout just paid queues, in the order they are to be sent."""
    outcome = CardOutcome(checkout["outcome"])
    now = checkout["created_at"]
    later = now + timedelta(seconds=checkout["delay_s"])
    succeeded = {"fee": checkout["fee"]}
    steps: list[tuple[datetime, EventKind, dict[str, Any]]]
    if outcome in DECLINES:
        steps = [(later, K.PAYMENT_FAILED, {"reason": outcome.value})]
    elif outcome is CardOutcome.DELAYED:
        steps = [(now, K.PAYMENT_PROCESSING, {}), (later, K.PAYMENT_SUCCEEDED, succeeded)]
    elif outcome is CardOutcome.DISPUTED:
        steps = [(now, K.PAYMENT_SUCCEEDED, succeeded),
                 (later, K.DISPUTE_OPENED, dispute_data(checkout["payment_id"]))]
    else:
        steps = [(later, K.PAYMENT_SUCCEEDED, succeeded)]
    data = {**payment_data(checkout), "metadata": metadata}
    events = [(at, kind, *event_body(kind, at, {**data, **extra})) for at, kind, extra in steps]
    copies = [event for event in events for _ in range(checkout["duplicates"])]
    due = sorted(at for at, *_ in copies)
    if checkout["delivery_order"] == "reversed":
        copies.reverse()
    elif checkout["delivery_order"] == "shuffled":
        rng.shuffle(copies)
    return [QueuedWebhook(event_id, kind.value, checkout["payment_id"], body, due[i])
            for i, (_, kind, event_id, body) in enumerate(copies)]
