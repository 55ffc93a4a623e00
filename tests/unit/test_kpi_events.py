"""Every KPI event schema is in shared.capabilities.events, and the analytics read only those."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import shared
from shared.capabilities.events import KPI_EVENTS
from shared.platform.events import Event

ROOT = Path(__file__).resolve().parents[2]


def _all_event_classes() -> set[type[Event]]:
    for info in pkgutil.walk_packages(shared.__path__, "shared."):
        importlib.import_module(info.name)
    found: set[type[Event]] = set()
    todo = [Event]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("shared.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_the_one_module_lists_every_event_the_library_defines() -> None:
    assert _all_event_classes() == set(KPI_EVENTS)


def test_event_types_are_unique_and_fixed() -> None:
    types = [cls.model_fields["event_type"].default for cls in KPI_EVENTS]
    assert all(isinstance(t, str) and t for t in types[:-1])  # CommitmentEvent's type is set per event
    assert len(set(types)) == len(types)


def test_every_event_type_a_view_reads_is_published() -> None:
    published = {cls.model_fields["event_type"].default for cls in KPI_EVENTS}
    sql = "\n".join(p.read_text("utf-8") for p in (ROOT / "infra" / "bigquery").glob("*.sql"))
    read = set(re.findall(r"event_type\s*(?:=|IN\s*\()\s*'([a-z_]+\.[a-z_.]+)'", sql))
    unknown = {t for t in read if t not in published and not t.startswith("commitment.")}
    assert read and not unknown, unknown
