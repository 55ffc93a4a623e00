"""What the page shows when a function answers 4xx, 5xx or a degraded (fallback) suggestion."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect  # waits for the page to render


def test_a_real_400_names_the_field_and_blocks_closing(page: Any, open_contact: Any) -> None:
    open_contact("C-1002", "chat-c1002-outage")
    steps = page.locator("cx-next-steps-panel")
    steps.get_by_role("button", name="Suggest next steps").click()
    steps.get_by_role("button", name="Confirm next steps").wait_for()
    close = steps.get_by_role("button", name="Close contact")
    expect(close).to_be_disabled()
    expect(steps).to_contain_text("Confirm the next steps before closing the contact.")
    close.click(force=True)  # a disabled button does nothing, even when clicked
    expect(steps.locator("[data-closed]")).to_have_count(0)

    steps.get_by_label("What").first.fill("   ")  # the agent blanks an action
    with page.expect_response("**/api/confirm_next_steps") as info:
        steps.get_by_role("button", name="Confirm next steps").click()
    assert info.value.status == 400
    error = json.loads(info.value.body())["error"]
    assert error["request_id"] == info.value.headers["x-request-id"]
    alert = steps.get_by_role("alert")
    expect(alert).to_contain_text("HTTP 400")
    expect(alert).to_contain_text(error["code"])
    expect(alert.locator("code.field").first).to_have_text("actions.0.description")
    expect(alert.locator(".request-id code")).to_have_text(error["request_id"])
    expect(close).to_be_disabled()

    steps.get_by_label("What").first.fill("Technician checks the line")
    with page.expect_response("**/api/confirm_next_steps") as info:
        steps.get_by_role("button", name="Confirm next steps").click()
    assert info.value.status == 200
    expect(close).to_be_enabled()  # waits for the page to render the answer
    expect(steps.get_by_role("alert")).to_have_count(0)


def test_injected_500_shows_the_request_id_and_a_retry_works(page: Any, open_contact: Any) -> None:
    failure = {
        "error": {
            "code": "internal",
            "message": "internal error; quote the request id when reporting it",
            "request_id": "req-injected-500",
        }
    }
    page.route("**/api/next_best_action", lambda route: route.fulfill(status=500, json=failure))
    open_contact("C-1002", "chat-c1002-outage")
    nba = page.locator("cx-nba-panel")
    nba.get_by_role("button", name="Suggest next best action").click()
    alert = nba.get_by_role("alert")
    expect(alert).to_contain_text("The service failed")
    expect(alert).to_contain_text("HTTP 500")
    expect(alert.locator(".request-id code")).to_have_text("req-injected-500")
    expect(alert).to_contain_text("report the request id")
    expect(nba).to_have_attribute("data-state", "error")

    page.unroute("**/api/next_best_action")
    nba.get_by_role("button", name="Suggest next best action").click()
    nba.locator(".action.primary").wait_for()
    expect(nba.get_by_role("alert")).to_have_count(0)


def test_a_gateway_error_without_a_json_body_still_shows_our_request_id(page: Any, open_contact: Any) -> None:
    page.route(
        "**/api/context_summary", lambda route: route.fulfill(status=502, body="Bad Gateway", content_type="text/plain")
    )
    open_contact("C-1002", "chat-c1002-outage")
    ctx = page.locator("cx-context-panel")
    with page.expect_request("**/api/context_summary") as sent:
        ctx.get_by_role("button", name="Load context overview").click()
    alert = ctx.get_by_role("alert")
    expect(alert).to_contain_text("HTTP 502")
    expect(alert.locator(".request-id code")).to_have_text(sent.value.headers["x-request-id"])


def test_injected_400_names_every_field(page: Any, open_contact: Any) -> None:
    bad = {
        "error": {
            "code": "bad_request",
            "message": "request validation failed",
            "request_id": "req-400",
            "details": [
                {"field": "customer_id", "problem": "String should match pattern"},
                {"field": "header:X-Agent-Id", "problem": "required"},
            ],
        }
    }
    page.route("**/api/context_summary", lambda route: route.fulfill(status=400, json=bad))
    open_contact("C-1002", "chat-c1002-outage")
    ctx = page.locator("cx-context-panel")
    ctx.get_by_role("button", name="Load context overview").click()
    alert = ctx.get_by_role("alert")
    expect(alert).to_contain_text("The request was rejected")
    expect(alert.locator("code.field")).to_have_text(["customer_id", "header:X-Agent-Id"])
    expect(alert).to_contain_text("Correct the named field")


@pytest.mark.parametrize(
    ("fn", "panel", "button"),
    [
        ("context_summary", "cx-context-panel", "Load context overview"),
        ("next_best_action", "cx-nba-panel", "Suggest next best action"),
        ("reply_draft", "cx-reply-panel", "Draft a reply"),
        ("next_steps", "cx-next-steps-panel", "Suggest next steps"),
    ],
)
def test_degraded_answers_are_labelled(page: Any, open_contact: Any, fn: str, panel: str, button: str) -> None:
    def degrade(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        body.update(degraded=True, degraded_reason="model timed out after 8000 ms; offline fallback")
        route.fulfill(response=response, body=json.dumps(body))

    page.route(f"**/api/{fn}", degrade)
    open_contact("C-1002", "chat-c1002-outage")
    host = page.locator(panel)
    host.get_by_role("button", name=button).click()
    banner = host.locator(".degraded[data-degraded=true]")
    expect(banner).to_contain_text("Degraded answer")
    expect(banner).to_contain_text("model timed out after 8000 ms")
    expect(host.locator(".badge.engine")).to_have_attribute("data-engine", "offline")


def test_a_real_answer_is_not_labelled_degraded(page: Any, open_contact: Any) -> None:
    open_contact("C-1002", "chat-c1002-outage")
    ctx = page.locator("cx-context-panel")
    with page.expect_response("**/api/context_summary") as info:
        ctx.get_by_role("button", name="Load context overview").click()
    assert json.loads(info.value.body())["degraded"] is False
    ctx.locator(".bullets").wait_for()
    expect(ctx.locator(".degraded")).to_have_count(0)


def test_a_503_says_the_service_is_unavailable_and_when_to_retry(page: Any, open_contact: Any) -> None:
    outage = {
        "error": {
            "code": "unavailable",
            "message": "a storage dependency is unavailable; try again shortly",
            "request_id": "req-503",
        }
    }
    page.route(
        "**/api/context_summary", lambda route: route.fulfill(status=503, json=outage, headers={"Retry-After": "5"})
    )
    open_contact("C-1002", "chat-c1002-outage")
    ctx = page.locator("cx-context-panel")
    ctx.get_by_role("button", name="Load context overview").click()
    alert = ctx.get_by_role("alert")
    expect(alert).to_contain_text("The service is temporarily unavailable")
    expect(alert).to_contain_text("HTTP 503")
    expect(alert.locator(".retry-after")).to_have_text("Try again in 5 s.")
    expect(alert.locator(".request-id code")).to_have_text("req-503")
