"""Gateway configuration: credentials per gateway and mode, encrypted at rest with the
payout keys, never shown in clear; and the adapter that speaks to a configured gateway.

The simulator is built in: it needs no credentials, and its webhook secret is made (and
stored encrypted) the first time it is used."""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypedDict

from paytrack.adapters.gateways.base import CheckoutRequest, GatewayAdapter, GatewaySettings
from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import SYSTEM, Actor
from paytrack.domain.errors import GatewayNotConfigured, NotFound, ValidationFailed
from paytrack.domain.gateways import (
    CREDENTIALS,
    NEEDS_WEBHOOK_SECRET,
    Checkout,
    Mode,
    StoredGatewayConfig,
)
from paytrack.domain.payments import Gateway, Payment
from paytrack.services import permissions
from paytrack.services.permissions import Action

SECRET_MAX = 4096
CHECKOUT_TTL = timedelta(hours=1)  # how long a customer has to pay
WEBHOOK_SECRET = "webhook_secret"


class ShownGatewayConfig(TypedDict):
    """A configuration as an admin sees it: which secrets are set, each by a masked tail."""

    gateway: str
    mode: str
    active: bool
    configured: list[str]
    hints: dict[str, str]
    webhook_url: str
    updated_by: str
    created_at: Any
    updated_at: Any


def configure_gateway(uow: UnitOfWork, actor: Actor, gateway: str, mode: str, *,
                      credentials: dict[str, str | None], activate: bool = True
                      ) -> ShownGatewayConfig:
    """Set a gateway's credentials (and ``webhook_secret``) for ``mode``. Fields sent
    replace the stored ones, fields left out are kept, a field sent as null is removed;
    the result must hold every field the gateway needs. ``activate``: new checkouts use
    this mode (the gateway's other mode is kept, for webhooks still arriving)."""
    permissions.check(actor, Action.MANAGE_GATEWAYS)
    gateway, mode = _gateway(gateway), _mode(mode)
    required, optional = CREDENTIALS[gateway]
    allowed = required | optional | {WEBHOOK_SECRET}
    unknown = sorted(set(credentials) - allowed)
    if unknown:
        raise ValidationFailed(f"{gateway} takes no {', '.join(unknown)}; it takes "
                               f"{', '.join(sorted(allowed))}", field=unknown[0])
    now = uow.now()
    before = uow.gateway_configs.get(gateway, mode)
    values = uow.payout_keys.decrypt(before["credentials_encrypted"]) if before else {}
    for name, value in credentials.items():
        if value is None:
            values.pop(name, None)
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > SECRET_MAX:
            raise ValidationFailed(f"{name} must be a non-empty string of at most "
                                   f"{SECRET_MAX} characters", field=name)
        values[name] = value.strip()
    if gateway == "simulator" and WEBHOOK_SECRET not in values:
        values[WEBHOOK_SECRET] = new_webhook_secret()
    needed = required | ({WEBHOOK_SECRET} if gateway in NEEDS_WEBHOOK_SECRET else set())
    missing = sorted(needed - set(values))
    if missing:
        raise ValidationFailed(f"{gateway} needs {', '.join(missing)}", field=missing[0])
    if values.get("verification", "local") not in ("local", "online"):
        raise ValidationFailed("verification is `local` or `online`", field="verification")
    config: StoredGatewayConfig = {
        "gateway": gateway, "mode": mode, "active": bool(activate or (
            before is not None and before["active"])),
        "credentials_encrypted": uow.payout_keys.encrypt(values),
        "hints": {name: _hint(value) for name, value in sorted(values.items())
                  if name != "verification"},
        "updated_by": str(actor), "created_at": before["created_at"] if before else now,
        "updated_at": now,
    }
    uow.gateway_configs.save(config)
    uow.records.audit(str(actor), "gateway.configured", "gateway", f"{gateway}:{mode}",
                      None if before is None else {"fields": sorted(before["hints"])},
                      {"fields": sorted(config["hints"]), "active": config["active"]}, now)
    return shown(uow, config)


def rotate_gateway_keys(uow: UnitOfWork, actor: Actor) -> int:
    """Re-encrypt every gateway configuration with the newest payout key (the credentials
    do not change). Returns how many were re-encrypted."""
    permissions.check(actor, Action.ROTATE_PAYOUT_KEYS)
    configs = uow.gateway_configs.all()
    for config in configs:
        uow.gateway_configs.save({**config, "credentials_encrypted":
                                  uow.payout_keys.rotate(config["credentials_encrypted"])})
    return len(configs)


def remove_gateway(uow: UnitOfWork, actor: Actor, gateway: str, mode: str) -> None:
    permissions.check(actor, Action.MANAGE_GATEWAYS)
    gateway, mode = _gateway(gateway), _mode(mode)
    if not uow.gateway_configs.delete(gateway, mode):
        raise NotFound(f"gateway {gateway} has no {mode} configuration")
    uow.records.audit(str(actor), "gateway.removed", "gateway", f"{gateway}:{mode}", None,
                      None, uow.now())


def list_gateways(uow: UnitOfWork, actor: Actor) -> list[ShownGatewayConfig]:
    permissions.check(actor, Action.MANAGE_GATEWAYS)
    _ensure_simulator(uow)
    return [shown(uow, config) for config in uow.gateway_configs.all()]


def get_gateway(uow: UnitOfWork, actor: Actor, gateway: str) -> list[ShownGatewayConfig]:
    permissions.check(actor, Action.MANAGE_GATEWAYS)
    gateway = _gateway(gateway)
    if gateway == "simulator":
        _ensure_simulator(uow)
    return [shown(uow, config) for config in uow.gateway_configs.of_gateway(gateway)]


