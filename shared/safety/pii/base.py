"""Pseudonymize personal data before any prompt and restore it in the model's output.

Two layers:

* **known identifiers** of the customer in the request (name, email, phone, address,
  customer/account/order ids) become stable role placeholders such as
  ``[CUSTOMER_NAME]``, so the model can still write "Dear [CUSTOMER_FIRST_NAME]";
* **detected PII** in free text becomes numbered placeholders (``[EMAIL_1]``), each
  distinct value keeping its number for the whole request. Detection is a backend behind
  :class:`PiiDetector`: ``local`` (Presidio's pattern recognisers, phonenumbers, the
  patterns of ``config/safety/pii.yaml`` and spaCy NER for English, see :mod:`shared.safety.pii.local`)
  or ``dlp`` (Google Cloud Sensitive Data Protection plus the local patterns, see
  :mod:`shared.safety.pii.dlp`), chosen and built by the composition root
  (``shared.runtime``, ``CX_PII_BACKEND``) and passed to every :class:`Pseudonymizer`.

The local backend runs recognisers, one class per file under
:mod:`shared.safety.pii.recognizers` (as Presidio's predefined recognisers), enabled and
ordered by ``recognizers`` in ``config/safety/pii.yaml``; :class:`Recognizer` is their interface.

Nothing heavy is imported here: Presidio, phonenumbers and spaCy load on the first
masking call of an instance and stay cached. A :class:`Pseudonymizer` lives for one
request; its mapping leaves the process only as a :class:`PseudonymMapping` stored with a
context masked ahead of the request (shared.safety.prepared_context), beside the snapshot.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import yaml
from pydantic import BaseModel, Field, field_validator

M = TypeVar("M", bound=BaseModel)

PLACEHOLDER = re.compile(r"\[[A-Z]+(?:_[A-Z]+)*(?:_\d+)?\]")
# What models return instead: another case, other brackets, none ("[phone_1]", "{PHONE_1}", "PHONE_1",
# "<<CUSTOMER_NAME>>"); bare only with an underscore, so ordinary words never match.
PLACEHOLDER_VARIANT = re.compile(
    r"[\[{<(]{1,2}\s*([A-Za-z]+(?:_[A-Za-z]+)*(?:_\d+)?)\s*[\]}>)]{1,2}|(?<![\w\[{<(])([A-Z]+(?:_[A-Z]+)*_(?:[A-Z]+|\d+))(?![\w\]}>)])"
)


@dataclass(frozen=True)
class Span:
    entity: str
    start: int
    end: int
    text: str


# --- configuration (config/safety/pii.yaml) ------------------------------------------------------


class PresidioRecognizerConfig(BaseModel):
    class_: str = Field(alias="class")
    entity: str
    replacement_pairs: list[tuple[str, str]] | None = None
    extra_patterns: list[dict[str, Any]] = Field(default_factory=list)
    extra_context: list[str] = Field(default_factory=list)


class PresidioConfig(BaseModel):
    score_threshold: float = Field(ge=0.0, le=1.0)
    context_boost: float = Field(ge=0.0, le=1.0)
    context_words: int = Field(ge=1, le=20)
    recognizers: list[PresidioRecognizerConfig]


class PatternConfig(BaseModel):
    name: str
    entity: str
    regex: str
    group: int = 0

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value


class IbanConfig(BaseModel):
    min_length: int = Field(ge=8, le=34)
    lengths: dict[str, int]


class PhoneConfig(BaseModel):
    regions: list[str] = Field(min_length=1)
    min_digits: int = Field(ge=5, le=12)
    max_digits: int = Field(ge=10, le=17)
    context_words: int = Field(ge=1, le=20)
    negative_words: int = Field(ge=1, le=10)
    contact_cues: dict[str, list[str]]
    negative_cues: dict[str, list[str]]
    labels_after: dict[str, list[str]] = Field(default_factory=dict)


class AddressConfig(BaseModel):
    model_config = {"extra": "allow"}
    town_suffix: str

    def per_language(self) -> dict[str, list[str]]:
        return {k: v for k, v in (self.model_extra or {}).items() if isinstance(v, list)}


class NamesConfig(BaseModel):
    cues: dict[str, list[str]]
    name_word: str
    not_names: list[str] = Field(default_factory=list)


class NerConfig(BaseModel):
    model: str
    components: list[str] | None = None  # the model's components NER needs (None: all)
    languages: list[str]
    labels: dict[str, str]
    attach_to_address: list[str] = Field(default_factory=list)
    min_chars: int = Field(default=12, ge=1)


class KnownNamesConfig(BaseModel):
    """Person names from a maintained data source (Faker's per-locale person providers)."""

    locales: list[str] = Field(min_length=1)
    # courtesy and academic titles per language (regex fragments); a titled name needs no list
    titles: dict[str, list[str]] = Field(default_factory=dict)
    min_length: int = Field(default=3, ge=2)


class SpelledPhoneConfig(BaseModel):
    """Phone numbers written with dots or as number words, per language."""

    min_digits: int = Field(default=7, ge=5)
    max_digits: int = Field(default=15, le=17)
    digit_words: dict[str, dict[str, str]] = Field(default_factory=dict)


class ObfuscatedEmailConfig(BaseModel):
    """E-mail addresses written with words for "@" and "." ("name dot name at domain dot com")."""

    at_words: list[str] = Field(min_length=1)
    dot_words: list[str] = Field(min_length=1)


class UrlQueryConfig(BaseModel):
    """Query-string parameters whose value is personal data: parameter name → entity."""

    params: dict[str, str]


class DlpConfig(BaseModel):
    info_types: dict[str, str] = Field(default_factory=dict)
    min_likelihood: str = "LIKELY"


DEFAULT_RECOGNIZERS = ["patterns", "iban", "presidio", "phone", "address", "cue_names", "spacy_ner"]


class PiiConfig(BaseModel):
    """``config/safety/pii.yaml``: which recognisers run and the per-country/per-language data."""

    version: str
    recognizers: list[str] = Field(default_factory=lambda: list(DEFAULT_RECOGNIZERS), min_length=1)
    entities: list[str]
    identifier_entities: list[str]
    presidio: PresidioConfig
    patterns: list[PatternConfig]
    iban: IbanConfig
    phone: PhoneConfig
    addresses: AddressConfig
    names: NamesConfig
    ner: NerConfig
    dlp: DlpConfig = Field(default_factory=DlpConfig)
    known_names: KnownNamesConfig | None = None
    spelled_phone: SpelledPhoneConfig | None = None
    obfuscated_email: ObfuscatedEmailConfig | None = None
    url_query: UrlQueryConfig | None = None

    def model_post_init(self, _: Any) -> None:
        known = set(self.entities)
        used = {r.entity for r in self.presidio.recognizers} | {p.entity for p in self.patterns}
        used |= set(self.identifier_entities) | set(self.ner.labels.values()) | set(self.dlp.info_types.values())
        used |= set(self.url_query.params.values()) if self.url_query else set()
        if used - known:
            raise ValueError(f"pii.yaml uses entities not listed in `entities`: {sorted(used - known)}")

    @classmethod
    def load(cls, path: Path) -> PiiConfig:
        return cls.model_validate(yaml.safe_load(path.read_text("utf-8")))


# --- detection backends -------------------------------------------------------------------


class PiiDetector(Protocol):
    """A masking backend: spans per text, non-overlapping, in reading order."""

    config: PiiConfig

    def detect_many(self, texts: Sequence[str], *, ner: bool = True) -> list[list[Span]]: ...


class Recognizer(ABC):
    """One kind of personal data in one text (Presidio's EntityRecognizer, without its engine).

    Built once per detector from the config, shared by every thread: ``analyze`` keeps
    nothing about a call. Heavy libraries load on the first call that needs them."""

    name: ClassVar[str]
    batch: ClassVar[bool] = False  # True: runs over a batch of texts (a model), see ``analyze_batch``

    def __init__(self, config: PiiConfig) -> None:
        self.config = config

    @abstractmethod
    def analyze(self, text: str) -> list[Span]: ...

    def analyze_batch(self, texts: Sequence[str], found: Sequence[list[Span]]) -> list[list[Span]]:
        """Spans per text of a batch; ``found`` holds the text recognisers' spans of each text."""
        return [self.analyze(t) for t in texts]


_WORD = re.compile(r"[^\s]+")


def words_before(text: str, start: int, n: int) -> list[str]:
    """The ``n`` words before ``start``, lower case, without surrounding punctuation (context cues)."""
    return [w.lower().strip(",;:()\"'") for w in _WORD.findall(text[max(0, start - 120) : start])[-n:]]


def resolve_overlaps(spans: Iterable[Span], priority: Sequence[str]) -> list[Span]:
    """Longest span first at each position, ties by entity priority; no overlaps."""
    rank = {e: i for i, e in enumerate(priority)}
    ordered = sorted(spans, key=lambda s: (s.start, -(s.end - s.start), rank.get(s.entity, len(rank))))
    result: list[Span] = []
    for span in ordered:
        if result and span.start < result[-1].end:
            continue
        result.append(span)
    return result


def identifiers(detector: PiiDetector, text: str, *, entities: Sequence[str] | None = None) -> list[Span]:
    """Identifier spans (emails, phones, IBANs, cards, national ids, IPs) that ``detector`` finds by pattern.

    No NER: with the local backend, cheap enough for every sentence of a reply. ``entities``
    widens or narrows the types (default: ``identifier_entities`` of ``config/safety/pii.yaml``).
    """
    wanted = set(entities if entities is not None else detector.config.identifier_entities)
    return [s for s in detector.detect_many([text], ner=False)[0] if s.entity in wanted]


def customer_key(customer_id: str, key: str) -> str:
    """Pseudonymous, stable customer key for events and logs (HMAC-SHA256, 96 bits)."""
    return hmac.new(key.encode(), customer_id.encode(), hashlib.sha256).hexdigest()[:24]


class PseudonymMapping(BaseModel):
    """A pseudonymizer's mapping as data, to keep with a context masked ahead of the request.

    It is personal data (placeholder → original): stored only where the snapshot it came from
    is, with the same protection and retention. ``identifiers`` are the placeholders registered
    from the customer's own record before any text was masked (see ``Pseudonymizer.add_known``).
    """

    known: dict[str, str] = Field(default_factory=dict, description="Lower-case value → placeholder.")
    originals: dict[str, str] = Field(default_factory=dict, description="Placeholder → value as first seen.")
    counters: dict[str, int] = Field(default_factory=dict, description="Highest number used per placeholder kind.")
    identifiers: list[str] = Field(default_factory=list)


class Pseudonymizer:
    """Masks one request's personal data and restores it in what comes back.

    ``detector`` is the instance's backend (``Runtime.pii_detector``); ``ner=False`` skips
    the name/address model (patterns still run).
    """

    def __init__(self, detector: PiiDetector, *, ner: bool = True) -> None:
        self._detector = detector
        self._ner = ner
        self._known: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._pattern: re.Pattern[str] | None = None
        self.placeholder_findings: list[Any] = []
        """What :meth:`restore_model` removed: unknown or malformed placeholders, by field (this request only)."""

    @classmethod
    def from_mapping(
        cls, detector: PiiDetector, mapping: PseudonymMapping, *, keep: Iterable[str] | None = None, ner: bool = True
    ) -> Pseudonymizer:
        """A pseudonymizer that goes on from a stored mapping.

        ``keep``: the placeholders this request may restore (with the mapping's identifiers,
        always kept); the others are dropped, so a placeholder the prompt never showed is
        removed from the output as unknown, as for a mapping built in the request. Counters
        are kept whole: text masked now gets numbers the stored mapping never used.
        """
        p = cls(detector, ner=ner)
        wanted = None if keep is None else set(keep) | set(mapping.identifiers)
        p._known = {v: ph for v, ph in mapping.known.items() if wanted is None or ph in wanted}
        p._by_placeholder = {ph: v for ph, v in mapping.originals.items() if wanted is None or ph in wanted}
        p._counters = dict(mapping.counters)
        return p

    def mapping(self, identifiers: Iterable[str] = ()) -> PseudonymMapping:
        """This pseudonymizer's mapping as data; ``identifiers`` as in :class:`PseudonymMapping`."""
        return PseudonymMapping(
            known=dict(self._known),
            originals=dict(self._by_placeholder),
            counters=dict(self._counters),
            identifiers=list(identifiers),
        )

    def add_known(self, value: str | None, placeholder: str) -> None:
        if not value or len(value.strip()) < 2:
            return
        value = value.strip()
        key = value.lower()
        if key not in self._known:
            self._known[key] = placeholder
            self._by_placeholder.setdefault(placeholder, value)
            self._pattern = None

    def add_numbered(self, values: Iterable[str], kind: str) -> None:
        for value in values:
            if value and value.strip().lower() not in self._known:
                self.add_known(value, self._next(kind))

    def _next(self, kind: str) -> str:
        self._counters[kind] = self._counters.get(kind, 0) + 1
        return f"[{kind}_{self._counters[kind]}]"

    def _known_pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._known:
            alternatives = sorted(self._known, key=len, reverse=True)
            self._pattern = re.compile(
                r"(?<!\w)(?:" + "|".join(re.escape(a) for a in alternatives) + r")(?!\w)",
                re.IGNORECASE,
            )
        return self._pattern

    def mask_many(self, texts: Sequence[str]) -> list[str]:
        """Mask several texts in one detector call (one NER batch, one DLP request)."""
        pattern = self._known_pattern()
        if pattern is not None:
            texts = [pattern.sub(lambda m: self._known[m.group().lower()], t) for t in texts]
        found = self._detector.detect_many(list(texts), ner=self._ner)
        out = []
        for text, spans in zip(texts, found, strict=True):
            taken = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]
            spans = [s for s in spans if not any(s.start < e and b < s.end for b, e in taken)]
            placeholders = []
            for span in spans:  # number in reading order
                key = span.text.lower()
                if key not in self._known:
                    self._known[key] = self._next(span.entity)
                    self._by_placeholder[self._known[key]] = span.text
                    self._pattern = None
                placeholders.append(self._known[key])
            for span, placeholder in zip(reversed(spans), reversed(placeholders), strict=True):
                text = text[: span.start] + placeholder + text[span.end :]
            out.append(text)
        return out

    def mask(self, text: str) -> str:
        return self.mask_many([text])[0]

    def mask_obj(self, obj: Any) -> Any:
        """Mask every string inside a JSON-like structure (keys are left alone), in one batch."""
        strings: list[str] = []

        def collect(o: Any) -> None:
            if isinstance(o, str):
                strings.append(o)
            elif isinstance(o, dict):
                for v in o.values():
                    collect(v)
            elif isinstance(o, list | tuple):
                for v in o:
                    collect(v)

        collect(obj)
        masked = iter(self.mask_many(strings)) if strings else iter(())

        def rebuild(o: Any) -> Any:
            if isinstance(o, str):
                return next(masked)
            if isinstance(o, dict):
                return {k: rebuild(v) for k, v in o.items()}
            if isinstance(o, list | tuple):
                return [rebuild(v) for v in o]
            return o

        return rebuild(obj)

    def restore(self, text: str) -> str:
        text = PLACEHOLDER.sub(lambda m: self._by_placeholder.get(m.group(), m.group()), text)

        def variant(m: re.Match[str]) -> str:  # a known placeholder in another case or bracket form
            key = f"[{(m.group(1) or m.group(2)).upper()}]"
            return self._by_placeholder.get(key, m.group())

        return PLACEHOLDER_VARIANT.sub(variant, text)

    def restore_obj(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.restore(obj)
        if isinstance(obj, dict):
            return {k: self.restore_obj(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.restore_obj(v) for v in obj]
        return obj

    def restore_model(self, model: M, *, keep: tuple[str, ...] = ()) -> M:
        """Restore this request's placeholders, then remove any other placeholder-shaped text.

        The second pass (shared.safety.placeholders) covers every string field, so a
        placeholder the model invented never reaches the agent or the customer; what was
        removed is kept in ``placeholder_findings`` for the response's review flag. ``keep``:
        top-level fields a stronger check owns (see :func:`shared.safety.placeholders.scrub_model`).
        """
        from shared.safety.placeholders import scrub_model

        restored = type(model).model_validate(self.restore_obj(model.model_dump(mode="json")))
        cleaned, findings = scrub_model(restored, keep)
        self.placeholder_findings.extend(findings)
        return cleaned

    @property
    def review_flags(self) -> list[str]:
        """``unknown_placeholder_removed:<field>`` for every field the last pass changed."""
        from shared.safety.placeholders import REVIEW_FLAG

        return sorted({f"{REVIEW_FLAG}:{f.field}" for f in self.placeholder_findings})

    @property
    def placeholders(self) -> dict[str, str]:
        """Placeholder → original; for tests and in-process restoration only, never logged."""
        return dict(self._by_placeholder)
