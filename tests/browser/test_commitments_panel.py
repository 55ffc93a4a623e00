"""The promises panel: what we owe the customer, oldest first, with one-click done and extend."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect  # waits for the page to render
CUSTOMER = "C-1020"


@pytest.fixture
def promises(desktop: dict[str, Any]) -> Iterator[list[str]]:
    """Two promises to C-1020: the back office's is overdue, the agent's is due far ahead."""
    from shared.decisions.actions import FinalAction

    rt = desktop["runtime"]
    made = rt.commitments.record_confirmation(
        customer_id=CUSTOMER,
        ticket_id="T-1020-P1",
        suggestion_id=uuid.uuid4().hex,
        suggested=[],
        actions=[
            FinalAction(owner="backoffice", description="Send the contract copy", due_by=date(2026, 11, 20)),
            FinalAction(owner="agent", description="Call back about the move", due_by=date(2099, 1, 5)),
        ],
        queue_code="Q-CS",
        resolver_group="Customer Service",
        sla_business_days=None,
        agent_id="agent-demo",
        confirmed_at=datetime(2026, 11, 18, 10, tzinfo=UTC),
    )
    rt.commitments.sweep(page_size=100, budget_s=60, now=datetime(2026, 11, 25, tzinfo=UTC))
    yield [c.commitment_id for c in made]
    col = rt.firestore.collection(rt.settings.commitments_collection)
    for c in made:
        col.document(c.commitment_id).delete()


def test_overdue_promise_first_done_and_extend_in_one_click(
    page: Any, desktop: dict[str, Any], promises: list[str]
) -> None:
    overdue, later = promises
    page.goto(desktop["url"] + f"embed.html?panel=context&customer-id={CUSTOMER}&channel=email")
    page.wait_for_selector("body[data-ready=true]")
    ctx = page.locator("cx-context-panel")
    ctx.get_by_role("button", name="Load context overview").click()
    rows = ctx.locator("li.commitment")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-commitment", overdue)
    expect(rows.first).to_have_attribute("data-status", "overdue")
    expect(ctx.locator(".bullets li").first).to_contain_text("We owe this customer 2 open promise(s), 1 overdue")

    with page.expect_response("**/api/commitment_update") as info:
        rows.first.get_by_role("button", name="Done").click()
    assert info.value.status == 200
    assert json.loads(info.value.request.post_data) == {
        "commitment_id": overdue,
        "change": "done",
        "expected_version": 2,
    }
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-commitment", later)

    rows.first.locator("summary").click()
    rows.first.locator("input[name=due]").fill("2099-01-12")
    rows.first.locator("input[name=reason]").fill("customer is travelling")
    with page.expect_response("**/api/commitment_update") as info:
        rows.first.get_by_role("button", name="Extend", exact=True).click()
    assert info.value.status == 200
    expect(rows.first).to_contain_text("2099-01-12")
    stored = desktop["runtime"].commitments.repo.get(later)
    assert stored.due == date(2099, 1, 12) and stored.history[-1].reason == "customer is travelling"
    assert desktop["runtime"].commitments.repo.get(overdue).status == "done"
