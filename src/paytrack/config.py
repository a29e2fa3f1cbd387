"""Configuration from the environment (``PAYTRACK_*``), with defaults that just work."""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from paytrack.domain.splits import Bearer, CommissionBase, Policy, parse_rate

DEFAULT_DATABASE_URL = "sqlite:///paytrack.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYTRACK_", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    commission_rate: str = "0.20"  # PLATFORM_FEE_RATE of the Django seed
    commission_base: CommissionBase = CommissionBase.TOTAL
    shipping_collected_by: Bearer = Bearer.SELLER
    gateway_fee_bearer: Bearer = Bearer.PLATFORM
    # Days a capture's earnings stay pending before they become available (a seller may
    # have its own: PUT /v1/sellers/{id} hold_days).
    hold_days: Annotated[int, Field(ge=0, le=3650)] = 7

    # HTTP: a larger request body is refused (413) before it is parsed.
    max_body_bytes: Annotated[int, Field(ge=0)] = 1_048_576
    # HTTP: an address with this many failed authentications within the window is
    # answered 429 for the lockout; counted per server process; 0 turns it off.
    auth_failures_max: Annotated[int, Field(ge=0)] = 20
    auth_failure_window_s: Annotated[float, Field(gt=0)] = 60.0
    auth_lockout_s: Annotated[float, Field(gt=0)] = 60.0
    # `paytrack serve`: fold balance deltas and purge expired idempotency keys in the
    # background (turn off where `paytrack worker` runs beside it).
    upkeep: bool = True
    upkeep_interval_s: Annotated[float, Field(gt=0)] = 5.0

    @field_validator("commission_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @cached_property
    def policy(self) -> Policy:
        return Policy(
            commission_rate=Decimal(self.commission_rate),
            commission_base=self.commission_base,
            shipping_collected_by=self.shipping_collected_by,
            gateway_fee_bearer=self.gateway_fee_bearer,
            hold_days=self.hold_days,
        )
