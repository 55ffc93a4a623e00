"""Resolver groups and their internal queue codes (config/decisions/queues.yaml).

Labels and aliases in any language map to one group; an unknown label goes to the triage
queue and is flagged, so routing never silently guesses.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, Field


class Group(BaseModel):
    label: str
    code: str
    sla_business_days: int | None = None
    intents: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)


class FirstContactPattern(BaseModel):
    intent: str
    cues: list[str]
    reason: str


class Route(BaseModel):
    resolver_group: str
    queue_code: str
    sla_business_days: int | None
    flagged: bool = Field(description="The label was unknown; routed to triage.")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s-]", " ", text.lower())).strip()


class QueueCatalogue(BaseModel):
    version: str
    triage: Group
    groups: list[Group]
    first_contact_patterns: list[FirstContactPattern] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> QueueCatalogue:
        return cls.model_validate(yaml.safe_load(path.read_text("utf-8")))

    def route(self, label: str | None) -> Route:
        key = _norm(label or "")
        for g in self.groups:
            if key and key in {_norm(g.label), *(_norm(a) for a in g.aliases)}:
                return Route(
                    resolver_group=g.label, queue_code=g.code, sla_business_days=g.sla_business_days, flagged=False
                )
        return Route(
            resolver_group=self.triage.label, queue_code=self.triage.code, sla_business_days=None, flagged=True
        )

    def for_intent(self, intent: str) -> Route:
        for g in self.groups:
            if intent in g.intents:
                return self.route(g.label)
        return self.route(None)

    def first_contact(self, intent: str, text: str) -> FirstContactPattern | None:
        low = text.lower()
        for p in self.first_contact_patterns:
            if p.intent == intent and any(c in low for c in p.cues):
                return p
        return None

    @property
    def labels(self) -> list[str]:
        return [g.label for g in self.groups]
