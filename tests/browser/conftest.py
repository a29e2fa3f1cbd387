"""The dashboard in a real browser: Debian's Chromium, driven by Playwright (Python,
pytest-playwright), against a server started here on the test's database.

Playwright cannot download its own browsers on these machines: ``.ci/run`` installs
Debian's ``chromium`` with apt, and the tests launch it by path. Without it the tests are
skipped, unless ``PAYTRACK_BROWSER_REQUIRED`` is set (CI sets it: there a missing
browser is a failure). Screenshots of every page go to ``artifacts/screenshots/`` (or
``PAYTRACK_ARTIFACTS``)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher

from paytrack.entrypoints.api import create_app
from paytrack.services import dashboard_access
from tests.conftest import ON_POSTGRES

CHROMIUM = os.environ.get("PAYTRACK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("PAYTRACK_ARTIFACTS", "artifacts")) / "screenshots"
# What the probe of these machines found Chromium needs here: no sandbox as root, and no
# background connections (the closed network refuses them, many at a time).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRES:  # CI runs the suite on both databases side by side on two cores
        skip = pytest.mark.skip(reason="the browser journeys run once, in the SQLite run; on "
                                       "PostgreSQL the dashboard is tested over HTTP (tests/web)")
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(skip)
        return
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("PAYTRACK_BROWSER_REQUIRED"):
        raise pytest.UsageError(f"the browser tests need Chromium at {CHROMIUM} "
                                "(apt-get install chromium)")
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}: apt-get install chromium "
                                   "(CI installs it and requires these tests)")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True,
            "args": FLAGS}


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(dashboard_access, "HASHER", hasher)
    monkeypatch.setattr(dashboard_access, "_NOBODY", hasher.hash("nobody's password"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(storage) -> Iterator[str]:
    """The app served on a free local port in a thread; its base URL."""
    port = _free_port()
    config = uvicorn.Config(create_app(storage), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="on")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not served.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(10)


@pytest.fixture
def shoot(page):
    """Save a full-page screenshot of what the page shows now."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def api(storage):
    """An admin API client on the same database (to set the scene and to check)."""
    from fastapi.testclient import TestClient

    from paytrack.services.keys import create_key
    from tests.api.conftest import Api
    from tests.integration.conftest import ADMIN

    with storage.unit_of_work() as uow:
        _, token = create_key(uow, "admin", ADMIN)
        uow.commit()
    with TestClient(create_app(storage), raise_server_exceptions=False) as client:
        yield Api(client, token)
