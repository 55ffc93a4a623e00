"""Google Cloud Sensitive Data Protection (DLP) as the PII backend (``CX_PII_BACKEND=dlp``).

One ``inspect_content`` call per batch: the texts go as the rows of a one-column table,
so a whole prompt context costs one request. DLP's findings are merged with the local
pattern recognisers (never less masking than the local backend); when a call fails,
the local backend with NER answers, so masking never stops: a transient failure logs a
WARNING, a denied call (API disabled, role missing) an ERROR. At start, :meth:`DlpDetector.probe`
makes one call and raises :class:`DlpUnavailable` when it is denied, so a deployment that
chose ``CX_PII_BACKEND=dlp`` without the API or the role does not start (shared/runtime.py).
The client is injectable (tests pass a fake); the library is imported on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from shared.platform import logs
from shared.safety.pii.base import Span, resolve_overlaps
from shared.safety.pii.local import LocalDetector

# Errors that mean "this deployment cannot use DLP" rather than "try again".
DENIED = ("PermissionDenied", "Unauthenticated", "Forbidden", "NotFound", "FailedPrecondition")


class DlpUnavailable(RuntimeError):
    """The DLP backend was chosen but its calls are denied: a configuration error, at start."""


class DlpDetector:
    def __init__(
        self,
        local: LocalDetector,
        project: str,
        *,
        location: str = "global",
        client: Any = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._local = local
        self._parent = f"projects/{project}/locations/{location}"
        self._client = client
        self._timeout = timeout_s
        self._lock = threading.Lock()
        self.config = local.config

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                from google.cloud import dlp_v2

                self._client = dlp_v2.DlpServiceClient()
            return self._client

    def request(self, texts: Sequence[str]) -> dict[str, Any]:
        dlp = self.config.dlp
        return {
            "parent": self._parent,
            "inspect_config": {
                "info_types": [{"name": name} for name in dlp.info_types],
                "min_likelihood": dlp.min_likelihood,
                "include_quote": True,
            },
            "item": {
                "table": {"headers": [{"name": "text"}], "rows": [{"values": [{"string_value": t}]} for t in texts]}
            },
        }

    def probe(self) -> None:
        """One inspection at start: :class:`DlpUnavailable` (after an ERROR log) if DLP refuses this
        deployment; a transient failure only warns (the per-call fallback covers it)."""
        try:
            self.client.inspect_content(request=self.request(["CX Copilot start-up check"]), timeout=self._timeout)
        except Exception as exc:
            name = type(exc).__name__
            if name not in DENIED:
                logs.get_logger("pii").warning(
                    "DLP start-up check failed; will retry per call", extra={"fields": {"error": name}}
                )
                return
            logs.get_logger("pii").error(
                "DLP backend unusable: enable dlp.googleapis.com and grant "
                "roles/dlp.user to the runtime service account, or set CX_PII_BACKEND=local",
                extra={"fields": {"error": name, "parent": self._parent}},
            )
            raise DlpUnavailable(
                f"CX_PII_BACKEND=dlp but Sensitive Data Protection refused the call ({name}); enable "
                "dlp.googleapis.com and grant roles/dlp.user, or use CX_PII_BACKEND=local"
            ) from exc

    def detect_many(self, texts: Sequence[str], *, ner: bool = True) -> list[list[Span]]:
        texts = list(texts)
        if not any(t.strip() for t in texts):
            return [[] for _ in texts]
        try:
            response = self.client.inspect_content(request=self.request(texts), timeout=self._timeout)
        except Exception as exc:  # any transport or API failure: mask locally instead
            denied = type(exc).__name__ in DENIED
            logs.get_logger("pii").log(
                40 if denied else 30,
                "DLP inspection " + ("denied" if denied else "failed") + "; masking with the local backend",
                extra={"fields": {"error": type(exc).__name__, "dlp_fallback": True}},
            )
            return self._local.detect_many(texts, ner=ner)
        found = self._local.detect_many(texts, ner=False)
        mapping = self.config.dlp.info_types
        for f in response.result.findings:
            entity = mapping.get(f.info_type.name)
            locations = f.location.content_locations
            if entity is None or not locations:
                continue
            row = locations[0].record_location.table_location.row_index
            if not 0 <= row < len(texts):
                continue
            text = texts[row]
            start, end = f.location.codepoint_range.start, f.location.codepoint_range.end
            if f.quote and text[start:end] != f.quote:  # offsets relative to the table: find the quote
                start = text.find(f.quote)
                if start < 0:
                    continue
                end = start + len(f.quote)
            found[row].append(Span(entity, start, end, text[start:end]))
        return [resolve_overlaps(spans, self.config.entities) for spans in found]
