"""Train the resolver-group router on the company's own closed tickets and agent overrides.

    python -m scripts.train_router --data export.csv [--overrides events.jsonl | --warehouse .local/warehouse.duckdb]
    python -m scripts.train_router --bigquery-table my-project.cx.closed_tickets   # with CX_PROJECT set
    python -m scripts.train_router --data ../shared/data/tickets/tickets_en_de.csv --out .local/router-en-de

Reads a labelled export (CSV, JSONL, or YAML ``examples: {queue: [texts]}``; column names
configurable; ``subject``/``body``/``queue`` by default), applies ``resolver.overridden``
events (newer ground truth: the agent's final group wins over the exported label, joined
on the ticket id), holds back a stratified 20 % split to evaluate (accuracy, macro-F1,
abstain rate, accuracy on the kept tickets, against the majority class and a plain
TF-IDF + linear SVM), then fits on everything and writes ``router.joblib`` + ``router.json``
where the functions load it (``CX_ROUTER_ARTEFACT``, default ``.local/router``).

A model trained on data under a non-commercial licence must not be committed or shipped.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scripts.router_training import TrainedRouter, evaluate, train
from shared.decisions.queues import QueueCatalogue
from shared.decisions.router import RoutingConfig, ticket_text
from shared.safety.pii.base import PiiConfig, PiiDetector
from shared.settings import load_settings

SPLIT_SEED = 13
TEST_SHARE = 0.2


@dataclass
class Ticket:
    text: str
    queue: str
    ticket_id: str | None = None
    language: str | None = None


@dataclass
class Columns:
    subject: str = "subject"
    body: str = "body"
    queue: str = "queue"
    ticket_id: str = "ticket_id"
    language: str = "language"


def _ticket(row: dict[str, Any], cols: Columns) -> Ticket:
    return Ticket(
        text=ticket_text(row.get(cols.subject) or "", row.get(cols.body) or ""),
        queue=str(row.get(cols.queue) or "").strip(),
        ticket_id=(str(row[cols.ticket_id]) if row.get(cols.ticket_id) else None),
        language=row.get(cols.language) or None,
    )


def read_export(path: Path, cols: Columns) -> list[Ticket]:
    """CSV or JSONL rows with subject/body/queue (names configurable), or a YAML examples file."""
    if path.suffix in (".yaml", ".yml"):
        raw = yaml.safe_load(path.read_text("utf-8"))
        return [Ticket(text=t, queue=q) for q, texts in raw["examples"].items() for t in texts]
    if path.suffix in (".jsonl", ".ndjson"):
        rows: Iterable[dict[str, Any]] = (json.loads(line) for line in path.open(encoding="utf-8") if line.strip())
    else:
        rows = csv.DictReader(path.open(encoding="utf-8", newline=""))
    return [t for t in (_ticket(r, cols) for r in rows) if t.queue and t.text]


def read_bigquery(table: str, project: str, cols: Columns) -> list[Ticket]:
    """Closed tickets with their final queue from BigQuery (google-cloud-bigquery needed here only)."""
    try:
        from google.cloud import bigquery  # type: ignore[attr-defined]
    except ImportError:
        raise SystemExit(
            "reading from BigQuery needs google-cloud-bigquery: pip install google-cloud-bigquery "
            "(it is a training-time tool, not a runtime dependency)"
        ) from None
    client = bigquery.Client(project=project)
    wanted = {c for c in (cols.subject, cols.body, cols.queue, cols.ticket_id, cols.language) if c}
    fields = ", ".join(f"`{c}`" for c in sorted(wanted))
    rows = client.query(f"SELECT {fields} FROM `{table}`").result()  # noqa: S608 - table name from the operator
    return [t for t in (_ticket(dict(r.items()), cols) for r in rows) if t.queue and t.text]


def _override_rows(events: Iterable[dict[str, Any]]) -> dict[str, str]:
    """ticket id → final group of the latest ``resolver.overridden`` event."""
    latest: dict[str, tuple[str, str]] = {}
    for e in events:
        if "data" in e and isinstance(e["data"], (dict, str)) and "event_type" not in e:
            e = json.loads(e["data"]) if isinstance(e["data"], str) else e["data"]
        if e.get("event_type") != "resolver.overridden" or not e.get("ticket_id"):
            continue
        when = str(e.get("occurred_at") or "")
        if e["ticket_id"] not in latest or when >= latest[e["ticket_id"]][0]:
            latest[e["ticket_id"]] = (when, e["final_group"])
    return {k: v for k, (_, v) in latest.items()}


def read_overrides(
    events_jsonl: Path | None = None, warehouse: Path | None = None, bigquery_project: str | None = None
) -> dict[str, str]:
    events: list[dict[str, Any]] = []
    if events_jsonl:
        events += [json.loads(line) for line in events_jsonl.open(encoding="utf-8") if line.strip()]
    if warehouse:
        from scripts.warehouse_db import DATASET, connect, query

        con = connect(warehouse)
        rows = query(
            con, f"SELECT CAST(data AS VARCHAR) AS data FROM {DATASET}.events WHERE event_type = 'resolver.overridden'"
        )  # noqa: S608 - constant
        events += [json.loads(r["data"]) for r in rows]
        con.close()
    if bigquery_project:
        from google.cloud import bigquery  # type: ignore[attr-defined]

        client = bigquery.Client(project=bigquery_project)
        sql = "SELECT TO_JSON_STRING(data) AS data FROM `cx_analytics.events` WHERE event_type = 'resolver.overridden'"
        events += [
            json.loads(json.loads(r["data"]) if r["data"].startswith('"') else r["data"])
            for r in client.query(sql).result()
        ]
    return _override_rows(events)


def apply_overrides(tickets: list[Ticket], overrides: dict[str, str]) -> int:
    """The agent's final group replaces the exported label; returns how many changed."""
    changed = 0
    for t in tickets:
        final = overrides.get(t.ticket_id or "")
        if final and final != t.queue:
            t.queue = final
            changed += 1
    return changed


