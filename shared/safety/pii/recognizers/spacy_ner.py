"""spaCy NER (``ner.model``, en_core_web_sm: PERSON, FAC) for text in the languages it serves.

No German model exists on the package registry and the English one tags German nouns as
names: a text, and then each sentence holding an entity, is skipped when py3langid is
confident it is in another language. A town or country right after an address (pattern or
NER) joins it. Runs over a whole batch (one ``nlp.pipe``); the model loads on the first
batch that needs it, shared with the extractor (``shared.language.nlp.packaged_model``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from shared.safety.pii.base import PiiConfig, Recognizer, Span

# what the language check chooses from before deciding whether the model serves a text
DETECT_LANGUAGES = ("en", "de", "fr", "it", "es", "nl")


class SpacyNerRecognizer(Recognizer):
    name = "spacy_ner"
    batch = True

    # NER reads only its own tok2vec; the parser, tagger and lemmatizer of the shared model cost time.
    _NER_SKIPS = ("parser", "lemmatizer", "tagger", "attribute_ruler", "senter")

    def __init__(self, config: PiiConfig) -> None:
        super().__init__(config)
        self._loaded = False
        self._not_names = {w.lower() for w in config.names.not_names}

    @property
    def loaded(self) -> bool:
        return self._loaded

    def _load_nlp(self) -> Any:
        """The process's one copy of the model (shared with the extractor; with ``ner.components``)."""
        from shared.language.nlp import packaged_model

        nlp = packaged_model(self.config.ner.model, self.config.ner.components)
        self._loaded = True
        return nlp

    def analyze(self, text: str) -> list[Span]:
        return self.analyze_batch([text], [[]])[0]

    def analyze_batch(self, texts: Sequence[str], found: Sequence[list[Span]]) -> list[list[Span]]:
        """NER spans per text; ``found`` holds the other recognisers' spans (addresses to extend)."""
        out: list[list[Span]] = [[] for _ in texts]
        wanted = [i for i, t in enumerate(texts) if self._served(t)]
        if wanted:
            nlp = self._load_nlp()
            disabled = [name for name in self._NER_SKIPS if name in nlp.pipe_names]
            docs = nlp.pipe([texts[i] for i in wanted], batch_size=64, disable=disabled)
            for i, doc in zip(wanted, docs, strict=True):
                out[i] = self._spans(texts[i], doc, found[i])
        return out

    def _served(self, text: str) -> bool:
        ner = self.config.ner
        if len(text) < ner.min_chars or " " not in text.strip() or not any(ch.isupper() for ch in text):
            return False
        from shared.language.detect import detect_language

        # Skipped only when the text is confidently in a language the model does not
        # serve: names, addresses and short lines rarely carry a confident language.
        code, confidence = detect_language(text, DETECT_LANGUAGES, "")
        return code in ner.languages or confidence < 0.5

    def _served_sentence(self, text: str, start: int, cache: dict[str, bool]) -> bool:
        """Whether the sentence around ``start`` may be English (a mixed text passes the
        whole-text check while its German sentences would still be tagged)."""
        from shared.language.detect import detect_language

        begin = max(text.rfind(ch, 0, start) for ch in ".!?\n") + 1
        ends = [i for i in (text.find(ch, start) for ch in ".!?\n") if i >= 0]
        sentence = text[begin : min(ends) if ends else len(text)]
        if sentence not in cache:
            code, confidence = detect_language(sentence, DETECT_LANGUAGES, "")
            cache[sentence] = code in self.config.ner.languages or confidence < 0.5
        return cache[sentence]

    def _spans(self, text: str, doc: Any, pattern_spans: list[Span]) -> list[Span]:
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
                if (
                    not words
                    or "[" in value
                    or "]" in value
                    or any(ch.isdigit() for ch in value)
                    or all(w.lower() in self._not_names for w in words)
                    or not value[0].isupper()
                ):
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
