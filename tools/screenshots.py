"""The README's screenshots: the demo served here, shot in Chromium.

    python tools/screenshots.py [--payments 4000] [--out docs/screenshots]

Loads the demo into a fresh SQLite file, serves it on a free local port, signs in with an
admin key and with a seller key in Debian's Chromium (Playwright) and saves the admin
overview (by month, the whole year) and the seller's balance as PNG files.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paytrack.adapters.storage.db import make_engine  # noqa: E402
from paytrack.adapters.storage.migrate import migrate  # noqa: E402
from paytrack.adapters.storage.uow import Storage  # noqa: E402
from paytrack.domain.actors import SYSTEM  # noqa: E402
from paytrack.domain.splits import Policy  # noqa: E402
from paytrack.entrypoints.api import create_app  # noqa: E402
from paytrack.entrypoints.demo import load_demo  # noqa: E402
from paytrack.services.keys import create_key  # noqa: E402
from tests.browser.conftest import FLAGS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=4000)
    parser.add_argument("--out", default="docs/screenshots")
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp()) / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    storage = Storage(engine, Policy())
    load_demo(storage, payments=args.payments)
    with storage.unit_of_work() as uow:
        _, admin = create_key(uow, "admin", SYSTEM, name="screenshots")
        _, seller = create_key(uow, "seller", SYSTEM, seller_id="inst_ada", name="screenshots")
        today = uow.now().date()
        uow.commit()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(storage), host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}/dashboard"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    year = f"start={today - timedelta(days=364)}&end={today}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium")
                                             or "/usr/bin/chromium", args=FLAGS)
        for key, page_path, name in ((admin, f"/?{year}&currency=USD&interval=month",
                                      "admin-overview"),
                                     (seller, f"/?{year}&currency=USD&interval=month",
                                      "seller-balance")):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/sign-in")
            page.get_by_text("Sign in with an API key instead").click()
            page.get_by_label("API key (admin or seller)").fill(key)
            page.get_by_role("button", name="Sign in with the key").click()
            page.goto(base + page_path)
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            print(out / f"{name}.png")
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
