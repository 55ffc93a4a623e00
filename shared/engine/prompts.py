"""Prompts are versioned data: ``prompts/<capability>/<version>/{system,user}.j2``.

The folder name is the version recorded in every output and event, so a change of
wording is a new folder, never an edit in place; ``texts.yaml`` beside the templates
holds the offline engine's phrasing for the same version, per language.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import yaml

from shared.platform.tokens import estimate_tokens

if TYPE_CHECKING:
    from shared.engine.experiments import Experiments


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt plus the structured (already pseudonymized) context behind it."""

    capability: str
    version: str
    system: str
    user: str
    context: dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    texts: dict[str, Any] = field(default_factory=dict, repr=False)
    customer_language: str | None = None
    experiment: str | None = None
    arm: str | None = None  # "control" | "candidate" inside an experiment (shared/experiments.py)

    @property
    def version_id(self) -> str:
        return f"{self.capability}/{self.version}"

    @property
    def estimated_tokens(self) -> int:
        return estimate_tokens(self.system) + estimate_tokens(self.user)

    def text(self, key: str, **values: Any) -> str:
        """Offline phrasing of this prompt version in the prompt's language (English fallback)."""
        return self.text_in(self.language, key, **values)

    def has_text(self, key: str) -> bool:
        """Whether this version has an offline phrasing for ``key`` (English is the reference table)."""
        return key in self.texts.get("en", {})

    def text_for(self, family: str, name: str, generic: str = "general", **values: Any) -> str:
        """``<family>_<name>``, or the generic entry of that family when a new taxonomy has no text for ``name``."""
        key = f"{family}_{name}"
        return self.text(key if self.has_text(key) else f"{family}_{generic}", **values)

    def text_in(self, language: str, key: str, **values: Any) -> str:
        table = self.texts.get(language) or self.texts["en"]
        template = table.get(key, self.texts["en"][key])
        return str(template).format(**values)


@dataclass(frozen=True)
class PromptTemplate:
    capability: str
    version: str
    system: jinja2.Template
    user: jinja2.Template
    texts: dict[str, Any]
    experiment: str | None = None
    arm: str | None = None

    def render(self, *, context: dict[str, Any], language: str, **variables: Any) -> Prompt:
        values = {"context": context, "language": language, **variables}
        return Prompt(
            capability=self.capability,
            version=self.version,
            system=self.system.render(values).strip(),
            user=self.user.render(values).strip(),
            context=context,
            language=language,
            texts=self.texts,
            customer_language=variables.get("customer_language"),
            experiment=self.experiment,
            arm=self.arm,
        )


def _tojson(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


class PromptLibrary:
    """Loads each (capability, version) once per instance."""

    def __init__(self, root: Path, active: dict[str, str], experiments: Experiments | None = None) -> None:
        self._root = root
        self._active = dict(active)
        self._experiments = experiments
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(root)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
        )
        self._env.filters["tojson"] = _tojson
        self._cache: dict[tuple[str, str], PromptTemplate] = {}
        self._lock = threading.Lock()

    def get(self, capability: str, version: str | None = None, *, unit: str | None = None) -> PromptTemplate:
        """The active version, or with ``unit`` (the contact id) the version of its experiment arm."""
        assigned = self._experiments.assign(capability, unit) if self._experiments and not version else None
        if assigned is not None:
            return replace(self.get(capability, assigned.version), experiment=assigned.experiment, arm=assigned.arm)
        version = version or self._active.get(capability)
        if not version:
            raise KeyError(f"no active prompt version configured for {capability!r}")
        key = (capability, version)
        with self._lock:
            if key not in self._cache:
                base = self._root / capability / version
                if not base.is_dir():
                    raise FileNotFoundError(f"prompt folder {base} does not exist")
                texts_file = base / "texts.yaml"
                texts = yaml.safe_load(texts_file.read_text("utf-8")) if texts_file.exists() else {}
                self._cache[key] = PromptTemplate(
                    capability=capability,
                    version=version,
                    system=self._env.get_template(f"{capability}/{version}/system.j2"),
                    user=self._env.get_template(f"{capability}/{version}/user.j2"),
                    texts=texts or {"en": {}},
                )
            return self._cache[key]
