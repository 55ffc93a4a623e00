"""How a capability gets its customer: the parts it declares, through the access door, and its context.

Every capability module that reads a customer declares ``READS`` (shared.data.snapshots.Reads):
the loader reads those parts and nothing else, and tests/integration/test_reads.py counts the
documents each request reads. context_summary, reply_draft and next_best_action read the
customer document and the prepared context (one round trip; shared.safety.prepared_context);
with ``CX_PREPARED_CONTEXT=false`` they read the whole bounded snapshot and build and mask the
context per request as before (:data:`SNAPSHOT_PATH`), which is also what the prepared path is
proven equal to (tests/integration/test_prepared_context.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from shared.data.snapshots import FULL, Reads, SnapshotRead
from shared.platform.calls import CallContext
from shared.safety.access import CustomerView
from shared.safety.context_policy import BuiltContext, build_context, pseudonymizer_for
from shared.safety.pii.base import Pseudonymizer
from shared.safety.prepared_context import prompt_context

if TYPE_CHECKING:
    from shared.runtime import Runtime

PREPARED = Reads(prepared=True)
"""The customer document and the prepared context, in one batched get."""
SNAPSHOT_PATH = FULL
"""What the prepared-context capabilities read with ``CX_PREPARED_CONTEXT=false``."""


def open_customer(
    rt: Runtime,
    call: CallContext,
    capability: str,
    customer_id: str,
    reads: Reads,
    *,
    channel: str | None = None,
    discloses: bool = True,
    limit: int | None = None,
) -> tuple[CustomerView, SnapshotRead]:
    """Read exactly ``reads`` (the latest ``limit``, default the snapshot limit), then authorize and audit."""
    box: list[SnapshotRead] = []

    def read() -> Any:
        box.append(rt.snapshots.read(customer_id, reads, limit or rt.settings.snapshot_limit))
        return box[0].snapshot

    view = rt.customer_access.open(call, capability, customer_id, read, channel=channel, discloses=discloses)
    return view, box[0]


@dataclass(frozen=True)
class CustomerContext:
    """One request's view of a customer, ready for a prompt."""

    view: CustomerView
    built: BuiltContext
    """The policy-allowed, budgeted context, unmasked (grounding checks compare the model's claims with it)."""
    pseudo: Pseudonymizer
    """Restores the placeholders the prompt shows; masks the request's own text."""
    own: set[str]
    """The customer's own identifiers, lower case, from their stored record only."""
    masked: dict[str, Any] | None = None
    """``built.data`` as masked when the snapshot was written (prepared context); None: masked per request."""

    def prompt_context(self, request_text: dict[str, Any] | None = None) -> dict[str, Any]:
        """The masked customer context, or with ``request_text`` ``{"customer_context": ..., **request_text}``.

        Prepared: only ``request_text`` is masked now. Snapshot path: everything in one batch, as always.
        """
        if request_text is None:
            return self.masked if self.masked is not None else self.pseudo.mask_obj(self.built.data)
        if self.masked is not None:
            return {"customer_context": self.masked, **self.pseudo.mask_obj(request_text)}
        return dict(self.pseudo.mask_obj({"customer_context": self.built.data, **request_text}))


def customer_context(
    rt: Runtime,
    call: CallContext,
    capability: str,
    customer_id: str,
    *,
    channel: str | None,
    ticket_id: str | None = None,
) -> CustomerContext:
    """The budgeted context of context_summary and reply_draft, and the pseudonymizer that goes with it.

    With the prepared context: two documents (customer, prepared context) and, only when the
    current ticket is older than the snapshot's latest tickets, that ticket; no NER. Without:
    the bounded snapshot and the current ticket, policy, budget and masking per request.
    """
    if rt.prepared_contexts is not None:
        view, read = open_customer(rt, call, capability, customer_id, PREPARED, channel=channel)
        prepared = rt.prepared_contexts.current(customer_id, read.prepared, capability=capability)
        ticket = None
        if ticket_id:
            ticket = prepared.ticket(ticket_id) or rt.snapshots.get_ticket(customer_id, ticket_id)
        masked, pseudo = prompt_context(prepared, rt.pii_detector, view.allowed, ticket)
        plain = replace(masked, data=pseudo.restore_obj(masked.data))
        return CustomerContext(view, plain, pseudo, prepared.own_values, masked.data)
    view, _ = open_customer(rt, call, capability, customer_id, SNAPSHOT_PATH, channel=channel)
    current = rt.snapshots.get_ticket(customer_id, ticket_id) if ticket_id else None
    built = build_context(
        view.snapshot, allowed=view.allowed, token_budget=rt.settings.context_token_budget, current_ticket=current
    )
    pseudo = pseudonymizer_for(view.snapshot, rt.pii_detector)
    # the customer's own values come from their stored record only, taken before any text is masked (#24)
    return CustomerContext(view, built, pseudo, {v.lower() for v in pseudo.placeholders.values()})


@dataclass(frozen=True)
class CustomerIdentifiers:
    """A customer for a capability whose prompt shows no stored history (next_best_action)."""

    view: CustomerView
    pseudo: Pseudonymizer
    """The customer's own identifiers registered; masks the request's text."""
    recent_scores: list[float]
    """Sentiment scores of the latest contacts, newest first."""


def customer_identifiers(
    rt: Runtime, call: CallContext, capability: str, customer_id: str, *, channel: str | None
) -> CustomerIdentifiers:
    if rt.prepared_contexts is not None:
        view, read = open_customer(rt, call, capability, customer_id, PREPARED, channel=channel)
        prepared = rt.prepared_contexts.current(customer_id, read.prepared, capability=capability)
        pseudo = Pseudonymizer.from_mapping(rt.pii_detector, prepared.mapping, keep=())
        return CustomerIdentifiers(view, pseudo, list(prepared.recent_scores))
    view, _ = open_customer(rt, call, capability, customer_id, SNAPSHOT_PATH, channel=channel)
    snapshot = view.snapshot
    return CustomerIdentifiers(
        view, pseudonymizer_for(snapshot, rt.pii_detector), [i.sentiment_score for i in snapshot.interactions]
    )
