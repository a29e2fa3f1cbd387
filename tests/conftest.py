"""Test fixtures. The integration suite runs on SQLite by default and on PostgreSQL when
``PAYTRACK_DATABASE_URL`` names one (CI runs both)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import fastapi.dependencies.models as fastapi_models
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from paytrack.adapters.storage.db import make_engine, normalize_url
from paytrack.adapters.storage.migrate import migrate
from paytrack.adapters.storage.tables import metadata
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.splits import Policy

DATABASE_URL = os.environ.get("PAYTRACK_DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith("postgres")


@pytest.fixture(scope="session")
def _template(tmp_path_factory) -> Iterator[str]:
    """A migrated database: a SQLite file to copy per test, or the PostgreSQL URL."""
    if ON_POSTGRES:
        url = normalize_url(DATABASE_URL)
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    path = tmp_path_factory.mktemp("template") / "paytrack.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    yield str(path)


@pytest.fixture
def database_url(_template: str, tmp_path) -> str:
    """A migrated, empty database for this test."""
    if ON_POSTGRES:
        _empty_postgres(_template)
        return _template
    path = tmp_path / "paytrack.db"
    shutil.copy(_template, path)
    return f"sqlite:///{path}"


# Emptying the tables with DELETE, not TRUNCATE: a TRUNCATE of every table costs about
# 0.2 s (new files for each), a test's few rows take milliseconds to delete. Replica mode
# skips the append-only triggers and the foreign keys (they are triggers too) for this
# transaction only; the sequences restart as TRUNCATE … RESTART IDENTITY would.
_EMPTY_POSTGRES = "; ".join([
    "SET LOCAL session_replication_role = replica",
    *(f"DELETE FROM {t.name}" for t in metadata.sorted_tables),
    "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind = 'S' AND n.nspname = current_schema()",
])


_EMPTIERS: dict[str, Engine] = {}


def _empty_postgres(url: str) -> None:
    # One connection kept for the whole run: a new one per test cost more than the DELETEs.
    # Pre-pinged, as a test may have terminated it.
    engine = _EMPTIERS.get(url)
    if engine is None:
        engine = _EMPTIERS[url] = create_engine(url, pool_size=1, pool_pre_ping=True)
    with engine.begin() as conn:
        conn.exec_driver_sql(_EMPTY_POSTGRES)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=60)
    yield engine
    engine.dispose()


@pytest.fixture
def storage(engine: Engine) -> Storage:
    return Storage(engine, Policy())


@pytest.fixture
def make_storage(engine: Engine):
    """A storage with another policy over the same database."""
    return lambda policy: Storage(engine, policy)


postgres_only = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="races are only real on PostgreSQL: SQLite serializes writers, so they pass trivially",
)


@pytest.fixture
def empty_engine(_template: str, tmp_path) -> Iterator[Engine]:
    """A database no migration has touched yet."""
    if not ON_POSTGRES:
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    url = make_url(_template)
    name = f"{url.database}_upgrade"
    admin = make_engine(_template, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(autouse=True)
def _forget_fastapi_endpoint_caches() -> Iterator[None]:
    """FastAPI caches what it learns of each endpoint function for the whole process
    (``lru_cache`` keyed by the function); FastAPIOffline makes its docs endpoints per app as
    closures over the app, so every app a test made stayed alive (8 MB each, gigabytes
    over the suite, and a minute to exit). A served process makes one app: tests only."""
    yield
    for name in dir(fastapi_models):
        clear = getattr(getattr(fastapi_models, name), "cache_clear", None)
        if clear is not None:
            clear()
