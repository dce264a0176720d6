"""Demo data for issue 15: a photo on a message (placeholder, filled by its part)."""

from __future__ import annotations


def seed(people) -> None:
    """Add the demo's attachments (idempotent; adds and flushes, the caller commits)."""
