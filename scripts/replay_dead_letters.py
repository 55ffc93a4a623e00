"""Replay parked ticket-close messages from the dead-letter subscription onto the ticket-close topic.

    python -m scripts.replay_dead_letters --dry-run                 # list what is parked, change nothing
    python -m scripts.replay_dead_letters [--project P] [--limit N] # republish, then acknowledge
    python -m scripts.replay_dead_letters --include-invalid         # also payloads ticket_closed rejected

A message is acknowledged on the dead-letter subscription only after Pub/Sub accepted its
republished copy, so a crash or a failed publish leaves it parked (at worst it is replayed
twice: ticket_closed is idempotent on the ticket close). Messages ticket_closed itself
dead-lettered as invalid (they carry an ``error`` attribute) would only bounce back, so they
stay parked unless ``--include-invalid`` is given (after the payload or the schema was fixed).
Without ``--project`` it runs against the local Pub/Sub emulator.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

from shared.settings import load_settings

DEFAULT_SUBSCRIPTION = "ticket_closed-dead-letters"  # infra/terraform/pubsub.tf: "${each.key}-dead-letters"
PUBSUB_ATTRIBUTE_PREFIX = "CloudPubSubDeadLetter"  # added by Pub/Sub when it forwards a message
HANDLER_ATTRIBUTES = ("error", "source", "message_id")  # added by shared/tickets.py when it rejects a payload


@dataclass
class Parked:
    message_id: str
    data: bytes
    attributes: dict[str, str]
    delivery_attempts: str | None

    @property
    def invalid(self) -> bool:
        """Rejected by ticket_closed's validation (not a delivery failure)."""
        return "error" in self.attributes and self.attributes.get("source") == "ticket_closed"

    def replay_attributes(self, subscription: str) -> dict[str, str]:
        kept = {
            k: v
            for k, v in self.attributes.items()
            if not k.startswith(PUBSUB_ATTRIBUTE_PREFIX) and k not in HANDLER_ATTRIBUTES
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
        "--subscription", help=f"default: {DEFAULT_SUBSCRIPTION} (the emulator's DLQ subscription without a project)"
    )
    parser.add_argument("--topic", help="topic to republish to (default: CX_TICKET_CLOSED_TOPIC)")
    parser.add_argument("--dry-run", action="store_true", help="list what is parked; publish and ack nothing")
    parser.add_argument("--include-invalid", action="store_true", help="also replay payloads ticket_closed rejected")
    parser.add_argument("--limit", type=int, default=10_000)
    args = parser.parse_args(argv)
    settings = load_settings()
    project = args.project or settings.gcp_project_or_local

    from google.cloud import pubsub_v1

    subscriber, publisher = pubsub_v1.SubscriberClient(), pubsub_v1.PublisherClient()
    local = settings.local_topics[settings.ticket_closed_dlq_topic][0]
    name = args.subscription or (DEFAULT_SUBSCRIPTION if (args.project or settings.project) else local)
    sub_path = subscriber.subscription_path(project, name)
    topic_path = publisher.topic_path(project, args.topic or settings.ticket_closed_topic)
    with subscriber:
        res = replay(
            subscriber,
            publisher,
            sub_path,
            topic_path,
            dry_run=args.dry_run,
            include_invalid=args.include_invalid,
            limit=args.limit,
        )
    for p in res.listed:
        why = p.attributes.get("error", f"{p.delivery_attempts or '?'} delivery attempts")[:100]
        print(f"  {p.message_id}  {len(p.data)} bytes  {'invalid' if p.invalid else 'undelivered'}: {why}")
    verb = "would replay" if args.dry_run else "republished"
    count = len([p for p in res.listed if include(p, args.include_invalid)]) if args.dry_run else len(res.republished)
    print(f"{verb} {count} to {topic_path}; kept {len(res.kept_invalid)} invalid; {len(res.failed)} failed")
    return 1 if res.failed else 0


def include(parked: Parked, include_invalid: bool) -> bool:
    return include_invalid or not parked.invalid


if __name__ == "__main__":
    sys.exit(main())
