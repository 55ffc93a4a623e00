"""One source of configuration: Runtime(settings) opens every config file from CX_CONFIG_DIR.

The whole config directory is copied elsewhere with one changed value per file; every consumer the
runtime builds must show the changed value, so none of them still reads the repository's config/.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.runtime import Runtime
from shared.settings import ROOT, load_settings

CONFIG = ROOT / "config"


def _mentions(obj: Any, needle: str, depth: int = 0, seen: set[int] | None = None) -> bool:
    """Whether ``needle`` is reachable from ``obj`` (attributes, pydantic fields, mappings, sequences)."""
    seen = set() if seen is None else seen
    if depth > 6 or id(obj) in seen:
        return False
    seen.add(id(obj))
    if isinstance(obj, str):
        return needle in obj
    if isinstance(obj, dict):
        return any(
            _mentions(k, needle, depth + 1, seen) or _mentions(v, needle, depth + 1, seen) for k, v in obj.items()
        )
    if isinstance(obj, list | tuple | set | frozenset):
        return any(_mentions(v, needle, depth + 1, seen) for v in obj)
    if isinstance(obj, int | float | bool | bytes | Path) or obj is None:
        return False
    fields = getattr(obj, "__dict__", None)
    if fields is None and hasattr(obj, "__slots__"):
        fields = {s: getattr(obj, s, None) for s in obj.__slots__}
    return bool(fields) and any(_mentions(v, needle, depth + 1, seen) for v in fields.values())


# file (relative to config/) -> the runtime attribute that reads it
VERSIONED: dict[str, str] = {
    "safety/context_policy.yaml": "context_policy",
    "language/due_phrases.yaml": "due_dates",
    "language/extraction.yaml": "extractor",
    "capabilities/feedback.yaml": "feedback_buckets",
    "safety/guardrails.yaml": "guardrails",
    "language/intent_examples.yaml": "reply_intents",
    "language/intents.yaml": "intents",
    "decisions/nba_rules.yaml": "nba_rules",
    "safety/output_policy.yaml": "output_policy",
    "safety/pii.yaml": "pii_local",
    "decisions/queues.yaml": "queues",
    "decisions/routing.yaml": "router",
    "language/sentiment_lexicon.yaml": "sentiment",
    "language/lexicon/en.yaml": "lexicons",
    "language/lexicon/de.yaml": "lexicons",
    "engine/models.yaml": "model_profiles",
}
# files without a version the consumer keeps: one changed text value each
EDITED: dict[str, tuple[tuple[str, ...], str]] = {
    "engine/policy_snippets.yaml": (("policies", "billing", "en"), "policy_snippets"),
    "engine/experiments.yaml": (("experiments", 0, "hypothesis"), "prompts"),
    "engine/pricing.yaml": (("as_of",), "model_pricing"),
}


def _marker(name: str) -> str:
    return "relocated-" + name.replace("/", "-").removesuffix(".yaml")


@pytest.fixture(scope="module")
def relocated(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    config = tmp_path_factory.mktemp("relocated") / "config"
    shutil.copytree(CONFIG, config)
    for name in VERSIONED:
        path = config / name
        raw = yaml.safe_load(path.read_text("utf-8"))
        assert "version" in raw, f"{name} has no version to change"
        raw["version"] = _marker(name)
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "utf-8")
    for name, (keys, _) in EDITED.items():
        path = config / name
        raw = yaml.safe_load(path.read_text("utf-8"))
        node = raw
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = f"{node[keys[-1]]} {_marker(name)}"
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "utf-8")
    return Runtime(load_settings(model_backend="offline", config_dir=config))


@pytest.mark.parametrize("name", sorted(VERSIONED) + sorted(EDITED))
def test_every_consumer_reads_the_relocated_file(relocated: Runtime, name: str) -> None:
    attr = VERSIONED.get(name) or EDITED[name][1]
    if attr in ("model_profiles", "model_pricing"):  # what the Vertex engine loads from its settings
        from shared.engine.vertex import load_pricing, load_profiles

        consumer = (load_profiles if attr == "model_profiles" else load_pricing)(relocated.settings)
    else:
        consumer = getattr(relocated, attr)
    if attr == "router":
        consumer = consumer.config
    assert _mentions(consumer, _marker(name)), f"Runtime.{attr} did not read the relocated {name}"


def test_the_repository_config_is_not_what_the_relocated_runtime_read(relocated: Runtime) -> None:
    default = Runtime(load_settings(model_backend="offline", config_dir=CONFIG))
    assert not _mentions(default.queues, _marker("decisions/queues.yaml"))
    assert relocated.settings.config_dir != CONFIG
