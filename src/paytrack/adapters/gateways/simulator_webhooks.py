"""A verified simulator webhook body, read into a ``Notification``.

Anything that is not the simulator's own body shape is refused as ``WebhookSignatureInvalid``
(the same 400 as a bad signature): a signed body the simulator did not write means the
secret is shared with something else. An event type paytrack does not act on is a
notification with no events (stored and ignored by the intake).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from paytrack.domain.errors import WebhookSignatureInvalid
from paytrack.domain.gateways import EventKind, GatewayEvent, Notification

ID_FIELDS = ("payment_id", "gateway_payment_id", "gateway_order_id", "refund_id",
             "gateway_refund_id", "gateway_dispute_id", "payout_id", "gateway_payout_id")
COUNT_FIELDS = ("amount", "fee")
DATA_FIELDS = (*ID_FIELDS, *COUNT_FIELDS, "currency", "reason", "metadata")
TEXT_MAX_CHARS = 500


class _Malformed(Exception):
    pass


def notification_from(payload: Any) -> Notification:
    try:
        return _read(payload)
    except _Malformed as exc:
        raise WebhookSignatureInvalid(f"not a simulator webhook body: {exc}") from None


def _read(payload: Any) -> Notification:
    if not isinstance(payload, dict):
        raise _Malformed("expected a JSON object")
    event_id, event_type = _text(payload, "id"), _text(payload, "type")
    if event_id is None or event_type is None:
        raise _Malformed("id and type are required")
    if payload.get("livemode") is not False:
        raise _Malformed("livemode must be false")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise _Malformed("data must be an object")
    try:
        kind = EventKind(event_type)
    except ValueError:
        return Notification(event_id, event_type, livemode=False)
    fields: dict[str, Any] = {name: _text(data, name) for name in ID_FIELDS}
    fields |= {name: _count(data, name) for name in COUNT_FIELDS}
    currency = _text(data, "currency")
    if currency is not None and not (len(currency) == 3 and currency.isascii()
                                     and currency.isupper()):
        raise _Malformed("currency must be an upper-case ISO 4217 code")
    event = GatewayEvent(kind=kind, currency=currency, reason=_text(data, "reason"),
                         occurred_at=_moment(payload.get("created_at")), **fields)
    return Notification(event_id, event_type, livemode=False, events=(event,))


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > TEXT_MAX_CHARS:
        raise _Malformed(f"{name} must be a short string")
    return value


def _count(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise _Malformed(f"{name} must be a non-negative integer of minor units")
    return value


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _Malformed("created_at must be an ISO 8601 time with its offset")
    return moment
