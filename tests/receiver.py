"""A platform's endpoint for paytrack's events, as a test runs it: a real HTTP server on
127.0.0.1 in a thread, verifying each delivery with the ``standardwebhooks`` library as
the README tells platforms to, and keeping what it accepted."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


class Receiver:
    """Answers each verified delivery with ``answer(n)`` (n counts verified deliveries
    from 0), 200 unless told otherwise; one that fails verification gets 400."""

    def __init__(self, answer: Callable[[int], int] | None = None) -> None:
        self.answer = answer or (lambda n: 200)
        self.secret: str | None = None  # the endpoint's, once paytrack showed it
        self.accepted: list[dict] = []  # {"headers": …, "payload": …}
        self.refused = 0  # bodies that failed verification
        self.cut = 0  # requests whose body never arrived whole
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/paytrack"

    @property
    def ids(self) -> list[str]:
        """The webhook-id of each accepted delivery (repeats included)."""
        with self._lock:
            return [a["headers"]["webhook-id"] for a in self.accepted]

    def payloads(self, event_type: str | None = None) -> list[dict]:
        with self._lock:
            return [a["payload"] for a in self.accepted
                    if event_type is None or a["payload"]["type"] == event_type]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if len(body) < length:  # the sender died mid-request (a SIGKILL): no delivery
                    with receiver._lock:
                        receiver.cut += 1
                    return
                try:
                    if receiver.secret is None:
                        raise WebhookVerificationError("no secret yet")
                    payload = Webhook(receiver.secret).verify(body, headers)
                except (WebhookVerificationError, ValueError):
                    with receiver._lock:
                        receiver.refused += 1
                    status = 400
                else:
                    with receiver._lock:
                        status = receiver.answer(len(receiver.accepted))
                        receiver.accepted.append({"headers": headers, "payload": payload})
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def start(self) -> Receiver:
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def receiving(answer: Callable[[int], int] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(answer).start()
    try:
        yield receiver
    finally:
        receiver.stop()
