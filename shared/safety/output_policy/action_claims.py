"""First-person claims of actions an assistant cannot take ("I ran the command", "we have
reset your router"), and running something named as code ("the script … executed")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.safety.output_policy.base import (
    Check,
    Hit,
    PolicyContext,
    alt,
    clause_end,
    clause_words,
    merged,
    phrases,
)


class ActionClaimCheck(Check):
    name = "action_claims"

    def __init__(self, raw: Mapping[str, Any]) -> None:
        ac = raw["action_claims"]["per_language"]
        self._claim = re.compile(
            r"(?<!\w)(?:"
            + alt(merged(ac, "actors"))
            + r")(?!\w)[^,;:.!?]{0,60}?(?<!\w)(?:"
            + alt(merged(ac, "actions"))
            + r")(?!\w)",
            re.IGNORECASE,
        )
        self._clauses = clause_words(raw)
        self._internal = phrases(raw["action_claims"].get("internal_recipients", []), whole=True)
        self._run_objects = phrases(raw["action_claims"].get("run_objects", []), whole=True)
        self._run_verbs = phrases(raw["action_claims"].get("run_verbs", []), whole=True)

    def sentence(self, s: str, plain: str, ctx: PolicyContext) -> list[Hit]:
        low = plain.lower()
        for m in self._claim.finditer(low):
            # the actor is the subject of the action: no subordinate clause between them, and the
            # action does not pass the matter on inside the company
            if self._clauses and self._clauses.search(m.group(0)):
                continue
            end = clause_end(low, m.end(), self._clauses)
            if self._internal and self._internal.search(low, m.start(), end):
                continue
            return [Hit("action_claim", s, m.group(0))]
        if (
            self._run_objects
            and self._run_verbs
            and (o := self._run_objects.search(plain))
            and (v := self._run_verbs.search(plain))
        ):
            return [Hit("action_claim", s, f"{o.group(0).lower()} … {v.group(0).lower()}")]
        return []
