"""Wire configuration to storage: the one place entrypoints get a ``Storage`` from."""

from __future__ import annotations

from paytrack.adapters.storage.db import make_engine
from paytrack.adapters.storage.migrate import migrate
from paytrack.adapters.storage.uow import Storage
from paytrack.config import Settings


def open_storage(settings: Settings | None = None, *, run_migrations: bool = True) -> Storage:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    if run_migrations:
        migrate(engine)
    return Storage(engine, settings.policy, refund_policy=settings.refund_policy)
