"""Retention per store (config/data/retention.yaml): the ``expire_at`` a document carries for Firestore TTL."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field


class Rule(BaseModel):
    days: int = Field(ge=1, le=36500)
    from_: str = Field(alias="from", description="The document's time field the period starts at.")


class Retention(BaseModel):
    version: str
    firestore: dict[str, Rule]
    bigquery: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Retention:
        return cls.model_validate(yaml.safe_load(path.read_text("utf-8")))

    def expire_at(self, store: str, doc: dict[str, Any]) -> datetime | None:
        """When a document of ``store`` expires (None: no rule, or no time field to start from)."""
        rule = self.firestore.get(store)
        start = doc.get(rule.from_) if rule else None
        return start + timedelta(days=rule.days) if isinstance(start, datetime) and rule else None

    def stamp(self, store: str, doc: dict[str, Any]) -> dict[str, Any]:
        """``doc`` with its ``expire_at`` (unchanged if no rule applies)."""
        expire = self.expire_at(store, doc)
        return doc | {"expire_at": expire} if expire is not None else doc
