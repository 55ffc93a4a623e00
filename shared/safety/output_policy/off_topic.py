"""Off-topic persuasion: text that sells or argues for something other than the customer's matter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.safety.output_policy.base import Check, Hit, PolicyContext, merged, phrases


class OffTopicCheck(Check):
    name = "off_topic"

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._off_topic = phrases(merged(raw["off_topic"]["per_language"]))

    def sentence(self, s: str, plain: str, ctx: PolicyContext) -> list[Hit]:
        if self._off_topic and (m := self._off_topic.search(plain)):
            return [Hit("off_topic", s, m.group(0).lower())]
        return []
