"""What every output-policy check shares: the per-call context, the hit, the check interface,
and the text primitives (link, email and word shapes, phrase patterns).

A check is built once per instance from ``config/safety/output_policy.yaml`` and holds only that
configuration; everything that belongs to one reply (its language, the dictionary languages,
the customer's own contact points, the approved offers) arrives in a :class:`PolicyContext`.
Instances serve many threads at once, so a check never stores anything about a call on itself.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

_lock = threading.Lock()
_extractor: Any = None

_DEFANG = [
    (re.compile(r"\s*[\[\(\{]\s*(?:\.|dot|punkt)\s*[\]\)\}]\s*", re.IGNORECASE), "."),
    (re.compile(r"(?<=\w) (?:dot|punkt) (?=[a-z]{2,}\b)", re.IGNORECASE), "."),
    (re.compile(r"\bhxxp", re.IGNORECASE), "http"),
    (re.compile(r"\[:\]"), ":"),
    (re.compile(r"\s*[\[\(]\s*(?:at|@)\s*[\]\)]\s*", re.IGNORECASE), "@"),
]
SCHEME_URL = re.compile(r"\b[a-z][a-z0-9+.-]{1,9}://[^\s<>\"'`]+", re.IGNORECASE)
HOST = re.compile(r"(?<![\w@.\-/:])(?:[\w-]+\.)+[\w-]{2,63}\.?(?::\d{1,5})?(?:[/?#][^\s<>\"'`]*)?", re.UNICODE)
EMAIL = re.compile(r"[\w.+%'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
TRAIL = ".,;:!?)]}'\"»“”’"
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)
TOKEN = re.compile(r"\S+")

Sentences = Callable[[str], list[str]]


@dataclass(frozen=True)
class Promise:
    kind: str  # percent | fraction | free_period | forever_free | bundle | amount
    value: float

    def describe(self) -> str:
        unit = {"percent": " %", "fraction": " % (in words)", "free_period": " month(s) free", "amount": " (money)"}
        return f"{self.value:g}{unit.get(self.kind, '')}" if self.kind not in ("forever_free", "bundle") else self.kind


@dataclass(frozen=True)
class Approved:
    """What the approved actions of this request promise; anything else is unapproved."""

    max_discount: float
    promises: frozenset[Promise] = field(default_factory=frozenset)


@dataclass(frozen=True)
class PolicyContext:
    """Everything one check call needs about its reply; built per call, never stored on a check."""

    language: str  # the requested reply language
    approved: Approved
    own: frozenset[str]  # the customer's own values (lower case): their email, phone, ...
    own_phones: frozenset[str]  # the same phone numbers in E.164
    dictionary_languages: tuple[str, ...]  # natural text = words of these languages (configured + requested)
    detect_languages: tuple[str, ...]  # what the language detector chooses from
    # what the reply may draw on: customer message + snapshot facts + retrieved articles + approved actions
    grounding: str = ""
    approved_acts: frozenset[str] = frozenset()  # offer types / acts the agent's approved actions allow


@dataclass(frozen=True)
class Hit:
    code: str
    sentence: str
    detail: str | None = None


class Check:
    """One output-policy category. ``sentence`` runs on every sentence of the reply (``plain``
    is the sentence with PII placeholders blanked), ``reply`` once on the whole reply after all
    sentences (``text`` is the reply with placeholders blanked). Hits keep the order they are
    returned in, checks the order of the registry."""

    name: ClassVar[str]

    def __init__(self, raw: Mapping[str, Any]) -> None:
        """Built once per instance from the whole ``output_policy.yaml``; keeps only configuration."""

    def sentence(self, s: str, plain: str, ctx: PolicyContext) -> list[Hit]:
        return []

    def reply(self, reply: str, text: str, ctx: PolicyContext, sentences: list[str]) -> list[Hit]:
        return []


def defanged(text: str) -> str:
    """Defanged links and addresses made whole again ("evil[.]com", "hxxps", "a [at] b.de")."""
    for pattern, repl in _DEFANG:
        text = pattern.sub(repl, text)
    return text


def extract() -> Any:
    """tldextract over its bundled public-suffix snapshot: never fetched at run time."""
    global _extractor
    with _lock:
        if _extractor is None:
            import tldextract

            _extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
        return _extractor


def registered(host: str) -> str:
    ext = extract()(host)
    return f"{ext.domain}.{ext.suffix}".lower() if ext.suffix else host.lower()


def phrases(items: list[str], whole: bool = False) -> re.Pattern[str] | None:
    """Word-start match; short phrases (≤ 4 chars), or all with ``whole``, must be whole words."""
    if not items:
        return None
    alts = []
    for p in sorted({i.lower() for i in items}, key=len, reverse=True):
        esc = re.escape(p.strip()) if p.strip() else re.escape(p)
        alts.append(esc + (r"(?!\w)" if whole or len(p.strip()) <= 4 else ""))
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + ")", re.IGNORECASE)


def merged(per_language: Mapping[str, Any], key: str | None = None) -> list[str]:
    out: list[str] = []
    for block in per_language.values():
        out.extend(block if key is None else block.get(key, []))
    return out


def alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted({w.lower() for w in words}, key=len, reverse=True))


def clause_words(raw: Mapping[str, Any]) -> re.Pattern[str] | None:
    """Words that open a subordinate clause, every configured language (``clauses`` in the YAML)."""
    return phrases(merged(raw.get("clauses", {}).get("per_language", {})), whole=True)


def clause_end(low: str, start: int, clauses: re.Pattern[str] | None) -> int:
    """Where the clause that runs from ``start`` ends: punctuation or a word opening a subordinate clause."""
    ends = [i for i in (low.find(c, start) for c in ",;:!?") if i != -1]
    if clauses is not None and (m := clauses.search(low, start)):
        ends.append(m.start())
    return min(ends, default=len(low))


def without_links(text: str) -> str:
    return HOST.sub(" ", SCHEME_URL.sub(" ", EMAIL.sub(" ", text)))


def e164(value: str, regions: list[str]) -> str | None:
    import phonenumbers

    if sum(c.isdigit() for c in value) < 6:
        return None
    for region in regions:
        try:
            n = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(n):
            return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
    return None
