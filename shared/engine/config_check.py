"""Config and prompt-text files checked against each other, once, at start.

A change the code cannot serve (a missing phrase key, a policy category the code does
not know, an unreadable YAML file) fails when the instance starts, with a message that
names the file and the key, instead of a 500 on the first request that needs it.
Intents are open-ended: an intent without its own reply text is served by the generic
template (``body_general_*``), so it is reported as a note, never an error.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from shared.settings import Settings

POLICY_CATEGORIES = {
    "unapproved_link",
    "link_shortener",
    "open_redirect",
    "link_userinfo",
    "lookalike_domain",
    "unapproved_contact",
    "credential_request",
    "discount_above_cap",
    "unapproved_offer",
    "wrong_language",
    "mixed_language",
    "encoded_text",
    "non_natural_text",
    "code_or_markup",
    "role_break",
    "action_claim",
    "third_party_claim",
    "off_topic",
    "secret",
    "tool_claim",
    "rules_void",
    "condescending",
    "unapproved_act",
    "off_task",
    "symbols_only",
    "machine_blob",
    "hidden_link",
}
POLICY_SECTIONS = (
    "version",
    "actions",
    "links",
    "contacts",
    "credentials",
    "offers",
    "language",
    "encoded",
    "role_break",
    "action_claims",
    "third_party",
    "off_topic",
    "allowed_acts",
)
STYLES = ("formal", "informal")
SENTIMENTS = ("negative", "neutral", "positive")
# Keys the offline reply engine needs for ANY request, in the English (fallback) table.
REPLY_KEYS = (
    *(f"greeting_{s}" for s in STYLES),
    *(f"greeting_{s}_anonymous" for s in STYLES),
    *(f"opening_{m}_{s}" for m in SENTIMENTS for s in STYLES),
    *(f"body_general_{s}" for s in STYLES),
    *(f"history_ticket_{s}" for s in STYLES),
    *(f"loyalty_{s}" for s in STYLES),
    *(f"closing_{s}" for s in STYLES),
    "safe_reply",
    "summary_general",
    *(f"summary_sentiment_{m}" for m in SENTIMENTS),
    "q_unclear",
    "q_billing",
    "q_cancellation",
    "action_reason",
    "prefers_formal",
    "prefers_informal",
    "informal_markers",
)


# Offline phrasings looked up per label with a generic fallback (Prompt.text_for): the
# generic entry must exist in every version's English table, whatever the taxonomy.
GENERIC_KEYS = {
    "next_best_action": ("goal_general", "intent_general"),
    "next_steps": ("summary_general",),
}

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConfigError(RuntimeError):
    """Configuration files that the code cannot serve; the message names file and key."""


_lock = threading.Lock()
_checked: dict[tuple[Any, ...], list[str]] = {}


def _load(path: Path, problems: list[str]) -> Any:
    if not path.is_file():
        problems.append(f"{path}: file is missing")
        return None
    try:
        return yaml.load(path.read_text("utf-8"), Loader=_LOADER)  # noqa: S506 - the C build of SafeLoader
    except yaml.YAMLError as exc:
        problems.append(f"{path}: not valid YAML ({exc.__class__.__name__}: {str(exc).splitlines()[0]})")
        return None


def _intents(config_dir: Path) -> set[str]:
    labels: set[str] = set()
    for name, key in (("language/intent_examples.yaml", "examples"), ("language/intents.yaml", "intents")):
        path = config_dir / name
        try:
            raw = yaml.load(path.read_text("utf-8"), Loader=_LOADER) if path.is_file() else None  # noqa: S506
        except yaml.YAMLError:
            continue
        if isinstance(raw, dict) and isinstance(raw.get(key), dict):
            labels.update(str(k) for k in raw[key])
    return labels


def check(settings: Settings) -> tuple[list[str], list[str]]:
    """(errors, notes) for the configured config and prompt directories."""
    errors: list[str] = []
    notes: list[str] = []
    cfg, prompts = settings.config_dir, settings.prompts_dir

    policy = _load(cfg / "safety/output_policy.yaml", errors)
    if isinstance(policy, dict):
        for section in POLICY_SECTIONS:
            if section not in policy:
                errors.append(f"{cfg / 'safety/output_policy.yaml'}: missing key '{section}'")
        for category, action in (policy.get("actions") or {}).items():
            if category not in POLICY_CATEGORIES:
                errors.append(f"{cfg / 'safety/output_policy.yaml'}: actions: unknown category '{category}'")
            if action not in ("replace", "review"):
                errors.append(
                    f"{cfg / 'safety/output_policy.yaml'}: actions.{category}: '{action}' is not replace/review"
                )
        langs = set((policy.get("credentials") or {}).get("per_language", {}))
        for section in ("offers", "role_break", "action_claims", "third_party", "off_topic"):
            have = set((policy.get(section) or {}).get("per_language", {}))
            for lang in sorted(langs - have):
                errors.append(f"{cfg / 'safety/output_policy.yaml'}: {section}.per_language: missing key '{lang}'")

    guard = _load(cfg / "safety/guardrails.yaml", errors)
    if isinstance(guard, dict):
        for key in ("version", "never_auto_topics", "commitments", "amount_pattern"):
            if key not in guard:
                errors.append(f"{cfg / 'safety/guardrails.yaml'}: missing key '{key}'")

    snippets = _load(cfg / "engine/policy_snippets.yaml", errors)
    if isinstance(snippets, dict) and not isinstance(snippets.get("policies"), dict):
        errors.append(f"{cfg / 'engine/policy_snippets.yaml'}: missing key 'policies'")

    version = settings.prompt_versions.get("reply_draft")
    if not version:
        errors.append("CX_PROMPT_VERSIONS: missing key 'reply_draft'")
    else:
        base = prompts / "reply_draft" / version
        for name in ("system.j2", "user.j2"):
            if not (base / name).is_file():
                errors.append(f"{base / name}: file is missing")
        texts = _load(base / "texts.yaml", errors)
        if isinstance(texts, dict):
            en = texts.get("en")
            if not isinstance(en, dict):
                errors.append(f"{base / 'texts.yaml'}: missing key 'en' (the fallback language)")
            else:
                for key in REPLY_KEYS:
                    if key not in en:
                        errors.append(f"{base / 'texts.yaml'}: en: missing key '{key}'")
                for intent in sorted(_intents(cfg)):
                    missing = [k for s in STYLES if (k := f"body_{intent}_{s}") not in en]
                    if missing:
                        notes.append(
                            f"{base / 'texts.yaml'}: en: no '{missing[0]}': intent '{intent}' is answered "
                            "with the generic template body_general_*"
                        )
            for lang, table in texts.items():
                if not isinstance(table, dict):
                    errors.append(f"{base / 'texts.yaml'}: '{lang}' is not a table of phrases")
    _check_prompt_versions(settings, errors)
    _check_models(settings, errors)
    return errors, notes


def _check_models(settings: Settings, errors: list[str]) -> None:
    """Model profiles a request would be refused for (unknown or retired model, both thinking controls,
    a location the model is not served in), and models without a price."""
    from datetime import UTC, datetime

    from shared.engine.profiles import load_checked

    cfg = settings.config_dir
    profiles, pricing, problems = load_checked(cfg, settings.models_file)
    errors.extend(problems)
    if profiles is None:
        return
    models_path = cfg / settings.models_file
    today = datetime.now(UTC).date()
    errors.extend(
        f"{models_path}: {p}" for p in profiles.problems(settings.gemini_location, today, settings.gemini_model)
    )
    for capability in sorted(p.name for p in settings.prompts_dir.iterdir() if p.is_dir()):
        if capability not in profiles.capabilities:
            errors.append(f"{models_path}: capabilities: missing key '{capability}' (prompts/{capability} exists)")
    if pricing is not None:
        for model in sorted(
            profiles.configured_models(settings.gemini_model) if not _unknown_override(profiles, settings) else {}
        ):
            if pricing.price_of(model) is None:
                errors.append(
                    f"{cfg / 'engine/pricing.yaml'}: models: missing key '{model}' (configured in "
                    f"{settings.models_file}; cost would be unknown)"
                )


def _unknown_override(profiles: Any, settings: Settings) -> bool:
    return bool(settings.gemini_model) and profiles.family_of(settings.gemini_model) is None


def _versions_in_use(settings: Settings) -> set[tuple[str, str]]:
    """Active versions plus both arms of every configured experiment."""
    used = set(settings.prompt_versions.items())
    experiments = (
        _load(settings.config_dir / "engine/experiments.yaml", [])
        if (settings.config_dir / "engine/experiments.yaml").is_file()
        else None
    )
    for item in (experiments or {}).get("experiments") or []:
        if isinstance(item, dict) and item.get("capability"):
            used.update((str(item["capability"]), str(item.get(arm))) for arm in ("control", "candidate"))
    return used


def _check_prompt_versions(settings: Settings, errors: list[str]) -> None:
    """Every version a request can be served with has its templates and an English phrase table."""
    for capability, version in sorted(_versions_in_use(settings)):
        base = settings.prompts_dir / capability / version
        if not base.is_dir():
            errors.append(f"{base}: prompt version folder is missing (capability '{capability}')")
            continue
        for name in ("system.j2", "user.j2"):
            if not (base / name).is_file():
                errors.append(f"{base / name}: file is missing")
        if capability == "reply_draft":
            continue  # checked key by key above
        texts = _load(base / "texts.yaml", errors) if (base / "texts.yaml").is_file() else {}
        en = texts.get("en") if isinstance(texts, dict) else None
        if texts and not isinstance(en, dict):
            errors.append(f"{base / 'texts.yaml'}: missing key 'en' (the fallback language)")
            continue
        for key in GENERIC_KEYS.get(capability, ()):
            if key not in (en or {}):
                errors.append(
                    f"{base / 'texts.yaml'}: en: missing key '{key}' (the fallback for labels without their own text)"
                )


def validate(settings: Settings) -> list[str]:
    """Raise :class:`ConfigError` listing every problem; return the notes. Cached per directory set."""
    key = (
        str(settings.config_dir),
        str(settings.prompts_dir),
        tuple(sorted(settings.prompt_versions.items())),
        settings.models_file,
        settings.gemini_location,
        settings.gemini_model or "",
    )
    with _lock:
        if key in _checked:
            return _checked[key]
    errors, notes = check(settings)
    if errors:
        _log_model_faults(settings, errors)
        raise ConfigError("configuration the code cannot serve:\n" + "\n".join(f"  {e}" for e in errors))
    with _lock:
        _checked[key] = notes
    return notes


def _log_model_faults(settings: Settings, errors: list[str]) -> None:
    """A model the start refuses is also a ``model.config_fault`` ERROR, the event the alert policy pages on."""
    import re

    from shared.platform import logs

    models_path = str(settings.config_dir / settings.models_file)
    for line in errors:
        if not line.startswith(models_path):
            continue
        found = re.search(r"model '([^']+)'", line)
        logs.get_logger("model").error(
            "Gemini model configuration refused at start",
            extra={
                "fields": {
                    "event": "model.config_fault",
                    "reason": "invalid_model_config",
                    "model": found.group(1) if found else None,
                    "detail": line,
                    "at": "start",
                }
            },
        )
