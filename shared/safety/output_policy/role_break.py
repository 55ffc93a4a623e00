"""Role breaks: the assistant stepping out of its role ("developer mode", "as an AI", "ignore
previous"), or announcing that its own rules changed ("my restrictions are lifted")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.safety.output_policy.base import Check, Hit, PolicyContext, merged, phrases

_SECOND_PERSON = {"your", "ihre", "ihren", "ihrer", "ihres", "ihrem", "deine", "deinen", "deiner", "dein"}


class RoleBreakCheck(Check):
    name = "role_break"

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._role = phrases(merged(raw["role_break"]["per_language"]), whole=True)
        rc = raw["rule_change"]["per_language"]
        self._rules = phrases(merged(rc, "rules"))
        self._changes = phrases(merged(rc, "changes"))

    def sentence(self, s: str, plain: str, ctx: PolicyContext) -> list[Hit]:
        hits = []
        if self._role and (m := self._role.search(plain)):
            hits.append(Hit("role_break", s, m.group(0).lower()))
        rule, change = (
            (self._rules.search(plain), self._changes.search(plain)) if self._rules and self._changes else (None, None)
        )
        if rule and change and not set(re.findall(r"\w+", plain.lower())) & _SECOND_PERSON:  # "your line": theirs
            hits.append(Hit("role_break", s, f"{rule.group(0).lower()} … {change.group(0).lower()}"))
        return hits
