"""Replay parked messages from the dead-letter subscriptions onto the topics they came from.

    python -m scripts.replay_dead_letters --dry-run                      # list what is parked everywhere
    python -m scripts.replay_dead_letters [--project P] [--limit N]      # republish, then acknowledge
    python -m scripts.replay_dead_letters --source snapshot_sync         # one source only
    python -m scripts.replay_dead_letters --include-invalid              # also payloads the function rejected

Sources (:data:`SOURCES`), one per dead-letter subscription infra/terraform creates: ``ticket_closed``
(cx-ticket-closed), ``snapshot_sync`` (cx-snapshot-sync) and ``events_bq`` (events the BigQuery
subscription could not write, back onto cx-events; cloud only: locally events land through a pull
subscription). The commitment sweep and the outbox drain have none: their triggers are superseded by the
next scheduled one. Each message is republished with its attributes, minus Pub/Sub's dead-letter
bookkeeping, plus ``replayed_from`` and ``replay_of``.

A message is acknowledged on the dead-letter subscription only after Pub/Sub accepted its
republished copy, so a crash or a failed publish leaves it parked (at worst it is replayed
twice: ticket_closed and snapshot_sync are idempotent). Messages a function dead-lettered itself as
invalid (an ``error`` attribute and ``source`` = the function) would only bounce back, so they stay
parked unless ``--include-invalid`` is given (after the payload or the schema was fixed).
Without ``--project`` it runs against the local Pub/Sub emulator.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

from shared.settings import load_settings

PUBSUB_ATTRIBUTE_PREFIX = "CloudPubSubDeadLetter"  # added by Pub/Sub when it forwards a message
# added by ticket_closed and snapshot_sync (shared/capabilities) when they reject a payload themselves
HANDLER_ATTRIBUTES = ("error", "source", "message_id")


@dataclass(frozen=True)
class Source:
    """One dead-letter subscription Terraform creates and where its messages came from."""

    name: str
    subscription: str  # infra/terraform: pubsub.tf "${each.key}-dead-letters", sync.tf
    topic_setting: str  # Settings field: the topic to republish to
    dlq_setting: str | None  # Settings field of the dead-letter topic (its -local pull subscription); None: cloud only
    handler: str | None  # the function that dead-letters invalid payloads itself (its ``source`` attribute)


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "ticket_closed",
            "ticket_closed-dead-letters",
            "ticket_closed_topic",
            "ticket_closed_dlq_topic",
            "ticket_closed",
        ),
        Source(
            "snapshot_sync",
            "snapshot_sync-dead-letters",
            "snapshot_sync_topic",
            "snapshot_sync_dlq_topic",
            "snapshot_sync",
        ),
        Source("events_bq", "events_bq-dead-letters", "events_topic", None, None),
    )
}
DEFAULT_SUBSCRIPTION = SOURCES["ticket_closed"].subscription


@dataclass
class Parked:
    message_id: str
    data: bytes
    attributes: dict[str, str]
    delivery_attempts: str | None
    handler: str | None = "ticket_closed"

    @property
    def invalid(self) -> bool:
        """Rejected by the function's own validation (not a delivery failure)."""
        return self.handler is not None and "error" in self.attributes and self.attributes.get("source") == self.handler

    def replay_attributes(self, subscription: str) -> dict[str, str]:
        """The original attributes: without Pub/Sub's dead-letter bookkeeping, and without the reason a function
        added when it rejected the payload; an undelivered message keeps every attribute it was published with."""
        dropped = HANDLER_ATTRIBUTES if self.invalid else ()
        kept = {
            k: v for k, v in self.attributes.items() if not k.startswith(PUBSUB_ATTRIBUTE_PREFIX) and k not in dropped
        }
        return {**kept, "replayed_from": subscription.rsplit("/", 1)[-1], "replay_of": self.message_id}


@dataclass
class ReplayResult:
    republished: list[str] = field(default_factory=list)
    kept_invalid: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    listed: list[Parked] = field(default_factory=list)


