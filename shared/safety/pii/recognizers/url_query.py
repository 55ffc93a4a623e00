"""Personal data inside URL query strings ("…/verify?email=anna%40example.com&phone=0151…"): the value
of a parameter named in ``url_query.params`` is masked as that parameter's entity, whatever its shape."""

from __future__ import annotations

import re

from shared.safety.pii.base import PiiConfig, Recognizer, Span

_PARAM = re.compile(r"[?&;]([A-Za-z][\w.\-\[\]]*)=([^&;#\s\"'<>]+)")


class UrlQueryRecognizer(Recognizer):
    name = "url_query"

    def __init__(self, config: PiiConfig) -> None:
        super().__init__(config)
        if config.url_query is None:
            raise ValueError("pii.yaml: recognizer url_query needs a `url_query` section")
        self._params = {k.lower().replace("-", "_"): v for k, v in config.url_query.params.items()}

    def analyze(self, text: str) -> list[Span]:
        if "=" not in text:
            return []
        out = []
        for m in _PARAM.finditer(text):
            entity = self._params.get(m.group(1).lower().replace("-", "_"))
            if entity:
                out.append(Span(entity, m.start(2), m.end(2), m.group(2)))
        return out
