"""Panels one by one: embedded alone, by keyboard, in German, and from another origin (CORS)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect  # waits for the page to render


def _tab_to(page: Any, selector: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with the Tab key")


def test_one_panel_embedded_alone_works_by_keyboard(page: Any, desktop: dict[str, Any]) -> None:
    page.goto(desktop["url"] + "embed.html?panel=nba&contact=samples/chat-c1002-outage.json")
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("cx-nba-panel")).to_have_count(1)
    expect(page.locator("cx-context-panel, cx-reply-panel, cx-next-steps-panel")).to_have_count(0)
    nba = page.locator("cx-nba-panel")
    expect(nba).to_have_attribute("role", "region")
    expect(nba).to_have_attribute("aria-labelledby", nba.locator("h2").get_attribute("id"))
    expect(nba.locator(".result")).to_have_attribute("aria-live", "polite")
    suggest = nba.get_by_role("button", name="Suggest next best action")
    suggest.wait_for()
    page.wait_for_function("document.querySelector('cx-nba-panel').contact !== null")

    _tab_to(page, "cx-nba-panel button[data-action=suggest]")
    with page.expect_response("**/api/next_best_action") as info:
        page.keyboard.press("Enter")
    assert info.value.status == 200
    nba.locator(".action.primary").wait_for()
    expect(nba.locator("button[data-action=suggest]")).to_be_focused()  # focus stays on the control

    _tab_to(page, "cx-nba-panel .action.primary button[data-outcome=rejected]")
    with page.expect_response("**/api/feedback") as info:
        page.keyboard.press("Space")
    assert info.value.status == 200
    assert json.loads(info.value.request.post_data)["nba"]["outcome"] == "rejected"
    nba.locator(".action.primary [data-outcome=rejected][role=status]").wait_for()


def test_panel_mounted_from_attributes_only(page: Any, desktop: dict[str, Any]) -> None:
    page.goto(desktop["url"] + "embed.html?panel=context&customer-id=C-1003&channel=email")
    page.wait_for_selector("body[data-ready=true]")
    ctx = page.locator("cx-context-panel")
    with page.expect_request("**/api/context_summary") as sent:
        ctx.get_by_role("button", name="Load context overview").click()
    assert json.loads(sent.value.post_data) == {"customer_id": "C-1003", "language": "en", "channel": "email"}
    assert not {"x-agent-id", "x-agent-role"} & set(sent.value.headers)  # identity: the front door's token only
    ctx.locator(".bullets li").first.wait_for()


def test_labels_switch_to_german(page: Any, open_contact: Any) -> None:
    page.get_by_label("Language").select_option("de")
    page.get_by_role("heading", name="Kontextübersicht").wait_for()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    for name in ("Antwortentwurf", "Nächste beste Aktion", "Nächste Schritte und Abschluss"):
        expect(page.get_by_role("heading", name=name)).to_be_visible()
    open_contact("C-1002", "chat-c1002-outage")
    expect(page.locator("#contact option:checked")).to_contain_text("Schon wieder kein Internet")
    ctx = page.locator("cx-context-panel")
    with page.expect_request("**/api/context_summary") as sent:
        ctx.get_by_role("button", name="Kontextübersicht laden").click()
    assert json.loads(sent.value.post_data)["language"] == "de"  # the agent's language for the overview
    ctx.get_by_role("heading", name="Auf einen Blick").wait_for()
    page.get_by_label("Sprache").select_option("en")
    page.get_by_role("heading", name="At a glance").wait_for()  # results re-render in the new language


def test_static_site_calls_a_function_on_another_origin_through_cors(
    page: Any, desktop: dict[str, Any], cors_function: str, open_contact: Any
) -> None:
    from shared.platform.identity import IAP_HEADER
    from tests.conftest import agent_token

    # That origin's front door (IAP) adds the signed identity to the browser's call, as the local one does.
    token = agent_token("agent-demo")
    page.route(cors_function, lambda route: route.continue_(headers={**route.request.headers, IAP_HEADER: token}))
    page.goto(desktop["url"] + "?fn.context_summary=" + quote(cors_function, safe=""))
    page.wait_for_selector("body[data-ready=true]")
    open_contact("C-1002", "chat-c1002-outage")
    ctx = page.locator("cx-context-panel")
    with page.expect_response(cors_function) as info:
        ctx.get_by_role("button", name="Load context overview").click()
    assert info.value.status == 200
    assert info.value.headers["access-control-allow-origin"] == desktop["url"].rstrip("/")
    ctx.locator(".bullets li").first.wait_for()


def test_without_cors_the_browser_blocks_the_call_and_the_page_says_so(
    page: Any, desktop: dict[str, Any], open_contact: Any
) -> None:
    direct = desktop["functions"]["context_summary"]  # no CX_CORS_ORIGINS on this server
    page.goto(desktop["url"] + "?fn.context_summary=" + quote(direct, safe=""))
    page.wait_for_selector("body[data-ready=true]")
    open_contact("C-1002", "chat-c1002-outage")
    ctx = page.locator("cx-context-panel")
    ctx.get_by_role("button", name="Load context overview").click()
    alert = ctx.get_by_role("alert")
    expect(alert).to_contain_text("no answer")
    expect(alert).to_contain_text("network")
