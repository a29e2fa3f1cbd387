"""Alembic environment: runs migrations on the engine paytrack itself would use."""

from __future__ import annotations

from alembic import context

from paytrack.adapters.storage.db import make_engine
from paytrack.adapters.storage.tables import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None, "set by migrate.alembic_config"
    engine = make_engine(url, pool_size=1)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("paytrack migrations run online only: `paytrack migrate`")
run_migrations_online()
