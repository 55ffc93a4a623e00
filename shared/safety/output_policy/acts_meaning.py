"""Allowed acts by meaning: each sentence of a draft compared with prototype sentences of the acts a
customer-service reply may perform and of the acts it must not, by static sentence embeddings.

The lexical check (``allowed_acts``) finds acts by their words; a re-worded act ("You clearly skipped
the manual") has none of them. Here a sentence is placed by its nearest prototypes (config/safety/acts.yaml,
per language, versioned): nearest to a disallowed act (``condescending``, ``rules_void``,
``tool_claim``, ``off_task``) above a similarity and a margin over every allowed act → that act's
reason code; long, far from every allowed act (greet, empathize, inform, approved action, ask for
information, instruct, close) AND unrelated to the grounding (customer message, snapshot facts,
articles, approved actions) → ``off_task``. Codes are the lexical check's, so the actions in
config/safety/output_policy.yaml apply unchanged and a sentence both checks catch is reported once.

Built once per instance; the prototype vectors are computed on first use per language (under a
lock) and never change; what a call needs comes in its :class:`PolicyContext`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml

from shared.safety.output_policy.base import WORD, Check, Hit, PolicyContext
from shared.safety.pii.base import PLACEHOLDER

_PARTS = re.compile(r"(?<=[.!?])\s+|\n+")
MAX_GROUNDING_PARTS = 60


class Embeds(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Prototypes:
    vectors: np.ndarray  # (n, d) unit rows
    acts: tuple[str, ...]  # act of each row
    disallowed: np.ndarray  # bool mask over rows


@dataclass(frozen=True)
class Placement:
    """Where one sentence falls: its nearest allowed and disallowed act, and relevance to the grounding."""

    sentence: str
    allowed_act: str
    allowed: float
    disallowed_act: str
    disallowed: float
    relevance: float | None
    words: int


class ActsByMeaning(Check):
    name = "acts_meaning"

    def __init__(self, raw: Mapping[str, Any], model: Embeds) -> None:
        t = raw["thresholds"]
        self.version = str(raw["version"])
        self.min_words = int(t["min_words"])
        self.all_languages = bool(t.get("all_languages", False))
        self.min_disallowed = float(t["disallowed"]["min_similarity"])
        self.margin = float(t["disallowed"]["margin"])
        self.relevance_words = int(t["relevance"]["min_words"])
        self.max_allowed = float(t["relevance"]["max_allowed_similarity"])
        self.min_relevance = float(t["relevance"]["min_similarity"])
        self.per_language: dict[str, dict[str, dict[str, list[str]]]] = {
            lang: {"allowed": dict(block["allowed"]), "disallowed": dict(block["disallowed"])}
            for lang, block in raw["per_language"].items()
        }
        self.model = model
        self._prototypes: dict[str, Prototypes] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: Path, model: Embeds) -> ActsByMeaning | None:
        """The check from config/safety/acts.yaml, or None when the file switches it off (``enabled: false``)."""
        raw = yaml.safe_load(path.read_text("utf-8"))
        return cls(raw, model) if raw.get("enabled", False) else None

    def prototypes(self, language: str) -> Prototypes | None:
        """The prototype vectors a reply in ``language`` is compared with (every language's when
        ``all_languages``: an injected German sentence in an English reply is still an act)."""
        if language not in self.per_language:
            return None
        key = "*" if self.all_languages else language
        if key not in self._prototypes:
            with self._lock:
                if key not in self._prototypes:
                    texts, acts, bad = [], [], []
                    for lang in self.per_language if self.all_languages else [language]:
                        for kind in ("allowed", "disallowed"):
                            for act, sentences in self.per_language[lang][kind].items():
                                texts += sentences
                                acts += [act] * len(sentences)
                                bad += [kind == "disallowed"] * len(sentences)
                    self._prototypes[key] = Prototypes(self.model.embed(texts), tuple(acts), np.array(bad))
        return self._prototypes[key]

    def place(self, sentences: list[str], ctx: PolicyContext) -> list[Placement]:
        """Every sentence with at least ``min_words`` words, placed among the prototypes (one embed call)."""
        protos = self.prototypes(ctx.language)
        if protos is None:
            return []
        plain = [PLACEHOLDER.sub(" ", s).strip() for s in sentences]
        keep = [(s, p, len(WORD.findall(p))) for s, p in zip(sentences, plain, strict=True)]
        keep = [k for k in keep if k[2] >= self.min_words]
        if not keep:
            return []
        parts = [p for p in _PARTS.split(ctx.grounding) if len(p.split()) >= 3][:MAX_GROUNDING_PARTS]
        vectors = self.model.embed([k[1] for k in keep] + parts)
        sent, ground = vectors[: len(keep)], vectors[len(keep) :]
        sims = sent @ protos.vectors.T
        rel = (sent @ ground.T).max(axis=1) if len(parts) else None
        out = []
        for i, (s, _, words) in enumerate(keep):
            row = sims[i]
            a = int(np.argmax(np.where(protos.disallowed, -2.0, row)))
            d = int(np.argmax(np.where(protos.disallowed, row, -2.0)))
            out.append(
                Placement(
                    sentence=s,
                    allowed_act=protos.acts[a],
                    allowed=float(row[a]),
                    disallowed_act=protos.acts[d],
                    disallowed=float(row[d]),
                    relevance=float(rel[i]) if rel is not None else None,
                    words=words,
                )
            )
        return out

    def judge(self, p: Placement) -> Hit | None:
        if p.disallowed >= self.min_disallowed and p.disallowed - p.allowed >= self.margin:
            return Hit(p.disallowed_act, p.sentence, f"meaning: {p.disallowed_act} {p.disallowed:.2f}")
        if (
            p.words >= self.relevance_words
            and p.allowed < self.max_allowed
            and p.relevance is not None
            and p.relevance < self.min_relevance
        ):
            detail = f"meaning: no allowed act ({p.allowed_act} {p.allowed:.2f}), relevance {p.relevance:.2f}"
            return Hit("off_task", p.sentence, detail)
        return None

    def reply(self, reply: str, text: str, ctx: PolicyContext, sentences: list[str]) -> list[Hit]:
        return [h for h in (self.judge(p) for p in self.place(sentences, ctx)) if h]
