"""E-mail addresses written to dodge filters: "anna dot schmidt at example dot com", "name(at)firma.de",
"max [at] web [dot] de", "name ät gmx punkt de". Words for "@" and "." per language in
``obfuscated_email``. A plain spaced " at " counts only when a spelled-out dot word appears too
("look at example.com" stays)."""

from __future__ import annotations

import re

from shared.safety.pii.base import PiiConfig, Recognizer, Span


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


class ObfuscatedEmailRecognizer(Recognizer):
    name = "obfuscated_email"

    def __init__(self, config: PiiConfig) -> None:
        super().__init__(config)
        if config.obfuscated_email is None:
            raise ValueError("pii.yaml: recognizer obfuscated_email needs an `obfuscated_email` section")
        at, dot = _alt(config.obfuscated_email.at_words), _alt(config.obfuscated_email.dot_words)
        word_dot = rf"(?:\s*[\(\[\{{<]\s*(?:{dot})\s*[\)\]\}}>]\s*|\s+(?:{dot})\s+)"
        self._word_dot = re.compile(word_dot, re.IGNORECASE)
        any_dot = rf"(?:{word_dot}|\.)"
        bracket_at = rf"\s*[\(\[\{{<]\s*(?:{at}|@)\s*[\)\]\}}>]\s*"
        spaced_at = rf"\s+(?:{at})\s+"
        part = r"[^\W_][\w+-]*"
        self._rx = re.compile(
            rf"(?<![\w.@])({part}(?:{any_dot}{part}){{0,3}})({bracket_at}|{spaced_at})({part}(?:{any_dot}{part}){{0,3}}{any_dot}[a-zA-Z]{{2,6}})(?![\w@])",
            re.IGNORECASE,
        )

    def analyze(self, text: str) -> list[Span]:
        out = []
        for m in self._rx.finditer(text):
            local, at, domain = m.groups()
            plain_at = not any(ch in at for ch in "([{<")
            if plain_at and not (self._word_dot.search(local) or self._word_dot.search(domain)):
                continue  # "look at example.com": a plain " at " needs a spelled-out dot too
            out.append(Span("EMAIL", m.start(), m.end(), m.group(0)))
        return out
