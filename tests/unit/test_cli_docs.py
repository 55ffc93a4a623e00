"""Every `cx` command the README and docs name exists: the docs are the tools' manual."""

from __future__ import annotations

import re
from pathlib import Path

from scripts.cli import GROUPS, TOP

ROOT = Path(__file__).resolve().parents[2]
# `cx group cmd` in inline code, or at the start of a line in a code block
COMMAND = re.compile(r"(?:`|^\s*)cx ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", re.M)


def _known() -> tuple[set[str], set[tuple[str, str]]]:
    top = {t.name for t in TOP}
    pairs = {(group, t.name) for group, (_, tools) in GROUPS.items() for t in tools}
    return top, pairs


def test_every_cx_command_in_the_docs_exists() -> None:
    top, pairs = _known()
    seen, unknown = 0, []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for match in COMMAND.finditer(path.read_text("utf-8")):
            group, command = match.group(1), match.group(2)
            seen += 1
            if group in top:
                continue
            if group not in GROUPS or (command is not None and (group, command) not in pairs):
                unknown.append(f"{path.name}: cx {group} {command or ''}".strip())
    assert seen > 50 and not unknown, unknown
