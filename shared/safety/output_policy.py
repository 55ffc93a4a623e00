"""Output policy: what a drafted reply may contain, whatever engine or injection wrote it.

Run after generation on every draft (offline templates and Vertex alike), with the
phrase data of EVERY configured language (config/output_policy.yaml), not only the
customer's: a promise injected in German into an English reply is still a promise.

Categories (each hit names the exact sentence and a reason code):

* links: only allowlisted registered domains (public-suffix aware, tldextract with its
  bundled snapshot, never fetched), any scheme or none, any TLD, defanged forms; link
  shorteners, open redirects on allowed domains, userinfo tricks and IDN lookalikes;
* contact points: phone numbers (phonenumbers) and emails only from config or the
  customer's own data;
* solicitation of credentials or payment data;
* price, discount, fraction ("half price"), free-period and amount promises that no
  approved action makes, or above the cap;
* reply language = requested language; long sentences in another language;
* encoded or non-natural text: Base64/hex/char codes, code and chat markup, and
  sentences whose words are mostly not words of any configured language (wordfreq):
  reversed, ROT13/ciphered, scrambled, grouped or leetspeak text;
* role breaks ("developer mode", "as an AI", "ignore previous") and first-person claims
  of actions an assistant cannot take ("I ran the command");
* claims attributed to third parties and off-topic persuasion.

Heavy pieces (tldextract's suffix list, wordfreq's word lists, py3langid) load on first
use, once per instance; the word lists only for the languages with policy data and the
requested one (scripts/bench_policy.py measures that first call).
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from shared.safety.guardrails import ReviewReason, sentences
from shared.safety.pii.base import PLACEHOLDER

_lock = threading.Lock()
_extractor: Any = None

_DEFANG = [
    (re.compile(r"\s*[\[\(\{]\s*(?:\.|dot|punkt)\s*[\]\)\}]\s*", re.IGNORECASE), "."),
    (re.compile(r"(?<=\w) (?:dot|punkt) (?=[a-z]{2,}\b)", re.IGNORECASE), "."),
    (re.compile(r"\bhxxp", re.IGNORECASE), "http"),
    (re.compile(r"\[:\]"), ":"),
    (re.compile(r"\s*[\[\(]\s*(?:at|@)\s*[\]\)]\s*", re.IGNORECASE), "@"),
]
_SCHEME_URL = re.compile(r"\b[a-z][a-z0-9+.-]{1,9}://[^\s<>\"'`]+", re.IGNORECASE)
_HOST = re.compile(r"(?<![\w@.\-/:])(?:[\w-]+\.)+[\w-]{2,63}\.?(?::\d{1,5})?(?:[/?#][^\s<>\"'`]*)?", re.UNICODE)
_EMAIL = re.compile(r"[\w.+%'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_TRAIL = ".,;:!?)]}'\"»“”’"
_MONEY = re.compile(
    r"(?:[€£$]\s?(\d[\d.,]*)|(\d[\d.,]*)\s?(?:[€£$]|(?:eur|euro|euros|gbp|usd|pounds?|quid|dollars?|franken|chf)\b))",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)
_TOKEN = re.compile(r"\S+")
_SECOND_PERSON = {"your", "ihre", "ihren", "ihrer", "ihres", "ihrem", "deine", "deinen", "deiner", "dein"}
_MANGLED = re.compile(r"[^\W\d_][\d@$#&!%*|+]+[^\W\d_]|^[\d@$#&!%*|]+[^\W\d_]+[\d@$#&!%*|]", re.UNICODE)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_CONFUSABLE = str.maketrans({"а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
                             "ј": "j", "ԁ": "d", "ɡ": "g", "ο": "o", "α": "a", "ε": "e", "ν": "v", "τ": "t",
                             "0": "o", "1": "l", "3": "e", "5": "s", "7": "t", "ı": "i"})  # fmt: skip


_wordsets: dict[tuple[str, float], dict[str, float]] = {}


def _wordset(lang: str, zipf: float) -> dict[str, float]:
    """wordfreq's words of ``lang`` with a Zipf frequency of at least ``zipf``, with that frequency."""
    key = (lang, zipf)
    if key not in _wordsets:
        with _lock:
            if key not in _wordsets:
                import gzip

                import msgpack
                from wordfreq import DATA_PATH

                path = DATA_PATH / f"large_{lang}.msgpack.gz"
                if not path.exists():
                    path = DATA_PATH / f"small_{lang}.msgpack.gz"
                words: dict[str, float] = {}
                if path.exists():
                    # wordfreq's cBpack: [header, bucket 0, bucket 1, ...]; bucket i holds the words at
                    # -i centibels (Zipf = 9 - i / 100). Streamed, and stopped at the floor: the rare
                    # tail (most of the file) is never held in memory.
                    with gzip.open(path, "rb") as fh:
                        unpacker = msgpack.Unpacker(fh, raw=False)
                        size = unpacker.read_array_header()
                        unpacker.skip()
                        for i in range(size - 1):
                            if 9 - i / 100 < zipf:
                                break
                            words.update(dict.fromkeys(unpacker.unpack(), 9 - i / 100))
                _wordsets[key] = words
    return _wordsets[key]


