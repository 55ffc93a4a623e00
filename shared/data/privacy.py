"""Everything held about one customer, found and erased: the data side of GDPR access and erasure.

Firestore::

    customers/{id} and every sub-collection   snapshot, orders, tickets (with confirmed next
                                              steps), interactions, offer outcomes
    sync_tombstones/{id}                      the last deletion clock of snapshot sync
    suggestions     where customer_id == id   stored suggestions (drafts, summaries, offers)
    next_steps      where customer_id == id   next-steps suggestions and confirmations
    feedback        by suggestion id / key    ratings, final texts, comments
    ticket_closes   by ticket id              processed markers of ticket_closed
    event_outbox    payload carries the key   events waiting to be republished

Warehouse (BigQuery ``cx_analytics``): every event row whose ``customer_key`` is this
customer's, and the rows derived from them by ticket or suggestion id (:data:`WAREHOUSE_PLAN`).
Erasure *deletes* those rows; why deletion and not key destruction is in docs/data-in-out.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from google.cloud import firestore

# Warehouse tables holding rows about one customer, and what links a row to them:
# ``key`` = the event's customer_key, ``ticket`` / ``suggestion`` = a ticket or suggestion id of theirs.
# The other materialized tables are aggregates per journey/week/offer without any id (the next daily
# materialization recomputes them without the erased rows).
WAREHOUSE_PLAN: tuple[tuple[str, str, str], ...] = (
    ("events_raw", "key", "JSON_VALUE(data, '$.customer_key')"),
    ("mat_events", "key", "JSON_VALUE(data, '$.customer_key')"),
    ("mat_tickets", "ticket", "ticket_id"),
    ("qa_verdicts", "suggestion", "suggestion_id"),
    ("qa_verdicts", "ticket", "ticket_id"),
)


class Warehouse(Protocol):
    """The analytics warehouse as privacy requests need it (BigQuery deployed, DuckDB locally)."""

    def events_for(self, customer_key: str) -> list[dict[str, Any]]: ...

    def erase(self, customer_key: str, ticket_ids: list[str], suggestion_ids: list[str]) -> dict[str, int]: ...


def plain(value: Any) -> Any:
    """Firestore values as JSON-ready values (timestamps as ISO 8601)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _chunks(values: list[str], size: int = 30) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class PrivacyStore:
    """Finds and deletes one customer's Firestore data; collection names come from settings."""

    def __init__(
        self,
        client: firestore.Client,
        *,
        customers: str,
        suggestions: str,
        next_steps: str,
        feedback: str,
        outbox: str,
        tombstones: str,
        ticket_closes: str = "ticket_closes",
        commitments: str = "commitments",
    ) -> None:
        self._db = client
        self._names = {
            "customers": customers,
            "suggestions": suggestions,
            "next_steps": next_steps,
            "feedback": feedback,
            "outbox": outbox,
            "tombstones": tombstones,
            "ticket_closes": ticket_closes,
            "commitments": commitments,
        }

    def _col(self, name: str) -> Any:
        return self._db.collection(self._names[name])

    def _where_in(self, name: str, field: str, values: list[str]) -> list[Any]:
        from google.cloud.firestore import FieldFilter

        docs: list[Any] = []
        for chunk in _chunks(sorted(set(values))):
            docs += list(self._col(name).where(filter=FieldFilter(field, "in", chunk)).stream())
        return docs

    def _documents(self, customer_id: str, customer_key: str) -> dict[str, list[Any]]:
        """Every document about the customer, by store (snapshots of them, with references)."""
        customer_ref = self._col("customers").document(customer_id)
        tree: list[Any] = []
        customer = customer_ref.get()
        if customer.exists:
            tree.append(customer)
        for sub in customer_ref.collections():
            tree += list(sub.stream())
        tickets = [d.id for d in tree if d.reference.parent.id == "tickets"]
        suggestions = self._where_in("suggestions", "customer_id", [customer_id])
        next_steps = self._where_in("next_steps", "customer_id", [customer_id])
        suggestion_ids = [d.id for d in suggestions + next_steps]
        feedback = {d.id: d for d in self._where_in("feedback", "suggestion_id", suggestion_ids)}
        feedback |= {d.id: d for d in self._where_in("feedback", "customer_key", [customer_key])}
        tomb = self._col("tombstones").document(customer_id).get()
        outbox = [d for d in self._col("outbox").stream() if customer_key in str((d.to_dict() or {}).get("payload"))]
        return {
            "snapshot": tree,
            "sync_tombstone": [tomb] if tomb.exists else [],
            "suggestions": suggestions,
            "next_steps": next_steps,
            "feedback": list(feedback.values()),
            "ticket_closes": self._where_in("ticket_closes", "ticket_id", tickets) if tickets else [],
            "event_outbox": outbox,
            "commitments": self._where_in("commitments", "customer_id", [customer_id]),
        }

    def collect(self, customer_id: str, customer_key: str) -> dict[str, Any]:
        """Everything held in Firestore, as JSON-ready data grouped by store."""
        out: dict[str, Any] = {}
        for store, docs in self._documents(customer_id, customer_key).items():
            if store == "snapshot":
                snapshot: dict[str, Any] = {"customer": None}
                for d in docs:
                    if d.reference.parent.id == self._names["customers"]:
                        snapshot["customer"] = plain(d.to_dict())
                    else:
                        snapshot.setdefault(d.reference.parent.id, []).append(plain(d.to_dict()) | {"id": d.id})
                out[store] = snapshot
            else:
                out[store] = [plain(d.to_dict()) | {"id": d.id} for d in docs]
        return out

    def linked_ids(self, customer_id: str, customer_key: str) -> tuple[list[str], list[str]]:
        """The customer's ticket and suggestion ids (warehouse rows derived from them are theirs too)."""
        docs = self._documents(customer_id, customer_key)
        tickets = [d.id for d in docs["snapshot"] if d.reference.parent.id == "tickets"]
        return tickets, [d.id for d in docs["suggestions"] + docs["next_steps"]]

    def erase(self, customer_id: str, customer_key: str) -> dict[str, int]:
        """Delete every document about the customer; returns counts per store. Idempotent."""
        counts: dict[str, int] = {}
        batch, pending = self._db.batch(), 0
        for store, docs in self._documents(customer_id, customer_key).items():
            counts[store] = len(docs)
            for d in docs:
                batch.delete(d.reference)
                pending += 1
                if pending == 400:
                    batch.commit()
                    batch, pending = self._db.batch(), 0
        if pending:
            batch.commit()
        self._db.recursive_delete(self._col("customers").document(customer_id))  # anything written meanwhile
        return counts


