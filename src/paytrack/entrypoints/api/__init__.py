"""The /v1 HTTP API (FastAPI): routers build a command, call a service, shape the response."""

from paytrack.entrypoints.api.app import create_app

__all__ = ["create_app"]
