"""Republish events whose publish failed (Firestore outbox → Pub/Sub), deleting each once accepted.

Usage: python -m scripts.drain_outbox   (uses the same CX_* settings as the functions)
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
    print(f"republished {sent} event(s) from {settings.outbox_collection}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