class BigQueryWarehouse:
    """The deployed warehouse through BigQuery's REST API (jobs.query, jobs.getQueryResults).

    The functions' runtime does not ship the BigQuery SDK (cold start: tests/unit/test_packaging.py);
    one authorized session (google-auth) and two REST methods are all a privacy request needs.
    """

    API = "https://bigquery.googleapis.com/bigquery/v2"

    def __init__(self, session: Any, project: str, dataset: str, timeout_s: float = 120.0) -> None:
        self._session = session  # google.auth.transport.requests.AuthorizedSession (or a fake in tests)
        self._project = project
        self._prefix = f"`{project}.{dataset}`"
        self._timeout_s = timeout_s

    def _run(self, sql: str, params: list[dict[str, Any]]) -> dict[str, Any]:
        """Run one statement; all result pages merged into ``rows``."""
        body = {
            "query": sql,
            "useLegacySql": False,
            "parameterMode": "NAMED",
            "queryParameters": params,
            "timeoutMs": int(self._timeout_s * 1000),
        }
        resp = self._session.post(f"{self.API}/projects/{self._project}/queries", json=body, timeout=self._timeout_s)
        resp.raise_for_status()
        result = resp.json()
        rows = list(result.get("rows") or [])
        job = result.get("jobReference") or {}
        while not result.get("jobComplete", False) or result.get("pageToken"):
            query = {"timeoutMs": int(self._timeout_s * 1000), "location": job.get("location")}
            if result.get("pageToken"):
                query["pageToken"] = result["pageToken"]
            resp = self._session.get(
                f"{self.API}/projects/{self._project}/queries/{job['jobId']}",
                params={k: v for k, v in query.items() if v},
                timeout=self._timeout_s,
            )
            resp.raise_for_status()
            page = resp.json()
            rows += page.get("rows") or []
            result = page | {"numDmlAffectedRows": page.get("numDmlAffectedRows", result.get("numDmlAffectedRows"))}
        return result | {"rows": rows}

    @staticmethod
    def _param(name: str, value: str | list[str]) -> dict[str, Any]:
        if isinstance(value, list):
            return {
                "name": name,
                "parameterType": {"type": "ARRAY", "arrayType": {"type": "STRING"}},
                "parameterValue": {"arrayValues": [{"value": v} for v in value]},
            }
        return {"name": name, "parameterType": {"type": "STRING"}, "parameterValue": {"value": value}}

    def events_for(self, customer_key: str) -> list[dict[str, Any]]:
        result = self._run(
            f"SELECT CAST(publish_time AS STRING), TO_JSON_STRING(data) FROM {self._prefix}.events_raw "
            "WHERE JSON_VALUE(data, '$.customer_key') = @key ORDER BY publish_time",
            [self._param("key", customer_key)],
        )
        return [{"publish_time": r["f"][0]["v"], "data": _json(r["f"][1]["v"])} for r in result["rows"]]

    def erase(self, customer_key: str, ticket_ids: list[str], suggestion_ids: list[str]) -> dict[str, int]:
        values: dict[str, Any] = {"key": customer_key, "ticket": ticket_ids, "suggestion": suggestion_ids}
        counts: dict[str, int] = {}
        for table, link, expr in WAREHOUSE_PLAN:
            if link != "key" and not values[link]:
                continue
            cond = f"{expr} = @v" if link == "key" else f"{expr} IN UNNEST(@v)"
            result = self._run(f"DELETE FROM {self._prefix}.{table} WHERE {cond}", [self._param("v", values[link])])
            counts[table] = counts.get(table, 0) + int(result.get("numDmlAffectedRows") or 0)
        return counts
