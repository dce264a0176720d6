"""Demo data for issue 15: medicines (placeholder, filled by its part)."""

from __future__ import annotations


def seed(people) -> None:
    """Add the demo's medicines data (idempotent; adds and flushes, the caller commits)."""
