"""Next-steps suggestions (``next_steps/{suggestion_id}``) and the confirmation written onto the ticket.

Confirming writes the confirmed version onto ``customers/{id}/tickets/{ticket_id}.next_steps`` in one
transaction; a repeat of the same confirmation returns the stored one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from shared.platform.errors import NotFound

if TYPE_CHECKING:
    from google.cloud import firestore


class NextStepsStore:
    def __init__(self, client: firestore.Client, collection: str, customers: str, retention: Any = None) -> None:
        self._db = client
        self._retention = retention
        self._col = client.collection(collection)
        self._customers = customers

    def save_suggestion(self, customer_id: str, ticket_id: str, response: BaseModel) -> None:
        doc = {"customer_id": customer_id, "ticket_id": ticket_id, "created_at": datetime.now(UTC),
               "suggestion": response.model_dump(mode="json"), "status": "suggested"}  # fmt: skip
        if self._retention is not None:  # config/retention.yaml: Firestore TTL on expire_at
            doc = self._retention.stamp("next_steps", doc)
        self._col.document(response.suggestion_id).set(doc)  # type: ignore[attr-defined]

    def suggestion(self, suggestion_id: str) -> dict[str, Any] | None:
        doc = self._col.document(suggestion_id).get()
        return doc.to_dict() if doc.exists else None

    def confirm(self, suggestion_id: str, customer_id: str, ticket_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """Write the confirmed version onto the ticket atomically; a repeat returns the stored one."""
        from google.cloud import firestore

        customer_ref = self._db.collection(self._customers).document(customer_id)
        ticket_ref = customer_ref.collection("tickets").document(ticket_id)
        sugg_ref = self._col.document(suggestion_id)

        @firestore.transactional
        def _txn(txn: firestore.Transaction) -> dict[str, Any]:
            snap = ticket_ref.get(transaction=txn)
            if not snap.exists:
                raise NotFound(f"ticket {ticket_id!r} not found for this customer")
            current = (snap.to_dict() or {}).get("next_steps") or {}
            if current.get("fingerprint") == record["fingerprint"]:
                return current
            txn.update(ticket_ref, {"next_steps": record})
            txn.update(sugg_ref, {"status": "confirmed", "confirmed_at": record["confirmed_at"]})
            return record

        return _txn(self._db.transaction())
