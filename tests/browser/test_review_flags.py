"""Every review flag of a reply draft is marked on its sentence, wherever that sentence is."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect  # waits for the page to render


def _marks(panel: Any) -> list[dict[str, str]]:
    return panel.locator("mark.flag").evaluate_all(
        "ms => ms.map(m => ({codes: m.dataset.flags, text: m.querySelector('.flag-text').textContent,"
        " where: m.closest('.message') ? 'message' : m.closest('.draft') ? 'reply' : 'list'}))"
    )


def _assert_every_flag_marked(panel: Any, reasons: list[dict[str, Any]]) -> None:
    listed = panel.locator("ol.flags > li")
    expect(listed).to_have_count(len(reasons))  # the flag list and its marks render together
    marks = _marks(panel)
    for i, reason in enumerate(reasons):
        expect(listed.nth(i)).to_have_attribute("data-code", reason["code"])
        if reason["sentence"] is None:
            expect(listed.nth(i)).to_contain_text("applies to the whole contact")
            continue
        hits = [m for m in marks if reason["code"] in m["codes"].split() and m["text"] == reason["sentence"]]
        assert hits, f"flag {reason['code']} not marked on {reason['sentence']!r}; marks: {marks}"


def test_real_flags_on_a_german_legal_threat_are_marked(page: Any, open_contact: Any) -> None:
    open_contact("C-1004", "email-c1004-billing")
    panel = page.locator("cx-reply-panel")
    with page.expect_response("**/api/reply_draft") as info:
        panel.get_by_role("button", name="Draft a reply").click()
    body = json.loads(info.value.body())
    reasons = body["review_reasons"]
    assert body["requires_human_review"] and any(r["code"] == "topic:legal_threat" for r in reasons)
    _assert_every_flag_marked(panel, reasons)
    legal = next(m for m in _marks(panel) if "topic:legal_threat" in m["codes"])
    assert legal["where"] == "message" and "Anwalt" in legal["text"]
    expect(panel.get_by_role("heading", name=f"Human review required — {len(reasons)} flag(s)")).to_be_visible()
    # a flag's link takes keyboard focus to its sentence
    panel.locator("ol.flags > li[data-code='topic:legal_threat'] a").click()
    assert page.evaluate("document.activeElement.classList.contains('flag') || location.hash.length > 1")


def test_every_kind_of_flag_is_marked(page: Any, open_contact: Any) -> None:
    """Flags on draft sentences, on a replaced draft's sentence and without a sentence (injected into a real answer)."""

    def add_flags(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        first = body["reply"].split("\n")[0]
        last = [line for line in body["reply"].split("\n") if line.strip()][-1]
        body["review_reasons"] += [
            {"code": "commitment:refund", "source": "reply", "sentence": first, "detail": None},
            {"code": "commitment:deadline", "source": "reply", "sentence": last, "detail": None},
            {"code": "commitment:amount", "source": "reply", "sentence": first, "detail": None},
            {
                "code": "violation:unapproved_link",
                "source": "reply",
                "sentence": "See http://evil.example.",
                "detail": "evil.example",
            },
            {"code": "segment:human_first", "source": "customer", "sentence": None, "detail": "key_account"},
        ]
        body["requires_human_review"] = True
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/api/reply_draft", add_flags)
    open_contact("C-1009", "email-c1009-billing")
    panel = page.locator("cx-reply-panel")
    with page.expect_response("**/api/reply_draft") as info:
        panel.get_by_role("button", name="Draft a reply").click()
    reasons = json.loads(info.value.body())["review_reasons"]
    _assert_every_flag_marked(panel, reasons)
    marks = _marks(panel)
    both = [m for m in marks if m["where"] == "reply" and "commitment:refund" in m["codes"]]
    assert both and "commitment:amount" in both[0]["codes"]  # two flags on one sentence share one mark
    replaced = [m for m in marks if "violation:unapproved_link" in m["codes"]]
    assert replaced and replaced[0]["where"] == "list"  # not in the returned draft: quoted in the flag list
    assert any(m["where"] == "message" and "ombudsman" in m["text"] for m in marks)  # the real regulator flag
