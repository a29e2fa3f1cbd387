"""Create-and-capture over HTTP against the in-process capture rate, same run.

    apt-get install wrk   # the load generator: C, so it is not the bottleneck
    python bench/http_capture.py [--seconds 10] [--clients 16] [--workers 2]

Starts paytrack under uvicorn (uvloop, httptools) with ``--workers`` processes on a fresh
PostgreSQL database and drives it with wrk from a separate process over ``--clients``
connections: first a trivial JSON endpoint (``GET /v1/health``), then each connection
creates a payment (``POST /v1/payments``) and captures it (``POST …/capture``). Prints
requests/s with p50/p99 latency, and the ratios to the trivial endpoint and to the
in-process two-step capture rate measured right after on the same database server.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from capture_throughput import _recreate, captures_per_second  # noqa: E402

from paytrack.adapters.storage.db import make_engine  # noqa: E402
from paytrack.adapters.storage.migrate import migrate  # noqa: E402
from paytrack.adapters.storage.uow import Storage  # noqa: E402
from paytrack.domain.actors import SYSTEM  # noqa: E402
from paytrack.services.keys import create_key  # noqa: E402

PORT = 8765
SCRIPT = Path(__file__).parent / "create_and_capture.lua"


def wrk(url: str, clients: int, seconds: int, token: str, script: Path | None = None) -> str:
    command = ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    return subprocess.run(command, capture_output=True, text=True, check=True,
                          env={**os.environ, "PAYTRACK_TOKEN": token}).stdout


def _ms(text: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    url = _recreate(args.server, "paytrack_bench_http")
    engine = make_engine(url)
    migrate(engine)
    with Storage(engine).unit_of_work() as uow:
        _, token = create_key(uow, "admin", SYSTEM, name="bench")
        uow.commit()
    engine.dispose()

    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "paytrack.entrypoints.asgi:app", "--port", str(PORT),
         "--workers", str(args.workers), "--no-access-log", "--log-level", "warning"],
        env={**os.environ, "PAYTRACK_DATABASE_URL": url})
    base = f"http://127.0.0.1:{PORT}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/v1/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        wrk(base, args.clients, 3, token, SCRIPT)  # warm up: parties, accounts, plans
        health = wrk(f"{base}/v1/health", args.clients, args.seconds, token)
        capture = wrk(base, args.clients, args.seconds, token, SCRIPT)
    finally:
        server.terminate()
        server.wait()
    in_process = captures_per_second(url, 4, hot=False, one_step=False, seconds=args.seconds)

    health_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", health).group(1))
    result = dict(re.findall(r"(\w+)=([\d.]+)", capture.split("RESULT", 1)[1]))
    seconds = float(result["seconds"])
    captures = int(result["captured"]) / seconds
    requests = (int(result["created"]) + int(result["captured"])) / seconds
    print(f"trivial GET /v1/health: {health_rps:.0f} req/s, p50 {_ms(health, '50%'):.1f} ms, "
          f"p99 {_ms(health, '99%'):.1f} ms")
    print(f"create+capture over HTTP: {captures:.0f} captures/s ({requests:.0f} req/s), "
          f"p50 {float(result['p50_ms']):.1f} ms, p99 {float(result['p99_ms']):.1f} ms, "
          f"failed {result['failed']}")
    print(f"in-process two-step captures (4 workers): {in_process:.0f}/s")
    print(f"ratio HTTP captures / in-process captures: {captures / in_process:.2f}")
    print(f"ratio HTTP requests / trivial requests: {requests / health_rps:.2f}")


if __name__ == "__main__":
    main()
