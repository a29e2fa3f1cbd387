"""Orders and bookings (the booking seed): a table with coloured status badges, a status
filter, the admin's status change with a reason, and the per-stream statistics."""

from __future__ import annotations

from fastapi import APIRouter

pages = APIRouter()
