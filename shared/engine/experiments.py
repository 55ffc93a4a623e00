"""Prompt experiments: a configured split of traffic between two prompt versions of a capability.

``config/engine/experiments.yaml`` names, per capability, a control and a candidate version and the
candidate's share of contacts. Assignment is a pure function of the experiment name and the
contact id (SHA-256, not Python's salted ``hash``), so every instance, every retry and every
capability call about the same contact lands in the same arm, and an analyst can recompute
it. The arm and the prompt version are recorded on every suggestion (response, Firestore,
``suggestion.generated``); feedback joins them through the suggestion id (see
``infra/bigquery/17_kpi_experiments.sql``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

Arm = Literal["control", "candidate"]


class Experiment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Salt of the assignment hash.")
    capability: str
    control: str = Field(pattern=r"^v\d+$")
    candidate: str = Field(pattern=r"^v\d+$")
    share: float = Field(ge=0.0, le=1.0, description="Share of contacts on the candidate version.")
    hypothesis: str = ""

    @model_validator(mode="after")
    def _distinct(self) -> Experiment:
        if self.control == self.candidate:
            raise ValueError(f"experiment {self.name}: control and candidate are both {self.control}")
        return self

    def bucket(self, unit: str) -> float:
        """Where a contact falls in [0, 1): stable across processes, releases and languages."""
        digest = hashlib.sha256(f"{self.name}:{unit}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def arm(self, unit: str) -> Arm:
        return "candidate" if self.bucket(unit) < self.share else "control"

    def version(self, arm: Arm) -> str:
        return self.candidate if arm == "candidate" else self.control


class ExperimentsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    experiments: list[Experiment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_per_capability(self) -> ExperimentsFile:
        caps = [e.capability for e in self.experiments]
        names = [e.name for e in self.experiments]
        if len(set(caps)) != len(caps) or len(set(names)) != len(names):
            raise ValueError("one running experiment per capability, each with a unique name")
        return self


@dataclass(frozen=True)
class Assignment:
    experiment: str
    arm: Arm
    version: str


class Experiments:
    """The running experiments by capability; loaded once per instance."""

    def __init__(self, experiments: list[Experiment]) -> None:
        self._by_capability = {e.capability: e for e in experiments}

    @classmethod
    def load(cls, path: Path, prompts_dir: Path | None = None) -> Experiments:
        if not path.exists():
            return cls([])
        parsed = ExperimentsFile.model_validate(yaml.safe_load(path.read_text("utf-8")) or {})
        if prompts_dir is not None:
            for e in parsed.experiments:
                for version in (e.control, e.candidate):
                    if not (prompts_dir / e.capability / version).is_dir():
                        raise FileNotFoundError(f"experiment {e.name}: no prompt folder {e.capability}/{version}")
        return cls(parsed.experiments)

    def get(self, capability: str) -> Experiment | None:
        return self._by_capability.get(capability)

    def assign(self, capability: str, unit: str | None) -> Assignment | None:
        """The arm of a contact, or None when the capability runs no experiment or no unit is known."""
        experiment = self._by_capability.get(capability)
        if experiment is None or not unit:
            return None
        arm = experiment.arm(unit)
        return Assignment(experiment.name, arm, experiment.version(arm))

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_capability.values())


def contact_id(request: Any) -> str:
    """The unit every capability assigns arms by: the ticket id, else the customer id, so all
    suggestions of one contact share an arm."""
    return getattr(request, "ticket_id", None) or request.customer_id
