"""Claims attributed to a third party: a source that is neither us nor the customer
("according to Vodafone", "X has confirmed", "experts say")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.safety.output_policy.base import Check, Hit, PolicyContext, merged, phrases


class ThirdPartyCheck(Check):
    name = "third_party"

    def __init__(self, raw: Mapping[str, Any]) -> None:
        tp = raw["third_party"]["per_language"]
        self._tp_after = phrases(merged(tp, "source_after"), whole=True)
        self._tp_before = phrases(merged(tp, "source_before"), whole=True)
        self._tp_unsourced = phrases(merged(tp, "unsourced"), whole=True)
        self._tp_own = {w.lower() for w in merged(tp, "own")}

    def sentence(self, s: str, plain: str, ctx: PolicyContext) -> list[Hit]:
        if self._tp_unsourced and (m := self._tp_unsourced.search(plain)):
            return [Hit("third_party_claim", s, m.group(0).lower())]
        for pattern, after in ((self._tp_after, True), (self._tp_before, False)):
            for m in pattern.finditer(plain) if pattern else ():
                raw_source = (
                    re.findall(r"[\w']+", plain[m.end() :])[:3]
                    if after
                    else re.findall(r"[\w']+", re.split(r"[,;:]", plain[: m.start()])[-1])[-5:]
                )
                source = [w.lower() for w in raw_source]
                named = not after or any(w[:1].isupper() for w in raw_source)  # "according to Vodafone"
                if source and named and not set(source) & self._tp_own:
                    return [Hit("third_party_claim", s, m.group(0).lower())]
        return []
