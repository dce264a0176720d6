"""The short version of `make chaos` (bench/chaos.py): every scenario, on this run's database,
with real `flask reminders run` workers killed, cut off and misled by the fake Twilio.

Each must end with every text received exactly once, no worker crash and nothing left open.
The full run (more texts, more kills, both databases) is `make chaos`; its table is in
docs/texting.md.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("chaos", ROOT / "bench" / "chaos.py")
chaos = importlib.util.module_from_spec(_spec)
sys.modules["chaos"] = chaos  # its dataclasses look their module up
_spec.loader.exec_module(chaos)

KIND = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """The workers are other processes; the fake Twilio is on 127.0.0.1 (the in-process
    network guard of the suite stays on)."""
    if KIND == "postgresql":
        monkeypatch.setattr(chaos, "PG_URL", os.environ["DATABASE_URL"])


@pytest.mark.parametrize("scenario", chaos.scenarios(quick=True), ids=lambda s: s.name)
def test_every_text_arrives_once_whatever_happens(scenario):
    result = chaos.run(KIND, scenario)
    assert result["queued"] > 0
    assert (result["lost"], result["duplicated"], result["crashes"], result["unsettled"]) == (
        0,
        0,
        0,
        0,
    ), result
    assert result["received"] == result["queued"]


def test_duplicate_webhooks_at_once_give_no_5xx_and_one_outcome():
    for row in chaos.web_races(KIND, rounds=3):
        assert (row["5xx"], row["wrong"]) == (0, 0), row
