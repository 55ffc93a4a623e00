"""Training half of the resolver-group router: scikit-learn fit, calibration, abstain threshold.

Tools only (``cx router train``): it is not in the deploy archive, and the functions score the
artefact it writes with numpy alone (:class:`shared.decisions.router.LinearTextModel`).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.decisions.queues import QueueCatalogue
from shared.decisions.router import ARTEFACT_FORMAT, META_FILE, MODEL_FILE, LinearTextModel, ModelSpec, RoutingConfig
from shared.safety.pii.base import PiiDetector


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    h = hashlib.sha256()
    for text, label in sorted(zip(texts, labels, strict=True)):
        h.update(label.encode() + b"\x1f" + text.encode() + b"\x1e")
    return h.hexdigest()


def pseudonymize_example(text: str, limit: int, detector: PiiDetector) -> str:
    """Pattern-detected PII (``detector``'s identifier patterns) replaced by its type, whitespace collapsed,
    clipped at a word."""
    from shared.safety.pii.base import identifiers

    out = text
    for span in sorted(identifiers(detector, text), key=lambda s: s.start, reverse=True):
        out = out[: span.start] + f"[{span.entity}]" + out[span.end :]
    out = re.sub(r"\s+", " ", out).strip()
    if len(out) > limit:
        out = out[:limit].rsplit(" ", 1)[0] + " …"
    return out


# --- training ------------------------------------------------------------------------


def build_pipeline(spec: ModelSpec, *, calibrated: bool = True) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=spec.word_ngrams, sublinear_tf=True, max_features=spec.max_features)),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=spec.char_ngrams,
                    sublinear_tf=True,
                    min_df=spec.char_min_df,
                    max_features=spec.max_features,
                ),
            ),
        ]
    )
    svm = LinearSVC(C=spec.svm_c, random_state=spec.seed)
    # ensemble=False: one SVM on all data, calibrated on cross-validated scores; a third of the size and time
    clf = (
        CalibratedClassifierCV(svm, cv=spec.calibration_folds, method=spec.calibration, ensemble=False)
        if calibrated
        else svm
    )
    return Pipeline([("features", features), ("clf", clf)])


def _folds(labels: Sequence[str], wanted: int) -> int:
    smallest = min(sum(1 for lab in labels if lab == c) for c in set(labels))
    return max(2, min(wanted, smallest))


def choose_threshold(
    probabilities: Any, labels: Sequence[str], classes: Sequence[str], target: float, min_kept_share: float
) -> tuple[float, dict[str, float]]:
    """Smallest threshold whose kept accuracy reaches ``target``; else the best kept accuracy
    that keeps at least ``min_kept_share`` (on out-of-fold predictions, never the test split)."""
    import numpy as np

    best = probabilities.max(axis=1)
    correct = np.array([classes[i] == y for i, y in zip(probabilities.argmax(axis=1), labels, strict=True)])
    fallback: tuple[float, float, float] | None = None
    for t in np.round(np.arange(0.0, 1.0, 0.01), 2):
        kept = best >= t
        share = float(kept.mean())
        if share < min_kept_share or not kept.any():
            break
        acc = float(correct[kept].mean())
        if acc >= target:
            return float(t), {"kept_share": round(share, 4), "kept_accuracy": round(acc, 4), "target_met": 1.0}
        if fallback is None or acc > fallback[1]:
            fallback = (float(t), acc, share)
    if fallback is None:
        return 0.0, {"kept_share": 1.0, "kept_accuracy": round(float(correct.mean()), 4), "target_met": 0.0}
    t, acc, share = fallback
    return t, {"kept_share": round(share, 4), "kept_accuracy": round(acc, 4), "target_met": 0.0}


@dataclass
class TrainedRouter:
    pipeline: Any
    meta: dict[str, Any]

    def save(self, directory: Path) -> Path:
        import numpy as np

        directory.mkdir(parents=True, exist_ok=True)
        arrays = LinearTextModel.export(self.pipeline)
        model = LinearTextModel(arrays)
        vectors = [model.vector(e["text"]) for e in self.meta.get("examples", [])]
        arrays["ex_ptr"] = np.cumsum([0, *(len(i) for i, _ in vectors)])
        arrays["ex_idx"] = np.concatenate([i for i, _ in vectors]) if vectors else np.empty(0, dtype=np.int64)
        arrays["ex_val"] = np.concatenate([v for _, v in vectors]) if vectors else np.empty(0)
        np.savez(directory / MODEL_FILE, **arrays)  # uncompressed: a new instance reads it without inflating
        (directory / META_FILE).write_text(json.dumps(self.meta, indent=2, ensure_ascii=False) + "\n", "utf-8")
        return directory


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    cfg: RoutingConfig,
    catalogue: QueueCatalogue,
    *,
    detector: PiiDetector,
    source: str = "",
    overrides: int = 0,
) -> TrainedRouter:
    """Fit on all given tickets; the abstain threshold comes from out-of-fold predictions.
    ``detector`` pseudonymizes the examples kept with the artefact."""
    import numpy as np
    import sklearn
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    unknown = sorted({lab for lab in labels if catalogue.route(lab).flagged})
    if unknown:
        raise ValueError(f"labels not in the queue catalogue {catalogue.version}: {unknown}")
    labels = [catalogue.route(lab).resolver_group for lab in labels]  # aliases → canonical labels
    spec = cfg.model
    # calibration needs a few tickets of a queue in every training fold; rarer queues wait for more data
    minimum = spec.calibration_folds + 1
    dropped = sorted(c for c in set(labels) if labels.count(c) < minimum)
    if dropped:
        kept = [(t, lab) for t, lab in zip(texts, labels, strict=True) if lab not in dropped]
        texts, labels = [t for t, _ in kept], [lab for _, lab in kept]
    if len(set(labels)) < 2:
        raise ValueError(f"routing needs at least two queues with {minimum} or more labelled tickets each")
    started = time.perf_counter()
    folds = _folds(labels, spec.threshold_folds)
    cv = StratifiedKFold(folds, shuffle=True, random_state=spec.seed)
    oof = cross_val_predict(build_pipeline(spec), list(texts), labels, cv=cv, method="predict_proba")
    classes = sorted(set(labels))
    threshold, chosen = choose_threshold(oof, labels, classes, cfg.target_kept_accuracy, cfg.min_kept_share)
    oof_acc = float(np.mean([classes[i] == y for i, y in zip(oof.argmax(axis=1), labels, strict=True)]))
    pipeline = build_pipeline(spec).fit(list(texts), labels)
    digest = data_hash(texts, labels)
    stamp = datetime.now(UTC)
    examples = _examples(texts, labels, cfg, detector)
    meta = {
        "format": ARTEFACT_FORMAT,
        "router_version": f"router-{stamp:%Y%m%d%H%M}-{digest[:8]}",
        "trained_at": stamp.isoformat(timespec="seconds"),
        "labels": list(pipeline.classes_),
        "catalogue_version": catalogue.version,
        "routing_config_version": cfg.version,
        "training_data_sha256": digest,
        "training_source": source,
        "tickets": len(labels),
        "overrides_applied": overrides,
        "per_label": {c: labels.count(c) for c in classes},
        "dropped_labels": {"below_minimum": dropped, "minimum_tickets": minimum},
        "abstain_threshold": threshold,
        "threshold_selection": {
            "method": f"{folds}-fold out-of-fold probabilities on the training data",
            "target_kept_accuracy": cfg.target_kept_accuracy,
            **chosen,
            "oof_accuracy": round(oof_acc, 4),
        },
        "model": spec.model_dump(mode="json"),
        "sklearn_version": sklearn.__version__,
        "train_seconds": round(time.perf_counter() - started, 2),
        "examples": examples,
        "metrics": {},
    }
    return TrainedRouter(pipeline, meta)


def _examples(
    texts: Sequence[str], labels: Sequence[str], cfg: RoutingConfig, detector: PiiDetector
) -> list[dict[str, str]]:
    """A few short, pseudonymized training tickets per queue, spread over the data."""
    by: dict[str, list[str]] = defaultdict(list)
    for text, label in zip(texts, labels, strict=True):
        by[label].append(text)
    out = []
    for label in sorted(by):
        items = by[label]
        step = max(1, len(items) // max(1, cfg.examples_per_queue))
        for text in items[::step][: cfg.examples_per_queue]:
            out.append({"resolver_group": label, "text": pseudonymize_example(text, cfg.example_chars, detector)})
    return out


def evaluate(pipeline: Any, threshold: float, texts: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """Accuracy, macro-F1, abstain rate and accuracy on the kept tickets."""
    import numpy as np
    from sklearn.metrics import f1_score

    proba = pipeline.predict_proba(list(texts))
    classes = list(pipeline.classes_)
    predicted = [classes[i] for i in proba.argmax(axis=1)]
    best = proba.max(axis=1)
    kept = best >= threshold
    correct = np.array([p == y for p, y in zip(predicted, labels, strict=True)])
    return {
        "n": len(labels),
        "accuracy": round(float(correct.mean()), 4),
        "macro_f1": round(float(f1_score(labels, predicted, average="macro", zero_division=0)), 4),
        "abstain_rate": round(float(1 - kept.mean()), 4),
        "kept": int(kept.sum()),
        "accuracy_on_kept": round(float(correct[kept].mean()), 4) if kept.any() else None,  # type: ignore[dict-item]
        "threshold": threshold,
    }
