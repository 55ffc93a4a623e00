"""The local PII backend: field-library recognisers plus the data in ``config/pii.yaml``.

* Presidio's predefined recognisers, used as classes without the AnalyzerEngine (cards
  with Luhn, US SSN, IPv4/IPv6, German tax and VAT ids, UK NINO, Italian fiscal code),
  with Presidio's context-word boost applied over the words before a match;
* ``phonenumbers`` (through Presidio's PhoneRecognizer) for national numbers of the
  configured regions, plus format rules and a context rule for bare digit runs;
* IBAN-shaped tokens masked whole, checksum or not (a mistyped IBAN is personal data);
* configured patterns for what Presidio lacks (Unicode emails, Swiss AHV and UID,
  Austrian UID, labelled tax ids), street addresses and cue-introduced names per language;
* spaCy ``en_core_web_sm`` NER (PERSON, FAC) for English text; no German model exists on
  the package registry, and the English one tags German nouns as names.

Presidio (which imports spaCy) loads on the first call, the NER model on the first call
that needs it; both once per instance.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

from shared.safety.pii.base import PiiConfig, Span, resolve_overlaps

_PHONE = re.compile(
    r"(?<![\w+-])(?:"
    r"(?:\+|00)\d{1,3}[ .-]?(?:\(0?\d{1,4}\)[ .-]?)?\d{1,5}(?:[ .-]?\d{1,5}){1,4}"
    r"|\(\d{2,5}\)[ .-]?\d{2,5}(?:[ .-]?\d{2,5}){0,3}"
    r"|\d{2,5}(?:[ ./-]\d{2,8}){1,4}"
    r")(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?!\w|-\d)"
)
_BARE_DIGITS = re.compile(r"(?<![\w.,/+-])\d{7,15}(?!\w|-\d|[.,]\d)")
_NOT_PHONE = re.compile(
    r"^(?:(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}"  # ISO dates
    r"|\d{1,2}[-./]\d{1,2}[-./](?:\d{4}|\d{2}))(?:[ T]\d{1,2})?"  # European / US dates (and "date hour")
    r"|\d{1,3}(?:\.\d{1,3}){3})$"  # IPv4 addresses
)
_WORD = re.compile(r"[^\s]+")
_AFTER_AMOUNT = re.compile(r"^\s*(?:€|\$|£|eur\b|euro|chf\b|usd\b|gbp\b|franken|dollar|pfund|pcs\b|stück)", re.I)
_IBAN_START = re.compile(r"(?<![\w-])([A-Za-z]{2})(\d{2})(?=[ ]?[A-Za-z0-9])")
_IBAN_GROUP = re.compile(r"[ ]?([A-Za-z0-9]{1,30})")


class LocalDetector:
    """Pattern, phone-number and NER recognisers; thread-safe, heavy parts loaded lazily."""

    def __init__(self, config: PiiConfig, *, languages: Sequence[str] = ("en", "de", "fr", "it", "es", "nl")) -> None:
        self.config = config
        self._languages = tuple(languages)
        self._lock = threading.Lock()
        self._recognizers: list[tuple[Any, str, list[str]]] | None = None
        self._phone: Any = None
        self._nlp: Any = None
        c = config
        self._patterns = [(p.entity, re.compile(p.regex), p.group) for p in c.patterns]
        cue = {w.lower() for words in c.phone.contact_cues.values() for w in words}
        neg = {w.lower() for words in c.phone.negative_cues.values() for w in words}
        self._contact_cues, self._negative_cues = cue, neg
        self._labels_after = {w.lower() for words in c.phone.labels_after.values() for w in words}
        suffix = c.addresses.town_suffix
        self._addresses = [re.compile(rx + suffix) for rxs in c.addresses.per_language().values() for rx in rxs]
        name = c.names.name_word
        self._name_cues = [re.compile(rx.replace("NAME", name)) for rxs in c.names.cues.values() for rx in rxs]
        self._not_names = {w.lower() for w in c.names.not_names}

    # --- lazy loading ------------------------------------------------------------------

    def _load_recognizers(self) -> list[tuple[Any, str, list[str]]]:
        with self._lock:
            if self._recognizers is None:
                import presidio_analyzer.predefined_recognizers as predefined
                from presidio_analyzer import Pattern

                loaded = []
                for rc in self.config.presidio.recognizers:
                    cls = getattr(predefined, rc.class_)
                    kwargs: dict[str, Any] = {}
                    if rc.extra_patterns:
                        kwargs["patterns"] = [*cls.PATTERNS, *(Pattern(**p) for p in rc.extra_patterns)]
                    if rc.replacement_pairs is not None:
                        kwargs["replacement_pairs"] = [tuple(p) for p in rc.replacement_pairs]
                    rec = cls(**kwargs)
                    loaded.append((rec, rc.entity, [w.lower() for w in [*(rec.context or []), *rc.extra_context]]))
                self._phone = predefined.PhoneRecognizer(supported_regions=tuple(self.config.phone.regions), leniency=1)
                self._recognizers = loaded
            return self._recognizers

    # NER reads only its own tok2vec; the parser, tagger and lemmatizer of the shared model cost time.
    _NER_SKIPS = ("parser", "lemmatizer", "tagger", "attribute_ruler", "senter")

    def _load_nlp(self) -> Any:
        with self._lock:
            if self._nlp is None:
                from shared.language.nlp import packaged_model  # one copy of the model, shared with the extractor

                self._nlp = packaged_model(self.config.ner.model)
            return self._nlp

    def _ner_disabled(self, nlp: Any) -> list[str]:
        return [name for name in self._NER_SKIPS if name in nlp.pipe_names]

    @property
    def ner_loaded(self) -> bool:
        return self._nlp is not None

    # --- detection ---------------------------------------------------------------------

    def detect_many(self, texts: Sequence[str], *, ner: bool = True) -> list[list[Span]]:
        unique = list(dict.fromkeys(texts))  # a context repeats statuses, channels, templates
        found = [self._detect_patterns(t) for t in unique]
        if ner:
            wanted = [i for i, t in enumerate(unique) if self._ner_language(t)]
            if wanted:
                nlp = self._load_nlp()
                docs = nlp.pipe([unique[i] for i in wanted], batch_size=64, disable=self._ner_disabled(nlp))
                for i, doc in zip(wanted, docs, strict=True):
                    found[i].extend(self._ner_spans(unique[i], doc, found[i]))
        by_text = {t: resolve_overlaps(spans, self.config.entities) for t, spans in zip(unique, found, strict=True)}
        return [list(by_text[t]) for t in texts]

    def _detect_patterns(self, text: str) -> list[Span]:
        if not text or len(text) < 5:
            return []
        spans: list[Span] = []
        for entity, pattern, group in self._patterns:
            for m in pattern.finditer(text):
                spans.append(Span(entity, m.start(group), m.end(group), m.group(group)))
        spans.extend(self._ibans(text))
        digits = sum(ch.isdigit() for ch in text)
        if digits >= 4 or ":" in text:
            spans.extend(self._presidio(text))
        if digits >= self.config.phone.min_digits:
            spans.extend(self._phones(text))
        if any(ch.isupper() for ch in text):
            spans.extend(self._addresses_in(text))
            spans.extend(self._names_by_cue(text))
        return spans

    def _presidio(self, text: str) -> list[Span]:
        cfg = self.config.presidio
        out = []
        for rec, entity, context in self._load_recognizers():
            for r in rec.analyze(text, rec.supported_entities, None):
                score = r.score
                if score < cfg.score_threshold and self._has_cue(text, r.start, context, cfg.context_words):
                    score += cfg.context_boost
                if score >= cfg.score_threshold:
                    out.append(Span(entity, r.start, r.end, text[r.start : r.end]))
        return out

    @staticmethod
    def _words_before(text: str, start: int, n: int) -> list[str]:
        return [w.lower().strip(",;:()\"'") for w in _WORD.findall(text[max(0, start - 120) : start])[-n:]]

    def _has_cue(self, text: str, start: int, cues: Sequence[str] | set[str], n: int) -> bool:
        words = self._words_before(text, start, n)
        return any(c in w for w in words for c in cues)

    # --- phone numbers -----------------------------------------------------------------

    def _phones(self, text: str) -> list[Span]:
        candidates = {(m.start(), m.end()) for m in _PHONE.finditer(text)}
        candidates |= {(m.start(), m.end()) for m in _BARE_DIGITS.finditer(text)}
        if any(ch.isspace() for ch in text):  # free text; single tokens (timestamps, ids) need no matcher
            self._load_recognizers()
            candidates |= {(r.start, r.end) for r in self._phone.analyze(text, ["PHONE_NUMBER"], None)}
        return [Span("PHONE", s, e, text[s:e]) for s, e in candidates if self._phone_ok(text, s, e)]

    def _phone_ok(self, text: str, start: int, end: int) -> bool:
        cfg = self.config.phone
        number = re.split(r"\s?(?:x|ext)", text[start:end])[0]
        digits = sum(ch.isdigit() for ch in number)
        if not cfg.min_digits <= digits <= cfg.max_digits or _NOT_PHONE.match(number):
            return False
        words = self._words_before(text, start, cfg.context_words)
        near = words[-cfg.negative_words :]
        if any(neg == w or (len(neg) > 3 and neg in w and not any(c in w for c in ("telefon", "handy", "phone")))
               for w in near for neg in self._negative_cues) or _AFTER_AMOUNT.match(text[end:]):  # fmt: skip
            return False
        if number.startswith(("+", "00", "(")):
            return True
        groups = [g for g in re.split(r"[ ./-]+", number) if g]
        if len(groups) >= 3 and len(groups[0]) >= 2:
            return True  # a formatted national number
        if len(groups) == 2 and number.startswith("0"):
            return True  # trunk prefix + subscriber number
        # Bare runs and two-group numbers ("99 668472") are amounts, postcodes and ids as
        # often as phones: only after a contact word, or labelled right after ("781 1704 office").
        if any(c == w or (len(c) > 3 and c in w) for w in words for c in self._contact_cues):
            return True
        after = _WORD.findall(text[end : end + 40])[:1]
        return bool(after) and after[0].strip("-,;:()").lower() in self._labels_after

    # --- IBAN shape ----------------------------------------------------------------------

    def _ibans(self, text: str) -> list[Span]:
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

    # --- names and addresses -----------------------------------------------------------

    def _addresses_in(self, text: str) -> list[Span]:
        out = []
        for rx in self._addresses:
            for m in rx.finditer(text):
                start = m.start(1) if rx.groups else m.start()
                out.append(Span("ADDRESS", start, m.end(), text[start : m.end()]))
        return out

    def _names_by_cue(self, text: str) -> list[Span]:
        out = []
        for rx in self._name_cues:
            for m in rx.finditer(text):
                words = []
                for w in m.group(1).split():
                    if not w[0].isupper() or w.lower() in self._not_names:
                        break
                    words.append(w)
                if not words:
                    continue
                value = " ".join(words)
                start = m.start(1)
                out.append(Span("PERSON", start, start + len(value), value))
        return out

    def _ner_language(self, text: str) -> bool:
        ner = self.config.ner
        if len(text) < ner.min_chars or " " not in text.strip() or not any(ch.isupper() for ch in text):
            return False
        from shared.language.detect import detect_language

        # Skipped only when the text is confidently in a language the model does not
        # serve: names, addresses and short lines rarely carry a confident language.
        code, confidence = detect_language(text, self._languages, "")
        return code in ner.languages or confidence < 0.5

    def _served_sentence(self, text: str, start: int, cache: dict[str, bool]) -> bool:
        """Whether the sentence around ``start`` may be English (a mixed text passes the
        whole-text check while its German sentences would still be tagged)."""
        from shared.language.detect import detect_language

        begin = max(text.rfind(ch, 0, start) for ch in ".!?\n") + 1
        ends = [i for i in (text.find(ch, start) for ch in ".!?\n") if i >= 0]
        sentence = text[begin : min(ends) if ends else len(text)]
        if sentence not in cache:
            code, confidence = detect_language(sentence, self._languages, "")
            cache[sentence] = code in self.config.ner.languages or confidence < 0.5
        return cache[sentence]

    def _ner_spans(self, text: str, doc: Any, pattern_spans: list[Span]) -> list[Span]:
        ner = self.config.ner
        out: list[Span] = []
        sentences: dict[str, bool] = {}
        for ent in doc.ents:
            label = ner.labels.get(ent.label_)
            if label is None or not self._served_sentence(text, ent.start_char, sentences):
                continue
            value = ent.text.strip()
            if label == "PERSON":
                value = re.sub(r"['’]s$", "", value)
                words = value.split()
                if (not words or "[" in value or "]" in value or any(ch.isdigit() for ch in value)
                        or all(w.lower() in self._not_names for w in words) or not value[0].isupper()):  # fmt: skip
                    continue
            out.append(Span(label, ent.start_char, ent.start_char + len(value), value))
        # A town or country right after an address belongs to it.
        addresses = [s for s in [*pattern_spans, *out] if s.entity == "ADDRESS"]
        attach = [e for e in doc.ents if e.label_ in ner.attach_to_address]
        for a in addresses:
            end = a.end
            for e in attach:
                if e.start_char >= end and re.fullmatch(r"[\s,]{0,3}", text[end : e.start_char]):
                    end = e.end_char
            if end != a.end:
                out.append(Span("ADDRESS", a.start, end, text[a.start : end]))
        return out
