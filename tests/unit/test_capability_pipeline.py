"""Every suggesting capability composes the shared stages of ``shared.capabilities._pipeline``.

What differs between capabilities is their context and their rules, never how they ask the model
or record a suggestion: a capability that calls the engine or writes the suggestion store itself
would skip the placeholder restore, the experiment arm or the ``suggestion.generated`` event.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CAPABILITIES = Path(__file__).resolve().parents[2] / "shared" / "capabilities"
SUGGESTING = ["context_summary", "reply_draft", "next_best_action", "next_steps", "closing_message"]


def _calls(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}


@pytest.mark.parametrize("name", SUGGESTING)
def test_a_suggesting_capability_asks_and_records_through_the_pipeline(name: str) -> None:
    calls = _calls(CAPABILITIES / f"{name}.py")
    assert "suggestions.template_for" in calls
    assert "suggestions.record" in calls
    assert "suggestions.ask" in calls
    assert not {c for c in calls if c.endswith("engine.generate") or c.endswith("prompts.get")}, name


def test_only_the_pipeline_calls_the_engine_or_writes_the_suggestion_store() -> None:
    readers = {"feedback.py"}  # reads the stored suggestion the feedback is about; writes only feedback
    for path in CAPABILITIES.glob("*.py"):
        if path.name == "_pipeline.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "rt.engine.generate(" not in text, path.name
        assert path.name in readers or "suggestions_collection" not in text, path.name
