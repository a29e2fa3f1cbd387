from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from paytrack.adapters.storage.tables import metadata


def test_migrations_create_exactly_the_declared_schema(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
