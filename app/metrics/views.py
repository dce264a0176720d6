"""The measures dashboard (filled by the metrics work)."""

from app.metrics import bp  # noqa: F401
