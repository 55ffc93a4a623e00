"""Reply language: the whole reply in the requested language (``wrong_language``), and no long
sentence in another one (``mixed_language``), by py3langid over the configured languages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.safety.output_policy.base import EMAIL, SCHEME_URL, WORD, Check, Hit, PolicyContext
from shared.safety.pii.base import PLACEHOLDER


class LanguageCheck(Check):
    name = "language"

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.cfg: dict[str, Any] = dict(raw["language"])

    def reply(self, reply: str, text: str, ctx: PolicyContext, sentences: list[str]) -> list[Hit]:
        from shared.language.detect import detect_language

        cfg, language = self.cfg, ctx.language
        clean = SCHEME_URL.sub(" ", EMAIL.sub(" ", text))
        if sum(c.isalpha() for c in clean) >= int(cfg["min_letters"]):
            got, p = detect_language(clean, ctx.detect_languages, language)
            if got != language and p >= float(cfg["min_confidence"]):
                return [Hit("wrong_language", reply, f"{got} ({p:.2f}), expected {language}")]
        hits = []
        for s in sentences:
            words = WORD.findall(PLACEHOLDER.sub(" ", s))
            if len(words) < int(cfg["sentence_min_words"]):
                continue
            got, p = detect_language(" ".join(words), ctx.detect_languages, language)
            if got != language and p >= float(cfg["sentence_min_confidence"]):
                hits.append(Hit("mixed_language", s, f"{got} ({p:.2f}), expected {language}"))
        return hits
