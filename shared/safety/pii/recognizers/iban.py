"""IBAN-shaped tokens, masked whole whether or not the mod-97 checksum holds (a mistyped IBAN
is personal data); length per country from ``iban.lengths`` (ISO 13616 registry)."""

from __future__ import annotations

import re

from shared.safety.pii.base import Recognizer, Span

_IBAN_START = re.compile(r"(?<![\w-])([A-Za-z]{2})(\d{2})(?=[ ]?[A-Za-z0-9])")
_IBAN_GROUP = re.compile(r"[ ]?([A-Za-z0-9]{1,30})")


class IbanRecognizer(Recognizer):
    name = "iban"

    def analyze(self, text: str) -> list[Span]:
        cfg = self.config.iban
        out = []
        for m in _IBAN_START.finditer(text):
            country = m.group(1)
            if country.upper() not in cfg.lengths and not country.isupper():
                continue
            target = cfg.lengths.get(country.upper(), 34)
            count, pos = 4, m.end()
            while count < target:
                g = _IBAN_GROUP.match(text, pos)
                if g is None:
                    break
                group = g.group(1)
                if text[g.end() : g.end() + 1] in ("-", "@"):
                    break  # the group runs into another token
                if group.isalpha() and count >= 8:
                    break  # a following word ("... 00 for the refund")
                count += len(group)
                pos = g.end()
            if count >= cfg.min_length:
                out.append(Span("IBAN", m.start(), pos, text[m.start() : pos]))
        return out
