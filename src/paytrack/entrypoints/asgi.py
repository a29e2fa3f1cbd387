"""ASGI entry for servers: ``uvicorn paytrack.entrypoints.asgi:app`` (configured from env)."""

from paytrack.entrypoints.api import create_app
from paytrack.entrypoints.bootstrap import open_storage

app = create_app(open_storage(run_migrations=False))
