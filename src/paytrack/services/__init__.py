"""Use cases: plain functions over a unit of work, called by the API, CLI and webhooks."""