def split(
    tickets: list[Ticket], share: float = TEST_SHARE, seed: int = SPLIT_SEED
) -> tuple[list[Ticket], list[Ticket]]:
    """Stratified by queue, seeded: every queue keeps ~``share`` of its tickets for testing."""
    rng = random.Random(seed)
    by: dict[str, list[Ticket]] = defaultdict(list)
    for t in tickets:
        by[t.queue].append(t)
    train_part, test_part = [], []
    for queue in sorted(by):
        group = by[queue]
        rng.shuffle(group)
        cut = max(1, round(len(group) * share)) if len(group) > 1 else 0
        test_part += group[:cut]
        train_part += group[cut:]
    return train_part, test_part


def baselines(train_part: list[Ticket], test_part: list[Ticket]) -> dict[str, float]:
    """Majority class and plain TF-IDF (words) + LinearSVC, same split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    majority = Counter(t.queue for t in train_part).most_common(1)[0][0]
    svm = make_pipeline(TfidfVectorizer(sublinear_tf=True), LinearSVC(random_state=SPLIT_SEED))
    svm.fit([t.text for t in train_part], [t.queue for t in train_part])
    predicted = svm.predict([t.text for t in test_part])
    n = len(test_part)
    return {
        "majority": round(sum(t.queue == majority for t in test_part) / n, 4),
        "tfidf_linear_svm": round(sum(p == t.queue for p, t in zip(predicted, test_part, strict=True)) / n, 4),
    }


def canonical(tickets: list[Ticket], catalogue: QueueCatalogue, drop_unknown: bool) -> list[Ticket]:
    unknown = Counter(t.queue for t in tickets if catalogue.route(t.queue).flagged)
    if unknown and not drop_unknown:
        raise SystemExit(
            f"labels not in the queue catalogue {catalogue.version}: {dict(unknown)} "
            "(add them as groups or aliases in queues.yaml, or pass --drop-unknown)"
        )
    kept = [t for t in tickets if not catalogue.route(t.queue).flagged]
    for t in kept:
        t.queue = catalogue.route(t.queue).resolver_group
    return kept


def local_pii(config_dir: Path) -> PiiDetector:
    """The local PII recognisers that pseudonymize the examples kept with an artefact."""
    from shared.safety.pii.local import LocalDetector

    return LocalDetector(PiiConfig.load(config_dir / "safety/pii.yaml"))


def held_out(
    tickets: list[Ticket], cfg: RoutingConfig, catalogue: QueueCatalogue, detector: PiiDetector
) -> dict[str, Any]:
    """Train on 80 %, evaluate on the held-back 20 % (threshold chosen inside the 80 %)."""
    train_part, test_part = split(tickets)
    model = train([t.text for t in train_part], [t.queue for t in train_part], cfg, catalogue, detector=detector)
    threshold = cfg.abstain_threshold if cfg.abstain_threshold is not None else model.meta["abstain_threshold"]
    metrics: dict[str, Any] = evaluate(
        model.pipeline, threshold, [t.text for t in test_part], [t.queue for t in test_part]
    )
    metrics.update(baselines(train_part, test_part))
    metrics["train"] = len(train_part)
    metrics["threshold_selection"] = model.meta["threshold_selection"]
    return {"metrics": metrics, "model": model, "test": test_part}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="CSV / JSONL / YAML export of labelled tickets")
    ap.add_argument("--bigquery-table", help="project.dataset.table of closed tickets (needs CX_PROJECT)")
    ap.add_argument("--overrides", type=Path, help="events JSONL with resolver.overridden events")
    ap.add_argument("--warehouse", type=Path, help="local DuckDB warehouse (scripts.warehouse load)")
    ap.add_argument("--out", type=Path, help="artefact directory (default: CX_ROUTER_ARTEFACT)")
    ap.add_argument("--config-dir", type=Path, help="config directory (default: CX_CONFIG_DIR)")
    ap.add_argument("--drop-unknown", action="store_true", help="skip tickets whose queue is not in the catalogue")
    ap.add_argument("--no-holdout", action="store_true", help="skip the held-out evaluation")
    for name, default in vars(Columns()).items():
        ap.add_argument(f"--{name.replace('_', '-')}-column", default=default, dest=f"col_{name}")
    args = ap.parse_args(argv)

    settings = load_settings(**({"config_dir": args.config_dir} if args.config_dir else {}))
    cols = Columns(**{k[4:]: v for k, v in vars(args).items() if k.startswith("col_")})
    catalogue = QueueCatalogue.load(settings.config_dir / "decisions/queues.yaml")
    cfg = RoutingConfig.load(settings.config_dir / "decisions/routing.yaml")
    if args.bigquery_table:
        if not settings.project:
            raise SystemExit("--bigquery-table needs CX_PROJECT (or GOOGLE_CLOUD_PROJECT)")
        tickets, source = read_bigquery(args.bigquery_table, settings.project, cols), f"bq:{args.bigquery_table}"
    elif args.data:
        if not args.data.exists():
            print(f"skipped: {args.data} not found")
            return 0
        tickets, source = read_export(args.data, cols), args.data.name
    else:
        ap.error("give --data or --bigquery-table")
    overrides = read_overrides(args.overrides, args.warehouse, settings.project if args.bigquery_table else None)
    changed = apply_overrides(tickets, overrides)
    tickets = canonical(tickets, catalogue, args.drop_unknown)
    print(
        f"{len(tickets)} tickets from {source}, {len(overrides)} override events, {changed} labels changed; "
        f"queues: {dict(Counter(t.queue for t in tickets).most_common())}"
    )

    metrics: dict[str, Any] = {}
    if not args.no_holdout and len(tickets) >= 20:
        metrics = held_out(tickets, cfg, catalogue, local_pii(settings.config_dir))["metrics"]
        print("held-out evaluation (stratified 20 %, seed 13):", json.dumps(metrics))
    final: TrainedRouter = train(
        [t.text for t in tickets],
        [t.queue for t in tickets],
        cfg,
        catalogue,
        detector=local_pii(settings.config_dir),
        source=source,
        overrides=changed,
    )
    final.meta["metrics"] = {"held_out": metrics}
    out = args.out or (None if str(settings.router_artefact).startswith("gs://") else Path(settings.router_artefact))
    if out is None:
        raise SystemExit(
            "CX_ROUTER_ARTEFACT is a gs:// URI: write locally with --out, then upload with "
            "gcloud storage cp --recursive"
        )
    final.save(out)
    print(
        f"wrote {out} ({final.meta['router_version']}, threshold {final.meta['abstain_threshold']}, "
        f"{final.meta['train_seconds']} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
