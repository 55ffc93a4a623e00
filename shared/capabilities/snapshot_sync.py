"""Snapshot sync: change events from the company's CRM, order and ticketing systems into Firestore.

One Pub/Sub message is one CloudEvent (schema in :mod:`shared.data.sync`), in structured
content mode (the whole event as JSON in the message body) or binary content mode (``ce-*``
message attributes, the payload as the body), as the CloudEvents Pub/Sub binding defines.

Delivery is at least once and unordered; the handler says explicitly what happens:

* invalid (not JSON, unknown type, a field failing the schema) → published to the
  dead-letter topic with the reason, then acknowledged: retrying cannot fix it;
* stale or duplicate (the stored record is as new or newer) → acknowledged, nothing changes;
* a child record (order, ticket, interaction, product, consent) for a customer not yet
  known → raised, so Pub/Sub retries with backoff until the customer arrives (then the
  subscription's dead-letter policy parks it); for a deleted customer → stale;
* Firestore errors → raised (retried).

After the changes of a message (or a batch) are stored, the prepared context of every customer
they changed is rebuilt (shared.safety.prepared_context), so the next agent request reads one
document; if that fails the change stands and the next request builds the context.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from shared.data.sync import CHANGE_EVENT
from shared.platform import logs
from shared.platform.errors import NotFound
from shared.safety.pii.base import customer_key

if TYPE_CHECKING:
    from shared.runtime import Runtime


class InvalidChange(ValueError):
    """The message cannot become a change event; the reason goes with the dead letter."""


def parse(data: bytes, attributes: dict[str, str] | None = None) -> Any:
    """The validated change event of one Pub/Sub message (either CloudEvents content mode)."""
    attributes = attributes or {}
    try:
        body = json.loads(data or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidChange(f"body is not JSON: {exc}") from None
    if "ce-type" in attributes or "ce-specversion" in attributes:  # binary content mode
        body = {k[3:]: v for k, v in attributes.items() if k.startswith("ce-")} | {"data": body}
    if not isinstance(body, dict):
        raise InvalidChange("body must be a JSON object (a CloudEvent)")
    try:
        return CHANGE_EVENT.validate_python(body)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "problem": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise InvalidChange(json.dumps(problems)) from None


def change_name(event: Any) -> str:
    """``cx.customer.upserted.v1`` → ``customer.upserted``."""
    return str(event.type)[3:].rsplit(".v", 1)[0]


def _dead_letter(rt: Runtime, data: bytes, reason: str, message_id: str, attributes: dict[str, str] | None) -> Any:
    """Park the message as it came (its attributes too: a binary-mode event's ``ce-*`` are half of it, and
    ``cx dlq replay --include-invalid`` republishes them) with the reason."""
    verdict = {"error": reason[:1000], "message_id": message_id or "", "source": "snapshot_sync"}
    original = {k: v for k, v in (attributes or {}).items() if k not in verdict}
    return rt.publisher.publish(rt.sync_dead_letter_topic, data, **original, **verdict)


def handle(data: bytes, rt: Runtime, message_id: str = "", attributes: dict[str, str] | None = None) -> str:
    """Process one Pub/Sub message; returns applied | stale | duplicate | dead_lettered, raises to be retried."""
    (outcome,) = handle_many([(data, attributes)], rt, message_ids=[message_id], retry_missing=True)
    return outcome


def handle_many(
    messages: list[tuple[bytes, dict[str, str] | None]],
    rt: Runtime,
    *,
    message_ids: list[str] | None = None,
    retry_missing: bool = False,
) -> list[str]:
    """Messages in order, as one call (imports, the demo, replays): the same parsing, checks and writes
    as one message at a time, with one customer's consecutive interactions sharing transactions.

    ``missing`` (a change for a customer not known yet) raises :class:`NotFound` with
    ``retry_missing`` (the function: Pub/Sub redelivers), else it is returned for the caller to report.
    """
    log = logs.get_logger("snapshot_sync")
    ids = message_ids or [""] * len(messages)
    outcomes: list[str] = [""] * len(messages)
    valid: list[tuple[int, str, Any]] = []
    pending = []
    for n, (data, attributes) in enumerate(messages):
        try:
            event = parse(data, attributes)
        except InvalidChange as exc:
            pending.append(_dead_letter(rt, data, str(exc), ids[n], attributes))
            problem = {"message_id": ids[n], "reason": str(exc)[:1000]}
            log.warning("invalid change event dead-lettered", extra={"fields": problem})
            outcomes[n] = "dead_lettered"
            continue
        valid.append((n, change_name(event), event))
    for future in pending:
        future.result(timeout=30)  # not acknowledged until the dead letters are safe
    applied = rt.snapshot_sync.apply_many([(name, event.data) for _, name, event in valid])
    if rt.prepared_contexts is not None:  # maintained on write: each changed customer's context, once per batch
        changed = [e.data.customer_id for (_, name, e), o in zip(valid, applied, strict=True) if o == "applied"]
        deleted = {
            e.data.customer_id for (_, name, e), o in zip(valid, applied, strict=True) if name == "customer.deleted"
        }
        rt.prepared_contexts.after_write([c for c in changed if c not in deleted], source="snapshot_sync")
    for (n, name, event), outcome in zip(valid, applied, strict=True):
        change = event.data
        fields = {
            "change": name,
            "event_id": event.id,
            "source": event.source,
            "customer_key": customer_key(change.customer_id, rt.settings.pseudonym_key),
        }
        if outcome == "missing" and rt.snapshot_sync.tombstoned(change.customer_id):
            outcome = "stale"  # the customer was deleted: late changes for it are dropped
        if outcome == "missing" and retry_missing:
            log.info("change for a customer not yet synced; retried", extra={"fields": fields})
            raise NotFound(f"customer of change {event.id!r} not known yet")
        if len(messages) == 1:
            log.info(f"change {outcome}", extra={"fields": fields | {"outcome": outcome}})
        outcomes[n] = outcome
    return outcomes
