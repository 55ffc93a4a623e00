"""Sign-in through the front door (locally the dev stack's issuer); identity never from the URL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect  # waits for the page to render


def test_signed_out_page_offers_sign_in_and_the_functions_refuse_it(browser: Any, desktop: dict[str, Any]) -> None:
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
        page.goto(desktop["url"])
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("#agent")).to_have_text("Not signed in")
        page.select_option("#customer", "C-1002")
        page.select_option("#contact", "chat-c1002-outage")
        ctx = page.locator("cx-context-panel")
        with page.expect_response("**/api/context_summary") as info:
            ctx.get_by_role("button", name="Load context overview").click()
        assert info.value.status == 401
        page.select_option("#signin-user", "agent-uk")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#agent")).to_have_text("Signed in as agent-uk (agent)")
        expect(page.locator("#signin")).to_be_hidden()
        # C-1002 is served by the EU team: for the UK team it is a customer that does not exist
        with page.expect_response("**/api/context_summary") as info:
            ctx.get_by_role("button", name="Load context overview").click()
        assert info.value.status == 404
        assert json.loads(info.value.body())["error"]["message"] == "customer not found"
    finally:
        context.close()


def test_a_role_in_the_url_is_ignored(page: Any, desktop: dict[str, Any], open_contact: Any) -> None:
    page.goto(desktop["url"] + "?agent=lead-demo&role=supervisor")
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#agent")).to_have_text("Signed in as agent-demo (agent)")
    open_contact("C-1002", "chat-c1002-outage")
    nba = page.locator("cx-nba-panel")
    with page.expect_request("**/api/next_best_action") as sent, page.expect_response("**/api/next_best_action") as got:
        nba.get_by_role("button", name="Suggest next best action").click()
    assert not {"x-agent-id", "x-agent-role"} & set(sent.value.headers)  # the page asserts no identity
    action = json.loads(got.value.body())
    assert got.value.status == 200 and action["suppressed"] == [] and action["scores"] == []


def test_a_supervisor_sees_the_suppressed_offers(page: Any, desktop: dict[str, Any], open_contact: Any) -> None:
    sign_in(page.context, desktop["url"], "lead-demo")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#agent")).to_have_text("Signed in as lead-demo (supervisor)")
    open_contact("C-1002", "chat-c1002-outage")
    nba = page.locator("cx-nba-panel")
    with page.expect_response("**/api/next_best_action") as info:
        nba.get_by_role("button", name="Suggest next best action").click()
    action = json.loads(info.value.body())
    assert action["suppressed"] and action["scores"]
    expect(nba.locator(".suppressed li")).to_have_count(len(action["suppressed"]))
    for s in action["suppressed"]:
        expect(nba.locator(f".suppressed li:has(code:text-is('{s['offer_id']}'))")).to_have_count(1)