def shown(uow: UnitOfWork, config: StoredGatewayConfig) -> ShownGatewayConfig:
    return {"gateway": config["gateway"], "mode": config["mode"], "active": config["active"],
            "configured": sorted(config["hints"]), "hints": dict(config["hints"]),
            "webhook_url": webhook_url(uow, config["gateway"]),
            "updated_by": config["updated_by"], "created_at": config["created_at"],
            "updated_at": config["updated_at"]}


def webhook_url(uow: UnitOfWork, gateway: str) -> str:
    """Where the gateway's dashboard should send its webhooks."""
    return f"{uow.storage.gateways.public_url}/v1/webhooks/{gateway}"


# -- for the other services ------------------------------------------------------------


def settings_for(uow: UnitOfWork, gateway: str, mode: str | None = None) -> GatewaySettings:
    """The active (or ``mode``'s) configuration of ``gateway``, decrypted."""
    if gateway == "simulator":
        _ensure_simulator(uow)
    configs = uow.gateway_configs.of_gateway(gateway)
    chosen = next((c for c in configs if (c["mode"] == mode if mode else c["active"])), None)
    if chosen is None:
        raise GatewayNotConfigured(
            f"gateway {gateway} has no {mode + ' ' if mode else 'active '}configuration: set "
            f"one with PUT /v1/gateways/{gateway} or `paytrack gateways set {gateway}`",
            gateway=gateway)
    return _settings(uow, chosen)


def all_settings(uow: UnitOfWork, gateway: str) -> list[GatewaySettings]:
    """Every configured mode of ``gateway``, the active one first: a webhook may come
    signed with either mode's secret."""
    if gateway == "simulator":
        _ensure_simulator(uow)
    return [_settings(uow, c) for c in uow.gateway_configs.of_gateway(gateway)]


def adapter_for(uow: UnitOfWork, gateway: str, mode: str | None = None) -> GatewayAdapter:
    return build(uow, settings_for(uow, gateway, mode))


def build(uow: UnitOfWork, settings: GatewaySettings) -> GatewayAdapter:
    wiring = uow.storage.gateways
    return wiring.factory(settings, http=wiring.http, clock=uow.storage.clock,
                          engine=uow.storage.engine)


def is_configured(uow: UnitOfWork, gateway: str) -> bool:
    return gateway == "simulator" or any(
        c["active"] for c in uow.gateway_configs.of_gateway(gateway))


def open_checkout(uow: UnitOfWork, payment: Payment, return_url: str | None) -> Checkout | None:
    """For a new payment at a configured gateway: create the provider's checkout (inside
    the payment's transaction: should it roll back, the checkout just expires unpaid)."""
    gateway = payment["gateway"]
    if gateway == Gateway.MANUAL or not is_configured(uow, gateway):
        return None
    settings = settings_for(uow, gateway)
    public = uow.storage.gateways.public_url
    checkout = build(uow, settings).create_checkout(CheckoutRequest(
        payment_id=payment["id"], amount=payment["total"], currency=payment["currency"],
        description=payment["description"] or f"{payment['item_type']} {payment['item_id']}",
        customer_id=payment["customer_id"], seller_id=payment["seller_id"],
        expires_at=uow.now() + CHECKOUT_TTL,
        return_url=return_url or f"{public}/checkout/return?payment_id={payment['id']}",
        metadata={"paytrack_payment_id": payment["id"]}))
    return replace(checkout, mode=str(settings.mode))


def carries_out(uow: UnitOfWork, payment: Payment) -> bool:
    """Whether the payment's refunds go through its gateway: it was taken there (the
    provider knows it by an id) and that gateway is configured here. A payment merely
    recorded (manual, or a gateway paytrack has no credentials for) is refunded on record."""
    return (payment["gateway"] != Gateway.MANUAL
            and (payment["gateway_payment_id"] or payment["gateway_order_id"]) is not None
            and is_configured(uow, payment["gateway"]))


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _settings(uow: UnitOfWork, config: StoredGatewayConfig) -> GatewaySettings:
    values = uow.payout_keys.decrypt(config["credentials_encrypted"])
    secret = values.pop(WEBHOOK_SECRET, None)
    return GatewaySettings(gateway=config["gateway"], mode=Mode(config["mode"]),
                           credentials=values, webhook_secret=secret,
                           public_url=uow.storage.gateways.public_url)


def _ensure_simulator(uow: UnitOfWork) -> None:
    """The simulator's test configuration, made with a new secret on first use."""
    if uow.gateway_configs.of_gateway("simulator"):
        return
    now = uow.now()
    values = {WEBHOOK_SECRET: new_webhook_secret()}
    uow.gateway_configs.insert_if_absent({
        "gateway": "simulator", "mode": str(Mode.TEST), "active": True,
        "credentials_encrypted": uow.payout_keys.encrypt(values),
        "hints": {WEBHOOK_SECRET: _hint(values[WEBHOOK_SECRET])}, "updated_by": str(SYSTEM),
        "created_at": now, "updated_at": now})


def _hint(secret: str) -> str:
    """Enough to tell two secrets apart, never enough to use one: its last 4 characters."""
    return "…" + secret[-4:] if len(secret) > 12 else "…"


def _gateway(gateway: str) -> str:
    if gateway == Gateway.MANUAL or gateway not in CREDENTIALS:
        raise NotFound(f"gateway {gateway!r} is not one of: {', '.join(sorted(CREDENTIALS))}")
    return gateway


def _mode(mode: str) -> str:
    try:
        return str(Mode(mode))
    except ValueError:
        raise ValidationFailed("mode is `test` or `live`", field="mode") from None
