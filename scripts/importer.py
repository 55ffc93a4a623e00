"""Batch import (``cx import``): a company's customers, orders, tickets, interactions, offers, knowledge
articles and queues from JSONL, CSV or a BigQuery table, through a declarative field mapping.

    python -m scripts.importer --mapping scripts/import_mappings/zendesk_users.yaml --input users.json
    python -m scripts.importer --mapping scripts/import_mappings/zendesk_tickets.yaml --input tickets.json
    python -m scripts.importer --mapping scripts/import_mappings/salesforce_cases.yaml --input Case.csv
    python -m scripts.importer --mapping my_orders.yaml --bigquery my-project.crm.orders
    python -m scripts.importer --mapping scripts/import_mappings/queues_csv.yaml --input queues.csv \\
        --output config/decisions/queues.yaml

Snapshot records (customer, order, ticket, interaction, product, consent) become the change
events of ``functions/sync_events.schema.json`` and go through the snapshot-sync handler, so an
import obeys the same rules as live sync: a stale row never overwrites newer data and running
an import twice changes nothing. Offers and knowledge articles are written by their
repositories; queues become a queue-catalogue file. No import ever writes demo customers.

Resumable: after every batch a checkpoint (``--checkpoint``, default next to the input) records
how many rows are done; a rerun with the same input and mapping continues from there
(``--restart`` ignores it). Rejected rows are summarised by reason at the end and written,
with their row number and reason, to ``--rejects`` (JSONL) when given.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SYNC_ENTITIES = {
    "customer": "customer.upserted",
    "order": "order.upserted",
    "ticket": "ticket.upserted",
    "interaction": "interaction.recorded",
    "product": "product.changed",
    "consent": "consent.changed",
}
Entity = Literal["customer", "order", "ticket", "interaction", "product", "consent", "offer", "kb", "queue"]


class FieldSpec(BaseModel):
    """How one target field is computed from a source row (applied in this order)."""

    model_config = ConfigDict(extra="forbid")

    from_: str | list[str] | None = Field(
        default=None, alias="from", description="Source column or dotted path; a list takes the first non-empty one."
    )
    const: Any = None
    regex: str | None = Field(default=None, description="Keep group 1 of the first match.")
    lower: bool = False
    split: str | None = Field(default=None, description="Split text into a list on this separator.")
    map: dict[str, Any] | None = Field(default=None, description="Replace values; unmapped values are rejected.")
    negate: bool = False
    template: str | None = Field(
        default=None,
        description="Format the value into it ('ZD-{value}'); without "
        "from/const, format source columns ('{FirstName} {LastName}').",
    )
    default: Any = None

    def value(self, row: dict[str, Any]) -> Any:
        if self.template is not None and self.from_ is None and self.const is None:
            values = _Blank({k: "" if v is None else v for k, v in row.items()})
            text = " ".join(self.template.format_map(values).split())
            return text or self.default
        value = self.const
        if self.from_ is not None:
            for path in [self.from_] if isinstance(self.from_, str) else self.from_:
                value = _lookup(row, path)
                if value not in (None, ""):
                    break
        if value in (None, ""):
            return self.default
        if self.regex is not None:
            m = re.search(self.regex, str(value))
            value = m.group(1) if m else None
            if value is None:
                return self.default
        if self.lower:
            value = str(value).lower()
        if self.split is not None and isinstance(value, str):
            value = [v.strip() for v in value.split(self.split) if v.strip()]
        if self.map is not None:
            key = str(value).lower() if isinstance(value, bool) else str(value)
            if key not in self.map:
                raise ValueError(f"value {value!r} has no mapping (known: {sorted(self.map)})")
            value = self.map[key]
        if self.negate:
            value = not _truthy(value)
        if self.template is not None:
            value = self.template.format(value=value)
        return value


class Mapping(BaseModel):
    """A mapping file (scripts/import_mappings/*.yaml)."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    name: str
    description: str = ""
    entity: Entity
    format: Literal["jsonl", "csv", "bigquery"] = "jsonl"
    source: str = Field(default="urn:cx-copilot:import", description="CloudEvents source of the changes.")
    csv_delimiter: str = ","
    fields: dict[str, FieldSpec]

    @model_validator(mode="after")
    def _targets(self) -> Mapping:
        if self.entity in SYNC_ENTITIES and not {"customer_id", "updated_at"} <= set(self.fields):
            raise ValueError("snapshot records need customer_id and updated_at")
        return self

    @classmethod
    def load(cls, path: Path) -> Mapping:
        return cls.model_validate(yaml.safe_load(path.read_text("utf-8")))

    def record(self, row: dict[str, Any]) -> dict[str, Any]:
        """The target record: dotted target names become nested objects."""
        out: dict[str, Any] = {}
        for target, spec in self.fields.items():
            value = spec.value(row)
            if value is None:
                continue
            node = out
            *parents, leaf = target.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        return out


class _Blank(dict):  # type: ignore[type-arg]
    """Row values for a template; a missing or empty column formats as nothing."""

    def __missing__(self, key: str) -> str:
        return ""


def _lookup(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _truthy(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "y", "t")


# --- reading ----------------------------------------------------------------------------------


def read_rows(mapping: Mapping, path: Path | None, table: str | None) -> Iterator[dict[str, Any]]:
    if table is not None:
        from google.cloud import bigquery

        client = bigquery.Client(project=table.split(".")[0])
        for row in client.list_rows(table):
            yield dict(row.items())
        return
    assert path is not None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        if mapping.format == "csv":
            yield from csv.DictReader(fh, delimiter=mapping.csv_delimiter)
        else:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


def count_rows(mapping: Mapping, path: Path | None) -> int | None:
    if path is None:
        return None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        if mapping.format == "csv":
            return sum(1 for _ in csv.DictReader(fh, delimiter=mapping.csv_delimiter))
        return sum(1 for line in fh if line.strip())


# --- writing ----------------------------------------------------------------------------------


@dataclass
class Report:
    rows: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, row_number: int, reason: str) -> None:
        self.outcomes["rejected"] += 1
        self.rejected.append({"row": row_number, "reason": reason})

    def reasons(self) -> Counter[str]:
        return Counter(re.sub(r"'[^']*'", "'…'", r["reason"]) for r in self.rejected)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
    return str(exc)


class Importer:
    """Maps rows and writes them in batches; returns per-batch outcomes for the report."""

    def __init__(self, mapping: Mapping, rt: Any, output: Path | None = None) -> None:
        self.mapping = mapping
        self.rt = rt
        self.output = output
        self._queue_groups: list[Any] = []

    def write(self, batch: list[tuple[int, dict[str, Any]]], report: Report) -> None:
        entity = self.mapping.entity
        if entity in SYNC_ENTITIES:
            self._sync(batch, report)
        elif entity == "offer":
            self._models(batch, report, "shared.data.offers", "Offer", lambda items: self.rt.offers.put_offers(items))
        elif entity == "kb":
            self._models(
                batch, report, "shared.data.kb", "Article", lambda items: self.rt.kb.put(items, self.rt.embedder)
            )
        else:
            self._models(batch, report, "shared.decisions.queues", "Group", self._queue_groups.extend)

    def _models(
        self, batch: list[tuple[int, dict[str, Any]]], report: Report, module: str, name: str, put: Any
    ) -> None:
        import importlib

        model = getattr(importlib.import_module(module), name)
        items = []
        for n, record in batch:
            try:
                items.append(model.model_validate(record))
                report.outcomes["applied"] += 1
            except (ValidationError, ValueError) as exc:
                report.reject(n, _reason(exc))
        if items:
            put(items)

    def _sync(self, batch: list[tuple[int, dict[str, Any]]], report: Report) -> None:
        from shared.capabilities.snapshot_sync import handle_many
        from shared.data.sync import PAYLOADS, message

        name = SYNC_ENTITIES[self.mapping.entity]
        rows, messages = [], []
        for n, record in batch:
            try:
                change = PAYLOADS[name].model_validate(record)
            except (ValidationError, ValueError) as exc:
                report.reject(n, _reason(exc))
                continue
            rows.append(n)
            messages.append((message(name, change, self.mapping.source), None))
        for n, outcome in zip(rows, handle_many(messages, self.rt), strict=True):
            if outcome == "missing":
                report.reject(n, "customer not known: import the customers first")
            else:
                report.outcomes[outcome] += 1

    def finish(self) -> None:
        """Queues: one catalogue file, the triage queue and first-contact patterns kept from the current one."""
        if self.mapping.entity != "queue":
            return
        from shared.decisions.queues import QueueCatalogue

        current = yaml.safe_load((self.rt.settings.config_dir / "decisions/queues.yaml").read_text("utf-8"))
        doc = current | {
            "version": datetime.now(UTC).strftime("%Y-%m-%d") + ".import",
            "groups": [g.model_dump(exclude_none=True) for g in self._queue_groups],
        }
        QueueCatalogue.model_validate(doc)
        text = "# Imported by scripts/importer.py; review, then deploy like any config change.\n"
        text += yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        if self.output is None:
            print(text)
        else:
            self.output.write_text(text, "utf-8")


def run(
    mapping: Mapping,
    rt: Any,
    *,
    path: Path | None = None,
    table: str | None = None,
    checkpoint: Path | None = None,
    batch_size: int = 500,
    output: Path | None = None,
    progress: bool = True,
) -> Report:
    """Import every row (resuming from the checkpoint); returns the report."""
    from tqdm import tqdm

    identity = {"mapping": mapping.name, "input": str(path or table)}
    done, report = 0, Report()
    if checkpoint is not None and checkpoint.exists():
        saved = json.loads(checkpoint.read_text("utf-8"))
        if {k: saved.get(k) for k in identity} == identity:
            done = int(saved["rows_done"])
            report.outcomes.update(saved.get("outcomes", {}))
            report.rejected = list(saved.get("rejected", []))
    importer = Importer(mapping, rt, output)
    if mapping.entity == "queue":
        done, report = 0, Report()  # a catalogue file is written whole: never resumed part-way
    total = count_rows(mapping, path)
    batch: list[tuple[int, dict[str, Any]]] = []

    def flush(upto: int) -> None:
        importer.write(batch, report)
        batch.clear()
        if checkpoint is not None and mapping.entity != "queue":
            checkpoint.write_text(
                json.dumps(
                    identity
                    | {"rows_done": upto, "outcomes": dict(report.outcomes), "rejected": report.rejected[-1000:]}
                ),
                "utf-8",
            )

    bar = tqdm(total=total, initial=done, unit="row", disable=not progress, desc=mapping.name)
    n = 0
    for n, row in enumerate(read_rows(mapping, path, table), start=1):
        if n <= done:
            continue
        try:
            batch.append((n, mapping.record(row)))
        except (ValueError, KeyError) as exc:
            report.reject(n, str(exc))
        if len(batch) >= batch_size:
            flush(n)
        bar.update(1)
    flush(n)
    bar.close()
    importer.finish()
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)  # complete: a later run of the same file starts afresh
    report.rows = n
    return report


def main(argv: list[str] | None = None, *, runtime: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="cx import", description=__doc__.splitlines()[0])
    parser.add_argument("--mapping", type=Path, required=True, help="mapping file (scripts/import_mappings/*.yaml)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="JSONL or CSV file (the mapping's format)")
    source.add_argument("--bigquery", metavar="PROJECT.DATASET.TABLE", help="read a BigQuery table instead")
    parser.add_argument("--checkpoint", type=Path, help="resume file (default: <input>.checkpoint.json)")
    parser.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--rejects", type=Path, help="write rejected rows (row number, reason) as JSONL")
    parser.add_argument("--output", type=Path, help="queues: the catalogue file to write (default: stdout)")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:
        mapping = Mapping.load(args.mapping)
    except (ValidationError, OSError, yaml.YAMLError) as exc:
        print(f"mapping {args.mapping}: {_reason(exc) if isinstance(exc, Exception) else exc}", file=sys.stderr)
        return 2
    checkpoint = args.checkpoint or (
        args.input.with_name(args.input.name + ".checkpoint.json")
        if args.input
        else Path(f"{args.bigquery}.checkpoint.json")
    )
    if args.restart and checkpoint.exists():
        checkpoint.unlink()
    if runtime is None:
        from shared.runtime import Runtime
        from shared.settings import load_settings

        runtime = Runtime(load_settings())
    report = run(
        mapping,
        runtime,
        path=args.input,
        table=args.bigquery,
        checkpoint=checkpoint,
        batch_size=args.batch_size,
        output=args.output,
        progress=not args.no_progress,
    )
    runtime.events.flush()
    summary = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())) or "nothing"
    print(f"{mapping.name}: {report.rows} rows: {summary}")
    for reason, count in report.reasons().most_common(10):
        print(f"  rejected {count}×: {reason}")
    if args.rejects:
        args.rejects.write_text("".join(json.dumps(r) + "\n" for r in report.rejected), "utf-8")
        print(f"rejected rows written to {args.rejects}")
    return 1 if report.outcomes.get("rejected") else 0


if __name__ == "__main__":
    sys.exit(main())
