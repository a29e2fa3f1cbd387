"""ASGI entry for servers: ``uvicorn paytrack.entrypoints.asgi:app`` (configured from env)."""

from paytrack.config import Settings
from paytrack.entrypoints.api import create_app
from paytrack.entrypoints.bootstrap import open_storage

settings = Settings()
app = create_app(open_storage(settings, run_migrations=False), settings,
                 upkeep=settings.upkeep)
