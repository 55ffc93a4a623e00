"""Browser tests read rendered state only through Playwright's expect(), which retries until it holds.

A one-shot read (``assert close.is_enabled()``) right after an action races the page's re-render;
that race once failed CI. This check keeps the rule for every file in tests/browser."""

from __future__ import annotations

import re
from pathlib import Path

BROWSER_TESTS = Path(__file__).resolve().parents[1] / "browser"
ONE_SHOT = re.compile(
    r"\bassert\b.*\.(is_enabled|is_disabled|is_visible|is_hidden|is_checked|is_editable|count|input_value|"
    r"inner_text|text_content|all_inner_texts|all_text_contents|get_attribute)\("
)


def one_shot_reads(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if ONE_SHOT.search(line)]


def test_the_check_finds_one_shot_reads() -> None:
    assert one_shot_reads('    assert close.is_enabled()\n    assert "x" in alert.inner_text()\n') == [
        "assert close.is_enabled()",
        'assert "x" in alert.inner_text()',
    ]
    assert one_shot_reads("    expect(close).to_be_enabled()\n    message = box.input_value()\n") == []


def test_browser_tests_assert_rendered_state_through_expect() -> None:
    files = sorted(BROWSER_TESTS.glob("test_*.py"))
    assert files, BROWSER_TESTS
    found = {f.name: one_shot_reads(f.read_text("utf-8")) for f in files}
    assert not any(found.values()), {k: v for k, v in found.items() if v}
