"""A dashboard form's work, done exactly once.

Every form carries the session's CSRF token and a one-time ``form_key`` drawn when the
page was rendered. The key is claimed as an idempotency key (scoped to the signed-in user
or API key), the work done and the redirect stored in one transaction, as the API's writes
do: a double click, a reload of the POST or a retry after a crash redirects to the same
place without doing the work twice. A refused move (a domain error) is rolled back and
shown on the page it came from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from fastapi import Request
from fastapi.responses import RedirectResponse

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.errors import PaytrackError
from paytrack.entrypoints.web.session import Viewer, check_csrf, flash, storage_of
from paytrack.services import idempotency

PREFIX = "/dashboard"


def local(target: str | None, fallback: str = PREFIX + "/") -> str:
    """A redirect target inside the dashboard (never another host)."""
    if (not target or not target.startswith(PREFIX + "/") and target != PREFIX
            or target.startswith("//") or "\\" in target or len(target) > 2000
            or any(ord(c) < 0x20 for c in target)):
        return fallback
    return target


def act(request: Request, viewer: Viewer, form: Mapping[str, str],
        work: Callable[[UnitOfWork], str | None], *, done: str, back: str) -> RedirectResponse:
    """Check the form's CSRF token, run ``work`` once for its ``form_key`` and redirect to
    ``done`` with ``work``'s notice (or back to ``back`` with the refusal)."""
    check_csrf(viewer, form.get("csrf_token"))
    key = form.get("form_key") or ""
    if not key or len(key) > idempotency.MAX_KEY_LENGTH or not key.isprintable():
        response = RedirectResponse(local(back), status_code=303)
        flash(request, response, "error", "This form is out of date: reload the page and "
                                          "send it again.")
        return response
    fields = {k: v for k, v in sorted(form.items()) if k not in ("csrf_token", "form_key")}
    fingerprint = idempotency.request_fingerprint(
        "POST", request.url.path, "", json.dumps(fields, ensure_ascii=False).encode())
    scope = f"dashboard:{viewer.session['user_id'] or viewer.session['api_key_id']}"

    def attempt(uow: UnitOfWork) -> tuple[str, str | None]:
        replay = idempotency.claim(uow, scope, key, fingerprint)
        if replay is not None:
            stored = json.loads(replay.body)
            return stored["location"], stored.get("notice")
        notice = work(uow)
        idempotency.record(uow, scope, key, 303,
                           json.dumps({"location": done, "notice": notice}))
        return done, notice

    try:
        location, notice = storage_of(request).run(attempt)
    except PaytrackError as exc:
        response = RedirectResponse(local(back), status_code=303)
        flash(request, response, "error", exc.detail or exc.title)
        return response
    response = RedirectResponse(local(location), status_code=303)
    if notice:
        flash(request, response, "ok", notice)
    return response
