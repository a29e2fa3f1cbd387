"""The README's endpoint table lists every route the API serves, and only those."""

import re
import shlex
from pathlib import Path

from paytrack.entrypoints.api import create_app

README = Path(__file__).parents[2] / "README.md"


def documented_endpoints(text: str) -> set[tuple[str, str]]:
    """``(method, path)`` from the endpoint table; `/capture` after `POST /v1/payments/{id}/
    processing` is the same method on a sibling path."""
    found = set()
    for row in (line for line in text.splitlines() if line.startswith("| `")):
        method = path = None
        for span in re.findall(r"`([^`]+)`", row):
            if match := re.fullmatch(r"(GET|POST|PUT|PATCH|DELETE) (/v1/\S*)", span):
                method, path = match.groups()
            elif span.startswith("/") and path is not None:
                path = path.rsplit("/", 1)[0] + span
            else:
                continue
            found.add((method, re.sub(r"\{[a-z_]+\}", "{id}", path)))
    return found


def served_endpoints() -> set[tuple[str, str]]:
    """Every ``/v1`` operation in the OpenAPI schema, path parameters written ``{id}``."""
    paths = create_app(None).openapi()["paths"]
    return {(method.upper(), re.sub(r"\{[a-z_]+\}", "{id}", path))
            for path, operations in paths.items() if path.startswith("/v1/")
            for method in operations}


def test_the_readme_lists_every_endpoint_and_no_other():
    documented, served = documented_endpoints(README.read_text()), served_endpoints()
    assert served - documented == set(), "served but not in the README's table"
    assert documented - served == set(), "in the README's table but not served"


def test_the_readme_example_creates_captures_and_refunds_a_payment(admin):
    """The README's curl session, sent as written (the `$PAY`, `$RE` it captures from one
    answer filled into the next): the refund it shows really moves money."""
    block = re.search(r"## Using the API.*?```bash\n(.*?)```", README.read_text(), re.S)[1]
    tokens = shlex.split(block, comments=True)
    starts = [i for i, token in enumerate(tokens) if token.endswith("curl")]
    names: dict[str, str] = {}
    sent = []
    for start, end in zip(starts, [*starts[1:], len(tokens)], strict=True):
        command = tokens[start:end]
        url = next(t for t in command if re.match(r"(\$API|https?://)", t))
        body = command[command.index("-d") + 1] if "-d" in command else None
        method = command[command.index("-X") + 1] if "-X" in command else "GET"
        path, body = (re.sub(r"\$([A-Z]+)", lambda m: names[m[1]], text)
                      for text in (re.sub(r"^(\$API|https?://[^/]+)", "", url),
                                   body or "null"))
        response = admin.client.request(method, path, content=body if body != "null" else None,
                                        headers={**admin.headers,
                                                 "Content-Type": "application/json"})
        assert response.status_code in (200, 201), f"{method} {path}: {response.text}"
        if "=$(" in command[0]:
            names[command[0].split("=")[0]] = response.json()["id"]
        sent.append((method, re.sub(r"/(pay|re)_\w+", r"/\1_…", path)))
    assert sent == [("POST", "/v1/payments"), ("POST", "/v1/payments/pay_…/capture"),
                    ("POST", "/v1/refunds"), ("POST", "/v1/refunds/re_…/approve")]
    paid = admin.get(f"/v1/payments/{names['PAY']}").json()
    assert (paid["status"], paid["refunded_amount"]) == ("partially_refunded", 1000)
