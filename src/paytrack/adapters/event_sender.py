"""Outbound events over HTTP: one signed POST, per the Standard Webhooks specification.

    webhook-id          the event's id: the same on every retry, so receivers deduplicate
    webhook-timestamp   Unix seconds when this attempt was signed
    webhook-signature   v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>"> (the
                        ``standardwebhooks`` package signs it)

Redirects are not followed (a 3xx is a failed attempt) and the response body is never
read. What comes back is the status code, or a short error that names neither the URL
(it may carry a token) nor the secret.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

import paytrack

log = logging.getLogger("paytrack.events")
USER_AGENT = f"paytrack/{paytrack.__version__} (Standard Webhooks)"


@dataclass(frozen=True, slots=True)
class Sent:
    status_code: int | None  # None: no answer
    error: str | None = None


def signed_headers(secret: str, message_id: str, body: bytes,
                   at: datetime | None = None) -> dict[str, str]:
    at = at or datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body.decode()),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str], *,
         timeout_s: float) -> Sent:
    """POST ``body``; each network step (connect, send, wait for the answer) within
    ``timeout_s``."""
    try:
        with client.stream("POST", url, content=body, headers=headers,
                           follow_redirects=False, timeout=timeout_s) as response:
            return Sent(response.status_code)
    except httpx.TimeoutException:
        return Sent(None, f"no answer within {timeout_s:g} s")
    except httpx.ConnectError:
        return Sent(None, "could not connect")
    except httpx.TransportError as exc:
        return Sent(None, f"transport error ({type(exc).__name__})")
    except Exception as exc:  # an odd URL or response: this delivery fails, not the worker
        log.warning("event delivery failed: %s", type(exc).__name__)
        return Sent(None, f"could not send ({type(exc).__name__})")
