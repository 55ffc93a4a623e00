"""Stored next-steps copies are minimized field by field; ids, dates and numbers stay as they were."""

from __future__ import annotations

from collections.abc import Sequence

from shared.safety.context_policy import minimize_next_steps
from shared.safety.pii.base import Pseudonymizer, Span


class KnownOnly:
    """No detected PII: only the customer's known identifiers are replaced."""

    def detect_many(self, texts: Sequence[str], *, ner: bool = True) -> list[list[Span]]:
        return [[] for _ in texts]


def test_every_free_text_is_pseudonymized_and_nothing_else_changes() -> None:
    pseudo = Pseudonymizer(KnownOnly())
    pseudo.add_known("Harriet Quill", "[CUSTOMER_NAME]")
    doc = {
        "suggestion_id": "s1",
        "issue_summary": "Harriet Quill was charged twice",
        "customer_facing_closing_text": "Dear Harriet Quill, we refund it.",
        "actions": [
            {
                "owner": "backoffice",
                "description": "Refund Harriet Quill",
                "due_by": "2026-11-26",
                "due_text": None,
                "evidence": "Harriet Quill: charged twice",
                "confidence": 0.9,
            }
        ],
        "kb_suggestions": [{"kb_id": "KB-1", "title": "Refunds", "why": "Harriet Quill asked for a refund"}],
    }
    kept = minimize_next_steps(doc, pseudo)
    assert "Harriet" not in str(kept)
    assert kept["actions"][0]["description"] == "Refund [CUSTOMER_NAME]"
    assert {k: v for k, v in kept["actions"][0].items() if k not in ("description", "evidence")} == {
        "owner": "backoffice",
        "due_by": "2026-11-26",
        "due_text": None,
        "confidence": 0.9,
    }
    assert (kept["suggestion_id"], kept["kb_suggestions"][0]["kb_id"]) == ("s1", "KB-1")
    assert doc["issue_summary"] == "Harriet Quill was charged twice"  # the caller's copy is untouched
