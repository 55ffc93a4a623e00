"""Resolver-group routing learnt from the company's own tickets, with calibrated confidence.

Training (``cx router train``, :mod:`scripts.router_training`; never deployed) fits a scikit-learn pipeline: TF-IDF over
word 1–2-grams and character 2–5-grams, a linear SVM, and sigmoid calibration so that the
probabilities mean something. Below the abstain threshold the ticket goes to triage,
flagged, with the top candidates and their probabilities for the agent's dropdown.

The artefact (``router.npz`` arrays + ``router.json`` metadata) holds only what inference
needs: vocabularies, idf weights, SVM coefficients and the calibration. Functions score
with numpy alone (:class:`LinearTextModel`, checked against scikit-learn in the tests):
scikit-learn and SciPy cost ~0.8 s to import on every new instance, and no pickle is
ever loaded. The artefact is read once per instance, on the first request that routes. Without an
artefact the router falls back to the reply-intent → queue mapping of config/decisions/queues.yaml
(``router_version`` says which one answered, in every response and event).
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from shared.decisions.queues import QueueCatalogue, Route
from shared.platform import logs

MODEL_FILE = "router.npz"
META_FILE = "router.json"
ARTEFACT_FORMAT = 2
_log = logs.get_logger("router")


class ModelSpec(BaseModel):
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    char_min_df: int = Field(default=2, ge=1)
    max_features: int = Field(default=200_000, ge=1000)
    svm_c: float = Field(default=0.5, gt=0)
    calibration: Literal["sigmoid", "isotonic"] = "sigmoid"
    calibration_folds: int = Field(default=3, ge=2)
    threshold_folds: int = Field(default=5, ge=2)
    seed: int = 13


class RoutingConfig(BaseModel):
    """config/decisions/routing.yaml: model and abstain policy as data."""

    version: str
    abstain_threshold: float | None = Field(default=None, ge=0, le=1)
    target_kept_accuracy: float = Field(default=0.9, gt=0, le=1)
    min_kept_share: float = Field(default=0.05, ge=0, le=1)
    top_k: int = Field(default=3, ge=1, le=10)
    examples_per_queue: int = Field(default=12, ge=0, le=200)
    example_chars: int = Field(default=160, ge=40, le=1000)
    nearest_examples: int = Field(default=3, ge=0, le=10)
    max_chars: int = Field(default=4000, ge=200)
    model: ModelSpec = Field(default_factory=ModelSpec)

    @classmethod
    def load(cls, path: Path) -> RoutingConfig:
        if not path.is_file():
            return cls(version="default")
        return cls.model_validate(yaml.safe_load(path.read_text("utf-8")))


class Candidate(BaseModel):
    resolver_group: str
    queue_code: str
    probability: float = Field(ge=0, le=1)


class RouteExample(BaseModel):
    """A past ticket (pseudonymized, clipped) from the training data, as an example for the model."""

    resolver_group: str
    text: str
    similarity: float


class RouteDecision(BaseModel):
    resolver_group: str
    queue_code: str
    sla_business_days: int | None
    confidence: float = Field(ge=0, le=1, description="Calibrated probability of the chosen group.")
    abstained: bool = Field(description="Below the abstain threshold (or unknown label): triage, flagged.")
    flagged: bool
    candidates: list[Candidate] = Field(description="Top candidates, most probable first (agent dropdown).")
    router_version: str
    method: Literal["model", "fallback", "ticket"]
    examples: list[RouteExample] = Field(default_factory=list)

    def as_route(self) -> Route:
        return Route(
            resolver_group=self.resolver_group,
            queue_code=self.queue_code,
            sla_business_days=self.sla_business_days,
            flagged=self.flagged,
        )


def ticket_text(subject: str | None, body: str | None, transcript: str | None = None, max_chars: int = 4000) -> str:
    """The text the router reads, the same at training and at prediction."""
    parts = [p.strip() for p in (subject, body, transcript) if p and p.strip()]
    return "\n".join(parts)[:max_chars]


class LinearTextModel:
    """The fitted pipeline's inference in numpy: same tokens, TF-IDF, SVM scores, calibration."""

    _WORD = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern
    _SPACE = re.compile(r"\s\s+")

    def __init__(self, arrays: Any) -> None:
        import numpy as np

        self._np = np
        self.classes = str(arrays["classes"]).split("\n")
        self.word_range = tuple(int(x) for x in arrays["word_range"])
        self.char_range = tuple(int(x) for x in arrays["char_range"])
        self.word_vocab = {t: i for i, t in enumerate(str(arrays["word_terms"]).split("\n"))}
        self.char_vocab = {t: i for i, t in enumerate(str(arrays["char_terms"]).split("\n"))}
        self.word_idf, self.char_idf = arrays["word_idf"], arrays["char_idf"]
        self.coef, self.intercept = arrays["coef"], arrays["intercept"]
        self.cal_a, self.cal_b = arrays["cal_a"], arrays["cal_b"]
        self.n_features = len(self.word_vocab) + len(self.char_vocab)

    @staticmethod
    def export(pipeline: Any) -> dict[str, Any]:
        import numpy as np

        word, char = (v for _, v in pipeline.named_steps["features"].transformer_list)
        calibrated = pipeline.named_steps["clf"].calibrated_classifiers_
        if len(calibrated) != 1 or pipeline.named_steps["clf"].method != "sigmoid":
            raise ValueError("the numpy scorer needs one sigmoid-calibrated classifier (ensemble=False)")
        svm, calibrators = calibrated[0].estimator, calibrated[0].calibrators

        def terms(v: Any) -> str:
            return "\n".join(sorted(v.vocabulary_, key=v.vocabulary_.get))

        return {
            "classes": np.array("\n".join(str(c) for c in pipeline.classes_)),
            "word_range": np.array(word.ngram_range),
            "char_range": np.array(char.ngram_range),
            "word_terms": np.array(terms(word)),
            "char_terms": np.array(terms(char)),
            "word_idf": word.idf_,
            "char_idf": char.idf_,
            "coef": svm.coef_,
            "intercept": svm.intercept_,
            "cal_a": np.array([c.a_ for c in calibrators]),
            "cal_b": np.array([c.b_ for c in calibrators]),
        }

    def _word_terms(self, text: str) -> list[str]:
        tokens = self._WORD.findall(text.lower())
        lo, hi = self.word_range
        return [" ".join(tokens[i : i + n]) for n in range(lo, hi + 1) for i in range(len(tokens) - n + 1)]

    def _char_terms(self, text: str) -> list[str]:
        lo, hi = self.char_range
        out = []
        for w in self._SPACE.sub(" ", text.lower()).split():
            w = f" {w} "
            for n in range(lo, hi + 1):
                if len(w) <= n:  # a short word counts once, whole (as scikit-learn does)
                    out.append(w)
                    break
                out.extend(w[i : i + n] for i in range(len(w) - n + 1))
        return out

    def _block(self, terms: list[str], vocab: dict[str, int], idf: Any, offset: int) -> tuple[Any, Any]:
        from collections import Counter

        np = self._np
        counts = Counter(vocab[t] for t in terms if t in vocab)
        if not counts:
            return np.empty(0, dtype=np.int64), np.empty(0)
        idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        values = (1.0 + np.log(tf)) * idf[idx]  # sublinear tf × idf, then L2 per block
        return idx + offset, values / np.linalg.norm(values)

    def vector(self, text: str) -> tuple[Any, Any]:
        """Sparse TF-IDF vector (indices, values) of one text, word block then character block."""
        np = self._np
        wi, wv = self._block(self._word_terms(text), self.word_vocab, self.word_idf, 0)
        ci, cv = self._block(self._char_terms(text), self.char_vocab, self.char_idf, len(self.word_vocab))
        return np.concatenate([wi, ci]), np.concatenate([wv, cv])

    def proba(self, vector: tuple[Any, Any]) -> Any:
        np = self._np
        idx, values = vector
        scores = self.coef[:, idx] @ values + self.intercept
        p = 1.0 / (1.0 + np.exp(self.cal_a * scores + self.cal_b))
        if len(self.classes) == 2:
            return np.array([1.0 - p[0], p[0]])
        total = p.sum()
        return p / total if total > 0 else np.full(len(self.classes), 1.0 / len(self.classes))

    def predict_proba(self, texts: Sequence[str]) -> Any:
        return self._np.vstack([self.proba(self.vector(t)) for t in texts])


