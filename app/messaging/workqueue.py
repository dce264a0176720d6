"""The team inbox as a work queue per care-team member (being built: see issue 13)."""

from __future__ import annotations


def rebuild(session) -> None:
    """Rebuild every member's queue from threads and assignments (bulk: after a data load)."""
