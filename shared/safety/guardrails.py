"""Guardrails on drafted replies, in code, for every engine and language.

* **Review flags** (the draft stays, the agent must review): topics never answered
  automatically, found in the customer's message; commitments (refunds, compensation,
  money amounts, legal admissions, deadlines) found in the reply in ANY configured
  language; segments a human always handles first. Each flag carries the exact sentence that raised it.
* **Violations** (the draft is replaced by a safe one and flagged): placeholders that do
  not belong to this request, personal data that is neither the customer's own nor in
  their message, and text from the system prompt. Everything else a reply may or may not
  contain (links, contact points, offers, credentials, language, encodings, role breaks)
  is the output policy's job: shared/safety/output_policy/ with config/output_policy.yaml.

One :class:`Guardrails` serves every request of an instance from many threads; it holds only
its configuration, the instance's sentence splitter and PII detector (both passed in by
``shared.runtime``), never anything about a call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel

from shared.safety.pii.base import PLACEHOLDER, PLACEHOLDER_VARIANT, PiiDetector, identifiers

SHINGLE_WORDS = 8
# Contact points: checked by the output policy against company configuration and the stored record.
POLICY_CONTACTS = frozenset({"EMAIL", "PHONE"})
# Identifiers allowed only from the customer's stored record.
TRUSTED_ONLY = frozenset({"IBAN", "CARD"})


class ReviewReason(BaseModel):
    code: str
    source: Literal["message", "reply", "customer"]
    sentence: str | None
    detail: str | None = None


# Sentences of a text: shared.language.nlp's rule-based splitter (abbreviations, ordinals; no
# spaCy: cheap per draft), built from the Runtime's config directory.
Sentences = Callable[[str], list[str]]


def _phrase_pattern(phrases: list[str]) -> re.Pattern[str]:
    alternatives = sorted({p.lower() for p in phrases}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(a) for a in alternatives) + ")", re.IGNORECASE)


@dataclass(frozen=True)
class _PhraseSet:
    by_language: dict[str, dict[str, re.Pattern[str]]]
    any_language: dict[str, re.Pattern[str]]

    @classmethod
    def build(cls, raw: dict[str, dict[str, list[str]]]) -> _PhraseSet:
        by_language: dict[str, dict[str, re.Pattern[str]]] = {}
        merged: dict[str, list[str]] = {}
        for code, per_lang in raw.items():
            for lang, phrases in per_lang.items():
                by_language.setdefault(lang, {})[code] = _phrase_pattern(phrases)
                merged.setdefault(code, []).extend(phrases)
        return cls(by_language, {code: _phrase_pattern(p) for code, p in merged.items()})

    def find(self, text: str, language: str | None, sentences: Sentences) -> list[tuple[str, str]]:
        """(code, sentence) for each sentence that contains a phrase of the code.

        ``language=None`` checks with every language's phrases at once."""
        patterns = self.any_language if language is None else self.by_language.get(language, self.any_language)
        hits = []
        for sentence in sentences(text):
            for code, pattern in patterns.items():
                if pattern.search(sentence):
                    hits.append((code, sentence))
        return hits


class Guardrails:
    def __init__(self, path: Path, *, sentences: Sentences, detector: PiiDetector) -> None:
        """``sentences``: the instance's sentence splitter; ``detector``: the local PII backend
        (identifier patterns only, no NER, no cloud call: cheap enough for every sentence)."""
        raw = yaml.safe_load(path.read_text("utf-8"))
        self._sentences = sentences
        self._detector = detector
        self.version = str(raw["version"])
        self._topics = _PhraseSet.build(raw["never_auto_topics"])
        self._commitments = _PhraseSet.build(raw["commitments"])
        self._amount = re.compile(raw["amount_pattern"], re.IGNORECASE)
        self.human_first_segments = set(raw.get("human_first_segments", []))

    def review_reasons(self, message: str, reply: str, language: str, segment: str) -> list[ReviewReason]:
        reasons = [
            ReviewReason(code=f"topic:{code}", source="message", sentence=s)
            for code, s in self._topics.find(message, language, self._sentences)
        ]
        # A reply's commitments are checked in every configured language: an injected German
        # "Wir erstatten Ihnen heute" inside an English reply is still a refund promise.
        reasons += [
            ReviewReason(code=f"commitment:{code}", source="reply", sentence=s)
            for code, s in self._commitments.find(reply, None, self._sentences)
        ]
        reasons += [
            ReviewReason(code="commitment:amount", source="reply", sentence=s)
            for s in self._sentences(reply)
            if self._amount.search(s)
        ]
        if segment in self.human_first_segments:
            reasons.append(ReviewReason(code="segment:human_first", source="customer", sentence=None, detail=segment))
        return _dedupe(reasons)

    def violations(self, reply: str, *, message: str, own_values: set[str], system_prompt: str) -> list[ReviewReason]:
        """Request-bound injection symptoms in a restored reply; any one means the draft is not used.

        Links, contact points, offers and the rest of the output policy are checked by
        :class:`shared.safety.output_policy.policy.OutputPolicy`; these checks need the request itself."""
        found: list[ReviewReason] = []
        message_lower = message.lower()
        for s in self._sentences(reply):
            for ph in PLACEHOLDER.findall(s):
                found.append(ReviewReason(code="violation:leaked_placeholder", source="reply", sentence=s, detail=ph))
            for m in PLACEHOLDER_VARIANT.finditer(PLACEHOLDER.sub(" ", s)):  # "{phone_1}", "EMAIL_2" left unrestored
                token = m.group(1) or m.group(2)
                if "_" in token or (token.isupper() and len(token) >= 4):
                    found.append(
                        ReviewReason(code="violation:leaked_placeholder", source="reply", sentence=s, detail=m.group())
                    )
            for span in identifiers(self._detector, s):
                value = span.text.lower()
                if span.entity in POLICY_CONTACTS:
                    continue  # the output policy's job: company configuration or the stored record only
                # account numbers only from the stored record, never because the message carried them (#24)
                if value not in own_values and (span.entity in TRUSTED_ONLY or value not in message_lower):
                    found.append(
                        ReviewReason(
                            code="violation:foreign_personal_data", source="reply", sentence=s, detail=span.entity
                        )
                    )
        leaked = _shared_shingle(reply, system_prompt)
        if leaked:
            found.append(ReviewReason(code="violation:system_prompt_leak", source="reply", sentence=leaked))
        return _dedupe(found)


def _shared_shingle(text: str, secret: str, n: int = SHINGLE_WORDS) -> str | None:
    """The first run of ``n`` words the reply shares with the system prompt, if any."""
    words = re.findall(r"\w+", secret.lower())
    grams = {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}
    out = re.findall(r"\w+", text.lower())
    for i in range(len(out) - n + 1):
        gram = " ".join(out[i : i + n])
        if gram in grams:
            return gram
    return None


def _dedupe(reasons: list[ReviewReason]) -> list[ReviewReason]:
    seen, out = set(), []
    for r in reasons:
        key = (r.code, r.sentence)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out
