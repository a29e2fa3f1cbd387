"""Which adapter serves which gateway; each provider's module (and SDK) is imported only
when that gateway is first used."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from typing import cast

import httpx
from sqlalchemy import Engine

from paytrack.adapters.gateways.base import GatewayAdapter, GatewaySettings

ADAPTERS = {
    "simulator": ("paytrack.adapters.gateways.simulator", "SimulatorGateway"),
    "stripe": ("paytrack.adapters.gateways.stripe", "StripeGateway"),
    "razorpay": ("paytrack.adapters.gateways.razorpay", "RazorpayGateway"),
    "paypal": ("paytrack.adapters.gateways.paypal", "PayPalGateway"),
}


def build_adapter(settings: GatewaySettings, *, http: httpx.Client | None,
                  clock: Callable[[], datetime], engine: Engine) -> GatewayAdapter:
    module_name, class_name = ADAPTERS[settings.gateway]
    adapter_class = getattr(importlib.import_module(module_name), class_name)
    if settings.gateway == "simulator":  # its "provider side" lives in paytrack's database
        return cast(GatewayAdapter, adapter_class(settings, http=http, clock=clock,
                                                  engine=engine))
    return cast(GatewayAdapter, adapter_class(settings, http=http, clock=clock))


AdapterFactory = Callable[..., GatewayAdapter]


class GatewayWiring:
    """What building an adapter needs besides its settings, held for the process:
    paytrack's public address, the HTTP client adapters fetch with, and the factory (tests
    put a fake provider in its place)."""

    def __init__(self, public_url: str = "http://127.0.0.1:8000", *,
                 http: httpx.Client | None = None,
                 factory: AdapterFactory = build_adapter) -> None:
        self.public_url = public_url.rstrip("/")
        self.http = http
        self.factory = factory
