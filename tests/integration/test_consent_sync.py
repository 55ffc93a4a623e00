"""Consent arrives through snapshot sync and the NBA engine obeys it: no sales offer without marketing consent."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from functions_framework import create_app

from shared.capabilities.snapshot_sync import handle
from shared.runtime import Runtime
from shared.settings import ROOT
from tests.conftest import agent_headers

pytestmark = pytest.mark.integration
T0 = datetime(2026, 9, 1, tzinfo=UTC)
HAPPY_EN = [{"speaker": "customer", "text": "Thanks, the router works great now. Any faster plans?"}]


def sync(rt: Runtime, kind: str, data: dict[str, Any]) -> str:
    body = {
        "specversion": "1.0",
        "id": uuid.uuid4().hex,
        "source": "urn:test:crm",
        "type": f"cx.{kind}.v1",
        "data": data,
    }
    return handle(json.dumps(body, default=str).encode(), rt)


def consent(cid: str, days: int, marketing: bool) -> dict[str, Any]:
    return {
        "customer_id": cid,
        "updated_at": (T0 + timedelta(days=days)).isoformat(),
        "consent": {"marketing": marketing, "ai_processing": True},
    }


def test_nba_offers_no_sale_once_consent_is_withdrawn_through_sync(runtime: Runtime) -> None:
    client = create_app(target="next_best_action", source=str(ROOT / "main.py")).test_client()
    cid = f"C-CONS{uuid.uuid4().hex[:6]}"
    assert (
        sync(
            runtime,
            "customer.upserted",
            {
                "customer_id": cid,
                "updated_at": T0.isoformat(),
                "customer_since": "2023-01-01T00:00:00Z",
                "segment": "standard",
                "churn_risk": 0.1,
                "products": [{"sku": "FIB-100", "name": "Fibre 100 broadband"}],
                "tenant": "acme",
                "brand": "acme-telecom",  # the demo agents' scope
                "profile": {"name": "Casey Consent", "language": "en", "consent": {"marketing": True}},
            },
        )
        == "applied"
    )

    def nba() -> dict[str, Any]:
        resp = client.post(
            "/",
            json={"customer_id": cid, "channel": "chat", "transcript": HAPPY_EN},
            headers=agent_headers("lead-7", "supervisor"),
        )  # scores: a supervisor view
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    def sales(body: dict[str, Any]) -> set[str]:
        return {s["offer_id"] for s in body["scores"] if s["type"] in ("cross_sell", "upsell")}

    assert sales(nba()), "with consent, a happy customer asking for faster plans gets a sales offer"
    assert sync(runtime, "consent.changed", consent(cid, 2, marketing=False)) == "applied"
    assert sync(runtime, "consent.changed", consent(cid, 1, marketing=True)) == "stale"  # late, older grant
    withdrawn = nba()
    assert sales(withdrawn) == set()
    assert withdrawn["primary"] is None or withdrawn["primary"]["type"] not in ("cross_sell", "upsell")
    assert "marketing_consent" in {s["rule"] for s in withdrawn["suppressed"]}
    assert sync(runtime, "consent.changed", consent(cid, 3, marketing=True)) == "applied"
    assert sales(nba())
