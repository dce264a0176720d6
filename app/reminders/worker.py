"""One round of the SMS worker: plan reminders, then send what is due."""

from __future__ import annotations

from app.reminders.recurring import plan_due
from app.texting import dispatcher


def plan_and_send(batch: int = 50, plan: bool = True) -> dict[str, int]:
    """Plan the next hours of chosen-time reminders (unless `plan` is False), then settle
    crashed sends and send everything due (`texting.dispatcher`)."""
    planned = plan_due() if plan else 0
    return {"planned": planned, **dispatcher.dispatch_once(batch)}