@dataclass
class _Loaded:
    model: LinearTextModel
    meta: dict[str, Any]
    classes: list[str]
    example_rows: list[dict[str, str]]
    example_vectors: list[tuple[Any, Any]]
    load_ms: float


@dataclass
class Router:
    """Routes a ticket; the artefact is read on the first call and kept for the instance."""

    catalogue: QueueCatalogue
    config: RoutingConfig
    artefact: str | None
    fallback_intent: Callable[[str], tuple[str, float, bool]] | None = None
    fallback_version: str = "intents"
    storage_client: Any = None  # google.cloud.storage.Client for gs:// artefacts (tests pass a fake)
    _loaded: _Loaded | None = field(default=None, init=False, repr=False)
    _missing: bool = field(default=False, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    # --- loading ---
    def _resolve(self) -> Path | None:
        if not self.artefact:
            return None
        if self.artefact.startswith("gs://"):
            return _download(self.artefact, self.storage_client)
        path = Path(self.artefact)
        return path if (path / MODEL_FILE).is_file() and (path / META_FILE).is_file() else None

    def load(self) -> _Loaded | None:
        if self._loaded is not None or self._missing:
            return self._loaded
        with self._lock:
            if self._loaded is None and not self._missing:
                started = time.perf_counter()
                directory = self._resolve()
                if directory is None:
                    self._missing = True
                    _log.info(
                        "no router artefact; routing by the intent mapping",
                        extra={"fields": {"artefact": self.artefact}},
                    )
                    return None
                self._loaded = _read(directory, self.catalogue, started)
        return self._loaded

    @property
    def version(self) -> str:
        loaded = self.load()
        return loaded.meta["router_version"] if loaded else f"fallback:{self.fallback_version}"

    @property
    def threshold(self) -> float:
        loaded = self.load()
        if self.config.abstain_threshold is not None:
            return self.config.abstain_threshold
        return float(loaded.meta.get("abstain_threshold", 0.0)) if loaded else 0.0

    # --- routing ---
    def route(
        self, subject: str | None, body: str | None, transcript: str | None = None, current_queue: str | None = None
    ) -> RouteDecision:
        text = ticket_text(subject, body, transcript, self.config.max_chars)
        loaded = self.load()
        decision = self._fallback(text) if loaded is None else self._predict(loaded, text)
        if current_queue:
            given = self.catalogue.route(current_queue)
            if not given.flagged:
                return decision.model_copy(
                    update={
                        "resolver_group": given.resolver_group,
                        "queue_code": given.queue_code,
                        "sla_business_days": given.sla_business_days,
                        "abstained": False,
                        "flagged": False,
                        "method": "ticket",
                    }
                )
        return decision

    def _predict(self, loaded: _Loaded, text: str) -> RouteDecision:
        vector = loaded.model.vector(text)  # once: for the model and the examples
        proba = loaded.model.proba(vector)
        order = proba.argsort()[::-1]
        candidates = []
        for i in order[: self.config.top_k]:
            r = self.catalogue.route(loaded.classes[i])
            candidates.append(
                Candidate(
                    resolver_group=r.resolver_group, queue_code=r.queue_code, probability=round(float(proba[i]), 4)
                )
            )
        best = self.catalogue.route(loaded.classes[order[0]])
        confidence = float(proba[order[0]])
        abstained = best.flagged or confidence < self.threshold
        chosen = self.catalogue.route(None) if abstained else best
        return RouteDecision(
            resolver_group=chosen.resolver_group,
            queue_code=chosen.queue_code,
            sla_business_days=chosen.sla_business_days,
            confidence=round(confidence, 4),
            abstained=abstained,
            flagged=abstained,
            candidates=candidates,
            router_version=loaded.meta["router_version"],
            method="model",
            examples=self._nearest(loaded, vector, [c.resolver_group for c in candidates]),
        )

    def _nearest(self, loaded: _Loaded, vector: tuple[Any, Any], groups: list[str]) -> list[RouteExample]:
        """For each top candidate, its most similar stored past ticket."""
        if not loaded.example_vectors or not self.config.nearest_examples:
            return []
        import numpy as np

        dense = np.zeros(loaded.model.n_features)
        dense[vector[0]] = vector[1]
        sims = [float(dense[i] @ v) for i, v in loaded.example_vectors]
        out = []
        for group in groups[: self.config.nearest_examples]:
            idx = [i for i, row in enumerate(loaded.example_rows) if row["resolver_group"] == group]
            if idx:
                i = max(idx, key=lambda j: sims[j])
                # two L2-normalised blocks (words, characters): half the dot product is their mean cosine
                out.append(
                    RouteExample(
                        resolver_group=group,
                        text=loaded.example_rows[i]["text"],
                        similarity=round(float(sims[i]) / 2, 3),
                    )
                )
        return out

    def _fallback(self, text: str) -> RouteDecision:
        """Today's mapping: reply intent → resolver group (config/decisions/queues.yaml ``intents``)."""
        intent, confidence, known = self.fallback_intent(text) if self.fallback_intent else ("unknown", 0.0, False)
        route = self.catalogue.for_intent(intent) if known else self.catalogue.route(None)
        candidate = Candidate(
            resolver_group=route.resolver_group, queue_code=route.queue_code, probability=round(confidence, 4)
        )
        return RouteDecision(
            resolver_group=route.resolver_group,
            queue_code=route.queue_code,
            sla_business_days=route.sla_business_days,
            confidence=round(confidence, 4),
            abstained=route.flagged,
            flagged=route.flagged,
            candidates=[] if route.flagged else [candidate],
            router_version=f"fallback:{self.fallback_version}",
            method="fallback",
        )


def _read(directory: Path, catalogue: QueueCatalogue, started: float) -> _Loaded:
    import numpy as np

    meta = json.loads((directory / META_FILE).read_text("utf-8"))
    if meta.get("format") != ARTEFACT_FORMAT:
        raise ValueError(f"router artefact format {meta.get('format')!r} is not {ARTEFACT_FORMAT}")
    with np.load(directory / MODEL_FILE, allow_pickle=False) as arrays:
        model = LinearTextModel(arrays)
        ptr, idx, val = arrays["ex_ptr"], arrays["ex_idx"], arrays["ex_val"]
    vectors = [(idx[a:b], val[a:b]) for a, b in zip(ptr[:-1], ptr[1:], strict=True)]
    classes = model.classes
    unknown = [c for c in classes if catalogue.route(c).flagged]
    if unknown or meta.get("catalogue_version") != catalogue.version:
        _log.warning(
            "router artefact trained for another queue catalogue; its unknown labels go to triage",
            extra={
                "fields": {
                    "artefact_catalogue": meta.get("catalogue_version"),
                    "catalogue": catalogue.version,
                    "unknown_labels": unknown,
                }
            },
        )
    rows = list(meta.get("examples", []))
    if len(vectors) != len(rows):
        raise ValueError("router artefact: example vectors and examples differ")
    load_ms = round((time.perf_counter() - started) * 1000, 1)
    _log.info(
        "router artefact loaded",
        extra={"fields": {"router_version": meta["router_version"], "load_ms": load_ms, "labels": len(classes)}},
    )
    return _Loaded(model, meta, classes, rows, vectors, load_ms)


class ArtefactUnavailable(RuntimeError):
    """A configured router artefact that cannot be read: a deployment error, never a silent fallback."""


def _download(uri: str, client: Any = None) -> Path:
    """gs://bucket/prefix → a local copy of router.npz and router.json (google-cloud-storage).

    Configured but unreadable (missing objects, no ``storage.objects.get`` for the runtime service
    account) raises :class:`ArtefactUnavailable` after an ERROR log: routing by the intent mapping
    when a trained router was asked for would hide the misconfiguration. With ``CX_PRELOAD`` the
    error stops the instance at start; otherwise the first routed ticket answers 500.
    """
    bucket_name, _, prefix = uri[len("gs://") :].partition("/")
    target = Path(tempfile.mkdtemp(prefix="cx-router-"))
    try:
        if client is None:
            from google.cloud import storage  # type: ignore[attr-defined]

            client = storage.Client()
        bucket = client.bucket(bucket_name)
        for name in (MODEL_FILE, META_FILE):
            bucket.blob(f"{prefix.rstrip('/')}/{name}".lstrip("/")).download_to_filename(str(target / name))
    except Exception as exc:
        _log.error(
            "router artefact could not be read from Cloud Storage",
            extra={"fields": {"artefact": uri, "error": type(exc).__name__}},
        )
        raise ArtefactUnavailable(
            f"router artefact {uri} could not be read ({type(exc).__name__}); "
            "check the objects and the service account's storage.objects.get"
        ) from exc
    return target


def final_route(catalogue: QueueCatalogue, decision: RouteDecision, label: str | None) -> Route:
    """The group the model (or offline engine) returned, mapped to a code by the catalogue.

    An unknown label goes to triage, flagged. When the router abstained, a label among its
    top candidates is kept but flagged for the agent to confirm; any other goes to triage.
    """
    route = catalogue.route(label)
    if route.flagged or not decision.abstained:
        return route
    if route.resolver_group in {c.resolver_group for c in decision.candidates}:
        return route.model_copy(update={"flagged": True})
    return catalogue.route(None)
