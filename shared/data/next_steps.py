"""Next-steps suggestions (``next_steps/{suggestion_id}``) and the confirmation written onto the ticket.

Confirming writes the confirmed version onto ``customers/{id}/tickets/{ticket_id}.next_steps`` and marks the
suggestion confirmed in one atomic batch; a repeat of the same confirmation returns the stored one.

Optimistic concurrency: the record carries ``version`` (0 = nothing confirmed yet; an unconfirmed record
written at close counts as 0). A confirmation names the version it was made on; if another confirmation
was accepted since, it is refused with the current state (409) instead of overwriting it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from shared.platform.errors import Conflict, Contention, NotFound

if TYPE_CHECKING:
    from google.cloud import firestore


class NextStepsStore:
    def __init__(self, client: firestore.Client, collection: str, customers: str, retention: Any = None) -> None:
        self._db = client
        self._retention = retention
        self._col = client.collection(collection)
        self._customers = customers

    def save_suggestion(self, customer_id: str, ticket_id: str, response: BaseModel) -> None:
        doc = {
            "customer_id": customer_id,
            "ticket_id": ticket_id,
            "created_at": datetime.now(UTC),
            "suggestion": response.model_dump(mode="json"),
            "status": "suggested",
        }
        if self._retention is not None:  # config/data/retention.yaml: Firestore TTL on expire_at
            doc = self._retention.stamp("next_steps", doc)
        self._col.document(response.suggestion_id).set(doc)  # type: ignore[attr-defined]

    def suggestion(self, suggestion_id: str) -> dict[str, Any] | None:
        doc = self._col.document(suggestion_id).get()
        return doc.to_dict() if doc.exists else None

    def confirm(
        self, suggestion_id: str, customer_id: str, ticket_id: str, record: dict[str, Any], base_version: int = 0
    ) -> dict[str, Any]:
        """Write the confirmed record at ``base_version + 1`` (atomically with the suggestion's status).

        A repeat returns the stored one.

        Raises Conflict (409) carrying the current record when ``base_version`` is not the
        ticket's current version (someone else confirmed in between).
        """
        from google.api_core.exceptions import FailedPrecondition

        customer_ref = self._db.collection(self._customers).document(customer_id)
        ticket_ref = customer_ref.collection("tickets").document(ticket_id)
        sugg_ref = self._col.document(suggestion_id)

        def check(snap: Any) -> tuple[dict[str, Any] | None, int]:
            """(the stored record if this is a repeat, the current version); Conflict if outdated."""
            if not snap.exists:
                raise NotFound(f"ticket {ticket_id!r} not found for this customer")
            current = (snap.to_dict() or {}).get("next_steps") or {}
            confirmed = bool(current) and not current.get("unconfirmed", False)
            version = int(current.get("version", 1 if confirmed else 0))
            if confirmed and current.get("fingerprint") == record["fingerprint"]:
                return current | {"version": version}, version
            if base_version != version:
                raise Conflict(
                    f"next steps were confirmed at version {version} since version {base_version}; "
                    "reload and confirm again",
                    current=current_state(current, version),
                )
            return None, version

        # Optimistic concurrency without a lock queue: the write is conditional on the ticket being
        # unchanged since it was read (update-time precondition). A writer that loses re-reads and
        # gets the winner's state as a 409 at once, instead of waiting out transaction retries.
        for _ in range(3):
            snap = ticket_ref.get()
            repeat, version = check(snap)
            if repeat is not None:
                return repeat
            stored = record | {"version": version + 1}
            batch = self._db.batch()
            batch.update(
                ticket_ref, {"next_steps": stored}, option=self._db.write_option(last_update_time=snap.update_time)
            )
            batch.update(sugg_ref, {"status": "confirmed", "confirmed_at": record["confirmed_at"]})
            try:
                batch.commit()
            except FailedPrecondition:
                continue  # the ticket changed since the read: check again (a confirmation there is a 409)
            return stored
        raise Contention("the ticket keeps changing; try again")


def current_state(record: dict[str, Any], version: int) -> dict[str, Any]:
    """What a refused confirmation is shown: who confirmed what, at which version (no suggestion body)."""
    confirmed_at = record.get("confirmed_at")
    return {
        "version": version,
        "suggestion_id": record.get("suggestion_id"),
        "confirmed": record.get("confirmed"),
        "queue_code": record.get("queue_code"),
        "confirmed_by": record.get("confirmed_by"),
        "confirmed_at": confirmed_at.isoformat() if isinstance(confirmed_at, datetime) else confirmed_at,
    }
