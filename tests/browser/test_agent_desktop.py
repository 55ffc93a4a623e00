"""The agent desktop's whole human-in-the-loop flow, in Chromium, against the real functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect  # waits for the page to render


def _json(response: Any) -> dict[str, Any]:
    return json.loads(response.body())


def test_full_flow_calls_every_function_and_records_the_agents_decisions(
    page: Any, open_contact: Any, desktop: dict[str, Any]
) -> None:
    rt = desktop["runtime"]
    open_contact("C-1005", "call-c1005-delivery")

    # Context overview
    ctx = page.locator("cx-context-panel")
    with page.expect_response("**/api/context_summary") as info:
        ctx.get_by_role("button", name="Load context overview").click()
    summary = _json(info.value)
    assert info.value.status == 200 and summary["engine"] == "offline"
    expect(ctx.locator(".bullets li")).to_have_text(summary["bullets"])
    expect(ctx.locator(".badge.engine")).to_have_text("Offline engine (templates, no model)")
    expect(ctx.locator(".degraded")).to_have_count(0)

    # Next best action: reasons, accept the primary (scores and suppressed offers are for supervisors)
    nba = page.locator("cx-nba-panel")
    with page.expect_response("**/api/next_best_action") as info:
        nba.get_by_role("button", name="Suggest next best action").click()
    action = _json(info.value)
    expect(nba.locator(".reasons li")).to_have_text(action["reasons"])
    assert action["suppressed"] == [] and action["scores"] == []
    expect(nba.locator(".suppressed li")).to_have_count(0)
    primary = action["primary"]["offer_id"]
    expect(nba.locator(".action.primary h3")).to_contain_text(action["primary"]["title"])
    with page.expect_response("**/api/feedback") as info:
        nba.locator(f".action.primary button[data-outcome=accepted][data-offer='{primary}']").click()
    nba_feedback = _json(info.value)
    expect(nba.locator(".action.primary [data-outcome=accepted][role=status]")).to_be_visible()
    stored = rt.firestore.collection(rt.settings.feedback_collection).document(nba_feedback["event_id"]).get()
    assert stored.to_dict()["nba"] == {"offer_id": primary, "outcome": "accepted"}
    assert stored.to_dict()["agent_id"] == "agent-demo"  # the page sends the agent id header

    # Reply draft: the agent edits it; the final text is sent as feedback, the rating derived
    reply = page.locator("cx-reply-panel")
    with page.expect_response("**/api/reply_draft") as info:
        reply.get_by_role("button", name="Draft a reply").click()
    draft = _json(info.value)
    box = reply.get_by_label("Your reply (edit before sending)")
    expect(box).to_have_value(draft["reply"])
    edited = draft["reply"] + "\n\nKind regards from Sam"
    box.fill(edited)
    with page.expect_response("**/api/feedback") as info:
        reply.get_by_role("button", name="Send reply").click()
    rating = _json(info.value)
    assert rating["rating_source"] == "edit_distance" and rating["rating"] in ("lightly_edited", "heavily_edited")
    expect(reply.locator(f".sent [data-rating={rating['rating']}]")).to_be_visible()
    stored = rt.firestore.collection(rt.settings.feedback_collection).document(rating["event_id"]).get().to_dict()
    # stored minimized (issue 22): the edited text with the prompt's placeholders, the name never in clear
    assert stored["capability"] == "reply_draft" and "Liam" not in stored["final_text"]
    assert stored["final_text"].startswith("Dear [CUSTOMER_NAME],")

    # Next steps: move a due date, override the queue from the dropdown, tick an article, confirm
    steps = page.locator("cx-next-steps-panel")
    with page.expect_response("**/api/next_steps") as info:
        steps.get_by_role("button", name="Suggest next steps").click()
    plan = _json(info.value)
    assert plan["actions"], plan
    expect(steps.locator("fieldset.action-row")).to_have_count(len(plan["actions"]))
    close = steps.get_by_role("button", name="Close contact")
    expect(close).to_be_disabled()
    queue = steps.get_by_label("Resolver queue")
    expect(queue).to_have_value(plan["resolver_group"])  # the suggestion is preselected
    options = queue.locator("option").all_inner_texts()
    catalogue = page.request.get(desktop["url"] + "queues.json").json()
    labels = [g["label"] for g in catalogue["groups"]]  # triage is where routing abstains, not a choice
    assert sorted(queue.locator("option").evaluate_all("os => os.map(o => o.value)")) == sorted(labels)
    assert any(o.startswith(plan["resolver_group"]) for o in options)
    other = "Customer Service" if plan["resolver_group"] != "Customer Service" else "Billing and Payments"
    queue.select_option(other)
    steps.get_by_label("Due by").first.fill("2026-12-01")
    kb_ids = [k["kb_id"] for k in plan["kb_suggestions"]]
    if kb_ids:
        steps.locator(f"input[type=checkbox][value='{kb_ids[0]}']").check()
    with page.expect_response("**/api/confirm_next_steps") as info:
        steps.get_by_role("button", name="Confirm next steps").click()
    confirmed = _json(info.value)
    assert info.value.status == 200
    assert confirmed["resolver_group"] == other and confirmed["diff"]["resolver_overridden"] is True
    assert confirmed["diff"]["kb_suggested_used"] == (1 if kb_ids else 0)
    expect(steps.locator("[data-diff=resolver_overridden]")).to_have_text("yes")
    ticket = (
        rt.firestore.collection(rt.settings.customers_collection)
        .document("C-1005")
        .collection("tickets")
        .document("T-1005-01")
        .get()
        .to_dict()
    )
    assert ticket["next_steps"]["confirmed"]["resolver_group"] == other
    assert ticket["next_steps"]["confirmed"]["actions"][0]["due_by"] == "2026-12-01"
    assert ticket["next_steps"]["confirmed_by"] == "agent-demo"

    # Closing message (by email after a call), copied in one click
    closing = steps.get_by_label("Closing message for the customer")
    expect(closing).not_to_have_value("")  # closing_message answers after the confirmation renders
    message = closing.input_value()
    with page.expect_request(lambda r: r.url.endswith("/api/feedback") and '"closing_message"' in r.post_data) as sent:
        steps.get_by_role("button", name="Copy closing message").click()
    steps.locator("[data-copied=true]").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == message
    assert json.loads(sent.value.post_data)["final_text"] == message  # copied unchanged = used as suggested

    # Now, and only now, the contact can be closed
    expect(close).to_be_enabled()
    close.click()
    expect(steps.locator("[data-closed=true]")).to_be_visible()
    expect(page.locator("#status")).to_have_text("Contact closed: T-1005-01")
