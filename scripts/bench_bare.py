"""The baseline ``cx bench functions`` measures every function against: one Firestore document read.

Served exactly as a project function is (``functions-framework --target=bare_read`` with gunicorn),
with one lazily created Firestore client per instance and nothing else: no settings, no identity,
no models. What a project function costs above this is what the project itself adds.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import functions_framework

COLLECTION = os.environ.get("CX_CUSTOMERS_COLLECTION", "customers")
_client: Any = None
_lock = threading.Lock()


def _db() -> Any:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                from google.cloud import firestore

                _client = firestore.Client(project=os.environ.get("CX_PROJECT") or "cx-copilot-local")
    return _client


@functions_framework.http
def bare_read(request: Any) -> tuple[dict[str, Any], int]:
    """Read the customer document named in the body; answer whether it exists and how many fields it has."""
    body = request.get_json(silent=True) or {}
    snap = _db().collection(COLLECTION).document(str(body.get("customer_id", "C-1001"))).get()
    return {"found": snap.exists, "fields": len(snap.to_dict() or {})}, 200