def _extract() -> Any:
    """tldextract over its bundled public-suffix snapshot: never fetched at run time."""
    global _extractor
    with _lock:
        if _extractor is None:
            import tldextract

            _extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
        return _extractor


def _phrases(items: list[str], whole: bool = False) -> re.Pattern[str] | None:
    """Word-start match; short phrases (≤ 4 chars), or all with ``whole``, must be whole words."""
    if not items:
        return None
    alts = []
    for p in sorted({i.lower() for i in items}, key=len, reverse=True):
        esc = re.escape(p.strip()) if p.strip() else re.escape(p)
        alts.append(esc + (r"(?!\w)" if whole or len(p.strip()) <= 4 else ""))
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + ")", re.IGNORECASE)


def _merged(per_language: dict[str, Any], key: str | None = None) -> list[str]:
    out: list[str] = []
    for block in per_language.values():
        out.extend(block if key is None else block.get(key, []))
    return out


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


@dataclass
class _Hit:
    code: str
    sentence: str
    detail: str | None = None


class OutputPolicy:
    def __init__(self, path: Path, languages: tuple[str, ...] = ("en", "de")) -> None:
        raw = yaml.load(path.read_text("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
        self.path = path
        self.version = str(raw["version"])
        self.actions: dict[str, str] = dict(raw["actions"])
        self.detect_languages = tuple(languages)
        links = raw["links"]
        self.allowed_domains = {d.lower() for d in links["allowed_domains"]}
        self.shorteners = {d.lower() for d in links["shorteners"]}
        self.redirect_params = {p.lower() for p in links["redirect_params"]}
        self.lookalike_distance = int(links["lookalike_max_distance"])
        contacts = raw["contacts"]
        self.phone_regions = list(contacts["phone_regions"])
        self.phone_leniency = str(contacts.get("phone_leniency", "valid"))
        self.phones = {p for p in (_e164(x, self.phone_regions) for x in contacts["phones"]) if p}
        self.email_domains = {d.lower() for d in contacts["email_domains"]}
        self.emails = {e.lower() for e in contacts["emails"]}
        cred = raw["credentials"]["per_language"]
        self.languages = tuple(cred)
        # natural text = words of a configured language or of the requested one (wordfreq lists)
        self._dict_languages: tuple[str, ...] = self.languages
        self._cred_terms = _phrases(_merged(cred, "terms"))
        self._cred_asks = _phrases(_merged(cred, "asks"), whole=True)
        self._cred_safe = _phrases(_merged(cred, "safe"))
        self._offers = _OfferRules(raw["offers"]["per_language"])
        self.language_cfg: dict[str, Any] = dict(raw["language"])
        self.encoded: dict[str, Any] = dict(raw["encoded"])
        self._code = _phrases([m for m in self.encoded["code_markers"] if len(m) > 4])
        self._code_literal = [m.lower() for m in self.encoded["code_markers"]]
        self._role = _phrases(_merged(raw["role_break"]["per_language"]), whole=True)
        ac = raw["action_claims"]["per_language"]
        self._claim = re.compile(r"(?<!\w)(?:" + _alt(_merged(ac, "actors")) + r")(?!\w)[^,;:.!?]{0,60}?(?<!\w)(?:"
                                 + _alt(_merged(ac, "actions")) + r")(?!\w)", re.IGNORECASE)  # fmt: skip
        tp = raw["third_party"]["per_language"]
        self._tp_after = _phrases(_merged(tp, "source_after"), whole=True)
        self._tp_before = _phrases(_merged(tp, "source_before"), whole=True)
        self._tp_unsourced = _phrases(_merged(tp, "unsourced"), whole=True)
        self._tp_own = {w.lower() for w in _merged(tp, "own")}
        self._off_topic = _phrases(_merged(raw["off_topic"]["per_language"]))
        rc = raw["rule_change"]["per_language"]
        self._rules = _phrases(_merged(rc, "rules"))
        self._changes = _phrases(_merged(rc, "changes"))
        self._run_objects = _phrases(raw["action_claims"].get("run_objects", []), whole=True)
        self._run_verbs = _phrases(raw["action_claims"].get("run_verbs", []), whole=True)

    # --- public ---------------------------------------------------------------------

    def check(
        self, reply: str, *, language: str, approved: Approved, own_values: set[str] | frozenset[str] = frozenset()
    ) -> list[ReviewReason]:
        """Every policy hit in ``reply`` as a ReviewReason ("violation:*" replaces the draft)."""
        hits: list[_Hit] = []
        self._dict_languages = tuple(dict.fromkeys([*self.languages, language]))
        own = {v.lower() for v in own_values}
        own_phones = {p for p in (_e164(v, self.phone_regions) for v in own) if p}
        text = PLACEHOLDER.sub(" ", reply)
        for s in sentences(reply):
            plain = PLACEHOLDER.sub(" ", s)
            hits += self._links_and_contacts(s, plain, own, own_phones)
            hits += self._credentials(s, plain)
            for p in self._offers.promises(_without_links(plain)):
                if not self._approved(p, approved):
                    above = p.kind in ("percent", "fraction") and p.value > approved.max_discount
                    hits.append(_Hit("discount_above_cap" if above else "unapproved_offer", s, p.describe()))
            hits += self._encoded(s, plain)
            hits += self._role_and_claims(s, plain)
        hits += self._language(reply, text, language)
        out: list[ReviewReason] = []
        seen: set[tuple[str, str]] = set()
        for h in hits:
            action = self.actions.get(h.code, "replace")
            code = f"{'violation' if action == 'replace' else 'policy'}:{h.code}"
            if (code, h.sentence) in seen:
                continue
            seen.add((code, h.sentence))
            out.append(ReviewReason(code=code, source="reply", sentence=h.sentence, detail=h.detail))
        return out

    def approved_from(self, texts: list[str], discounts: list[float], max_discount: float) -> Approved:
        """Approved promises: the actions' discounts plus whatever their pitches promise."""
        promises = {Promise("percent", float(d)) for d in discounts if d}
        for t in texts:
            promises.update(self._offers.promises(t))
        return Approved(max_discount=max_discount, promises=frozenset(promises))

    @staticmethod
    def _approved(p: Promise, approved: Approved) -> bool:
        if p.kind in ("percent", "fraction") and p.value > approved.max_discount:
            return False
        if p.kind == "fraction":
            return Promise("percent", round(p.value)) in approved.promises or p in approved.promises
        return p in approved.promises

    # --- links and contact points ----------------------------------------------------

    def _links_and_contacts(self, s: str, plain: str, own: set[str], own_phones: set[str]) -> list[_Hit]:
        hits: list[_Hit] = []
        norm = plain
        for pattern, repl in _DEFANG:
            norm = pattern.sub(repl, norm)
        emails = _EMAIL.findall(norm)
        rest = _EMAIL.sub(" ", norm)
        for email in emails:
            email = email.strip(_TRAIL)
            local, _, domain = email.rpartition("@")
            if "." in local and _extract()(local).suffix:  # example-telco.com@evil.xyz
                hits.append(_Hit("link_userinfo", s, email))
                continue
            if email.lower() in own or email.lower() in self.emails:
                continue
            if self._registered(domain) in self.email_domains:
                continue
            hits.append(_Hit("unapproved_contact", s, f"email {email}"))
        urls = [(u.rstrip(_TRAIL), True) for u in _SCHEME_URL.findall(rest)]
        rest = _SCHEME_URL.sub(" ", rest)
        urls += [(u.rstrip(_TRAIL), False) for u in _HOST.findall(rest)]
        for url, explicit in urls:
            hit = self._link(url, explicit)
            if hit:
                hits.append(_Hit(hit[0], s, hit[1]))
        hits += self._phones(s, plain, own_phones)
        return hits

    def _registered(self, host: str) -> str:
        ext = _extract()(host)
        return f"{ext.domain}.{ext.suffix}".lower() if ext.suffix else host.lower()

    def _link(self, url: str, explicit: bool) -> tuple[str, str] | None:
        candidate = url if "://" in url else "http://" + url
        try:
            parts = urlsplit(candidate)
            host = (parts.hostname or "").rstrip(".")
        except ValueError:
            return ("unapproved_link", url) if explicit else None
        if not host:
            return ("unapproved_link", url) if explicit else None
        if "@" in parts.netloc:
            return ("link_userinfo", url)
        try:
            ipaddress.ip_address(host.strip("[]"))
            return ("unapproved_link", url)
        except ValueError:
            pass
        ext = _extract()(host)
        if not ext.suffix or not ext.domain:
            return ("unapproved_link", url) if explicit else None
        if not explicit and "/" not in url and not url.lower().startswith("www.") and (
                url.isupper() or re.search(r"[a-z]\.[A-Z][a-z]*$", url)):  # fmt: skip
            return None  # "ASP.NET" is a product name, "done.It" a missing space: neither is a link
        registered = f"{ext.domain}.{ext.suffix}".lower()
        ascii_host = _idna(host)
        if registered in self.shorteners:
            return ("link_shortener", url)
        if registered in self.allowed_domains and ascii_host == host.lower() and "xn--" not in ascii_host:
            return self._redirect(parts, url)
        if self._lookalike(ext.domain, registered, ascii_host):
            return ("lookalike_domain", url)
        return ("unapproved_link", url)

    def _redirect(self, parts: Any, url: str) -> tuple[str, str] | None:
        query = unquote(unquote(parts.query))
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key.lower() in self.redirect_params:
                return ("open_redirect", url)
            if self._mentions_host(value):
                return ("open_redirect", url)
        path = unquote(unquote(parts.path + "#" + parts.fragment))
        if "//" in path.lstrip("/") or re.search(r"https?:", path, re.IGNORECASE):
            return ("open_redirect", url)
        for seg in re.split(r"[/#&=]", path):
            if "." in seg and self._mentions_host(seg) and not re.search(r"\.(?:html?|pdf|php|aspx?|jsp)$", seg):
                return ("open_redirect", url)
        return None

    def _mentions_host(self, value: str) -> bool:
        if "://" in value or value.startswith("//") or "@" in value:
            return True
        for token in re.findall(r"[\w.-]+\.[\w-]{2,}", value):
            ext = _extract()(token)
            if ext.suffix and ext.domain and f"{ext.domain}.{ext.suffix}".lower() not in self.allowed_domains:
                return True
        return False

    def _lookalike(self, label: str, registered: str, ascii_host: str) -> bool:
        from rapidfuzz.distance import Levenshtein

        skeleton = _skeleton(label)
        for allowed in self.allowed_domains:
            brand = _skeleton(allowed.split(".")[0])
            if "xn--" in ascii_host or any(ord(c) > 127 for c in registered):
                if Levenshtein.distance(skeleton, brand) <= self.lookalike_distance or brand in skeleton:
                    return True
            elif skeleton != brand and Levenshtein.distance(skeleton, brand) <= self.lookalike_distance:
                return True
            elif skeleton == brand and registered != allowed:
                return True  # same brand, other TLD (example-telco.net)
        return False

    def _phones(self, s: str, plain: str, own_phones: set[str]) -> list[_Hit]:
        if sum(c.isdigit() for c in plain) < 7:
            return []
        import phonenumbers

        leniency = phonenumbers.Leniency.POSSIBLE if self.phone_leniency == "possible" else phonenumbers.Leniency.VALID
        spans: list[tuple[int, int, str, bool]] = []
        for region in self.phone_regions:
            for m in phonenumbers.PhoneNumberMatcher(plain, region, leniency=leniency):
                if sum(c.isdigit() for c in m.raw_string) < 7:
                    continue  # "2021", "64": years and sizes, not phone numbers
                e164 = phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
                spans.append((m.start, m.end, m.raw_string, e164 in self.phones or e164 in own_phones))
        # a number read as allowed in one region is allowed, even where another region splits it
        allowed = [(a, b) for a, b, _, ok in spans if ok]
        bad = {raw for a, b, raw, ok in spans if not ok and not any(a < y and x < b for x, y in allowed)}
        return [_Hit("unapproved_contact", s, f"phone {raw}") for raw in sorted(bad)]

    # --- credentials ----------------------------------------------------------------------

    def _credentials(self, s: str, plain: str) -> list[_Hit]:
        if not self._cred_terms:
            return []
        term = self._cred_terms.search(plain)
        if not term:
            return []
        if self._cred_safe and self._cred_safe.search(plain + " "):
            return []
        asks = self._cred_asks and self._cred_asks.search(plain)
        question = plain.rstrip().endswith("?")
        form = re.search(re.escape(term.group(0)) + r"\s*[:=]\s*(?:_{2,}|\.{3}|…|\[|\(|$)", plain, re.IGNORECASE)
        if asks or question or form:
            return [_Hit("credential_request", s, term.group(0).lower())]
        return []

    # --- encoded / non-natural text -------------------------------------------------------

    def _zipf_ok(self, w: str, zipf: float) -> bool:
        floor = float(self.encoded["known_zipf"])
        return any(_wordset(lang, floor).get(w, -1.0) >= zipf for lang in self._dict_languages)

    def _known(self, word: str) -> bool:
        """A dictionary word of any configured language, or a compound of such words
        ("Datenbank-Clusterverwaltungskonfiguration": German joins nouns, hyphen or not)."""
        w = word.lower()
        cache: dict[tuple[str, tuple[str, ...]], bool] = self.__dict__.setdefault("_known_cache", {})
        key = (w, self._dict_languages)
        if key not in cache:
            if len(cache) > 50000:
                cache.clear()
            cache[key] = self._known_uncached(w)
        return cache[key]

    def _known_uncached(self, w: str) -> bool:
        if self._known_plain(w):
            return True
        parts = [p for p in re.split(r"[-'’]", w) if p]
        if len(parts) > 1:
            return all(self._known(p) for p in parts)
        return self._compound(w, 3)

    def _swapped(self, word: str) -> bool:
        """An unknown word that one swap of neighbouring letters turns into a common word ("hvae")."""
        w = word.lower()
        if len(w) < 3 or self._known(w):
            return False
        common = float(self.encoded["common_zipf"])
        for i in range(len(w) - 1):
            fixed = w[:i] + w[i + 1] + w[i] + w[i + 2:]
            if fixed != w and re.fullmatch(r"[^\W\d_]+", fixed) and self._zipf_ok(fixed.casefold(), common):
                return True
        return False

    def _known_plain(self, w: str) -> bool:
        if not re.fullmatch(r"[^\W\d_]+", w):
            return False  # letters only: "y$u" is not the words "y" and "u"
        return self._zipf_ok(w.casefold(), float(self.encoded["known_zipf"]))

    def _compound(self, w: str, depth: int) -> bool:
        """``w`` split into ≤ ``depth`` known parts of ≥ 4 letters (a linking "s" allowed)."""
        if depth == 0 or len(w) < 8:
            return False
        for i in range(4, len(w) - 3):
            head, tail = w[:i], w[i:]
            head_known = self._known_plain(head) or (head.endswith("s") and self._known_plain(head[:-1]))
            if head_known and (self._known_plain(tail) or self._compound(tail, depth - 1)):
                return True
        return False

    def _encoded(self, s: str, plain: str) -> list[_Hit]:
        cfg = self.encoded
        low = plain.lower()
        for marker in self._code_literal:
            if marker in low and (len(marker) > 4 or re.search(r"(?<!\w)" + re.escape(marker.strip()), low)):
                return [_Hit("code_or_markup", s, marker.strip())]
        if cfg.get("inline_code") and re.search(r"`[^`\s][^`]*`", plain):
            return [_Hit("code_or_markup", s, "inline code")]
        scrubbed = _SCHEME_URL.sub(" ", _EMAIL.sub(" ", plain))
        tokens = [t.strip(_TRAIL + "(['\"") for t in _TOKEN.findall(scrubbed)]
        tokens = [t for t in tokens if t]
        mangled = [t for t in tokens if _MANGLED.search(t) and not self._known(t)]
        if len(mangled) >= int(cfg["mangled_tokens"]) and len(mangled) / len(tokens) >= float(cfg["mangled_share"]):
            return [_Hit("non_natural_text", s, f"{len(mangled)}/{len(tokens)} words with digits or symbols inside")]
        for tok in _TOKEN.findall(scrubbed):
            t = tok.strip(_TRAIL + "(['\"")
            if _HOST.fullmatch(t) and "/" not in t:
                continue
            if _looks_base64(t, int(cfg["base64_min_len"]), float(cfg["base64_min_entropy"])):
                return [_Hit("encoded_text", s, "base64")]
            hex_min = int(cfg["hex_min_len"])
            is_hex = re.fullmatch(rf"(?:0x)?[0-9a-fA-F]{{{hex_min},}}", t)
            if is_hex and re.search(r"[a-fA-F]", t) and re.search(r"\d", t):
                return [_Hit("encoded_text", s, "hex")]
        if re.search(r"(?:\\x[0-9a-f]{2}){4,}|(?:\\u[0-9a-f]{4}){3,}|(?:%[0-9a-f]{2}){6,}", plain, re.IGNORECASE) or \
                re.search(r"(?:\b[01]{8}\b\s*){4,}|(?:\b\d{2,3}\s*,\s*){8,}", plain):  # fmt: skip
            return [_Hit("encoded_text", s, "escaped or numeric codes")]
        words = [w for w in _WORD.findall(scrubbed) if len(w) >= 2]
        letters = [w for w in words if not w.isupper() or len(w) > 5]
        if any(len(w) >= int(cfg["max_word_letters"]) and "-" not in w and not self._known(w) for w in letters):
            return [_Hit("non_natural_text", s, "words run together")]
        leet = [t for t in _TOKEN.findall(scrubbed) if _is_leet(t.strip(_TRAIL), self._known)]
        if len(leet) >= int(cfg["leet_tokens"]):
            return [_Hit("non_natural_text", s, "letters replaced by digits or symbols")]
        swapped = [w for w in letters if self._swapped(w)]
        if len(swapped) >= int(cfg["swapped_tokens"]) and len(swapped) / len(letters) >= float(cfg["swapped_share"]):
            return [_Hit("non_natural_text", s, f"{len(swapped)}/{len(letters)} words with swapped letters")]
        if len(letters) >= int(cfg["min_tokens"]):
            # weighted by length: short tokens ("ba", "vg") are often abbreviations of something
            known = sum(len(w) for w in letters if self._known(w))
            total = sum(len(w) for w in letters)
            if known / total < float(cfg["min_known_ratio"]):
                return [_Hit("non_natural_text", s, f"{known}/{total} letters in dictionary words")]
        return []

    # --- role breaks, action claims, third parties, off-topic ---------------------------------

    def _role_and_claims(self, s: str, plain: str) -> list[_Hit]:
        hits = []
        if self._role and (m := self._role.search(plain)):
            hits.append(_Hit("role_break", s, m.group(0).lower()))
        rule, change = (self._rules.search(plain), self._changes.search(plain)) if self._rules and self._changes \
            else (None, None)  # fmt: skip
        if rule and change and not set(re.findall(r"\w+", plain.lower())) & _SECOND_PERSON:  # "your line": theirs
            hits.append(_Hit("role_break", s, f"{rule.group(0).lower()} … {change.group(0).lower()}"))
        if m := self._claim.search(plain):
            hits.append(_Hit("action_claim", s, m.group(0).lower()))
        elif self._run_objects and self._run_verbs and (o := self._run_objects.search(plain)) and \
                (v := self._run_verbs.search(plain)):  # fmt: skip
            hits.append(_Hit("action_claim", s, f"{o.group(0).lower()} … {v.group(0).lower()}"))
        hits += self._third_party(s, plain)
        if self._off_topic and (m := self._off_topic.search(plain)):
            hits.append(_Hit("off_topic", s, m.group(0).lower()))
        return hits

    def _third_party(self, s: str, plain: str) -> list[_Hit]:
        """A claim whose source is neither us nor the customer ("according to Vodafone", "X has confirmed")."""
        if self._tp_unsourced and (m := self._tp_unsourced.search(plain)):
            return [_Hit("third_party_claim", s, m.group(0).lower())]
        for pattern, after in ((self._tp_after, True), (self._tp_before, False)):
            for m in pattern.finditer(plain) if pattern else ():
                raw_source = (re.findall(r"[\w']+", plain[m.end():])[:3] if after
                              else re.findall(r"[\w']+", re.split(r"[,;:]", plain[: m.start()])[-1])[-5:])
                source = [w.lower() for w in raw_source]
                named = not after or any(w[:1].isupper() for w in raw_source)  # "according to Vodafone"
                if source and named and not set(source) & self._tp_own:
                    return [_Hit("third_party_claim", s, m.group(0).lower())]
        return []

    # --- language -----------------------------------------------------------------------------

    def _language(self, reply: str, text: str, language: str) -> list[_Hit]:
        from shared.language.detect import detect_language

        cfg = self.language_cfg
        clean = _SCHEME_URL.sub(" ", _EMAIL.sub(" ", text))
        if sum(c.isalpha() for c in clean) >= int(cfg["min_letters"]):
            got, p = detect_language(clean, self.detect_languages, language)
            if got != language and p >= float(cfg["min_confidence"]):
                return [_Hit("wrong_language", reply, f"{got} ({p:.2f}), expected {language}")]
        hits = []
        for s in sentences(reply):
            words = _WORD.findall(PLACEHOLDER.sub(" ", s))
            if len(words) < int(cfg["sentence_min_words"]):
                continue
            got, p = detect_language(" ".join(words), self.detect_languages, language)
            if got != language and p >= float(cfg["sentence_min_confidence"]):
                hits.append(_Hit("mixed_language", s, f"{got} ({p:.2f}), expected {language}"))
        return hits


class _OfferRules:
    """Price promises written in digits or words, per language (data in output_policy.yaml)."""

    def __init__(self, per_language: dict[str, Any]) -> None:
        self.percent = re.compile(
            r"(?<![\w%])(\d{1,3}(?:[.,]\d+)?\s?(?:%|" + _alt(_merged(per_language, "percent_words")) + r")(?!\w)|"
            r"[^\W\d_]+(?:-[^\W\d_]+)?\s(?:" + _alt(_merged(per_language, "percent_words")) + r")(?!\w))",
            re.IGNORECASE,
        )  # fmt: skip
        self.price = _phrases(_merged(per_language, "price_context"))
        self.non_price = _phrases(_merged(per_language, "non_price_context"))
        self.fractions: dict[str, float] = {}
        self.numbers: dict[str, float] = {}
        self.units: dict[str, float] = {}
        for block in per_language.values():
            self.fractions.update({k.lower(): float(v) for k, v in block.get("fractions", {}).items()})
            self.numbers.update({k.lower(): float(v) for k, v in block.get("numbers", {}).items()})
            self.units.update({k.lower(): float(v) for k, v in block.get("units", {}).items()})
        self.fraction_re = _phrases(list(self.fractions))
        self.bundles = _phrases(_merged(per_language, "bundles"))
        free = _alt(_merged(per_language, "free_words"))
        forever = _alt(_merged(per_language, "forever_words"))
        number = r"(?:\d{1,3}|" + _alt(list(self.numbers)) + ")"
        filler = r"(?:\s+(?:" + _alt(_merged(per_language, "fillers")) + "))?"
        unit = _alt(list(self.units))
        links = r"(?:\s+(?:" + _alt(_merged(per_language, "links")) + ")){0,2}"
        lead = r"(?:" + _alt(_merged(per_language, "fillers")) + r")\s+"  # "die ersten zwei Monate"
        self.free_after = re.compile(
            rf"(?<!\w)(?:{lead})?({number}){filler}\s+({unit})(?:'s|’s)?{links}\s+(?:{free})(?!\w)", re.IGNORECASE)
        self.free_before = re.compile(
            rf"(?<!\w)(?:{free})\s+(?:for|für)\s+(?:the\s+|die\s+|den\s+)?(?:first\s+|next\s+|ersten\s+|nächsten\s+)?"
            rf"({number}){filler}\s+({unit})(?!\w)", re.IGNORECASE)  # fmt: skip
        self.forever = re.compile(rf"(?<!\w)(?:(?:{free})\W+(?:\w+\W+){{0,2}}?(?:{forever})|(?:{forever})\W+"
                                  rf"(?:\w+\W+){{0,3}}?(?:{free}))(?!\w)", re.IGNORECASE)  # fmt: skip
        self.amount_ctx = _phrases(_merged(per_language, "amount_context"))

    def _number(self, token: str) -> float | None:
        token = token.lower()
        try:
            return float(token.replace(",", "."))
        except ValueError:
            return self.numbers.get(token)

    def promises(self, text: str) -> set[Promise]:
        out: set[Promise] = set()
        non_price = bool(self.non_price and self.non_price.search(text))
        for m in self.percent.finditer(text):
            head = re.match(r"[\d.,]*\d|[^\W\d_]+(?:-[^\W\d_]+)?", m.group(1))
            value = self._number(head.group(0)) if head else None
            if value is not None and not non_price:
                out.add(Promise("percent", value))
        if self.fraction_re and self.price and self.price.search(text):
            for m in self.fraction_re.finditer(text):
                out.add(Promise("fraction", self.fractions[m.group(0).lower()]))
        if self.bundles and self.bundles.search(text):
            out.add(Promise("bundle", 0))
        for m in [*self.free_after.finditer(text), *self.free_before.finditer(text)]:
            n, unit = self._number(m.group(1)), self.units.get(m.group(2).lower())
            if n is not None and unit is not None:
                out.add(Promise("free_period", round(n * unit, 2)))
        if self.forever.search(text):
            out.add(Promise("forever_free", 0))
        if self.amount_ctx and self.amount_ctx.search(text):
            for m in _MONEY.finditer(text):
                raw = (m.group(1) or m.group(2) or "").rstrip(".,")
                value = _money(raw)
                if value is not None:
                    out.add(Promise("amount", value))
            for m in re.finditer(r"(?<!\w)(" + _alt(list(self.numbers)) + r")\s+(?:euros?|pounds?|dollars?|franken)",
                                 text, re.IGNORECASE):  # fmt: skip
                out.add(Promise("amount", self.numbers[m.group(1).lower()]))
        return out


def _without_links(text: str) -> str:
    return _HOST.sub(" ", _SCHEME_URL.sub(" ", _EMAIL.sub(" ", text)))


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted({w.lower() for w in words}, key=len, reverse=True))


def _money(raw: str) -> float | None:
    if not raw:
        return None
    cleaned = raw.replace(".", "").replace(",", ".") if re.search(r",\d{1,2}$", raw) else raw.replace(",", "")
    try:
        return float(cleaned)
    except ValueError:
        return None


def _e164(value: str, regions: list[str]) -> str | None:
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


def _idna(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return host.lower()


def _skeleton(label: str) -> str:
    if "xn--" in label:
        with contextlib.suppress(UnicodeError):
            label = label.encode("ascii").decode("idna")
    folded = unicodedata.normalize("NFKD", label.lower()).translate(_CONFUSABLE)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return folded.replace("rn", "m").replace("vv", "w").replace("-", "").replace("_", "")


def _entropy(token: str) -> float:
    counts = Counter(token)
    return -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())


def _looks_base64(token: str, min_len: int, min_entropy: float) -> bool:
    if len(token) < min_len or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", token):
        return False
    mixed = bool(re.search(r"[a-z]", token) and re.search(r"[A-Z]", token) and re.search(r"\d", token))
    return (mixed or token.endswith("=")) and _entropy(token) >= min_entropy


def _is_leet(token: str, known: Any) -> bool:
    """A word with digits or symbols standing in for letters ("m3ss4g3", "p@ssw0rd")."""
    if len(token) < 3 or not re.search(r"[^\W\d_]", token) or not re.search(r"[\d@$!]", token.rstrip("!")):
        return False
    if not re.search(r"[^\W\d_][\d@$][^\W\d_\s]|[^\W\d_][\d@$]{1,2}$|^[\d@$][^\W\d_]{2,}", token):
        return False
    decoded = token.translate(_LEET)
    return decoded.isalpha() and known(decoded) and not known(token)
