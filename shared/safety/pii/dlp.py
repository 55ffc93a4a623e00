"""Google Cloud Sensitive Data Protection (DLP) as the PII backend (``CX_PII_BACKEND=dlp``).

One ``inspect_content`` call per batch: the texts go as the rows of a one-column table,
so a whole prompt context costs one request. DLP's findings are merged with the local
pattern recognisers (never less masking than the local backend); when the call fails,
the local backend with NER answers and a warning is logged, so masking never stops.
The client is injectable (tests pass a fake); the library is imported on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from shared.platform import logs
from shared.safety.pii.base import Span, resolve_overlaps
from shared.safety.pii.local import LocalDetector


class DlpDetector:
    def __init__(self, local: LocalDetector, project: str, *, location: str = "global", client: Any = None,
                 timeout_s: float = 10.0) -> None:  # fmt: skip
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
            "item": {"table": {"headers": [{"name": "text"}],
                               "rows": [{"values": [{"string_value": t}]} for t in texts]}},
        }  # fmt: skip

    def detect_many(self, texts: Sequence[str], *, ner: bool = True) -> list[list[Span]]:
        texts = list(texts)
        if not any(t.strip() for t in texts):
            return [[] for _ in texts]
        try:
            response = self.client.inspect_content(request=self.request(texts), timeout=self._timeout)
        except Exception as exc:  # any transport or API failure: mask locally instead
            logs.get_logger("pii").warning(
                "DLP inspection failed; masking with the local backend",
                extra={"fields": {"error": type(exc).__name__}},
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
