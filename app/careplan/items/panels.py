"""What an item's page shows beyond its facts: each kind's panel (an appointment's actions, a
medicine's doses and refills, a task's readings) adds its own context here.

A provider takes (patient, item) and returns a dict for the template (empty when it has
nothing to say about this item); `items/item.html` includes each panel's template.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Provider = Callable[[Any, Any], dict]

PROVIDERS: list[Provider] = []


def item_panel(provider: Provider) -> Provider:
    """Register a provider of context for the item page."""
    PROVIDERS.append(provider)
    return provider


def context_for(patient, item) -> dict:
    context: dict = {}
    for provider in PROVIDERS:
        context.update(provider(patient, item))
    return context