def replay(
    subscriber: Any,
    publisher: Any,
    subscription: str,
    topic: str,
    *,
    dry_run: bool = False,
    include_invalid: bool = False,
    limit: int = 10_000,
    batch_size: int = 100,
    timeout: float = 30.0,
    handler: str | None = "ticket_closed",
) -> ReplayResult:
    """Pull until the subscription has nothing new; republish and ack each message, or hold it.

    Held messages (dry run, invalid, failed publish) keep their ack deadline extended while the
    run lasts, so each is seen once, and are released (deadline 0) at the end for the next run.
    """
    result = ReplayResult()
    seen: set[str] = set()
    held: list[str] = []
    try:
        while len(seen) < limit:
            resp = subscriber.pull(
                subscription=subscription, max_messages=min(batch_size, limit - len(seen)), timeout=timeout
            )
            fresh = [m for m in resp.received_messages if m.message.message_id not in seen]
            held += [m.ack_id for m in resp.received_messages if m.message.message_id in seen]
            if not fresh:
                break
            pending: list[tuple[Any, Parked, Any]] = []
            hold: list[str] = []
            for m in fresh:
                seen.add(m.message.message_id)
                attrs = dict(m.message.attributes)
                parked = Parked(
                    m.message.message_id,
                    bytes(m.message.data),
                    attrs,
                    attrs.get(f"{PUBSUB_ATTRIBUTE_PREFIX}SourceDeliveryCount"),
                    handler,
                )
                result.listed.append(parked)
                if dry_run or (parked.invalid and not include_invalid):
                    if parked.invalid and not include_invalid:
                        result.kept_invalid.append(parked.message_id)
                    hold.append(m.ack_id)
                    continue
                future = publisher.publish(topic, parked.data, **parked.replay_attributes(subscription))
                pending.append((m, parked, future))
            done = []
            for m, parked, future in pending:
                try:
                    future.result(timeout=timeout)
                except Exception as exc:  # the message stays parked
                    result.failed[parked.message_id] = repr(exc)
                    hold.append(m.ack_id)
                    continue
                done.append(m.ack_id)
                result.republished.append(parked.message_id)
            if done:
                subscriber.acknowledge(subscription=subscription, ack_ids=done)
            if hold:
                subscriber.modify_ack_deadline(subscription=subscription, ack_ids=hold, ack_deadline_seconds=600)
                held += hold
    finally:
        if held:
            subscriber.modify_ack_deadline(subscription=subscription, ack_ids=held, ack_deadline_seconds=0)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", help="Google Cloud project (default: CX_PROJECT, else the local emulator)")
    parser.add_argument(
        "--source", choices=["all", *SOURCES], default="all", help="which dead letters to replay (default: all)"
    )
    parser.add_argument("--subscription", help="override the dead-letter subscription (with one --source)")
    parser.add_argument("--topic", help="override the topic to republish to (with one --source)")
    parser.add_argument("--dry-run", action="store_true", help="list what is parked; publish and ack nothing")
    parser.add_argument(
        "--include-invalid", action="store_true", help="also replay payloads the function rejected as invalid"
    )
    parser.add_argument("--limit", type=int, default=10_000, help="messages per source")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds one pull waits for messages (and a publish to succeed)"
    )
    args = parser.parse_args(argv)
    if args.source == "all" and (args.subscription or args.topic):
        parser.error("--subscription and --topic name one source's: give --source too")
    settings = load_settings()
    cloud = bool(args.project or settings.project)
    project = args.project or settings.gcp_project_or_local
    chosen = list(SOURCES.values()) if args.source == "all" else [SOURCES[args.source]]
    if not cloud and all(s.dlq_setting is None for s in chosen):
        parser.error(f"{args.source} dead letters exist only in a project (--project): the emulator has none")

    from google.cloud import pubsub_v1

    subscriber, publisher = pubsub_v1.SubscriberClient(), pubsub_v1.PublisherClient()
    failed = 0
    with subscriber:
        for source in chosen:
            if not cloud and source.dlq_setting is None:
                print(f"{source.name}: skipped (cloud only: locally events land through a pull subscription)")
                continue
            local = settings.local_topics[getattr(settings, source.dlq_setting)][0] if source.dlq_setting else ""
            sub_path = subscriber.subscription_path(
                project, args.subscription or (source.subscription if cloud else local)
            )
            topic_path = publisher.topic_path(project, args.topic or getattr(settings, source.topic_setting))
            res = replay(
                subscriber,
                publisher,
                sub_path,
                topic_path,
                dry_run=args.dry_run,
                include_invalid=args.include_invalid,
                limit=args.limit,
                timeout=args.timeout,
                handler=source.handler,
            )
            print(f"{source.name}: {sub_path}")
            for p in res.listed:
                why = p.attributes.get("error", f"{p.delivery_attempts or '?'} delivery attempts")[:100]
                print(f"  {p.message_id}  {len(p.data)} bytes  {'invalid' if p.invalid else 'undelivered'}: {why}")
            verb = "would replay" if args.dry_run else "republished"
            count = (
                len([p for p in res.listed if include(p, args.include_invalid)])
                if args.dry_run
                else len(res.republished)
            )
            print(f"  {verb} {count} to {topic_path}; kept {len(res.kept_invalid)} invalid; {len(res.failed)} failed")
            failed += len(res.failed)
    return 1 if failed else 0


def include(parked: Parked, include_invalid: bool) -> bool:
    return include_invalid or not parked.invalid


if __name__ == "__main__":
    sys.exit(main())
