"""Model profiles and prices as data: which model a capability calls, how it thinks, what it costs.

``config/engine/models.yaml`` names per capability the model, the thinking setting and the output-token
budget, per model family how thinking is controlled (Gemini 3.x: ``thinking_level``; Gemini 2.5:
``thinking_budget``; never both), and per model its published retirement date and locations.
``config/engine/pricing.yaml`` prices every model per 1M tokens; thinking tokens are billed as output.
Both are checked at start (:func:`problems`); a profile the code would send as a 400, or a model
that Google has retired, fails the instance start instead of degrading every request.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ThinkingControl = Literal["thinking_level", "thinking_budget"]
Level = Literal["minimal", "low", "medium", "high"]


class Thinking(BaseModel):
    """Exactly one of a level (Gemini 3.x) or a token budget (Gemini 2.5)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: Level | None = None
    budget: int | None = Field(default=None, ge=-1, le=32768)

    @model_validator(mode="after")
    def _one_of(self) -> Thinking:
        if (self.level is None) == (self.budget is None):
            raise ValueError("set exactly one of 'level' (Gemini 3.x) or 'budget' (Gemini 2.5), never both")
        return self

    @property
    def control(self) -> ThinkingControl:
        return "thinking_level" if self.level is not None else "thinking_budget"


