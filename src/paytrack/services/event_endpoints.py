"""The platform's endpoints for events: where they go, which types, and the secret each is
signed with.

A secret is made here, returned once (at creation and at each rotation) and otherwise only
stored as a Fernet token under the payout keys (``adapters/secrets.py``), re-encrypted with
them by ``paytrack payout-keys rotate``. Removing an endpoint deactivates it: its history
(deliveries) stays, and nothing more is sent to it until it is activated again.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.errors import NotFound
from paytrack.domain.events import EventEndpoint, check_event_types, check_url, new_secret
from paytrack.domain.ids import new_id
from paytrack.services import permissions
from paytrack.services._common import require_text
from paytrack.services.permissions import Action

DISABLED_BY_ADMIN = "deactivated by an admin"
ROTATE_BATCH = 500


class WithSecret(NamedTuple):
    """An endpoint and its signing secret in clear: only ever the answer to the request
    that made the secret."""

    endpoint: EventEndpoint
    secret: str


def create_endpoint(uow: UnitOfWork, actor: Actor, *, url: str,
                    event_types: list[str] | None = None,
                    description: str | None = None) -> WithSecret:
    permissions.check(actor, Action.MANAGE_EVENT_ENDPOINTS)
    url = check_url(url)
    types = check_event_types(event_types)
    if description is not None:
        description = require_text(description, "description")
    now = uow.now()
    secret = new_secret()
    endpoint: EventEndpoint = {
        "id": new_id("we"), "url": url, "description": description, "event_types": types,
        "secret_encrypted": _encrypt(uow, secret), "active": True, "created_at": now,
        "updated_at": now, "disabled_reason": None,
    }
    uow.event_endpoints.insert(endpoint)
    uow.records.audit(str(actor), "event_endpoint.created", "event_endpoint", endpoint["id"],
                      None, _audited(endpoint), now)
    return WithSecret(endpoint, secret)


def get_endpoint(uow: UnitOfWork, endpoint_id: str, actor: Actor) -> EventEndpoint:
    permissions.check(actor, Action.MANAGE_EVENT_ENDPOINTS)
    endpoint = uow.event_endpoints.get(endpoint_id)
    if endpoint is None:
        raise NotFound(f"event endpoint {endpoint_id} not found")
    return endpoint


def list_endpoints(uow: UnitOfWork, actor: Actor, *, limit: int = 20,
                   cursor: str | None = None,
                   active: bool | None = None) -> list[EventEndpoint]:
    """Newest first."""
    permissions.check(actor, Action.MANAGE_EVENT_ENDPOINTS)
    return uow.event_endpoints.list(limit=limit, before_id=cursor, active=active)


def update_endpoint(uow: UnitOfWork, endpoint_id: str, actor: Actor,
                    changes: dict[str, Any]) -> EventEndpoint:
    """Change what ``changes`` names: ``url``, ``event_types``, ``description`` (None
    clears it) and ``active`` (an endpoint activated again forgets why it was disabled;
    what waited for it is sent)."""
    before = get_endpoint(uow, endpoint_id, actor)
    values: dict[str, Any] = {}
    if changes.get("url") is not None:
        values["url"] = check_url(changes["url"])
    if changes.get("event_types") is not None:
        values["event_types"] = check_event_types(changes["event_types"])
    if "description" in changes:
        text = changes["description"]
        values["description"] = None if text is None else require_text(text, "description")
    if changes.get("active") is not None and changes["active"] != before["active"]:
        active = bool(changes["active"])
        values.update(active=active, disabled_reason=None if active else DISABLED_BY_ADMIN)
    if not values:
        return before
    return _update(uow, before, actor, values, "event_endpoint.updated")


def deactivate_endpoint(uow: UnitOfWork, endpoint_id: str, actor: Actor) -> EventEndpoint:
    """What DELETE does: nothing more is sent to it; it and its deliveries stay."""
    before = get_endpoint(uow, endpoint_id, actor)
    if not before["active"]:
        return before
    return _update(uow, before, actor, {"active": False, "disabled_reason": DISABLED_BY_ADMIN},
                   "event_endpoint.deactivated")


def rotate_secret(uow: UnitOfWork, endpoint_id: str, actor: Actor) -> WithSecret:
    """A new secret, in force for the next send; the old one signs nothing more."""
    before = get_endpoint(uow, endpoint_id, actor)
    secret = new_secret()
    endpoint = _update(uow, before, actor, {"secret_encrypted": _encrypt(uow, secret)},
                       "event_endpoint.secret_rotated")
    return WithSecret(endpoint, secret)


def secret_of(uow: UnitOfWork, endpoint: EventEndpoint) -> str:
    """The endpoint's secret in clear, to sign a delivery (``KeyMissing`` if no configured
    payout key decrypts it)."""
    return uow.payout_keys.decrypt(endpoint["secret_encrypted"])["secret"]


def rotate_endpoint_keys(uow: UnitOfWork, actor: Actor) -> int:
    """Re-encrypt every endpoint's secret with the newest payout key (the secrets do not
    change). Returns how many were re-encrypted."""
    permissions.check(actor, Action.ROTATE_PAYOUT_KEYS)
    done, after = 0, None
    while batch := uow.event_endpoints.batch(after=after, limit=ROTATE_BATCH):
        for endpoint in batch:
            uow.event_endpoints.replace_token(
                endpoint["id"], uow.payout_keys.rotate(endpoint["secret_encrypted"]))
        done += len(batch)
        after = batch[-1]["id"]
    return done


def _encrypt(uow: UnitOfWork, secret: str) -> str:
    return uow.payout_keys.encrypt({"secret": secret})


def _update(uow: UnitOfWork, before: EventEndpoint, actor: Actor, values: dict[str, Any],
            action: str) -> EventEndpoint:
    now = uow.now()
    endpoint = uow.event_endpoints.update(before["id"], {**values, "updated_at": now})
    assert endpoint is not None, "read in this transaction; endpoints are never deleted"
    uow.records.audit(str(actor), action, "event_endpoint", before["id"], _audited(before),
                      _audited(endpoint), now)
    return endpoint


def _audited(endpoint: EventEndpoint) -> dict[str, Any]:
    """What the audit log keeps of an endpoint: never its secret."""
    return {"url": endpoint["url"], "event_types": endpoint["event_types"],
            "active": endpoint["active"], "description": endpoint["description"]}
