"""Republish events whose publish failed (Firestore outbox → Pub/Sub) until the outbox is empty.

Usage: python -m scripts.drain_outbox   (uses the same CX_* settings as the functions; deployed, the
``outbox_drain`` function does the same on a schedule)
"""

from __future__ import annotations

import sys

from shared.platform import clients
from shared.platform.events import FirestoreOutbox, drain_outbox
from shared.settings import load_settings


def main() -> int:
    settings = load_settings()
    outbox = FirestoreOutbox(clients.firestore_client(settings), settings.outbox_collection)
    sent = drain_outbox(outbox, clients.publisher_client(settings))
    left = len(outbox.pending(limit=1))
    print(f"republished {sent} event(s) from {settings.outbox_collection}; {'some left' if left else 'empty'}")
    return 0 if not left else 1


if __name__ == "__main__":
    sys.exit(main())
