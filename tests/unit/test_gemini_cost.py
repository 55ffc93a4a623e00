"""The cost table: thinking tokens priced as output, from the capability's profile and config/engine/pricing.yaml."""

from __future__ import annotations

import pytest

from scripts.gemini_cost import THINKING_RATIO, costs, markdown
from shared.engine.profiles import ModelProfiles, Pricing
from shared.settings import ROOT


def test_thinking_is_counted_typical_and_ceiling() -> None:
    profiles = ModelProfiles.load(ROOT / "config" / "engine/models.yaml")
    pricing = Pricing.load(ROOT / "config" / "engine/pricing.yaml")
    (row,) = costs({"reply_draft": {"calls": 3, "input": 1000.0, "output": 200.0}}, profiles, pricing)
    assert row["model"] == "gemini-3.5-flash" and row["thinking_typical"] == round(THINKING_RATIO * 200)
    assert row["usd_per_1000_no_thinking"] == pytest.approx(1000 * (1000 * 1.50 + 200 * 9.00) / 1e6, abs=1e-3)
    assert row["usd_per_1000_typical"] == pytest.approx(1000 * (1000 * 1.50 + (200 + 1120) * 9.00) / 1e6, abs=1e-3)
    assert row["usd_per_1000_ceiling"] == pytest.approx(1000 * (1000 * 1.50 + (200 + 3300) * 9.00) / 1e6, abs=1e-3)
    assert "| reply_draft | gemini-3.5-flash (low) |" in markdown([row])
