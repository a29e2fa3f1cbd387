"""Configuration from the environment (``PAYTRACK_*``), with defaults that just work."""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import Annotated

from pydantic import Field, SecretStr, StrictInt, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from paytrack.domain.errors import PaytrackError
from paytrack.domain.events import DeliveryRules
from paytrack.domain.payouts import PayoutRules
from paytrack.domain.periods import zone
from paytrack.domain.refund_rules import RefundPolicy
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
    # Days a subscription whose period ended unpaid stays past_due before it expires.
    subscription_grace_days: Annotated[int, Field(ge=0, le=3650)] = 7
    # The IANA time zone whose local days analytics count in; changed, the background job
    # rebuilds the rollups in the new one.
    analytics_tz: str = "UTC"

    # The smallest payout: major units applied in each currency's exponent (10.00 USD is
    # 1000, 10 JPY is 10), unless `min_payout_amounts` ('{"JPY": 1000}') gives a
    # currency its own minimum in minor units.
    min_payout: str = "10.00"
    min_payout_amounts: dict[str, int] = Field(default_factory=dict)
    # Fernet keys for payout account details, comma-separated, newest first (older ones
    # still decrypt until `paytrack payout-keys rotate`). Unset: a key file (below).
    payout_keys: SecretStr | None = None
    # Unset: `paytrack-payout.key` next to the SQLite database (else the current folder),
    # created with mode 0600 on first use.
    payout_key_file: str | None = None

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
    # paytrack's own address as customers and gateways reach it: hosted checkout pages,
    # return URLs and the simulator's webhooks are built on it.
    public_url: str = "http://127.0.0.1:8000"
    # Events to the platform (domain/events.py): sends per delivery before it is dead, the
    # backoff between them (full jitter, base doubling up to the cap), the timeout of each
    # network step of a send (at most 10 s) and how long a claimed delivery stays its
    # worker's before another may send it.
    event_max_attempts: Annotated[int, Field(ge=1, le=100)] = 8
    event_backoff_base_s: Annotated[float, Field(gt=0)] = 10.0
    event_backoff_cap_s: Annotated[float, Field(gt=0)] = 6 * 3600.0
    event_timeout_s: Annotated[float, Field(gt=0, le=10)] = 10.0
    event_lease_s: Annotated[float, Field(gt=0)] = 60.0
    # Days an event is kept once every delivery of it is over (succeeded or dead).
    event_retention_days: Annotated[int, Field(ge=1, le=36500)] = 30
    # Refund rules (domain/refund_rules.py), until an admin sets others through the API.
    # All off by default: every refund request waits for an admin.
    refund_auto_approve_max_amount: dict[str, StrictInt] = Field(default_factory=dict)
    refund_auto_approve_within_days: int | None = None
    refund_auto_approve_max_refund_rate: str | None = None
    refund_customer_window_days: int | None = None
    refund_seller_auto_approve: bool = False

    @field_validator("commission_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @field_validator("analytics_tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)  # its ValueError names the problem
        return value

    @model_validator(mode="after")
    def _delivery_rules(self) -> Settings:
        self._make_delivery_rules()  # its ValueError names the setting's problem
        return self

    def _make_delivery_rules(self) -> DeliveryRules:
        return DeliveryRules(max_attempts=self.event_max_attempts,
                             backoff_base_s=self.event_backoff_base_s,
                             backoff_cap_s=self.event_backoff_cap_s,
                             timeout_s=self.event_timeout_s, lease_s=self.event_lease_s,
                             retention_days=self.event_retention_days)

    @cached_property
    def delivery_rules(self) -> DeliveryRules:
        return self._make_delivery_rules()

    @model_validator(mode="after")
    def _refund_rules(self) -> Settings:
        try:
            self._make_refund_policy()
        except PaytrackError as exc:
            raise ValueError(f"PAYTRACK_REFUND_*: {exc.detail}") from None
        return self

    def _make_refund_policy(self) -> RefundPolicy:
        rate = self.refund_auto_approve_max_refund_rate
        return RefundPolicy(
            auto_approve_max_amount=dict(self.refund_auto_approve_max_amount),
            auto_approve_within_days=self.refund_auto_approve_within_days,
            auto_approve_max_refund_rate=None if rate is None else parse_rate(rate),
            customer_refund_window_days=self.refund_customer_window_days,
            seller_requests_auto_approve=self.refund_seller_auto_approve,
        )

    @cached_property
    def refund_policy(self) -> RefundPolicy:
        return self._make_refund_policy()
    @field_validator("min_payout_amounts")
    @classmethod
    def _payout_rules(cls, value: dict[str, int]) -> dict[str, int]:
        PayoutRules.parse("0", value)
        return value

    @field_validator("min_payout")
    @classmethod
    def _min_payout(cls, value: str) -> str:
        PayoutRules.parse(value)
        return value

    @cached_property
    def policy(self) -> Policy:
        return Policy(
            commission_rate=Decimal(self.commission_rate),
            commission_base=self.commission_base,
            shipping_collected_by=self.shipping_collected_by,
            gateway_fee_bearer=self.gateway_fee_bearer,
            hold_days=self.hold_days,
            subscription_grace_days=self.subscription_grace_days,
            analytics_tz=self.analytics_tz,
            payouts=PayoutRules.parse(self.min_payout, self.min_payout_amounts),
        )