class Family(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prefixes: list[str] = Field(min_length=1)
    thinking_control: ThinkingControl
    levels: list[Level] = Field(default_factory=list)
    default_thinking: Thinking


class ModelInfo(BaseModel):
    """One row of Google's lifecycle table, as this deployment uses it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str
    released: date
    retires: date
    locations: list[str] = Field(min_length=1)
    regional: bool = False
    default_level: Level | None = None

    def served_in(self, location: str) -> bool:
        return location in self.locations or (self.regional and location not in ("global", "us", "eu"))


class CapabilityProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    thinking: Thinking
    answer_tokens: int = Field(ge=64, le=16384)
    thinking_headroom: int = Field(ge=0, le=32768)

    @property
    def max_output_tokens(self) -> int:
        """What the request asks for: Gemini counts thinking tokens against max_output_tokens."""
        return self.answer_tokens + self.thinking_headroom


class ModelProfiles(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    families: dict[str, Family]
    models: dict[str, ModelInfo]
    capabilities: dict[str, CapabilityProfile]

    @classmethod
    def load(cls, path: Path) -> ModelProfiles:
        return cls.model_validate(yaml.safe_load(path.read_text("utf-8")))

    def family_of(self, model: str) -> tuple[str, Family] | None:
        for name, family in self.families.items():
            if any(model.startswith(p) for p in family.prefixes):
                return name, family
        return None

    def profile(self, capability: str, override_model: str | None = None) -> CapabilityProfile:
        """The capability's profile; an override model keeps the thinking setting only if its family takes it."""
        try:
            base = self.capabilities[capability]
        except KeyError:
            raise LookupError(f"config/engine/models.yaml: no profile for capability {capability!r}") from None
        if not override_model or override_model == base.model:
            return base
        found = self.family_of(override_model)
        if found is None:
            raise LookupError(f"model {override_model!r} matches no family in config/engine/models.yaml")
        family = found[1]
        thinking = base.thinking if base.thinking.control == family.thinking_control else family.default_thinking
        return base.model_copy(update={"model": override_model, "thinking": thinking})

    def configured_models(self, override_model: str | None = None) -> dict[str, list[str]]:
        """Model id -> capabilities that call it."""
        out: dict[str, list[str]] = {}
        for capability in self.capabilities:
            out.setdefault(self.profile(capability, override_model).model, []).append(capability)
        return out

    def problems(self, location: str, today: date, override_model: str | None = None) -> list[str]:
        """Everything in the profiles that a request would be refused for (400/404), as readable lines."""
        errors: list[str] = []
        for name, info in self.models.items():
            if info.family not in self.families:
                errors.append(f"models.{name}.family: unknown family '{info.family}'")
        for capability, prof in self.capabilities.items():
            key = f"capabilities.{capability}"
            try:
                prof = self.profile(capability, override_model)
            except LookupError as exc:
                errors.append(f"{key}: {exc}")
                continue
            model_info = self.models.get(prof.model)
            src = "CX_GEMINI_MODEL" if override_model and prof.model == override_model else f"{key}.model"
            if model_info is None:
                errors.append(
                    f"{src}: model '{prof.model}' is not in the lifecycle table (models:); "
                    "a misspelt or unknown model ID answers 404"
                )
                continue
            if model_info.retires <= today:
                errors.append(
                    f"{src}: model '{prof.model}' retired on {model_info.retires.isoformat()} "
                    "(requests answer 404); choose a current model"
                )
            family = self.families.get(model_info.family)
            if family is not None:
                if prof.thinking.control != family.thinking_control:
                    errors.append(
                        f"{key}.thinking: family '{model_info.family}' takes {family.thinking_control}, "
                        f"not {prof.thinking.control}"
                    )
                if prof.thinking.level and family.levels and prof.thinking.level not in family.levels:
                    errors.append(f"{key}.thinking.level: '{prof.thinking.level}' is not one of {family.levels}")
            if not model_info.served_in(location):
                errors.append(
                    f"{key}.model: '{prof.model}' is not served in location '{location}' "
                    f"(CX_GEMINI_LOCATION); it is in {model_info.locations}"
                )
            if prof.thinking_headroom == 0 and prof.thinking.budget != 0:
                errors.append(
                    f"{key}.thinking_headroom: 0 leaves no room for thinking; the answer would end with MAX_TOKENS"
                )
        return list(dict.fromkeys(errors))

    def retiring_within(self, days: int, today: date, override_model: str | None = None) -> dict[str, date]:
        """Configured models whose published retirement date is within ``days`` days."""
        return {
            m: self.models[m].retires
            for m in self.configured_models(override_model)
            if m in self.models and 0 < (self.models[m].retires - today).days <= days
        }


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float = Field(ge=0)


class Pricing(BaseModel):
    """USD per 1M tokens; thinking tokens at the output price, cached prompt tokens at the cached price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: str
    currency: Literal["USD"] = "USD"
    models: dict[str, Price]

    @classmethod
    def load(cls, path: Path) -> Pricing:
        return cls.model_validate(yaml.safe_load(path.read_text("utf-8")))

    def price_of(self, model: str) -> Price | None:
        """Exact id, else the longest listed id the response's model version starts with (``-001`` suffixes)."""
        if model in self.models:
            return self.models[model]
        matches = [m for m in self.models if model.startswith(m)]
        return self.models[max(matches, key=len)] if matches else None

    def cost(
        self, model: str, *, input_tokens: int, output_tokens: int, thinking_tokens: int = 0, cached_tokens: int = 0
    ) -> float | None:
        price = self.price_of(model)
        if price is None:
            return None
        cached = min(cached_tokens, input_tokens)
        usd = (
            (input_tokens - cached) * price.input
            + cached * price.cached_input
            + (output_tokens + thinking_tokens) * price.output
        ) / 1e6
        return round(usd, 8)


def load_checked(
    config_dir: Path, models_file: str = "engine/models.yaml"
) -> tuple[ModelProfiles | None, Pricing | None, list[str]]:
    """Both files parsed, or the reasons they cannot be (file and key named)."""
    errors: list[str] = []
    profiles = pricing = None
    for path, kind in ((config_dir / models_file, ModelProfiles), (config_dir / "engine/pricing.yaml", Pricing)):
        if not path.is_file():
            errors.append(f"{path}: file is missing")
            continue
        try:
            loaded = kind.load(path)
        except yaml.YAMLError as exc:
            errors.append(f"{path}: not valid YAML ({exc.__class__.__name__})")
            continue
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "(file)"
                errors.append(f"{path}: {where}: {err['msg']}")
            continue
        if isinstance(loaded, ModelProfiles):
            profiles = loaded
        else:
            pricing = loaded
    return profiles, pricing, errors
