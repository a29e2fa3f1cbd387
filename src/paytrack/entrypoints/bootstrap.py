"""Wire configuration to storage: the one place entrypoints get a ``Storage`` from."""

from __future__ import annotations

from paytrack.adapters.gateways.registry import GatewayWiring
from paytrack.adapters.secrets import PayoutKeyring
from paytrack.adapters.storage.db import make_engine
from paytrack.adapters.storage.migrate import migrate
from paytrack.adapters.storage.uow import Storage
from paytrack.config import Settings


def open_storage(settings: Settings | None = None, *, run_migrations: bool = True) -> Storage:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    if run_migrations:
        migrate(engine)
    keys = settings.payout_keys.get_secret_value() if settings.payout_keys else None
    return Storage(engine, settings.policy, refund_policy=settings.refund_policy,
                   payout_keys=PayoutKeyring.configured(keys, settings.payout_key_file,
                                                        settings.database_url),
                   gateways=GatewayWiring(settings.public_url))
